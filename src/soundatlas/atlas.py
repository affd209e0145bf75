"""The atlas: a catalog clustered three ways, named, projected, and saved for reuse.

``build_atlas`` does all the heavy work once; the dashboard and the discovery functions only
read an `Atlas`. Data moves one way: catalog -> features -> models -> atlas.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd
from sklearn.metrics import pairwise_distances_argmin_min
from threadpoolctl import threadpool_limits

from soundatlas.catalog import Catalog, load_catalog
from soundatlas.clustering.assessment import MethodAssessment, assess_methods
from soundatlas.clustering.dbscan import cluster_density
from soundatlas.clustering.hierarchical import (
    BACKGROUND_MIN_SONGS,
    WardJob,
    cluster_hierarchical,
    start_ward_tree,
)
from soundatlas.clustering.kmeans import cluster_kmeans
from soundatlas.clustering.metrics import agreement, silhouette_sample
from soundatlas.clustering.personas import exploded_genres, name_clusters
from soundatlas.clustering.result import (
    LABEL_COLUMNS,
    METHOD_TITLES,
    PERSONA_COLUMNS,
    ClusteringResult,
)
from soundatlas.config import BuildConfig
from soundatlas.errors import CatalogError, ConfigError, LookupFailed
from soundatlas.features import Scaler, fit_scaler
from soundatlas.projection import Projection, fit_projection
from soundatlas.reading import file_sha256
from soundatlas.validation import ValidationReport

Progress = Callable[[str, float], None]
"""``progress(stage, fraction_done)``: how long steps report to a progress bar."""

BUILD_STAGES: tuple[str, ...] = (
    "read",
    "scale",
    "kmeans",
    "dbscan",
    "pca",
    "hierarchical",
    "personas",
)
PCA_COLUMNS = ("pc1", "pc2", "pc3")


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


@dataclass(frozen=True)
class Atlas:
    """A built atlas.

    Attributes
    ----------
    tracks
        The canonical track table plus, for each method run, its label column (``cluster``,
        ``cluster_dbscan``, ``cluster_hc``) and persona column (``persona``, …), and the PCA
        coordinates ``pc1``-``pc3``.
    original
        The input rows as read, with where each went (see `soundatlas.catalog.Catalog`).
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
    original: pd.DataFrame
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
        `soundatlas.store.IN_MEMORY_SONGS`); ``report.tracks`` counts every song."""
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

    def save(self, path: str | Path) -> Path:
        """Write the atlas folder atomically (see `soundatlas.store.save_atlas`)."""
        from soundatlas.store import save_atlas

        return save_atlas(self, path)

    def assign(self, new_tracks: str | Path | pd.DataFrame) -> pd.DataFrame:
        """Place new songs in the existing K-Means and hierarchical clusters, without refitting.

        Each song goes to the nearest cluster centroid in the atlas's scaled space (exactly
        K-Means's own rule; the standard way to extend a Ward clustering).

        Returns
        -------
        DataFrame
            The new songs' canonical columns plus ``cluster``/``persona`` and
            ``cluster_hc``/``persona_hc`` for the methods this atlas ran, and ``distance`` to
            the K-Means centroid.
        """
        fill = float(self.tracks["tempo"].median()) if "tempo" in self.tracks else None
        catalog = load_catalog(
            new_tracks,
            features=self.config.features,
            columns=self.config.columns,
            min_tracks=1,
            fill_tempo=fill,
        )
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
        if not assigned:
            raise ConfigError(
                "this atlas has neither K-Means nor hierarchical clusters to assign to."
            )
        return out


def build_atlas(
    source: str | Path | pd.DataFrame | Catalog,
    config: BuildConfig | None = None,
    *,
    progress: Progress | None = None,
) -> Atlas:
    """Read a track table and build its atlas: three clusterings, personas, PCA.

    Parameters
    ----------
    source
        A track file (CSV/TSV/pipe, Parquet, JSON, JSON Lines), a DataFrame, or a `Catalog`
        already loaded.
    config
        Build options; defaults choose every parameter from the data.
    progress
        ``progress(stage, fraction)`` callback for progress bars.

    Examples
    --------
    >>> atlas = build_atlas("tracks.csv")  # doctest: +SKIP
    >>> atlas.methods["kmeans"].params["k"], atlas.methods["kmeans"].rule  # doctest: +SKIP
    >>> atlas.save("my-atlas")  # doctest: +SKIP
    """
    config = config or BuildConfig()
    tick = progress or (lambda stage, fraction: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    catalog = (
        source
        if isinstance(source, Catalog)
        else load_catalog(source, features=config.features, columns=config.columns, progress=tick)
    )
    timings["read"] = time.perf_counter() - clock
    tracks = catalog.tracks.copy()
    if config.k is not None and config.k > len(tracks) // 2:
        raise ConfigError(
            f"k={config.k}: {catalog.report.source} has {len(tracks):,} usable songs, too few "
            f"for {config.k} clusters; choose k of at most {max(2, len(tracks) // 2)} or auto."
        )

    clock = time.perf_counter()
    scaler = fit_scaler(tracks, config.features, config.scaling)
    x = scaler.transform(tracks)
    distinct = _distinct_songs(x, config, catalog.report.source)
    tick("scale", 1.0)
    timings["scale"] = time.perf_counter() - clock

    ward_job = None
    if "hierarchical" in config.methods:
        ward_job = start_ward_tree(
            x, exact_limit=config.exact_ward_limit, random_state=config.random_state
        )
    try:
        results, more_timings = _cluster(x, config, ward_job, distinct, tick)
    except BaseException:
        if ward_job is not None:
            ward_job.cancel()
        raise
    timings.update(more_timings)

    clock = time.perf_counter()
    projection = fit_projection(x, config.features, random_state=config.random_state)
    coordinates = projection.transform(x)
    for axis, column in enumerate(PCA_COLUMNS[: coordinates.shape[1]]):
        tracks[column] = coordinates[:, axis].astype(np.float32)
    timings["pca"] = time.perf_counter() - clock
    tick("pca", 1.0)

    clock = time.perf_counter()
    personas = _label_and_name(tracks, results, config.features)
    timings["personas"] = time.perf_counter() - clock
    tick("personas", 1.0)

    sample_size = min(len(x), config.silhouette_sample)
    summaries = {m: MethodSummary.of(r, sample_size) for m, r in results.items()}
    manifest = {
        "source": _source_info(source, catalog),
        "agreement": _agreement_rows(results),
        "timings": timings,
        "engine": {"name": "local"},
    }
    return Atlas(
        tracks=tracks,
        original=catalog.original,
        report=catalog.report,
        config=config,
        scaler=scaler,
        projection=projection,
        methods=summaries,
        centroids={m: r.centroids for m, r in results.items()},
        personas=personas,
        selection=_selection_tables(results),
        linkage=results["hierarchical"].linkage if "hierarchical" in results else None,
        linkage_songs=(
            results["hierarchical"].linkage_songs if "hierarchical" in results else None
        ),
        manifest=manifest,
    )


def _source_info(source: object, catalog: Catalog) -> dict[str, Any]:
    info: dict[str, Any] = {"name": catalog.report.source}
    if isinstance(source, (str, Path)) and Path(source).is_file():
        info |= {"sha256": file_sha256(source), "bytes": Path(source).stat().st_size}
    return info


def _distinct_songs(x: np.ndarray, config: BuildConfig, source: str) -> int:
    """How many different feature vectors there are; refuse a catalog with one, or a fixed k
    above it (K-Means cannot find more clusters than distinct songs)."""
    distinct = len(pd.DataFrame(x).drop_duplicates())
    if distinct < 2:
        raise CatalogError(
            f"{source}: all {len(x):,} usable songs have the same values for every clustering "
            f"feature ({', '.join(config.features)}), so there is nothing to cluster. Check the "
            "columns hold real audio features."
        )
    if config.k is not None and config.k > distinct:
        raise ConfigError(
            f"k={config.k}: {source} has only {distinct:,} songs that differ in their features; "
            f"choose k of at most {distinct} or auto."
        )
    return distinct


def _cluster(
    x: np.ndarray,
    config: BuildConfig,
    ward_job: WardJob | None,
    distinct: int,
    tick: Progress,
) -> tuple[dict[str, ClusteringResult], dict[str, float]]:
    timings: dict[str, float] = {}
    results: dict[str, ClusteringResult] = {}
    clock = time.perf_counter()
    sample = silhouette_sample(x, size=config.silhouette_sample, random_state=config.random_state)
    timings["silhouette_sample"] = time.perf_counter() - clock
    if "kmeans" in config.methods:
        clock = time.perf_counter()
        with _threads_beside(ward_job, len(x)):
            results["kmeans"] = cluster_kmeans(
                x,
                sample=sample,
                k=config.k,
                k_range=config.k_range,
                distinct=distinct,
                stability_resamples=config.stability_resamples,
                random_state=config.random_state,
                progress=lambda f: tick("kmeans", f),
            )
        timings["kmeans"] = time.perf_counter() - clock
    if "dbscan" in config.methods:
        clock = time.perf_counter()
        with _threads_beside(ward_job, len(x)):
            results["dbscan"] = cluster_density(
                x,
                sample=sample,
                algorithm=config.density_algorithm,
                eps=config.eps,
                min_samples=config.min_samples,
                random_state=config.random_state,
                progress=lambda f: tick("dbscan", f),
            )
        timings["dbscan"] = time.perf_counter() - clock
    if ward_job is not None:
        clock = time.perf_counter()
        tick("hierarchical", 0.0)
        tree = ward_job.result()
        timings["hierarchical_wait"] = time.perf_counter() - clock
        results["hierarchical"] = cluster_hierarchical(
            x,
            tree,
            sample=sample,
            k=config.k,
            k_range=config.k_range,
            distinct=distinct,
            tree_seconds=ward_job.seconds,
            progress=lambda f: tick("hierarchical", f),
        )
        timings["hierarchical_tree"] = ward_job.seconds or 0.0
        timings["hierarchical"] = time.perf_counter() - clock
    return results, timings


@contextlib.contextmanager
def _threads_beside(ward_job: WardJob | None, songs: int) -> Iterator[None]:
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


def _label_and_name(
    tracks: pd.DataFrame, results: dict[str, ClusteringResult], features: tuple[str, ...]
) -> pd.DataFrame:
    """Add label and persona columns to ``tracks`` (in place) and return the persona tables."""
    genre_table = exploded_genres(tracks)
    tables = []
    for method, result in results.items():
        table = name_clusters(
            tracks, result.labels, method, features=features, genre_table=genre_table
        )
        tables.append(table)
        names = table.set_index("cluster")["persona"]
        tracks[LABEL_COLUMNS[method]] = result.labels.astype(np.int32)
        categories = list(dict.fromkeys(names.to_list()))
        tracks[PERSONA_COLUMNS[method]] = pd.Categorical(
            names.reindex(result.labels).to_numpy(), categories=categories
        )
    return pd.concat(tables, ignore_index=True)


def _agreement_rows(results: dict[str, ClusteringResult]) -> list[dict[str, Any]]:
    methods = list(results)
    rows = []
    for i, first in enumerate(methods):
        for second in methods[i + 1 :]:
            rows.append(
                {"first": first, "second": second}
                | agreement(results[first].labels, results[second].labels)
            )
    return rows


def _selection_tables(results: dict[str, ClusteringResult]) -> pd.DataFrame:
    tables = [r.selection.assign(method=m) for m, r in results.items() if r.selection is not None]
    if not tables:
        return pd.DataFrame(columns=["method", "k"])
    return pd.concat(tables, ignore_index=True)
