"""What every clustering method returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from soundatlas.config import METHODS  # noqa: F401  (importers read it here too)

if TYPE_CHECKING:
    import pandas as pd

    from soundatlas.clustering.metrics import Scores

METHOD_TITLES = {"kmeans": "K-Means", "dbscan": "DBSCAN", "hierarchical": "Hierarchical (Ward)"}
LABEL_COLUMNS = {"kmeans": "cluster", "dbscan": "cluster_dbscan", "hierarchical": "cluster_hc"}
"""The column each method's labels take in the track table: the names users' files already use."""
PERSONA_COLUMNS = {"kmeans": "persona", "dbscan": "persona_dbscan", "hierarchical": "persona_hc"}
"""The column each method's persona names take in the track table."""


@dataclass(frozen=True)
class ClusteringResult:
    """One method's clustering of every usable song.

    Attributes
    ----------
    method
        ``"kmeans"``, ``"dbscan"`` or ``"hierarchical"``.
    labels
        Cluster of each song, 0 being the largest cluster; -1 is noise (DBSCAN only).
    params
        The parameters used (``k``, ``eps``, ``min_samples``, …).
    rule
        In words, how the parameters were chosen.
    scores
        Silhouette, Davies–Bouldin, Calinski–Harabasz, cluster count, noise share.
    selection
        One row per candidate parameter value with its scores, or None if it was fixed.
    centroids
        Mean of each cluster in scaled feature space, row i for cluster i.
    timings
        Seconds per step.
    details
        Method-specific facts worth reporting (stability, algorithm variant, sample sizes).
    linkage
        The Ward merge tree (scipy linkage format); None for other methods.
    linkage_songs
        Songs under each merge of ``linkage`` (its fourth column counts leaves, which are
        micro-clusters in two-stage trees); None for other methods.
    """

    method: str
    labels: np.ndarray
    params: dict[str, Any]
    rule: str
    scores: Scores
    selection: pd.DataFrame | None
    centroids: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    linkage: np.ndarray | None = None
    linkage_songs: np.ndarray | None = None


@dataclass(frozen=True)
class MethodSummary:
    """What a loaded atlas knows about one method without its full result object."""

    method: str
    params: dict[str, Any]
    rule: str
    scores: dict[str, Any]
    details: dict[str, Any]
    timings: dict[str, float]

    @property
    def title(self) -> str:
        """Human name of the method (as it ran: the spark engine's hierarchical clustering is
        bisecting K-Means, not Ward)."""
        if self.params.get("variant") == "bisecting":
            return "Hierarchical (bisecting K-Means)"
        return METHOD_TITLES[self.method]

    @classmethod
    def of(cls, result: ClusteringResult, silhouette_sample: int) -> MethodSummary:
        """Summary of a fresh result whose silhouette was computed on that many songs."""
        scores = result.scores
        return cls(
            method=result.method,
            params=dict(result.params),
            rule=result.rule,
            scores={
                "silhouette": scores.silhouette,
                "silhouette_with_noise": scores.silhouette_with_noise,
                "silhouette_sample": silhouette_sample,
                "davies_bouldin": scores.davies_bouldin,
                "calinski_harabasz": scores.calinski_harabasz,
                "n_clusters": scores.n_clusters,
                "noise_share": scores.noise_share,
            },
            details=dict(result.details),
            timings=dict(result.timings),
        )
