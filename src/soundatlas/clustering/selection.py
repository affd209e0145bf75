"""Choosing parameters from the data: the number of clusters k, and DBSCAN's eps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from soundatlas.clustering.metrics import Scores
from soundatlas.errors import ConfigError


def k_candidates(n: int, k_range: tuple[int, int], distinct: int | None = None) -> list[int]:
    """The values of k worth trying for ``n`` songs: at least 3 songs per cluster on average,
    and no more clusters than there are distinct songs (``distinct`` feature vectors)."""
    low, high = k_range
    if low < 2 or high < low:
        raise ConfigError(f"k range {low}-{high}: must satisfy 2 <= low <= high.")
    high = min(high, max(2, n // 3), max(2, distinct if distinct is not None else n))
    return list(range(low, max(low, high) + 1))


def candidate_row(k: int, labels: np.ndarray, scores: Scores, inertia: float) -> dict[str, float]:
    """One row of the table `choose_k` reads: a candidate k's scores, inertia and the share of
    songs in its smallest cluster."""
    return {
        "k": k,
        "silhouette": scores.silhouette,
        "davies_bouldin": scores.davies_bouldin,
        "calinski_harabasz": scores.calinski_harabasz,
        "inertia": inertia,
        "smallest_share": float(np.bincount(labels, minlength=k).min() / len(labels)),
    }


def choose_k(table: pd.DataFrame) -> tuple[int, str]:
    """Pick k from a table of candidate scores, and say why.

    The rule: find the elbow of the inertia curve (the "kneedle" point, where adding clusters
    stops paying off), then take the k with the best silhouette among the elbow and its two
    neighbours. Silhouette alone nearly always picks k=2 on audio features — a split into
    acoustic and electric songs that tells an analyst little — because music has no sharp
    cluster boundaries; the elbow finds the level of detail the data supports, and silhouette
    settles the exact k around it. A k that every metric ranks in the worse half of the
    candidates (`rejected_by_every_metric`) is skipped for the next-best silhouette around the
    elbow, or, when all three are, the best silhouette of all. K-Means and hierarchical
    clustering both use this rule.
    """
    table = table.sort_values("k").reset_index(drop=True)
    ks = table["k"].to_numpy()
    if len(ks) < 3:
        scored = table.dropna(subset=["silhouette"])
        chosen = scored.loc[scored["silhouette"].idxmax()] if not scored.empty else table.iloc[0]
        k = int(chosen["k"])
        return k, f"k={k} of {ks.min()}-{ks.max()}: best silhouette of the few candidates"
    elbow_at = knee(-table["inertia"].to_numpy(), convex=False)
    elbow = int(ks[elbow_at])
    window = table.iloc[max(0, elbow_at - 1) : elbow_at + 2].dropna(subset=["silhouette"])
    if window.empty:
        return elbow, f"k={elbow} of {ks.min()}-{ks.max()}: elbow of the inertia curve"
    ranked = window.sort_values("silhouette", ascending=False, kind="stable")
    kept = [row for _, row in ranked.iterrows() if not rejected_by_every_metric(table, row["k"])]
    if not kept:
        scored = table.dropna(subset=["silhouette"])
        chosen = scored.loc[scored["silhouette"].idxmax()]
        k = int(chosen["k"])
        return k, (
            f"k={k} of {ks.min()}-{ks.max()}: best silhouette ({chosen['silhouette']:.3f}); every "
            f"k around the elbow of the inertia curve (k={elbow}) was in the worse half of the "
            f"candidates by every metric"
        )
    chosen = kept[0]
    k = int(chosen["k"])
    best = "best silhouette" if k == int(ranked.iloc[0]["k"]) else "best-ranked silhouette"
    return k, (
        f"k={k} of {ks.min()}-{ks.max()}: {best} ({chosen['silhouette']:.3f}) among "
        f"k={int(window['k'].min())}-{int(window['k'].max())} around the elbow of the inertia "
        f"curve (k={elbow}), not in the worse half of the candidates by every metric"
    )


METRIC_DIRECTIONS = {"silhouette": 1.0, "davies_bouldin": -1.0, "calinski_harabasz": 1.0}
"""The metrics a chosen k is checked against, and which way is better (+1: higher)."""


def rejected_by_every_metric(table: pd.DataFrame, k: int) -> bool:
    """Whether every metric in ``table`` (silhouette, Davies–Bouldin, Calinski–Harabasz) ranks
    ``k`` in the worse half of the candidates: at least half of the other candidates score
    strictly better on it. The elbow rule must never pick such a k."""
    row = table[table["k"] == k].iloc[0]
    verdicts = []
    for metric, sign in METRIC_DIRECTIONS.items():
        if metric not in table or pd.isna(row[metric]):
            continue
        others = table.loc[table["k"] != k, metric].dropna()
        if others.empty:
            continue
        better = int(((others - row[metric]) * sign > 0).sum())
        verdicts.append(better >= len(others) / 2)
    return bool(verdicts) and all(verdicts)


def knee(curve: np.ndarray, *, convex: bool = True) -> int:
    """Index of the knee of an increasing curve (the "kneedle" rule, on the unit square).

    For a convex curve (flat, then rising steeply, like sorted k-distances) it is the point
    farthest below the chord joining the ends; for a concave one (rising steeply, then flat,
    like minus the inertia over k) the point farthest above it.
    """
    y = np.asarray(curve, dtype=np.float64)
    if len(y) < 3 or y[-1] <= y[0]:
        return len(y) // 2
    x = np.linspace(0.0, 1.0, len(y))
    y = (y - y[0]) / (y[-1] - y[0])
    return int(np.argmax(x - y if convex else y - x))
