"""How many threads a clustering step may use while Ward's tree is built in a second process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numba
from threadpoolctl import threadpool_limits

from soundatlas.clustering.hierarchical import BACKGROUND_MIN_SONGS, WardJob


@contextlib.contextmanager
def threads_beside(ward_job: WardJob | None, songs: int) -> Iterator[None]:
    """One thread for a step while Ward runs in the second process, or on a small catalog.

    With two cores and Ward on one, a step's OpenMP/numba threads share the other core, and
    their spin-waiting makes K-Means several times slower (95,837 songs: 67 s with two
    threads, 15 s with one, measured with the other core busy). Small catalogs gain nothing
    from threads and lose the most when the machine is busy (1,769 songs: 16 s vs 1 s).
    """
    busy = songs < BACKGROUND_MIN_SONGS or (ward_job is not None and ward_job.running())
    with _one_thread() if busy else contextlib.nullcontext():
        yield


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        numba.set_num_threads(previous)
