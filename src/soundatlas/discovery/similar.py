"""Songs that sound like a song (or like several): exact cosine search on the scaled features.

Cosine similarity on the atlas's scaled features is what users of the seed analysis know: 1
means the same direction from the catalog's average sound. Angles are measured from the catalog
mean under every scaling (`soundatlas.discovery.index`), so a min-max or robust atlas gives
similarities as meaningful as a standard one. Each result says why it was chosen, naming the
features where it is closest to the query and where it differs most, in the features' own units
("tempo +28 BPM, acousticness −0.31").

A song is never its own neighbour, and neither is any other release of its recording (the same
primary artist, and the same title once "- Remastered 2011", "(Mono)", "- Radio Edit" and the
like are removed, or the same audio features; see `soundatlas.discovery.recordings`), which
real catalogs list once per album, compilation or remaster. Results hold each recording once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from soundatlas.clustering.metrics import NOISE
from soundatlas.clustering.result import METHOD_TITLES
from soundatlas.discovery.context import (
    DEFAULT_SIMILARITY,
    GENRE_WEIGHT,
    RERANK_POOL,
    SOUND,
    check_similarity,
    genre_bonus,
    genre_set,
)
from soundatlas.discovery.nearest import top_cosine
from soundatlas.discovery.queryindex import QueryIndex
from soundatlas.discovery.search import SONG_TIERS, exact_songs, match_songs
from soundatlas.discovery.text import normalise_text
from soundatlas.discovery.textindex import rank_matches
from soundatlas.errors import AmbiguousQuery, ConfigError, LookupFailed
from soundatlas.ingest.schema import SPOTIFY_TRACK_ID

if TYPE_CHECKING:
    import pandas as pd

    from soundatlas.atlas.model import Atlas
    from soundatlas.discovery.index import DiscoveryIndex

MAX_RESULTS = 500
CANDIDATES_SHOWN = 20
"""Most candidates an ambiguous query lists."""
_UNITS = {"tempo": ("BPM", 0), "loudness": ("dB", 1), "popularity": ("", 0)}
_MINUS = "\N{MINUS SIGN}"


def resolve_track(atlas: Atlas, query: str) -> int:
    """The row (position in ``atlas.tracks``) of the song a query names.

    Tried in order: an exact track id (a Spotify track URL, with or without an ``/intl-xx/``
    segment and query string, or a ``spotify:track:`` URI works too); a title, or
    ``title artist`` / ``artist title``, equal to the query once case, accents and punctuation
    are ignored; then a partial match of the title or ``title artist``. Releases of one
    recording count as one song: the most popular release matching the query is returned.

    Raises
    ------
    AmbiguousQuery
        If the text matches several different songs; ``candidates`` (a DataFrame with
        ``row, track_id, name, artists, popularity, release_year, genres, match``) lists up to
        20 of them, best match and most popular first.
    LookupFailed
        If nothing matches.

    Examples
    --------
    >>> row = resolve_track(atlas, "halo beyonce")  # doctest: +SKIP
    >>> atlas.tracks.loc[row, "name"]  # doctest: +SKIP
    'Halo'
    """
    return resolve_row(_index(atlas), query)


def _index(atlas: Atlas) -> DiscoveryIndex:
    """The atlas's discovery index (imported here: a query on a saved index needs no pandas)."""
    from soundatlas.discovery.index import discovery_index

    return discovery_index(atlas)


def resolve_row(index: QueryIndex, query: str) -> int:
    """The row of the song ``query`` names, found in ``index`` (see `resolve_track`)."""
    text = str(query).strip()
    if not text:
        raise ConfigError("song query '': is empty; give a track id or part of a song title.")
    row = index.row_of_id(text)
    if row is not None:
        return row
    reference = SPOTIFY_TRACK_ID.match(text)
    if reference and (row := index.row_of_id(reference.group(1))) is not None:
        return row
    key = normalise_text(text)
    if not key:
        raise LookupFailed(
            f"song query {text!r}: is not a track id of this atlas and has no letters or "
            "digits to match a title; give a track id or part of a song title."
        )
    exact = exact_songs(index, key)
    if len(exact):
        rows, tiers = rank_matches([lambda: exact], index.text.song_score, index.recording, None)
        return _one_song(index, text, rows, tiers)
    rows, tiers = match_songs(index, key, limit=None)
    if len(rows):
        return _one_song(index, text, rows, tiers)
    raise LookupFailed(
        f"song query {text!r}: no song has this track id, and no title or 'title artist' "
        "contains it; search for the song and pass its track id."
    )


