"""Similarity means the same under every scaling: angles seen from the catalog's average sound.

Cosine similarity measured from the origin of the scaled space is only measured from the
catalog mean under standard scaling; min-max puts the least value of every feature at the
origin (so nearly every song points the same way) and robust scaling the median. These tests
build the chart table with each scaling and check songs, playlists and artists against an
independent computation and against the standard atlas.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from realdata import TOPHITS, shared_file
from threadpoolctl import threadpool_limits

import soundatlas
from soundatlas.config import BuildConfig
from soundatlas.discovery import (
    PlaylistRequest,
    artist_profile,
    generate_playlist,
    similar_to_many,
    similar_tracks,
)
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.nearest import unit_rows

pytestmark = pytest.mark.realdata

SCALINGS = ("standard", "minmax", "robust")


@pytest.fixture(scope="module")
def scaled_atlases(built_atlases):
    """The chart table under each scaling (standard: the session's shared atlas)."""
    path = shared_file(TOPHITS)
    atlases = {"standard": built_atlases(TOPHITS)}
    # One BLAS/OpenMP thread: K-Means on 1,769 songs spends most of its time in thread
    # start-up otherwise (about 1 s per build instead of 0.2 s on a busy machine).
    with threadpool_limits(1):
        for scaling in ("minmax", "robust"):
            config = BuildConfig(scaling=scaling, methods=("kmeans",), k=4, stability_resamples=0)
            atlases[scaling] = soundatlas.build_atlas(path, config)
    return atlases


def centred(atlas) -> np.ndarray:
    """Every song's scaled features less the catalog mean, computed from the raw table."""
    scaled = atlas.scaler.transform(atlas.tracks)
    return scaled - scaled.mean(axis=0)


def written_gap(text: str) -> tuple[str, float, int]:
    """``"tempo +28 BPM"`` -> ``("tempo", 28.0, 0)``: feature, gap and decimals shown."""
    match = re.fullmatch(r"(\w+) ([+\N{MINUS SIGN}±])(\d+(?:\.(\d+))?)(?: \w+)?", text)
    assert match, text
    name, sign, number, decimals = match.groups()
    value = float(number) * (-1 if sign == "\N{MINUS SIGN}" else 1)
    return name, value, len(decimals or "")


def cosine(rows: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return rows @ reference / (np.linalg.norm(rows, axis=1) * np.linalg.norm(reference))


@pytest.mark.parametrize("scaling", SCALINGS)
def test_similarity_is_the_cosine_seen_from_the_catalog_mean(scaled_atlases, scaling) -> None:
    atlas = scaled_atlases[scaling]
    assert atlas.scaler.kind == scaling
    songs = centred(atlas)
    for query in np.random.default_rng(0).choice(len(songs), size=8, replace=False):
        result = similar_tracks(atlas, int(query), n=20, similarity="sound")
        expected = cosine(songs[result["row"]], songs[query])
        assert result["similarity"].to_numpy() == pytest.approx(expected, abs=1e-5)
        # And these are the best songs: nothing left out scores higher than the 20th.
        everything = cosine(songs, songs[query])
        everything[discovery_index(atlas).releases_of(int(query))] = -np.inf
        assert everything.max() == pytest.approx(expected[0], abs=1e-5)
    pair = [3, 30]
    result = similar_to_many(atlas, pair, n=5, similarity="sound")
    reference = atlas.scaler.transform(atlas.tracks.iloc[pair]).mean(axis=0)
    reference -= atlas.scaler.transform(atlas.tracks).mean(axis=0)
    expected = cosine(songs[result["row"]], reference)
    assert result["similarity"].to_numpy() == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_few_songs_are_very_similar_to_a_random_song(scaled_atlases, scaling) -> None:
    """From the min-max origin over 80% of songs had cosine >= 0.8 to any song; from the mean
    about 2% do, as under standard scaling."""
    atlas = scaled_atlases[scaling]
    size = len(atlas.tracks)
    shares = []
    for query in np.random.default_rng(1).choice(size, size=25, replace=False):
        result = similar_tracks(atlas, int(query), n=500, similarity="sound")
        shares.append(int((result["similarity"] >= 0.8).sum()) / size)
    assert np.mean(shares) < 0.05
    assert max(shares) < 0.15
    # The whole distribution is centred on 0: as many songs point away from a song as towards.
    songs = discovery_index(atlas).unit
    everything = songs[:50] @ songs.T
    assert abs(float(np.median(everything))) < 0.15


@pytest.mark.parametrize("scaling", SCALINGS)
def test_reasons_agree_with_the_score(scaled_atlases, scaling) -> None:
    """``closest`` and ``differs`` are measured from the catalog mean; so is the score. The
    features named closest push the cosine up (song and query on the same side of the mean),
    the score is the sum of the per-feature terms, and ``differs`` gives the real gaps."""
    atlas = scaled_atlases[scaling]
    songs = centred(atlas)
    features = list(atlas.scaler.features)
    checked = 0
    for query in np.random.default_rng(2).choice(len(songs), size=15, replace=False):
        result = similar_tracks(atlas, int(query), n=10, similarity="sound")
        unit = songs / np.linalg.norm(songs, axis=1, keepdims=True)
        for song in result.itertuples():
            terms = unit[song.row] * unit[query]
            assert terms.sum() == pytest.approx(song.similarity, abs=1e-5)
            if song.similarity < 0.8:
                continue
            for name in song.closest.split(", "):
                assert terms[features.index(name)] > 0, (scaling, query, song.row, name)
            for text in song.differs.split(", "):
                name, gap, digits = written_gap(text)
                raw = atlas.tracks[name].to_numpy(dtype=float)
                assert gap == pytest.approx(raw[song.row] - raw[query], abs=0.51 * 10**-digits)
            checked += 1
    assert checked >= 30


@pytest.mark.parametrize("scaling", SCALINGS)
def test_playlist_threshold_means_the_same_under_every_scaling(scaled_atlases, scaling) -> None:
    atlas = scaled_atlases[scaling]
    songs = centred(atlas)
    seed = str(atlas.tracks["track_id"].iat[5])
    seeded = generate_playlist(
        atlas, PlaylistRequest(method=None, seeds=(seed,), threshold=0.9, size=50)
    )
    assert seeded.passed < 0.02 * len(songs)  # from the min-max origin: half the catalog
    rows = seeded.tracks["row"].to_numpy()
    expected = cosine(songs[rows], songs[5])
    assert seeded.tracks["similarity"].to_numpy() == pytest.approx(expected, abs=1e-5)
    # A cluster's centroid is centred the same way as the songs.
    clustered = generate_playlist(atlas, PlaylistRequest(cluster=0, threshold=0.8, size=50))
    centroid = atlas.centroids["kmeans"][0] - atlas.scaler.transform(atlas.tracks).mean(axis=0)
    rows = clustered.tracks["row"].to_numpy()
    expected = cosine(songs[rows], centroid)
    assert clustered.tracks["similarity"].to_numpy() == pytest.approx(expected, abs=1e-5)
    assert clustered.cut_by["threshold"] > 0


@pytest.mark.parametrize("scaling", SCALINGS)
def test_similar_artists_are_spread_out(scaled_atlases, scaling) -> None:
    """Artists' average sounds all sit near the catalog mean; seen from the min-max origin
    every artist looked alike (similarity 0.99 to the tenth most similar)."""
    similar = artist_profile(scaled_atlases[scaling], "beyonce").similar_artists
    assert len(similar) == 10
    assert similar["similarity"].iloc[-1] < 0.9


def test_standard_scaling_is_unchanged(scaled_atlases) -> None:
    """The catalog mean of z-scores is 0, so centring changes nothing for standard atlases."""
    index = discovery_index(scaled_atlases["standard"])
    assert np.abs(index.centre).max() < 1e-6
    assert np.abs(index.unit - unit_rows(index.scaled)).max() < 1e-5
