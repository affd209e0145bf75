"""The Spotify-compatible /v1 endpoints against the chart table's atlas, in process."""

from __future__ import annotations

import re

import pytest
from apiserver import error_of

from soundatlas.discovery import PlaylistRequest, generate_playlist
from soundatlas.discovery.index import discovery_index

pytestmark = pytest.mark.realdata
TRACK_FIELDS = {
    "album", "artists", "duration_ms", "explicit", "external_ids", "external_urls", "href",
    "id", "is_local", "name", "popularity", "type", "uri",
}  # fmt: skip


def test_track_object_is_filled_from_the_catalog(client, atlas) -> None:
    song = atlas.tracks.iloc[0]
    found = client.get(f"/v1/tracks/{song['track_id']}").json()
    assert set(found) == TRACK_FIELDS
    assert (found["id"], found["name"], found["type"]) == (song["track_id"], song["name"], "track")
    assert [a["name"] for a in found["artists"]] == list(song["artists"])
    assert found["duration_ms"] == int(song["duration_ms"])
    assert found["popularity"] == int(song["popularity"])
    assert found["explicit"] is bool(song["explicit"])
    assert found["album"] == {
        "release_date": str(int(song["release_year"])),
        "release_date_precision": "year",
    }
    assert found["href"] == f"http://testserver/v1/tracks/{song['track_id']}"
    assert found["uri"] == f"soundatlas:track:{song['track_id']}"


def test_several_tracks_in_request_order_with_null_for_unknown(client, atlas) -> None:
    ids = atlas.tracks["track_id"].iloc[[5, 1, 3]].tolist()
    found = client.get("/v1/tracks", params={"ids": ",".join([ids[0], "nope", *ids[1:]])}).json()
    assert [t and t["id"] for t in found["tracks"]] == [ids[0], None, ids[1], ids[2]]
    too_many = client.get("/v1/tracks", params={"ids": ",".join(["x"] * 51)})
    assert too_many.status_code == 400
    assert "ids: 51 ids given; at most 50" in error_of(too_many)["message"]


def test_audio_features_are_the_catalogs(client, atlas) -> None:
    ids = atlas.tracks["track_id"].iloc[:100].tolist()
    found = client.get("/v1/audio-features", params={"ids": ",".join(ids)}).json()
    features = found["audio_features"]
    assert [f["id"] for f in features] == ids
    assert features[7]["energy"] == pytest.approx(float(atlas.tracks["energy"].iat[7]))
    assert features[7]["key"] == int(atlas.tracks["key"].iat[7])
    assert features[7]["time_signature"] is None  # the chart table has none
    assert features[7]["type"] == "audio_features" and features[7]["analysis_url"] is None
    one = client.get(f"/v1/audio-features/{ids[7]}").json()
    assert one == features[7]
    missing = client.get("/v1/audio-features", params={"ids": f"{ids[0]},nope"}).json()
    assert missing["audio_features"][1] is None


def test_artist_by_its_derived_id(client, atlas) -> None:
    song = client.get(f"/v1/tracks/{atlas.tracks['track_id'].iat[0]}").json()
    artist = client.get(song["artists"][0]["href"].removeprefix("http://testserver")).json()
    assert artist["name"] == "Britney Spears" and artist["type"] == "artist"
    assert re.fullmatch(r"[0-9A-Za-z]{22}", artist["id"])
    assert artist["genres"] and "popularity" not in artist  # never invented