def _one_song(index: QueryIndex, text: str, rows: np.ndarray, tiers: np.ndarray) -> int:
    """The row when one song matched (``rows``: one per song, best first); otherwise the
    candidates, as an error."""
    if len(rows) == 1:
        return int(rows[0])
    import pandas as pd

    shown, shown_tiers = rows[:CANDIDATES_SHOWN], tiers[:CANDIDATES_SHOWN]
    columns = index.candidate_columns(shown)
    candidates = pd.DataFrame(
        {
            "row": shown,
            "track_id": columns["track_id"],
            "name": columns["name"],
            "artists": columns["artists"],
            "popularity": columns["popularity"],
            "release_year": columns["release_year"],
            "genres": columns["genres"],
            "match": np.array([SONG_TIERS[t] for t in shown_tiers], dtype=object),
        }
    )
    first = candidates.iloc[0]
    hint = f"{first['name']} {first['artists']}".strip()
    more = f" (the first {len(shown)} are listed)" if len(rows) > len(shown) else ""
    raise AmbiguousQuery(
        f"song query {text!r}: matches {len(rows):,} different songs{more}; choose one by "
        f"track id (for example {first['track_id']!r}) or give title and artist "
        f"(for example {hint!r}).",
        candidates=candidates,
        query=text,
    )


def similar_tracks(
    atlas: Atlas,
    query: str | int,
    *,
    n: int = 10,
    same_cluster: str | None = None,
    exclude_same_artist: bool = False,
    features: Sequence[str] | None = None,
    allowed: np.ndarray | None = None,
    similarity: str | None = None,
) -> pd.DataFrame:
    """The ``n`` songs most similar to one song, with why each was chosen.

    Parameters
    ----------
    atlas
        A built or loaded atlas.
    query
        A track id, text naming the song (see `resolve_track`), or a row position.
    n
        How many songs (1-500). Fewer come back only when the catalog (or cluster) has fewer.
    same_cluster
        A method (``"kmeans"``, ``"dbscan"``, ``"hierarchical"``): only songs in the query's
        cluster of that method.
    exclude_same_artist
        Leave out songs sharing an artist with the query.
    features
        Compare on these scaled features only (default: all the atlas clustered on).
    allowed
        Only these songs may be returned: a boolean mask over ``atlas.tracks`` (one value per
        row) or an array of row positions. The query need not be among them; it and the other
        releases of its recording are never returned. Songs left out cost nothing, so a narrow
        filter is fast, and ``n`` songs still come back whenever that many are allowed (none
        when none are).
    similarity
        ``"sound+context"``: the audio features plus popularity, release year and duration,
        and genres when the catalog has them; ``"sound"``: the audio features only. None (the
        default) chooses by `similarity_for`: sound+context, or sound for an atlas too big to
        load whole (answered from its whole catalog). See `soundatlas.discovery.context` for
        how, and the README for the same-genre precision each gives on real catalogs.

    Returns
    -------
    DataFrame
        ``rank, row, track_id, name, artists`` (``"A, B"``), ``similarity`` (-1 to 1: the
        cosine, with sound+context on a catalog with genres (cosine + genre bonus) / 1.3),
        ``closest`` (the two features nearest the query's), ``differs`` (the two farthest, as
        signed differences in the feature's unit), each method's ``cluster``/``persona``
        columns, ``genres``, popularity, release year, duration, explicit and the audio
        features. Never a release of the query's recording; each recording once.

    Raises
    ------
    AmbiguousQuery, LookupFailed
        If ``query`` names several songs or none (see `resolve_track`).
    ConfigError
        If an option is out of range, names an unknown feature, or ``allowed`` is not a mask
        or rows of this atlas.

    Examples
    --------
    >>> similar_tracks(atlas, "Halo Beyoncé", n=5, exclude_same_artist=True)  # doctest: +SKIP
    >>> similar_tracks(atlas, "Halo Beyoncé", allowed=tracks["energy"] < 0.5)  # doctest: +SKIP
    """
    return similar_to_many(
        atlas,
        [query],
        n=n,
        same_cluster=same_cluster,
        exclude_same_artist=exclude_same_artist,
        features=features,
        allowed=allowed,
        similarity=similarity,
    )


