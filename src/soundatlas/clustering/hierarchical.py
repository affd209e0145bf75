"""Hierarchical (Ward) clustering of every song: cut the Ward tree at the chosen k.

The tree itself is built by `soundatlas.clustering.ward`; because exact Ward is the slowest step
of a build and runs on one core, `start_ward_tree` can build it in a second process while the
other methods use the first core.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster

from soundatlas.clustering.metrics import (
    Scores,
    SilhouetteSample,
    centroids,
    relabel_by_size,
    score_labels,
)
from soundatlas.clustering.result import ClusteringResult
from soundatlas.clustering.selection import candidate_row, choose_k, k_candidates
from soundatlas.clustering.ward import EXACT_LIMIT, WardTree, ward_tree
from soundatlas.errors import SoundAtlasError

BACKGROUND_MIN_SONGS = 20_000
"""Below this, Ward takes about two seconds and a second process would cost more than it saves."""


class WardJob:
    """A Ward tree being built, in a second process for large catalogs, inline otherwise.

    The second process is started in a session of its own: Ctrl+C at a terminal interrupts the
    whole foreground process group, and a worker caught while starting up would print a
    traceback. The build is interrupted instead, and stops the worker itself (`cancel`).
    """

    def __init__(self, x: np.ndarray, *, exact_limit: int, random_state: int) -> None:
        self.started = time.perf_counter()
        self._worker: subprocess.Popen | None = None
        self._channel: Connection | None = None
        self._sender: threading.Thread | None = None
        self._tree: WardTree | None = None
        self.seconds: float | None = None
        kwargs = {"exact_limit": exact_limit, "random_state": random_state}
        if len(x) < BACKGROUND_MIN_SONGS:
            self._tree = ward_tree(x, **kwargs)
            self.seconds = time.perf_counter() - self.started
            return
        ours, theirs = socket.socketpair()
        with ours, theirs:
            self._worker = subprocess.Popen(
                [sys.executable, "-c", _WORKER, str(theirs.fileno()), str(os.getpid())],
                pass_fds=[theirs.fileno()],
                env={**os.environ, "PYTHONPATH": _import_path()},
                start_new_session=True,
            )
            self._channel = Connection(os.dup(ours.fileno()))
        # Sent from a thread: the worker takes a second or two to start reading.
        self._sender = threading.Thread(
            target=_send_quietly, args=(self._channel, (x, kwargs)), daemon=True
        )
        self._sender.start()

    def running(self) -> bool:
        """Whether the tree is still being built in the second process."""
        return self._tree is None and self._channel is not None and not self._channel.poll()

    def result(self) -> WardTree:
        """Wait for the tree (re-raising any error from the worker)."""
        if self._tree is None:
            assert self._worker is not None and self._channel is not None
            try:
                built, value = self._channel.recv()
            except (EOFError, OSError):
                raise SoundAtlasError(
                    "hierarchical clustering: the second process building the Ward tree "
                    f"stopped before finishing (exit code {self._worker.wait()}; out of "
                    "memory?). Build again, or leave it out with --methods kmeans,dbscan."
                ) from None
            finally:
                self._close_channel()
            self._worker.wait()
            if not built:
                raise value
            self._tree = value
        if self.seconds is None:
            self.seconds = time.perf_counter() - self.started
        return self._tree

    def cancel(self) -> None:
        """Stop the worker, for a build that failed or was interrupted elsewhere."""
        if self._worker is not None and self._worker.poll() is None:
            self._worker.kill()
            self._worker.wait()
        self._close_channel()

    def _close_channel(self) -> None:
        """Close the channel once the sending thread has stopped using it (the worker has
        read the features, or is dead and the send failed)."""
        if self._sender is not None:
            self._sender.join()
        if self._channel is not None:
            self._channel.close()


_WORKER = (
    "import sys; from soundatlas.clustering.hierarchical import serve_ward_tree; "
    "serve_ward_tree(int(sys.argv[1]), int(sys.argv[2]))"
)


def _import_path() -> str:
    """PYTHONPATH for the worker: where this SoundAtlas was imported from, then the rest."""
    here = str(Path(__file__).resolve().parents[2])
    return os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)


def _send_quietly(channel: Connection, message: object) -> None:
    """Send, unless the worker is gone already (the build was interrupted meanwhile)."""
    with contextlib.suppress(OSError):
        channel.send(message)


def serve_ward_tree(descriptor: int, parent: int) -> None:
    """The worker: receive the scaled features, build the tree, send it back.

    It ends itself if the build process dies (a killed build must not leave a worker
    computing for nobody).
    """

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    channel = Connection(descriptor)
    try:
        x, kwargs = channel.recv()
    except (EOFError, OSError):
        # The build stopped before or while sending (Ctrl+C at the terminal): a half-sent
        # message raises OSError. Nobody is waiting for a tree, and a traceback here would
        # land on the user's terminal beside the build's one-line message.
        return
    try:
        tree = ward_tree(x, **kwargs)
    except Exception as exc:
        channel.send((False, exc))
    else:
        channel.send((True, tree))


def start_ward_tree(
    x: np.ndarray, *, exact_limit: int = EXACT_LIMIT, random_state: int = 0
) -> WardJob:
    """Begin building the Ward tree of the scaled features (see `WardJob`)."""
    return WardJob(x, exact_limit=exact_limit, random_state=random_state)


def cluster_hierarchical(
    x: np.ndarray,
    tree: WardTree,
    *,
    sample: SilhouetteSample,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 12),
    distinct: int | None = None,
    tree_seconds: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> ClusteringResult:
    """Cut the Ward tree into k clusters, choosing k as for K-Means unless it is fixed."""
    tick = progress or (lambda fraction: None)
    started = time.perf_counter()
    selection, rule = None, f"fixed by the user (k={k})"
    scored: dict[int, Scores] = {}
    if k is None:
        rows = []
        candidates = k_candidates(len(x), k_range, distinct)
        for position, candidate in enumerate(candidates):
            labels = cut_tree(tree, candidate)
            scored[candidate] = score_labels(x, labels, sample)
            rows.append(candidate_row(candidate, labels, scored[candidate], _inertia(x, labels)))
            tick((position + 1) / len(candidates))
        selection = pd.DataFrame(rows)
        k, rule = choose_k(selection)
    labels = cut_tree(tree, k)  # deterministic: the chosen candidate's cut, already scored
    scores = scored.get(k) or score_labels(x, labels, sample)
    timings = {"cut_and_select": time.perf_counter() - started}
    if tree_seconds is not None:
        timings["tree"] = tree_seconds
    tick(1.0)
    return ClusteringResult(
        method="hierarchical",
        labels=labels,
        params={"k": int(k), "linkage": "ward"},
        rule=rule,
        scores=scores,
        selection=selection,
        centroids=centroids(x, labels),
        timings=timings,
        details={"variant": tree.variant, "leaves": tree.leaves, "songs": len(x)},
        linkage=tree.linkage,
        linkage_songs=tree.merge_songs,
    )


def cut_tree(tree: WardTree, k: int) -> np.ndarray:
    """Labels of every song when the tree is cut into (at most) k clusters, largest first."""
    leaf_labels = fcluster(tree.linkage, t=k, criterion="maxclust") - 1
    labels = leaf_labels if tree.leaf_of_song is None else leaf_labels[tree.leaf_of_song]
    return relabel_by_size(labels)


def _inertia(x: np.ndarray, labels: np.ndarray) -> float:
    centres = centroids(x, labels)
    return float(((x - centres[labels]) ** 2).sum())
