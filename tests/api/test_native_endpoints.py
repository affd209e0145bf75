"""SoundAtlas's own endpoints under /soundatlas/v1, in process."""

from __future__ import annotations

import numpy as np
import pytest
from apiserver import error_of

from soundatlas.discovery import similar_tracks

pytestmark = pytest.mark.realdata
NEW_SONG = {
    "name": "Fresh",
    "danceability": 0.7,
    "energy": 0.8,
    "loudness": -5.0,
    "speechiness": 0.05,
    "acousticness": 0.1,
    "instrumentalness": 0.0,
    "liveness": 0.1,
    "valence": 0.6,
    "tempo": 120.0,
}


def test_similar_songs_with_scores_and_reasons(client, atlas) -> None:
    track_id = atlas.tracks["track_id"].iat[0]
    found = client.get(
        f"/soundatlas/v1/tracks/{track_id}/similar",
        params={"limit": 5, "exclude_same_artist": True, "same_cluster": "kmeans"},
    ).json()
    expected = similar_tracks(atlas, 0, n=5, exclude_same_artist=True, same_cluster="kmeans")
    assert [s["track_id"] for s in found["items"]] == expected["track_id"].tolist()
    assert all(s["closest"] and s["differs"] for s in found["items"])
    assert all(-1 <= s["similarity"] <= 1 for s in found["items"])


def test_a_songs_clusters_for_each_method(client, atlas) -> None:
    track_id = atlas.tracks["track_id"].iat[3]
    found = client.get(f"/soundatlas/v1/tracks/{track_id}/clusters").json()["clusters"]
    assert set(found) == set(atlas.methods)
    assert found["kmeans"] == {
        "cluster": int(atlas.tracks["cluster"].iat[3]),
        "persona": atlas.tracks["persona"].iat[3],
    }


def test_a_clusters_persona_size_and_top_songs(client, atlas) -> None:
    found = client.get("/soundatlas/v1/clusters/hierarchical/0", params={"limit": 3}).json()
    assert found["size"] == int((atlas.tracks["cluster_hc"] == 0).sum())
    assert len(found["top_songs"]) == 3 and found["persona"] and found["reasons"]


def test_playlist_takes_every_cli_option(client) -> None:
    params = {
        "method": "kmeans",
        "cluster": 0,
        "seed_genre": "pop",
        "size": 7,
        "threshold": 0.7,
        "max_energy": 0.95,
        "target_tempo": 120,
        "allow_explicit": False,
        "max_per_artist": 1,
        "order": "rising",
    }
    found = client.get("/soundatlas/v1/playlist", params=params).json()
    assert found["request"]["seed_genres"] == ["pop"] and found["request"]["order"] == "rising"
    tracks = found["tracks"]
    assert 0 < len(tracks) == min(7, found["passed"]) and found["message"]
    assert all(t["cluster"] == 0 and t["energy"] <= 0.95 and not t["explicit"] for t in tracks)
    energies = [t["energy"] for t in tracks]
    assert energies == sorted(energies)
    bad = client.get("/soundatlas/v1/playlist", params={"cluster": 0, "threshold": 0.5})
    assert bad.status_code == 400 and "threshold" in error_of(bad)["message"]


def test_assigning_new_songs_without_refitting(client, atlas) -> None:
    quiet = {**NEW_SONG, "energy": 0.1, "acousticness": 0.95, "loudness": -20.0}
    found = client.post("/soundatlas/v1/assign", json={"tracks": [NEW_SONG, quiet]}).json()
    assert [t["index"] for t in found["tracks"]] == [0, 1]
    expected = atlas.assign(
        __import__("pandas").DataFrame([NEW_SONG, quiet]).assign(track_id=["a", "b"])
    )
    for placed, (_, row) in zip(found["tracks"], expected.iterrows(), strict=True):
        assert placed["clusters"]["kmeans"]["cluster"] == row["cluster"]
        assert placed["clusters"]["hierarchical"]["persona"] == row["persona_hc"]
        assert placed["clusters"]["dbscan"]["cluster"] == row["cluster_dbscan"]
        assert placed["clusters"]["dbscan"]["persona"] == row["persona_dbscan"]
        assert len(placed["clusters"]["kmeans"]["nearest"]) == 5
    # A catalog song sent back in joins its own DBSCAN cluster when it is a core song, and a
    # sound far from every song of the catalog is noise.
    core_row = _a_core_song(atlas)
    song = {f: float(atlas.tracks[f].iloc[core_row]) for f in atlas.scaler.features}
    lonely = {f: float(atlas.tracks[f].max()) for f in atlas.scaler.features}
    placed = client.post("/soundatlas/v1/assign", json={"tracks": [song, lonely]}).json()
    dbscan = [t["clusters"]["dbscan"] for t in placed["tracks"]]
    assert dbscan[0]["cluster"] == int(atlas.tracks["cluster_dbscan"].iloc[core_row])
    assert dbscan[1]["cluster"] == -1 and dbscan[1]["nearest"]
    missing = client.post("/soundatlas/v1/assign", json={"tracks": [{"name": "x"}]})
    assert missing.status_code == 400
    assert error_of(missing)["message"]
    empty = client.post("/soundatlas/v1/assign", json={"tracks": []})
    assert empty.status_code == 400 and "tracks" in error_of(empty)["message"]


def _a_core_song(atlas) -> int:
    """A row DBSCAN counted as core: its min_samples nearest songs lie within eps."""
    from scipy.spatial import cKDTree

    params = atlas.methods["dbscan"].params
    clustered = np.flatnonzero(atlas.tracks["cluster_dbscan"].to_numpy() != -1)
    kth = cKDTree(atlas.scaled).query(atlas.scaled[clustered], k=params["min_samples"])[0]
    return int(clustered[np.argmax(kth[:, -1] <= params["eps"])])