def similarity_for(atlas: Atlas | QueryIndex, similarity: str | None = None) -> str:
    """The similarity a question is answered by: ``similarity`` as asked (checked), or when
    None the default — `DEFAULT_SIMILARITY` for an atlas in memory, sound for an atlas too big
    to load whole, so that its whole catalog is searched (`searches_whole_catalog`). Asked of
    an atlas or of its index."""
    if similarity is None:
        return SOUND if atlas.sampled else DEFAULT_SIMILARITY
    return check_similarity(similarity)


def searches_whole_catalog(
    atlas: Atlas, *, allowed: np.ndarray | None = None, similarity: str | None = None
) -> bool:
    """Whether similar songs come from every song of the catalog, through the atlas's
    approximate similar-songs index, rather than from the songs loaded in memory.

    True for an atlas too big to load whole (it holds a sample: `Atlas.sampled`) asked by
    sound without ``allowed``. A filter is a mask over the loaded songs, and the index holds
    the songs' sound only, so a filtered question, or one by sound+context, is answered among
    the loaded songs.
    """
    return atlas.sampled and allowed is None and similarity_for(atlas, similarity) == SOUND


def _similar_in_whole_catalog(
    atlas: Atlas,
    queries: Sequence[str | int],
    *,
    n: int,
    same_cluster: str | None,
    exclude_same_artist: bool,
    features: Sequence[str] | None,
) -> dict[str, np.ndarray]:
    if len(queries) > 1 or features is not None:
        raise ConfigError(
            "several songs at once, or chosen features, need every song in memory; this atlas "
            f"of {atlas.report.tracks:,} songs is too big for that, so it answers one song at a "
            "time on all features."
        )
    query = queries[0]
    if isinstance(query, (int, np.integer)) and not isinstance(query, bool):
        if not 0 <= query < len(atlas.tracks):
            raise ConfigError(f"row {query}: the atlas has rows 0 to {len(atlas.tracks) - 1}.")
        query = str(atlas.tracks["track_id"].iloc[int(query)])
    from soundatlas.discovery.wholecatalog import similar_catalog_columns

    return similar_catalog_columns(
        atlas, query, n=n, same_cluster=same_cluster, exclude_same_artist=exclude_same_artist
    )


def similar_to_many(
    atlas: Atlas,
    queries: Sequence[str | int],
    *,
    n: int = 10,
    same_cluster: str | None = None,
    exclude_same_artist: bool = False,
    features: Sequence[str] | None = None,
    allowed: np.ndarray | None = None,
    similarity: str | None = None,
) -> pd.DataFrame:
    """The ``n`` songs most similar to several songs at once: to their centroid.

    The centroid is the mean of the songs' scaled features; results are compared with it
    (``closest``/``differs`` describe the difference from that average). ``same_cluster``
    keeps songs in any of the query songs' clusters; ``exclude_same_artist`` leaves out every
    query song's artists; ``allowed`` as in `similar_tracks`. Columns and errors as in
    `similar_tracks`.
    """
    import pandas as pd

    return pd.DataFrame(
        similar_columns(
            atlas,
            queries,
            n=n,
            same_cluster=same_cluster,
            exclude_same_artist=exclude_same_artist,
            features=features,
            allowed=allowed,
            similarity=similarity,
        )
    )


def similar_columns(
    atlas: Atlas,
    queries: Sequence[str | int],
    *,
    n: int = 10,
    same_cluster: str | None = None,
    exclude_same_artist: bool = False,
    features: Sequence[str] | None = None,
    allowed: np.ndarray | None = None,
    similarity: str | None = None,
) -> dict[str, object]:
    """`similar_to_many`'s table as its columns (name → array, in the table's order), without
    building the DataFrame: for a caller that writes the rows out itself (the HTTP API, where
    the DataFrame and its JSON took a third of a request). Options and errors as in
    `similar_to_many`."""
    _check_queries(queries)
    kind = similarity_for(atlas, similarity)
    if searches_whole_catalog(atlas, allowed=allowed, similarity=kind):
        return _similar_in_whole_catalog(
            atlas,
            queries,
            n=n,
            same_cluster=same_cluster,
            exclude_same_artist=exclude_same_artist,
            features=features,
        )
    index = _index(atlas)
    found = similar_rows(
        index,
        queries,
        n=n,
        same_cluster=same_cluster,
        exclude_same_artist=exclude_same_artist,
        features=features,
        allowed=allowed,
        similarity=kind,
    )
    return result_columns(index, found)


