"""An artist at a glance: their songs, where they sit in each clustering, how they sound
against the catalog, their best-known songs and genres, and the artists who sound most like them.

Artists are identified by their normalised name, so "Beyoncé" and "Beyonce" are one artist; the
spelling most of their songs use is the one shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from soundatlas.atlas.model import Atlas
from soundatlas.clustering.result import LABEL_COLUMNS
from soundatlas.discovery.directory import SongDirectory
from soundatlas.discovery.index import DiscoveryIndex, discovery_index
from soundatlas.discovery.nearest import top_cosine, unit_rows
from soundatlas.discovery.search import artist_table, match_artists, query_key, top_genres
from soundatlas.errors import AmbiguousQuery, ConfigError, LookupFailed

CANDIDATES_SHOWN = 20
TOP_SONGS = 10
SIMILAR_ARTISTS = 10


@dataclass(frozen=True)
class ArtistProfile:
    """Everything the atlas says about one artist.

    Attributes
    ----------
    name
        The artist's name as most of their songs spell it.
    songs
        Every song they are listed on, most popular first (standard song columns).
    cluster_shares
        ``method, cluster, persona, songs, share``: how their songs spread over each
        method's clusters, largest first.
    dominant_personas
        ``{method: persona}`` of the cluster holding most of their songs.
    profile
        ``feature, mean, catalog_mean, z``: their average on each clustering feature and how
        many catalog standard deviations it sits from the catalog's average.
    top_songs
        Their most popular songs (each song once), at most 10.
    genres
        Their songs' genres, most common first.
    similar_artists
        ``artist, similarity, songs``: the 10 artists whose average sound (mean scaled
        features) is closest by cosine similarity.
    """

    name: str
    songs: pd.DataFrame
    cluster_shares: pd.DataFrame
    dominant_personas: dict[str, str]
    profile: pd.DataFrame
    top_songs: pd.DataFrame
    genres: list[str]
    similar_artists: pd.DataFrame


def artist_code(atlas: Atlas, name: str) -> int:
    """The internal number of the artist ``name`` names (see `resolve_artist`)."""
    index = discovery_index(atlas)
    if not isinstance(name, str):
        raise ConfigError(f"artist {name!r}: give the artist's name as text.")
    if len(index.artists) == 0:
        raise LookupFailed(
            f"artist {name!r}: this catalog has no artist column, so no artist can be found; "
            "rebuild the atlas from a file with artist names."
        )
    key = query_key(name)
    codes, tiers = match_artists(index, key, limit=None)
    exact = codes[tiers == 0]
    if len(exact) == 1:
        return int(exact[0])
    if len(codes) == 1:
        return int(codes[0])
    if len(codes) == 0:
        raise LookupFailed(
            f"artist {name!r}: no artist's name contains it; check the spelling or search "
            "for the artist."
        )
    shown = min(len(codes), CANDIDATES_SHOWN)
    candidates = artist_table(index, codes[:shown], tiers[:shown]).drop(columns=["rank"])
    more = f" (the first {shown} are listed)" if len(codes) > shown else ""
    raise AmbiguousQuery(
        f"artist {name!r}: matches {len(codes):,} artists{more}; give the full name "
        f"(for example {candidates['artist'].iloc[0]!r}).",
        candidates=candidates,
    )


def resolve_artist(atlas: Atlas, name: str) -> str:
    """The artist a name refers to, as displayed.

    An exact match of the normalised name wins; otherwise the name may be part of one artist's
    name.

    Raises
    ------
    AmbiguousQuery
        If it is part of several artists' names; ``candidates`` lists them (``artist, match,
        songs, popularity, genres``).
    LookupFailed
        If no artist matches, or the catalog has no artists.
    """
    code = artist_code(atlas, name)
    return str(discovery_index(atlas).artist_names[code])


def artist_profile(atlas: Atlas, name: str) -> ArtistProfile:
    """The profile of one artist.

    Parameters
    ----------
    atlas
        A built or loaded atlas.
    name
        The artist's name, any case, with or without accents and punctuation; part of a name
        works when only one artist has it.

    Raises
    ------
    AmbiguousQuery, LookupFailed
        As `resolve_artist`.

    Examples
    --------
    >>> profile = artist_profile(atlas, "beyonce")  # doctest: +SKIP
    >>> profile.dominant_personas["kmeans"], profile.similar_artists.head(3)  # doctest: +SKIP
    """
    index = discovery_index(atlas)
    directory = index.directory
    artist_id = directory.artist_id_of(name) if directory is not None else None
    if directory is not None and artist_id is not None:
        return _catalog_profile(index, directory, artist_id)
    code = artist_code(atlas, name)
    rows = index.rows_of_artist(code)
    popularity = np.nan_to_num(index.popularity[rows], nan=-1.0)
    rows = rows[np.lexsort((rows, -popularity))]
    songs = pd.DataFrame(index.song_columns(rows))
    top = index.first_releases(rows)[:TOP_SONGS]
    labels = {method: index.labels[method][rows] for method in index.methods}
    shares, dominant = _cluster_shares(index, labels)
    return ArtistProfile(
        name=str(index.artist_names[code]),
        songs=songs,
        cluster_shares=shares,
        dominant_personas=dominant,
        profile=_profile(index, index.scaled[rows].astype(np.float64).mean(axis=0)),
        top_songs=songs.iloc[top].reset_index(drop=True),
        genres=top_genres(index, code, top=None),
        similar_artists=_similar_artists(index, index.artist_unit[code], code),
    )


def _catalog_profile(
    index: DiscoveryIndex, directory: SongDirectory, artist_id: str
) -> ArtistProfile:
    """The profile of an artist of a sampled atlas (named exactly) from every song of its
    catalog (the directory): songs, clusters, sound, best-known songs and genres; the similar
    artists are the loaded sample's. ``row`` is -1 for a song outside the loaded sample."""
    found, rows = directory.artist(artist_id), directory.artist_rows(artist_id)
    if found is None or rows is None:
        raise LookupFailed(f"artist id {artist_id!r}: no song of this atlas credits them.")
    table = directory.table(rows)
    order = np.lexsort((rows, -np.nan_to_num(table["popularity"].to_numpy(float), nan=-1.0)))
    rows, table = rows[order], table.iloc[order].reset_index(drop=True)
    table.insert(0, "row", index.track_ids.get_indexer(table["track_id"].to_numpy()))
    songs = table.reindex(columns=list(index.song_columns(rows[:0])))
    labels = {m: table[LABEL_COLUMNS[m]].to_numpy(np.int64) for m in index.methods}
    shares, dominant = _cluster_shares(index, labels)
    shown = directory.one_per_recording(rows[: TOP_SONGS * 20])[:TOP_SONGS]
    sound = directory.scaled(rows).mean(axis=0)
    return ArtistProfile(
        name=found.name,
        songs=songs,
        cluster_shares=shares,
        dominant_personas=dominant,
        profile=_profile(index, sound),
        top_songs=songs[np.isin(rows, shown)].reset_index(drop=True),
        genres=list(found.genres),
        similar_artists=_similar_artists(
            index, unit_rows(sound[None, :], index.centre)[0], index.artist_code_of_id(artist_id)
        ),
    )


