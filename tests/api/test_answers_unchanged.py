"""The endpoints that answer from arrays instead of DataFrames give the answers the DataFrame
code gave: the same fields in the same order and the same values, on the real tables."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from realdata import GENRES_11K, TOPHITS, shared_file

from soundatlas.discovery import similar_tracks

pytestmark = pytest.mark.realdata
PANDAS_DECIMALS = 1e-10
"""pandas' ``to_json`` writes floats rounded to 10 decimals (its ``double_precision``); the
new answers write every float exactly, so a float may differ by up to half that."""


def same_json(new: object, old: object, where: str = "") -> None:
    """Assert two decoded JSON values are equal (floats to pandas' 10 decimals)."""
    if isinstance(old, dict):
        assert isinstance(new, dict), where
        assert list(new) == list(old), where
        for key in old:
            same_json(new[key], old[key], f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), where
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            same_json(a, b, f"{where}[{i}]")
    elif isinstance(old, float) and not isinstance(new, bool):
        assert isinstance(new, (int, float)), where
        assert math.isclose(new, old, rel_tol=0, abs_tol=PANDAS_DECIMALS / 2 + 1e-15), where
    else:
        assert type(new) is type(old) and new == old, f"{where}: {new!r} != {old!r}"


@pytest.fixture(scope="module", params=[TOPHITS, GENRES_11K])
def served(request, built_atlases):
    """A test client of the API over a real table's atlas, and the atlas it answers from."""
    from fastapi.testclient import TestClient

    from soundatlas.api import create_app

    shared_file(request.param)
    folder = Path(built_atlases(request.param).manifest["path"])
    with TestClient(create_app(folder, poll=0)) as client:
        yield client, client.app.state.holder.atlas


OPTIONS = [
    {"limit": 10},
    {"limit": 25, "exclude_same_artist": True},
    {"limit": 5, "same_cluster": "kmeans"},
    {"limit": 7, "features": "energy,tempo,valence"},
    {"limit": 200},
]


def test_similar_songs_answer_as_the_dataframe_did(served) -> None:
    client, atlas = served
    rows = np.random.default_rng(3).choice(len(atlas.tracks), size=30, replace=False)
    for number, row in enumerate(rows.tolist()):
        options = OPTIONS[number % len(OPTIONS)]
        track_id = atlas.tracks["track_id"].iat[row]
        answer = client.get(f"/soundatlas/v1/tracks/{track_id}/similar", params=options)
        assert answer.status_code == 200, answer.text
        table = similar_tracks(
            atlas,
            row,
            n=options["limit"],
            same_cluster=options.get("same_cluster"),
            exclude_same_artist=options.get("exclude_same_artist", False),
            features=options.get("features"),
        )
        old = json.loads(table.to_json(orient="records", force_ascii=False))
        assert old, options
        same_json(answer.json()["items"], old, f"{track_id} {options}")


def old_search_answer(atlas, base: str, params: dict) -> dict:
    """What ``/v1/search`` answered when it read the songs and artists from `search`'s
    tables."""
    from soundatlas.api.objects import artist_object, paging_object, track_object
    from soundatlas.discovery import find_artist, search, songs_at
    from soundatlas.discovery.text import name_id

    found = search(atlas, params["q"], limit=params["limit"], offset=params["offset"])
    url, shown = f"{base}/v1/search", {"q": params["q"], "type": params["type"]}
    answer = {}
    if "track" in params["type"]:
        songs = songs_at(atlas, found.songs["row"].tolist(), found.songs["track_id"].tolist())
        items = [track_object(base, s) for s in songs if s is not None]
        answer["tracks"] = paging_object(
            url, shown, items, limit=params["limit"], offset=params["offset"],
            total=found.total_songs,
        )  # fmt: skip
    if "artist" in params["type"]:
        listed = [find_artist(atlas, name_id(n)) for n in found.artists["artist"]]
        items = [artist_object(base, a.name, genres=list(a.genres)) for a in listed]
        answer["artists"] = paging_object(
            url, shown, items, limit=params["limit"], offset=params["offset"],
            total=found.total_artists,
        )  # fmt: skip
    return answer


def test_search_answers_as_from_the_tables(served) -> None:
    client, atlas = served
    rng = np.random.default_rng(4)
    names = atlas.tracks["name"].to_numpy()[rng.choice(len(atlas.tracks), 20, replace=False)]
    artists = [a[0] for a in atlas.tracks["artists"].iloc[:200] if len(a)][:5]
    queries = [str(n).split()[0] for n in names] + [str(n) for n in names[:3]] + artists
    queries += ["a", "love", "the"]
    listed = 0
    for number, q in enumerate(queries):
        params = {
            "q": q,
            "type": ("track,artist", "track", "artist")[number % 3],
            "limit": (20, 5, 50)[number % 3],
            "offset": (0, 0, 5, 40)[number % 4],
        }
        answer = client.get("/v1/search", params=params)
        assert answer.status_code == 200, answer.text
        expected = old_search_answer(atlas, "http://testserver", params)
        assert answer.json() == expected, params
        listed += sum(len(page["items"]) for page in expected.values())
    assert listed > 50  # the queries list songs and artists, not only empty pages


def test_audio_features_answer_as_from_the_songs(served) -> None:
    from soundatlas.api.objects import audio_features_object
    from soundatlas.discovery import find_songs

    client, atlas = served
    rng = np.random.default_rng(5)
    ids = atlas.tracks["track_id"].to_numpy()
    for count in (1, 2, 37, 100):
        asked = [str(t) for t in rng.choice(ids, count, replace=False)]
        if count > 1:
            asked[1] = "no-such-id"  # null in its place
        if count > 2:
            asked[-1] = asked[0]  # asked twice: answered twice
        answer = client.get("/v1/audio-features", params={"ids": ",".join(asked)})
        assert answer.status_code == 200, answer.text
        songs = find_songs(atlas, asked)
        expected = [
            None if s is None else audio_features_object("http://testserver", s) for s in songs
        ]
        assert answer.json()["audio_features"] == expected
        assert sum(e is None for e in expected) == (count > 1)
