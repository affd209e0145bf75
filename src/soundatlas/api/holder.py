"""The atlas a server answers from, replaced when the atlas folder is rebuilt in place.

Saving an atlas swaps a new folder in atomically (`soundatlas.atlas.store`). A watcher thread
looks at the folder's manifest every ``poll`` seconds; when it changed, it loads the new atlas and
builds its lookups *before* swapping the reference, so no request waits for a load. A request takes
the atlas once and keeps it to the end, so one in flight during a swap finishes on the atlas it
started with. A rebuild that cannot be loaded is logged and the old atlas kept.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path

from soundatlas import load_atlas
from soundatlas.atlas.model import Atlas
from soundatlas.discovery import (
    LIMITED_COLUMNS,
    PlaylistRequest,
    generate_playlist,
    seed_pools,
    similar_tracks,
)
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.playlists.nearby import unit_columns
from soundatlas.errors import SoundAtlasError

log = logging.getLogger("soundatlas.api")


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when the folder is swapped or its manifest rewritten."""
    try:
        info = os.stat(path / "manifest.json")
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def warmed(atlas: Atlas) -> Atlas:
    """The atlas with every lookup a request may need already built (for a sampled atlas, the
    sorted ids of its whole catalog too), and the compiled kernels
    of similar songs and playlists loaded (the first call otherwise takes about a second)."""
    index = discovery_index(atlas)
    _ = index.text, index.genres, index.artist_ids
    # Hash tables of the id lookups, and the numeric columns playlists filter and target on
    # (with their spreads): otherwise built on first use by each forked worker, in its own
    # memory (3-11 MB each; the soak's growth).
    index.row_of_id("")
    index.artist_code_of_id("")
    for column in LIMITED_COLUMNS:
        if column in atlas.tracks.columns:
            index.spread(column)
    if "explicit" in atlas.tracks.columns:
        index.numbers("explicit")
    if index.directory is not None:  # every song of a sampled atlas is found by id
        index.directory.sort_ids()
    unit_columns(index)  # playlists' first pass, shared by the forked workers
    if index.size > 1:
        with contextlib.suppress(SoundAtlasError):
            similar_tracks(atlas, 0, n=1)
            request = PlaylistRequest(method=None, seeds=(str(index.ids[0]),))
            generate_playlist(atlas, request)
            seed_pools(atlas, request)
    return atlas


class AtlasHolder:
    """The current atlas of a folder (see the module docstring)."""

    def __init__(self, path: str | Path, *, poll: float = 1.0) -> None:
        self.path = Path(path)
        self.poll = poll
        self._stamp = _stamp(self.path)
        self._atlas = warmed(load_atlas(self.path))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def atlas(self) -> Atlas:
        """The atlas to answer from (take it once per request)."""
        return self._atlas

    def refresh(self) -> bool:
        """Load the folder again if it changed since the last load; True if it was swapped."""
        stamp = _stamp(self.path)
        if stamp is None or stamp == self._stamp:
            return False
        try:
            atlas = warmed(load_atlas(self.path))
        except (SoundAtlasError, OSError) as exc:
            log.warning(
                "%s changed but could not be loaded (%s); still serving the old atlas.",
                self.path,
                exc,
            )
            return False
        self._atlas, self._stamp = atlas, stamp
        log.info("%s: now serving the rebuilt atlas %s", self.path, atlas.fingerprint)
        return True

    def start(self) -> None:
        """Start watching the folder (no-op when ``poll`` is 0)."""
        if self.poll > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="atlas-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            self.refresh()