@dataclass(frozen=True)
class SimilarSongs:
    """Similar songs as rows of the atlas, best first: what `similar_tracks` puts in a table
    and the command line shows (`similar_rows`)."""

    rows: np.ndarray
    similarity: np.ndarray
    """-1 to 1 (see `similar_tracks`)."""
    closest: np.ndarray
    """The two features nearest the query's, per song."""
    differs: np.ndarray
    """The two farthest, as signed differences in the feature's unit, per song."""
    kind: str
    """The similarity they were found by."""


def _check_queries(queries: object) -> None:
    if isinstance(queries, (str, bytes)) or not isinstance(queries, Sequence) or not queries:
        raise ConfigError(
            f"queries={queries!r}: give a list of one or more track ids, song texts or rows."
        )


def similar_rows(
    index: QueryIndex,
    queries: Sequence[str | int],
    *,
    n: int = 10,
    same_cluster: str | None = None,
    exclude_same_artist: bool = False,
    features: Sequence[str] | None = None,
    allowed: np.ndarray | None = None,
    similarity: str | None = None,
) -> SimilarSongs:
    """The songs of ``index`` most similar to ``queries`` (their centroid), among the songs
    it holds: the search `similar_to_many` answers with, as rows, scores and reasons.
    Options and errors as in `similar_to_many`; ``similarity`` None is the default of
    `similarity_for`."""
    _check_queries(queries)
    kind = similarity_for(index, similarity)
    n = _check_count(n)
    columns = _check_features(index, features)
    mask = allowed_mask(index, allowed)
    rows = np.unique([_row_of(index, q) for q in queries])
    labels = wanted = None
    if same_cluster is not None:
        labels, wanted = _cluster_filter(index, rows, same_cluster)
    reference = index.scaled[rows][:, list(columns)].astype(np.float64).mean(axis=0)
    if kind == SOUND:
        unit, query = index.unit_for(columns), index.direction(reference, columns)
    else:
        unit = index.context_unit_for(columns)
        query = _mean_direction(unit[rows])
    if query is None:
        raise ConfigError(
            f"songs {_names(index, rows)}: sit exactly at the catalog's average on "
            f"{', '.join(index.features[c] for c in columns)}, so no direction to compare; "
            "use more features or other songs."
        )
    excluded = np.unique(np.concatenate([index.releases_of(r) for r in rows]))
    if exclude_same_artist:
        codes = np.unique(np.concatenate([index.artists_of(r) for r in rows]))
        if len(codes):
            excluded = np.union1d(
                excluded, np.concatenate([index.rows_of_artist(c) for c in codes])
            )
    query_genres = index.genres_of(rows)
    with_genres = kind != SOUND and any(genre_set(g) for g in query_genres)
    pool = min(max(200, n * RERANK_POOL), index.size) if with_genres else n
    found, scores = _nearest(index, unit, query, pool, excluded, labels, wanted, mask)
    if with_genres:
        bonus = genre_bonus(index.genre_keys_of(rows), index.genre_keys_of(found))
        combined = (scores + bonus) / (1 + GENRE_WEIGHT)
        order = np.lexsort((found, -combined))[:n]
        found, scores = found[order], combined[order]
    closest, differs = explain(index, found, reference, columns)
    return SimilarSongs(
        found, np.clip(scores.astype(np.float64), -1.0, 1.0), closest, differs, kind
    )


def _mean_direction(units: np.ndarray) -> np.ndarray | None:
    """The unit direction of the mean of some unit rows; None when they cancel out."""
    mean = units.astype(np.float64).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return None if norm < 1e-9 else (mean / norm).astype(np.float32)


def _row_of(index: QueryIndex, query: str | int) -> int:
    if isinstance(query, (bool, np.bool_)):
        raise ConfigError(f"song query {query!r}: give a track id, song text or row number.")
    if isinstance(query, (int, np.integer)):
        if not 0 <= query < index.size:
            raise LookupFailed(
                f"row {query}: the atlas has {index.size:,} songs (rows 0-{index.size - 1:,}); "
                "pass a row in that range or a track id."
            )
        return int(query)
    if not isinstance(query, str):
        raise ConfigError(
            f"song query {query!r}: is a {type(query).__name__}; give a track id, song text "
            "or row number."
        )
    return resolve_row(index, query)


