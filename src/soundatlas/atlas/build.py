"""Building an atlas: read, scale, cluster three ways, project, name — the heavy work, done once.

``build_atlas`` is the one orchestration of the local engine; the spark engine
(`soundatlas.engines.spark`) runs the same stages on a cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from soundatlas.atlas.model import PCA_COLUMNS, Atlas
from soundatlas.clustering.dbscan import cluster_density
from soundatlas.clustering.features import fit_scaler
from soundatlas.clustering.hierarchical import WardJob, cluster_hierarchical, start_ward_tree
from soundatlas.clustering.kmeans import cluster_kmeans
from soundatlas.clustering.metrics import agreement, silhouette_sample
from soundatlas.clustering.personas import exploded_genres, name_clusters
from soundatlas.clustering.projection import fit_projection
from soundatlas.clustering.result import (
    LABEL_COLUMNS,
    PERSONA_COLUMNS,
    ClusteringResult,
    MethodSummary,
)
from soundatlas.clustering.threads import threads_beside
from soundatlas.config import BuildConfig
from soundatlas.errors import CatalogError, ConfigError
from soundatlas.files import file_sha256
from soundatlas.ingest.catalog import Catalog, load_catalog

Progress = Callable[[str, float], None]
"""``progress(stage, fraction_done)``: how long steps report to a progress bar."""


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
    >>> soundatlas.save_atlas(atlas, "my-atlas")  # doctest: +SKIP
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
        original_rows=catalog.original,
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
        with threads_beside(ward_job, len(x)):
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
        with threads_beside(ward_job, len(x)):
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