def test_recommendations_are_the_smart_playlist(client, atlas) -> None:
    seeds = atlas.tracks["track_id"].iloc[[0, 4]].tolist()
    params = {
        "seed_tracks": ",".join(seeds),
        "limit": 10,
        "target_energy": 0.8,
        "min_tempo": 100,
        "max_popularity": 80,
    }
    found = client.get("/v1/recommendations", params=params).json()
    expected = generate_playlist(
        atlas,
        PlaylistRequest(
            method=None,
            seeds=tuple(seeds),
            size=10,
            target={"energy": 0.8},
            minimum={"tempo": 100},
            maximum={"popularity": 80},
        ),
    )
    assert [t["id"] for t in found["tracks"]] == expected.tracks["track_id"].tolist()
    rows = [discovery_index(atlas).row_of_id(t["id"]) for t in found["tracks"]]
    assert (atlas.tracks["tempo"].to_numpy()[rows] >= 100).all()
    assert (atlas.tracks["popularity"].to_numpy()[rows] <= 80).all()
    assert not set(seeds) & {t["id"] for t in found["tracks"]}
    assert [s["id"] for s in found["seeds"]] == seeds
    for seed in found["seeds"]:
        assert seed["type"] == "TRACK" and seed["href"].endswith(f"/v1/tracks/{seed['id']}")
        sizes = seed["initialPoolSize"], seed["afterFilteringSize"], seed["afterRelinkingSize"]
        assert sizes[0] >= sizes[1] >= sizes[2] >= 0 and sizes[0] > 0


def test_recommendations_from_artist_and_genre_seeds(client, atlas) -> None:
    song = client.get(f"/v1/tracks/{atlas.tracks['track_id'].iat[0]}").json()
    artist_id = song["artists"][0]["id"]
    genres = client.get("/v1/recommendations/available-genre-seeds").json()["genres"]
    assert genres == sorted(genres) and "pop" in genres
    found = client.get(
        "/v1/recommendations", params={"seed_artists": artist_id, "seed_genres": "pop"}
    ).json()
    assert [(s["type"], s["id"]) for s in found["seeds"]] == [
        ("ARTIST", artist_id),
        ("GENRE", "pop"),
    ]
    assert found["seeds"][1]["href"] is None
    assert 0 < len(found["tracks"]) <= 20


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({}, 400, "seeds: 0 given; give 1 to 5"),
        ({"seed_genres": "pop,rock,jazz,latin,metal,blues"}, 400, "at most 5 per request"),
        ({"seed_genres": "pop", "seed_tracks": "a,b,c,d,e"}, 400, "seeds: 6 given"),
        ({"seed_tracks": "nope"}, 404, "track id 'nope': no song"),
        ({"seed_artists": "nope"}, 404, "artist id 'nope'"),
        ({"seed_genres": "polka"}, 404, "seed genre 'polka'"),
        ({"seed_genres": "pop", "limit": 101}, 400, "limit: Input should be less than"),
        ({"seed_genres": "pop", "min_energy": 0.9, "max_energy": 0.1}, 400, "is above"),
        ({"seed_genres": "pop", "max_energy": 2}, 400, "max_energy=2: must be 0 to 1"),
    ],
)
def test_recommendations_refuse_bad_requests(client, params, status, words) -> None:
    response = client.get("/v1/recommendations", params=params)
    assert response.status_code == status
    assert words in error_of(response)["message"]


def test_search_pages_like_spotify(client) -> None:
    first = client.get("/v1/search", params={"q": "love", "type": "track", "limit": 5}).json()
    tracks = first["tracks"]
    assert set(tracks) == {"href", "items", "limit", "next", "offset", "previous", "total"}
    assert (tracks["limit"], tracks["offset"], tracks["previous"]) == (5, 0, None)
    assert tracks["total"] > 10 and len(tracks["items"]) == 5
    following = client.get(tracks["next"].removeprefix("http://testserver")).json()["tracks"]
    assert following["offset"] == 5 and following["previous"] is not None
    assert not {t["id"] for t in tracks["items"]} & {t["id"] for t in following["items"]}
    both = client.get("/v1/search", params={"q": "britney", "type": "artist,track"}).json()
    assert both["artists"]["items"][0]["name"] == "Britney Spears"
    assert both["tracks"]["total"] >= 1


def test_search_refuses_types_the_catalog_has_not(client) -> None:
    response = client.get("/v1/search", params={"q": "love", "type": "album"})
    assert response.status_code == 400
    assert "use track, artist or track,artist" in error_of(response)["message"]


def test_results_hold_no_nan(client, atlas) -> None:
    ids = ",".join(atlas.tracks["track_id"].iloc[:50])
    text = client.get("/v1/tracks", params={"ids": ids}).text
    assert "NaN" not in text and "Infinity" not in text