def _check_count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ConfigError(f"n={n!r}: must be a whole number between 1 and {MAX_RESULTS}.")
    if not 1 <= n <= MAX_RESULTS:
        raise ConfigError(f"n={n}: must be between 1 and {MAX_RESULTS}; ask for fewer songs.")
    return int(n)


def _check_features(index: QueryIndex, features: Sequence[str] | None) -> tuple[int, ...]:
    if features is None:
        return index.feature_columns(None)
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",")]
    chosen = tuple(dict.fromkeys(f for f in features if f))
    unknown = [f for f in chosen if f not in index.features]
    if unknown or not chosen:
        raise ConfigError(
            f"features {', '.join(unknown) or '(none)'}: not features of this atlas; choose "
            f"from {', '.join(index.features)}."
        )
    return index.feature_columns(chosen)


def allowed_mask(index: QueryIndex, allowed: object) -> np.ndarray | None:
    """``allowed`` as a boolean mask over the catalog (None: every song)."""
    if allowed is None:
        return None
    values = np.asarray(allowed)
    if values.dtype == np.bool_:
        if values.shape != (index.size,):
            raise ConfigError(
                f"allowed: a mask of shape {values.shape} for {index.size:,} songs; give one "
                "True/False per row of atlas.tracks, or an array of row positions."
            )
        return values
    if values.ndim != 1 or not (values.size == 0 or np.issubdtype(values.dtype, np.integer)):
        raise ConfigError(
            f"allowed: {values.dtype} values of shape {values.shape}; give a boolean mask over "
            "atlas.tracks or an array of row positions."
        )
    if values.size and not (values.min() >= 0 and values.max() < index.size):
        raise ConfigError(
            f"allowed: rows {values.min()}-{values.max()} are outside the atlas's "
            f"{index.size:,} songs (rows 0-{index.size - 1:,})."
        )
    mask = np.zeros(index.size, dtype=np.bool_)
    mask[values.astype(np.int64)] = True
    return mask


def _cluster_filter(
    index: QueryIndex, rows: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray]:
    index.require_method(method)
    labels = index.labels[method]
    wanted = np.unique(labels[rows])
    wanted = wanted[wanted != NOISE]
    if len(wanted) == 0:
        raise LookupFailed(
            f"same cluster ({METHOD_TITLES[method]}): {_names(index, rows)} "
            f"{'is' if len(rows) == 1 else 'are'} noise for this method (in no cluster), so no "
            "song shares a cluster with it; choose another method or drop the same-cluster "
            "option."
        )
    return labels, wanted.astype(np.int32)


def _names(index: QueryIndex, rows: np.ndarray) -> str:
    shown = [repr(str(name)) for name in index.names_of(rows[:3])]
    return ", ".join(shown) + (" …" if len(rows) > 3 else "")


