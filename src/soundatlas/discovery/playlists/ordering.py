"""The order a playlist's songs play in, once they are chosen (best first)."""

from __future__ import annotations

import numpy as np

from soundatlas.atlas.model import Atlas
from soundatlas.config import PLAYLIST_ORDERS
from soundatlas.discovery.index import discovery_index

ORDERS = PLAYLIST_ORDERS
"""``score``: best first; ``smooth``: each song next to the one closest in tempo and energy;
``rising``/``falling``: by energy, low to high or high to low."""


def flow_order(atlas: Atlas, order: str, rows: np.ndarray) -> np.ndarray:
    """Permutation of the chosen songs (catalog ``rows``, best first) for the requested order.

    ``smooth`` starts from the best song and walks to the nearest unplayed song in tempo and
    energy (each in catalog standard deviations); songs missing energy go last when rising and
    falling.
    """
    ranks = np.arange(len(rows))
    if order == "score" or len(rows) < 2:
        return ranks
    index = discovery_index(atlas)  # columns and spreads converted once per atlas
    energy = index.numbers("energy")[rows]
    if order in ("rising", "falling"):
        key = np.nan_to_num(energy, nan=np.inf if order == "rising" else -np.inf)
        return np.lexsort((ranks, key if order == "rising" else -key))
    tempo = index.numbers("tempo")
    spread_tempo = index.spread("tempo") or 1.0
    spread_energy = index.spread("energy")
    points = np.column_stack(
        [np.nan_to_num(tempo[rows] / spread_tempo), np.nan_to_num(energy / (spread_energy or 1.0))]
    )
    path = [0]
    left = list(range(1, len(rows)))
    while left:
        here = points[path[-1]]
        gaps = np.linalg.norm(points[left] - here, axis=1)
        path.append(left.pop(int(np.argmin(gaps))))
    return np.asarray(path)
