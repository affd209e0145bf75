"""A cluster at a glance (persona, size, reasons, genres, best-known songs) and the clusters a
song belongs to under each method."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from soundatlas.atlas.model import Atlas
from soundatlas.clustering.metrics import NOISE
from soundatlas.clustering.result import METHOD_TITLES
from soundatlas.discovery.index import discovery_index
from soundatlas.errors import ConfigError, LookupFailed

MAX_TOP_SONGS = 100


@dataclass(frozen=True)
class ClusterProfile:
    """One cluster of one method.

    Attributes
    ----------
    method, cluster, persona
        Which cluster, and its persona name.
    size, share
        Its songs, and their share of the atlas's songs.
    reasons, dominant_genres
        Why it has its persona (``feature, z, mean``), and its most common genres
        (``genre, share``), as in the atlas's persona table.
    top_songs
        Its most popular songs, one release per recording (standard song columns).
    """

    method: str
    cluster: int
    persona: str
    size: int
    share: float
    reasons: list[dict]
    dominant_genres: list[dict]
    top_songs: pd.DataFrame


def cluster_profile(atlas: Atlas, method: str, cluster: int, *, n: int = 10) -> ClusterProfile:
    """The persona, size and ``n`` most popular songs (1-100) of a cluster.

    Raises
    ------
    LookupFailed
        If the method was not run or has no such cluster.
    ConfigError
        If ``n`` is out of range.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_TOP_SONGS:
        raise ConfigError(f"n={n!r}: must be a whole number from 1 to {MAX_TOP_SONGS}.")
    personas = atlas.personas_of(method)
    found = personas[personas["cluster"] == cluster]
    if isinstance(cluster, bool) or cluster == NOISE or found.empty:
        clusters = personas.loc[personas["cluster"] != NOISE, "cluster"].astype(int).tolist()
        raise LookupFailed(
            f"cluster {cluster} ({METHOD_TITLES[method]}): this atlas has clusters "
            f"{', '.join(map(str, clusters)) or 'none'}; choose one of them."
        )
    entry = found.iloc[0]
    index = discovery_index(atlas)
    rows = np.flatnonzero(index.labels[method] == cluster)
    popularity = np.nan_to_num(index.popularity[rows], nan=-1.0)
    rows = rows[np.lexsort((rows, -popularity))]
    top = rows[index.first_releases(rows)[:n]]
    return ClusterProfile(
        method=method,
        cluster=int(cluster),
        persona=str(entry["persona"]),
        size=int(entry["size"]),
        share=float(entry["share"]),
        reasons=list(entry["reasons"]),
        dominant_genres=list(entry["dominant_genres"]),
        top_songs=pd.DataFrame(index.song_columns(top)),
    )


def track_clusters(atlas: Atlas, row: int) -> dict[str, tuple[int, str]]:
    """``{method: (cluster, persona)}`` of the song at ``row`` (cluster -1 is noise)."""
    index = discovery_index(atlas)
    return {m: (int(index.labels[m][row]), str(index.personas[m][row])) for m in index.methods}
