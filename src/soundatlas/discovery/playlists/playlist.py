"""A generated playlist and the account of how it was chosen: `generate_playlist`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from soundatlas.atlas.model import Atlas
from soundatlas.discovery.index import DiscoveryIndex, discovery_index
from soundatlas.discovery.playlists.candidates import Candidates, Source, select, sound_source
from soundatlas.discovery.playlists.nearby import Near
from soundatlas.discovery.playlists.ordering import flow_order
from soundatlas.discovery.playlists.request import PlaylistRequest, describe_constraint
from soundatlas.discovery.similar import allowed_mask


@dataclass(frozen=True)
class Playlist:
    """A generated playlist and the account of how it was chosen.

    Attributes
    ----------
    request
        The request it answers.
    tracks
        ``position`` (in the chosen order), ``rank`` (by score), ``similarity``,
        ``target_distance`` (when targets were given), then ``row, track_id, name, artists``,
        clusters and personas, genres, popularity, release year, duration, explicit, features.
    passed
        Songs that pass every constraint (at most ``size`` of them are in ``tracks``).
    limiting
        When fewer than ``size`` passed: the constraint that cut the most songs; else None.
    cut_by
        Songs each constraint removed. Filters (``threshold``, ``min_*``, ``max_*``,
        ``explicit``) are counted independently over the songs in scope (a song failing two
        counts for both); ``releases`` (other releases of a recording already chosen, see
        `soundatlas.discovery.recordings`) and ``max_per_artist`` among the songs passing every
        filter.
    message
        One sentence saying what happened, for people.
    warnings
        Options that could not work as asked (``allow_explicit=False`` on a catalog that does
        not say which songs are explicit), one sentence each.
    """

    request: PlaylistRequest
    tracks: pd.DataFrame
    passed: int
    limiting: str | None
    cut_by: dict[str, int]
    message: str
    warnings: tuple[str, ...] = ()


def generate_playlist(
    atlas: Atlas, request: PlaylistRequest, *, allowed: np.ndarray | None = None
) -> Playlist:
    """Choose and order the songs of a playlist.

    ``allowed`` (a boolean mask over ``atlas.tracks`` or an array of row positions) limits
    the songs it may hold, for filters a request cannot state (the dashboard's genre, artist
    and explicit filters); the songs it leaves out are counted as ``cut_by["filters"]``.

    Raises
    ------
    LookupFailed
        If the method was not run, the cluster does not exist, or a seed is not found.
    AmbiguousQuery
        If a seed names several songs or artists.

    Examples
    --------
    >>> request = PlaylistRequest(cluster=2, size=30, threshold=0.9, maximum={"tempo": 110})
    >>> playlist = generate_playlist(atlas, request)  # doctest: +SKIP
    >>> playlist.message  # doctest: +SKIP
    """
    index = discovery_index(atlas)
    source, found, flow = _choose(atlas, index, request, allowed)
    passed = len(found.rows)
    best = slice(0, request.size)
    tracks = _track_table(index, found, best, flow, request)
    cut_by = found.cut_by
    limiting = None
    if passed < request.size and any(cut_by.values()):
        limiting = max(cut_by, key=lambda name: cut_by[name])
    message = _message(request, passed, limiting, cut_by, source)
    warnings = ()
    if not request.allow_explicit and not atlas.tracks["explicit"].notna().any():
        warnings = (
            f"{atlas.report.source}: has no explicit column (or no value in it), so no song "
            "is known to be explicit and leaving explicit songs out removed none; check the "
            "songs yourself or add an explicit column and rebuild.",
        )
    return Playlist(request, tracks, passed, limiting, cut_by, message, warnings)


def playlist_rows(
    atlas: Atlas,
    request: PlaylistRequest,
    *,
    source: Source | None = None,
    near: Near | None = None,
) -> np.ndarray:
    """The catalog rows of the songs `generate_playlist` chooses for ``request``, in playing
    order: the same choice without building its table and account, for callers that format
    the songs themselves (the HTTP API's ``/v1/recommendations``, where the table cost a third
    of the request).

    ``source`` (`sound_source`) and ``near`` (its reference's first pass, `select`) are the
    request's, when the caller made them (`soundatlas.discovery.playlists.seeds.recommend`).

    Raises
    ------
    LookupFailed, AmbiguousQuery, ConfigError
        As `generate_playlist`.
    """
    index = discovery_index(atlas)
    source = source or sound_source(atlas, index, request)
    found = select(atlas, index, request, source, None, counted=False, near=near)
    flow = flow_order(atlas, request.order, found.rows[: request.size])
    return found.rows[: request.size][flow]


def _choose(
    atlas: Atlas,
    index: DiscoveryIndex,
    request: PlaylistRequest,
    allowed: object,
) -> tuple[Source, Candidates, np.ndarray]:
    """The request's source, its candidates best first with what each constraint cut
    (`select`), and the playing order of the best ``size`` of them (a permutation)."""
    source = sound_source(atlas, index, request)
    found = select(atlas, index, request, source, allowed_mask(index, allowed))
    return source, found, flow_order(atlas, request.order, found.rows[: request.size])


def _track_table(
    index: DiscoveryIndex,
    found: Candidates,
    best: slice,
    flow: np.ndarray,
    request: PlaylistRequest,
) -> pd.DataFrame:
    """The chosen songs in playing order (``flow``: a permutation of the best ones)."""
    rows = found.rows[best][flow]
    song = index.song_columns(rows)
    table: dict[str, object] = {
        "position": np.arange(1, len(rows) + 1),
        "rank": (flow + 1).astype(np.int64),
        "row": song.pop("row"),
        "track_id": song.pop("track_id"),
        "name": song.pop("name"),
        "artists": song.pop("artists"),
        "similarity": np.clip(found.similarity[best][flow], -1.0, 1.0),
    }
    if request.target:
        table["target_distance"] = np.asarray(found.distance[best][flow], dtype=np.float64)
    table.update(song)
    return pd.DataFrame(table)


_ADVICE = {
    "threshold": "lower the threshold",
    "explicit": "allow explicit songs",
    "max_per_artist": "allow more songs per artist",
    "releases": "choose another source of sound (the catalog lists these recordings several times)",
    "filters": "widen the filters",
}


def _message(
    request: PlaylistRequest,
    passed: int,
    limiting: str | None,
    cut_by: dict[str, int],
    source: Source,
) -> str:
    about = f"similarity to {source.reference_text}, from {source.scope_text}"
    if passed >= request.size:
        return (
            f"{_songs(request.size)} chosen from {passed:,} that pass every constraint ({about})."
        )
    if passed == 0:
        words = f"None of the {_songs(request.size)} asked for pass every constraint"
    else:
        words = f"Only {passed:,} of the {_songs(request.size)} asked for pass every constraint"
    if limiting is None:
        return f"{words} ({about}): there are no more songs to choose from."
    if limiting.startswith("min_"):
        advice = f"lower min_{limiting[4:]}"
    elif limiting.startswith("max_") and limiting != "max_per_artist":
        advice = f"raise max_{limiting[4:]}"
    else:
        advice = _ADVICE[limiting]
    return (
        f"{words} ({about}); {describe_constraint(limiting, request)} cut the most: "
        f"{cut_by[limiting]:,} of {len(source.scope):,} songs. To get more, {advice}."
    )


def _songs(count: int) -> str:
    """``"1 song"``, ``"20 songs"``."""
    return f"{count:,} song{'' if count == 1 else 's'}"
