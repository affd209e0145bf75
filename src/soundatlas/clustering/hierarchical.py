"""Hierarchical (Ward) clustering of every song: cut the Ward tree at the chosen k.

The tree itself is built by `soundatlas.clustering.ward`; because exact Ward is the slowest step
of a build and runs on one core, `start_ward_tree` can build it in a second process while the
other methods use the first core.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor

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

BACKGROUND_MIN_SONGS = 20_000
"""Below this, Ward takes about two seconds and a second process would cost more than it saves."""


class WardJob:
    """A Ward tree being built, in a second process for large catalogs, inline otherwise."""

    def __init__(self, x: np.ndarray, *, exact_limit: int, random_state: int) -> None:
        self.started = time.perf_counter()
        self._executor: ProcessPoolExecutor | None = None
        self._future: Future | None = None
        self._tree: WardTree | None = None
        kwargs = {"exact_limit": exact_limit, "random_state": random_state}
        if len(x) >= BACKGROUND_MIN_SONGS:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
            self._future = self._executor.submit(_ward_tree_in_worker, x, os.getpid(), **kwargs)
            self.seconds: float | None = None
        else:
            self._tree = ward_tree(x, **kwargs)
            self.seconds = time.perf_counter() - self.started

    def running(self) -> bool:
        """Whether the tree is still being built in the second process."""
        return self._future is not None and not self._future.done()

    def result(self) -> WardTree:
        """Wait for the tree (re-raising any error from the worker)."""
        if self._tree is None:
            assert self._future is not None and self._executor is not None
            try:
                self._tree = self._future.result()
            finally:
                self._executor.shutdown(wait=True, cancel_futures=True)
        if self.seconds is None:
            self.seconds = time.perf_counter() - self.started
        return self._tree

    def cancel(self) -> None:
        """Stop the worker, for a build that failed elsewhere."""
        if self._executor is not None:
            for process in list(getattr(self._executor, "_processes", {}).values()):
                process.terminate()
            self._executor.shutdown(wait=False, cancel_futures=True)


def _ward_tree_in_worker(x: np.ndarray, parent: int, **kwargs: object) -> WardTree:
    """`ward_tree` in the second process, which ends itself if the build process dies (a
    killed build must not leave a worker computing for nobody, holding its output pipes)."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    return ward_tree(x, **kwargs)


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