def _nearest(
    index: QueryIndex,
    unit: np.ndarray,
    query: np.ndarray,
    n: int,
    excluded: np.ndarray,
    labels: np.ndarray | None,
    wanted: np.ndarray | None,
    allowed: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``n`` distinct songs outside ``excluded`` (and inside ``allowed``). The exact search
    skips excluded rows itself; it is asked for a few more than ``n`` because releases of one
    recording take places, and asked again for more in the rare case they run out."""
    k = n + 8
    while True:
        rows, scores = top_cosine(
            unit, query, k, labels=labels, wanted=wanted, banned=excluded, allowed=allowed
        )
        first = index.first_releases(rows)
        if len(first) >= n or len(rows) < k or k >= index.size:
            chosen = first[:n]
            return rows[chosen], scores[chosen]
        k = min(4 * k, index.size)


def result_columns(index: DiscoveryIndex, found: SimilarSongs) -> dict[str, object]:
    """The columns of a similar-songs table (see `similar_tracks`) for ``found``."""
    song = index.song_columns(found.rows)
    return {
        "rank": np.arange(1, len(found.rows) + 1),
        "row": song.pop("row"),
        "track_id": song.pop("track_id"),
        "name": song.pop("name"),
        "artists": song.pop("artists"),
        "similarity": found.similarity,
        "closest": found.closest,
        "differs": found.differs,
        **song,
    }


def explain(
    index: QueryIndex, rows: np.ndarray, reference: np.ndarray, columns: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Per song: the two traits it shares most with ``reference``, and the two biggest gaps.

    A shared trait is a feature on which both songs sit on the same side of the catalog
    average, scored by how far the nearer of the two is from it, less half the gap between
    them: two songs that are both very acoustic are "closest on acousticness", while two songs
    that are merely both average on instrumentalness (as most songs are) are not. Everything is
    measured in scaled units, so tempo and a 0-1 share compare fairly; the gaps are written in
    each feature's own unit, signed as song minus reference.
    """
    names = [index.features[c] for c in columns]
    scale = index.scale[list(columns)]
    centre = index.centre[list(columns)]
    song = index.scaled[rows][:, list(columns)].astype(np.float64) - centre
    query = np.asarray(reference, dtype=np.float64) - centre
    gaps = song - query
    same_side = np.sign(song) == np.sign(query)
    shared = np.where(same_side, np.minimum(np.abs(song), np.abs(query)), 0.0) - np.abs(gaps) / 2
    order = np.argsort(-shared, axis=1, kind="stable")
    by_gap = np.argsort(np.abs(gaps), axis=1, kind="stable")
    take = min(2, len(columns))
    closest = np.empty(len(rows), dtype=object)
    differs = np.empty(len(rows), dtype=object)
    for i in range(len(rows)):
        closest[i] = ", ".join(names[j] for j in order[i, :take])
        differs[i] = ", ".join(
            difference_text(names[j], gaps[i, j] * scale[j]) for j in by_gap[i, ::-1][:take]
        )
    return closest, differs


def difference_text(feature: str, difference: float) -> str:
    """A signed difference in the feature's own unit; durations in seconds.

    Examples
    --------
    >>> difference_text("tempo", 28.4)
    'tempo +28 BPM'
    >>> difference_text("acousticness", -0.31)
    'acousticness −0.31'
    >>> difference_text("duration_ms", 35_000)
    'duration +35 s'
    """
    sign = "+" if difference >= 0 else _MINUS
    size = abs(difference)
    if feature == "duration_ms":
        return f"duration {sign}{size / 1000:.0f} s"
    unit, digits = _UNITS.get(feature, ("", 2))
    if feature in ("key", "mode", "time_signature"):
        digits = 0
    value = f"{size:.{digits}f}"
    if float(value) == 0.0:
        sign = "±"
    return f"{feature} {sign}{value}{' ' + unit if unit else ''}"


def similar_to_sound(
    atlas: Atlas, scaled: np.ndarray, *, n: int = 10, method: str | None = None, cluster=None
) -> pd.DataFrame:
    """The ``n`` songs nearest a sound that is not in the catalog (a new song's scaled
    features, as `Atlas.assign` sees them), optionally only among one cluster's songs.

    Columns as in `similar_tracks` (``closest``/``differs`` compare with that sound).

    Raises
    ------
    ConfigError
        If ``n`` is out of range, ``scaled`` has the wrong length, or the sound is the
        catalog's average (no direction to compare).
    LookupFailed
        If ``method`` was not run.
    """
    index = _index(atlas)
    n = _check_count(n)
    point = np.asarray(scaled, dtype=np.float64)
    if point.shape != (len(index.features),):
        raise ConfigError(
            f"sound of shape {point.shape}: give one scaled value for each of "
            f"{', '.join(index.features)}."
        )
    columns = index.feature_columns(None)
    query = index.direction(point, columns)
    if query is None:
        raise ConfigError(
            "sound: sits exactly at the catalog's average, so no direction to compare; "
            "give a song with a sound of its own."
        )
    labels = wanted = None
    if method is not None:
        atlas.require_method(method)
        labels, wanted = index.labels[method], np.asarray([cluster], dtype=np.int32)
    found, scores = _nearest(
        index, index.unit, query, n, np.zeros(0, np.int64), labels, wanted, None
    )
    closest, differs = explain(index, found, point, columns)
    similarity = np.clip(scores.astype(np.float64), -1.0, 1.0)
    import pandas as pd

    return pd.DataFrame(
        result_columns(index, SimilarSongs(found, similarity, closest, differs, SOUND))
    )
