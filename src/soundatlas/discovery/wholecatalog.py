"""Answers from every song of an atlas too big to load whole: its directory (every song,
memory-mapped, and an approximate similar-songs index; `soundatlas.discovery.directory`), which
the atlas's `soundatlas.discovery.index.DiscoveryIndex` opens once and keeps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from soundatlas.atlas.model import Atlas
from soundatlas.clustering.result import LABEL_COLUMNS
from soundatlas.discovery.directory import SongDirectory
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.nearest import top_cosine
from soundatlas.discovery.sortedtext import take_rows
from soundatlas.errors import AtlasError, ConfigError


def song_directory(atlas: Atlas) -> SongDirectory:
    """The directory of ``atlas`` (kept by its discovery index).

    Raises
    ------
    AtlasError
        If the atlas holds every song in memory (it has no directory).
    """
    directory = discovery_index(atlas).directory
    if directory is None:
        raise AtlasError(
            "this atlas holds every song in memory; use similar_tracks (no directory)."
        )
    return directory


def similar_in_catalog(
    atlas: Atlas,
    query: str,
    *,
    n: int = 10,
    same_cluster: str | None = None,
    exclude_same_artist: bool = False,
) -> pd.DataFrame:
    """The ``n`` songs of the whole catalog that sound most like one song, by the atlas's
    approximate index (for atlases too big to load whole; see `soundatlas.discovery.directory`).

    Never the query or another release of its recording (same primary artist and title once
    release suffixes are removed); each recording once.

    Returns
    -------
    DataFrame
        ``rank, track_id, name, artists, similarity`` (cosine from the catalog's mean), each
        method's cluster and persona, genres, popularity, year, duration, explicit and the
        audio features.
    """
    return pd.DataFrame(
        similar_catalog_columns(
            atlas, query, n=n, same_cluster=same_cluster, exclude_same_artist=exclude_same_artist
        )
    )


def similar_catalog_columns(
    atlas: Atlas,
    query: str,
    *,
    n: int = 10,
    same_cluster: str | None = None,
    exclude_same_artist: bool = False,
) -> dict[str, np.ndarray]:
    """`similar_in_catalog`'s table as its columns (name → array), without the DataFrame: for
    a caller that writes the rows out itself (the HTTP API). Options and errors as there."""
    if not 1 <= n <= 500:
        raise ConfigError(f"n={n}: ask for 1 to 500 similar songs.")
    if same_cluster is not None:
        atlas.require_method(same_cluster)
    directory = song_directory(atlas)
    row = directory.resolve(query)
    songs = directory.songs
    banned = set(songs["artists"][row].as_py() or []) if exclude_same_artist else set()
    label = LABEL_COLUMNS[same_cluster] if same_cluster else None
    wanted = songs[label][row].as_py() if label else None
    count = max(4 * n, 50)
    while True:
        rows, scores = directory.neighbours(row, min(count, directory.size))
        passing = rows != row
        if label:
            passing &= [v == wanted for v in take_rows(songs, rows, [label])[label].to_pylist()]
        if banned:
            credited = take_rows(songs, rows, ["artists"])["artists"].to_pylist()
            passing &= [not banned & set(artists or []) for artists in credited]
        rows, scores = rows[passing], scores[passing]
        # the query first, so that its other releases are left out
        first = directory.one_per_recording(np.concatenate([[row], rows]))[1:]
        position = {candidate: i for i, candidate in enumerate(rows.tolist())}
        kept = first[:n]
        if len(kept) == n or count >= min(directory.size, 64 * max(n, 50)):
            break
        count *= 4
    similarity = scores[[position[r] for r in kept.tolist()]].astype(np.float64)
    return {
        "rank": np.arange(1, len(kept) + 1),
        "similarity": np.round(similarity, 4),
        **directory.columns(kept),
    }


def exact_neighbours(atlas: Atlas, row: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` rows nearest ``row`` by exact search over every song (itself included),
    for measuring the index's recall."""
    directory = song_directory(atlas)
    return top_cosine(directory.unit, directory.unit[row], count)
