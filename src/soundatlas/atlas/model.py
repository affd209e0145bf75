"""The atlas: a catalog clustered three ways, named, projected, and saved for reuse.

`Atlas` is what every later layer reads (discovery, reports, the front doors); it is built by
`soundatlas.atlas.build.build_atlas`, read by `soundatlas.atlas.store` and saved, with its
discovery index, by `soundatlas.discovery.save.save_atlas` (``soundatlas.save_atlas``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from soundatlas.atlas.store import read_atlas
from soundatlas.clustering.assessment import MethodAssessment, assess_methods
from soundatlas.clustering.features import Scaler
from soundatlas.clustering.projection import Projection
from soundatlas.clustering.result import LABEL_COLUMNS, PERSONA_COLUMNS, MethodSummary
from soundatlas.config import BuildConfig
from soundatlas.errors import ConfigError, LookupFailed
from soundatlas.ingest.catalog import load_catalog
from soundatlas.ingest.validation import ValidationReport

PCA_COLUMNS = ("pc1", "pc2", "pc3")


@dataclass(frozen=True)
class Atlas:
    """A built atlas.

    Attributes
    ----------
    tracks
        The canonical track table plus, for each method run, its label column (``cluster``,
        ``cluster_dbscan``, ``cluster_hc``) and persona column (``persona``, …), and the PCA
        coordinates ``pc1``-``pc3``.
    original_rows
        The input rows as read, with where each went (see `soundatlas.ingest.catalog.Catalog`),
        or a function reading them: a loaded atlas reads them when `original` is first asked
        for, since no query needs them.
    report
        The validation report of the input.
    config
        The options it was built with.
    scaler, projection
        The fitted scaling and PCA.
    methods
        Per method: parameters, the rule that chose them, scores, details, timings.
    centroids
        Per method: cluster centroids in scaled space (row i = cluster i).
    personas
        One row per cluster per method: persona name, size, reasons, z-scores, genres.
    selection
        Candidate-k score tables per method (``method`` column), for K-Means and hierarchical.
    linkage
        The Ward merge tree, or None if hierarchical clustering was not run.
    linkage_songs
        Songs under each merge of ``linkage`` (for dendrogram labels), or None.
    manifest
        Versions, input hash, timings and the rest of what was recorded at build time.
    """

    tracks: pd.DataFrame
    original_rows: pd.DataFrame | Callable[[], pd.DataFrame] = field(repr=False, compare=False)
    report: ValidationReport
    config: BuildConfig
    scaler: Scaler
    projection: Projection
    methods: dict[str, MethodSummary]
    centroids: dict[str, np.ndarray]
    personas: pd.DataFrame
    selection: pd.DataFrame
    linkage: np.ndarray | None
    linkage_songs: np.ndarray | None = None
    manifest: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def original(self) -> pd.DataFrame:
        """The input rows as read, with where each went (`original_rows`, read once)."""
        rows = self.original_rows
        return rows if isinstance(rows, pd.DataFrame) else rows()

    @cached_property
    def scaled(self) -> np.ndarray:
        """Scaled features of every track (float64), computed once per atlas."""
        return self.scaler.transform(self.tracks)

    @cached_property
    def assessment(self) -> MethodAssessment:
        """Which methods' results are degenerate, and the one recommended for this catalog
        (see `soundatlas.clustering.assessment`)."""
        return assess_methods(self.methods, self.personas)

    @property
    def sampled(self) -> bool:
        """Whether ``tracks`` is a sample of the catalog (an atlas too big to load whole: see
        `soundatlas.atlas.store.IN_MEMORY_SONGS`); ``report.tracks`` counts every song."""
        return bool((self.manifest.get("parts") or {}).get("sample"))

    @property
    def fingerprint(self) -> str:
        """An id unique to this build, for cache keys."""
        return str(self.manifest.get("fingerprint", ""))

    def personas_of(self, method: str) -> pd.DataFrame:
        """Persona table of one method, one row per cluster (noise first if any)."""
        self.require_method(method)
        return self.personas[self.personas["method"] == method].reset_index(drop=True)

    def require_method(self, method: str) -> MethodSummary:
        """The summary of a method, or a clear error if this atlas did not run it."""
        if method not in self.methods:
            raise LookupFailed(
                f"method '{method}' was not run for this atlas; it has: "
                f"{', '.join(self.methods)}. Rebuild with --methods to add it."
            )
        return self.methods[method]

    def agreement(self) -> pd.DataFrame:
        """Adjusted Rand index and NMI between every pair of methods."""
        return pd.DataFrame(self.manifest.get("agreement", []))

    def assign(self, new_tracks: str | Path | pd.DataFrame) -> pd.DataFrame:
        """Place new songs in the existing clusters, without refitting.

        K-Means and hierarchical: the nearest cluster centroid in the atlas's scaled space
        (exactly K-Means's own rule; the standard way to extend a Ward clustering). DBSCAN: the
        cluster of the nearest core song within eps, else noise (-1), DBSCAN's own rule for a
        song that is not core (`soundatlas.clustering.density_assign`); only where the
        loaded songs are the songs DBSCAN was fitted on (`dbscan_assignable`).

        Returns
        -------
        DataFrame
            The new songs' canonical columns plus ``cluster``/``persona``,
            ``cluster_dbscan``/``persona_dbscan`` and ``cluster_hc``/``persona_hc`` for the
            methods this atlas ran and can assign to, and ``distance`` to the K-Means centroid.
        """
        fill = float(self.tracks["tempo"].median()) if "tempo" in self.tracks else None
        catalog = load_catalog(
            new_tracks,
            features=self.config.features,
            columns=self.config.columns,
            min_tracks=1,
            fill_tempo=fill,
        )
        # scikit-learn is imported here, not at load: a query never needs it.
        from sklearn.metrics import pairwise_distances_argmin_min

        scaled = self.scaler.transform(catalog.tracks)
        out = catalog.tracks.drop(columns=["source_row"])
        assigned = False
        for method in ("kmeans", "hierarchical"):
            if method not in self.methods:
                continue
            labels, distances = pairwise_distances_argmin_min(scaled, self.centroids[method])
            names = self.personas_of(method).set_index("cluster")["persona"]
            out[LABEL_COLUMNS[method]] = labels
            out[PERSONA_COLUMNS[method]] = names.reindex(labels).to_numpy()
            if method == "kmeans":
                out["distance"] = distances
            assigned = True
        if self.dbscan_assignable:
            from soundatlas.clustering.density_assign import assign_by_density

            params = self.methods["dbscan"].params
            labels, _ = assign_by_density(
                self.scaled,
                self.tracks[LABEL_COLUMNS["dbscan"]].to_numpy(np.int64),
                scaled,
                eps=float(params["eps"]),
                min_samples=int(params["min_samples"]),
            )
            names = self.personas_of("dbscan").set_index("cluster")["persona"]
            out[LABEL_COLUMNS["dbscan"]] = labels
            out[PERSONA_COLUMNS["dbscan"]] = names.reindex(labels).to_numpy()
            assigned = True
        if not assigned:
            raise ConfigError(
                "this atlas has no K-Means, hierarchical or DBSCAN clusters to assign to "
                "(DBSCAN needs the songs it was fitted on loaded: see Atlas.dbscan_assignable)."
            )
        return out

    @property
    def dbscan_assignable(self) -> bool:
        """Whether new songs can be placed in the DBSCAN clusters: DBSCAN (not HDBSCAN, which
        has no eps) ran, and the loaded songs are every song it was fitted on, so its core
        songs can be told. Not so for an atlas holding a sample (`sampled`) or one whose
        DBSCAN was fitted on a sample of its songs (the spark engine above 50,000 songs)."""
        summary = self.methods.get("dbscan")
        if summary is None or self.sampled or summary.params.get("algorithm") != "dbscan":
            return False
        return int(summary.details.get("fitted_on", len(self.tracks))) == len(self.tracks)


def load_atlas(path: str | Path, *, verify: bool = True) -> Atlas:
    """Open the atlas folder ``path``, checking every file it reads (see
    `soundatlas.atlas.store.read_atlas`)."""
    return Atlas(**read_atlas(path, verify=verify))
