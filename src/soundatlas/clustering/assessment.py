"""Which clusterings failed, and which one to use.

A method can run without error and still say nothing about a catalog: DBSCAN on audio features
often finds one huge cluster and a sliver, and its silhouette (which leaves noise out) then looks
better than a useful split. This module marks such results as degenerate by one stated rule and
recommends one method, so no front door has to judge a metric table itself.

The rule (`DEGENERATE_RULE`): a result is degenerate when it has fewer than
`MIN_CLUSTERS` clusters, when one cluster holds more than `MAX_CLUSTER_SHARE` of the songs, or
when more than `MAX_NOISE_SHARE` of the songs are noise. The recommended method is the one with
the best silhouette (noise counted as a group) among the methods that are not degenerate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from soundatlas.clustering.result import METHOD_TITLES, METHODS

MIN_CLUSTERS = 3
MAX_CLUSTER_SHARE = 0.85
MAX_NOISE_SHARE = 0.5
DEGENERATE_RULE = (
    f"a result is degenerate when it has fewer than {MIN_CLUSTERS} clusters, when one cluster "
    f"holds more than {MAX_CLUSTER_SHARE:.0%} of the songs, or when more than "
    f"{MAX_NOISE_SHARE:.0%} of the songs are noise"
)

_FIXES = {
    "kmeans": "rebuild with a larger --k",
    "hierarchical": "rebuild with a larger --k",
    "dbscan": "rebuild with a smaller --eps or --density hdbscan, or use another method",
}


class _Summary(Protocol):
    method: str
    params: dict[str, Any]
    scores: dict[str, Any]


@dataclass(frozen=True)
class MethodAssessment:
    """Warnings per method and the one method recommended for the catalog.

    Attributes
    ----------
    warnings
        Per method, the reasons it is degenerate (empty when it is not), each naming the value
        found, the limit and what to do.
    recommended
        The method to use (``"kmeans"``, ``"dbscan"`` or ``"hierarchical"``).
    reason
        Why, in one sentence.
    """

    warnings: dict[str, tuple[str, ...]]
    recommended: str
    reason: str

    def degenerate(self, method: str) -> bool:
        """Whether the method's result is degenerate."""
        return bool(self.warnings.get(method))


def largest_shares(personas: pd.DataFrame) -> dict[str, float]:
    """Share of the songs in each method's largest cluster (noise is not a cluster), from the
    persona table of an atlas (one row per cluster with its ``share``)."""
    clusters = personas[personas["cluster"] >= 0]
    return {str(m): float(s) for m, s in clusters.groupby("method")["share"].max().items()}


def method_warnings(method: str, scores: Mapping[str, Any], largest_share: float) -> list[str]:
    """The reasons a method's result is degenerate under `DEGENERATE_RULE` (empty if none)."""
    found = []
    clusters = int(scores.get("n_clusters") or 0)
    noise = float(scores.get("noise_share") or 0.0)
    if clusters < MIN_CLUSTERS:
        found.append(f"only {clusters} cluster{'s' if clusters != 1 else ''} (fewer than 3)")
    if largest_share > MAX_CLUSTER_SHARE:
        found.append(
            f"one cluster holds {largest_share:.1%} of the songs "
            f"(more than {MAX_CLUSTER_SHARE:.0%})"
        )
    if noise > MAX_NOISE_SHARE:
        found.append(f"{noise:.1%} of the songs are noise (more than {MAX_NOISE_SHARE:.0%})")
    if not found:
        return []
    title = METHOD_TITLES.get(method, method)
    return [f"{title} is degenerate: {'; '.join(found)}. To split the catalog, {_FIXES[method]}."]


def comparable_silhouette(scores: Mapping[str, Any]) -> float | None:
    """The silhouette to compare methods by: with noise counted as a group when the atlas has
    it (a method cannot gain by calling the hard songs noise), else the plain one (no noise, or
    an atlas built before noise was counted)."""
    with_noise = scores.get("silhouette_with_noise")
    return with_noise if with_noise is not None else scores.get("silhouette")


def assess_methods(methods: Mapping[str, _Summary], personas: pd.DataFrame) -> MethodAssessment:
    """Mark degenerate results and recommend one method for the catalog.

    Parameters
    ----------
    methods
        The atlas's method summaries (``atlas.methods``).
    personas
        The atlas's persona table (``atlas.personas``), for cluster shares.
    """
    shares = largest_shares(personas)
    warnings = {
        m: tuple(method_warnings(m, s.scores, shares.get(m, 1.0))) for m, s in methods.items()
    }
    order = [m for m in METHODS if m in methods]
    healthy = [m for m in order if not warnings[m]]
    pool = healthy or order

    def rank(method: str) -> float:
        value = comparable_silhouette(methods[method].scores)
        return float("-inf") if value is None else float(value)

    best = max(pool, key=lambda m: (rank(m), -order.index(m)))
    title = METHOD_TITLES[best]
    value = comparable_silhouette(methods[best].scores)
    shown = f"silhouette {value:.3f}" if value is not None else "no silhouette"
    others = [
        f"{METHOD_TITLES[m]} {comparable_silhouette(methods[m].scores):.3f}"
        for m in pool
        if m != best and comparable_silhouette(methods[m].scores) is not None
    ]
    against = f" against {', '.join(others)}" if others else ""
    failed = [METHOD_TITLES[m] for m in order if warnings[m]]
    if not healthy:
        reason = (
            f"Every method is degenerate on this catalog; {title} separates its songs best "
            f"({shown}{against}, noise counted), so read its clusters with care."
        )
    elif failed:
        reason = (
            f"{title} separates the songs best ({shown}{against}, noise counted) among the "
            f"methods that split the catalog usefully ({', '.join(failed)} "
            f"{'is' if len(failed) == 1 else 'are'} degenerate)."
        )
    else:
        reason = f"{title} separates the songs best ({shown}{against}, noise counted)."
    return MethodAssessment(warnings, best, reason)