def _cluster_shares(
    index: DiscoveryIndex, labels: dict[str, np.ndarray]
) -> tuple[pd.DataFrame, dict]:
    """How an artist's songs (their ``labels`` by method) spread over each method's clusters,
    and each method's dominant persona (the cluster holding most of their songs; ties to the
    lower cluster number)."""
    parts: dict[str, list] = {"method": [], "cluster": [], "persona": [], "songs": []}
    dominant: dict[str, str] = {}
    for method in index.methods:
        clusters, counts = np.unique(labels[method], return_counts=True)
        order = np.lexsort((clusters, -counts))
        names = index.cluster_names[method]
        personas = [names.get(int(c), f"cluster {c}") for c in clusters[order]]
        dominant[method] = personas[0]
        parts["method"] += [method] * len(order)
        parts["cluster"] += clusters[order].astype(np.int64).tolist()
        parts["persona"] += personas
        parts["songs"] += counts[order].astype(np.int64).tolist()
    table = pd.DataFrame(parts)
    table["share"] = table["songs"] / len(next(iter(labels.values())))
    return table, dominant


def _profile(index: DiscoveryIndex, sound: np.ndarray) -> pd.DataFrame:
    """An artist's average on each feature (``sound``: their mean scaled features) against
    the catalog's."""
    means = index.to_units(sound)
    return pd.DataFrame(
        {
            "feature": list(index.features),
            "mean": means,
            "catalog_mean": index.feature_mean,
            "z": (means - index.feature_mean) / index.feature_std,
        }
    )


def _similar_artists(index: DiscoveryIndex, unit: np.ndarray, code: int | None) -> pd.DataFrame:
    """The artists of the index whose average sound is nearest ``unit`` (an artist's), not
    the artist ``code`` itself."""
    found, scores = top_cosine(index.artist_unit, unit, SIMILAR_ARTISTS + 1)
    keep = found != code
    found, scores = found[keep][:SIMILAR_ARTISTS], scores[keep][:SIMILAR_ARTISTS]
    return pd.DataFrame(
        {
            "artist": index.artist_names[found],
            "similarity": np.clip(scores.astype(np.float64), -1.0, 1.0),
            "songs": index.artist_songs[found],
        }
    )
