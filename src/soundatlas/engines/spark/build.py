"""Build an atlas on Apache Spark: the same folder `load_atlas`, the CLI and the dashboard read.

The data flow keeps every pass narrow: the rows as validated and the tracks are written once to
a work folder beside the atlas (Parquet, so later passes read only the columns they need); the
clustering passes read a cached frame of each song's line and scaled-feature vector; the final
write recomputes the labels on the wide track table instead of joining them back. Per-song
tables are written by Spark as Parquet parts (``tracks/``, ``original/``) straight into the
atlas's temporary folder, which replaces the target only once the manifest is written, as for
the local engine. Above `IN_MEMORY_SONGS` the atlas also holds a uniform random sample of about
that many tracks (``sample.parquet``) and the whole-catalog similar-songs directory.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from soundatlas.atlas.build import Progress
from soundatlas.atlas.folders import check_atlas_target, scratch_folder, staged_atlas
from soundatlas.atlas.model import PCA_COLUMNS, Atlas
from soundatlas.atlas.store import IN_MEMORY_SONGS, write_atlas_files
from soundatlas.clustering.features import Scaler
from soundatlas.clustering.metrics import NOISE, agreement_of_counts
from soundatlas.clustering.personas import CatalogStats, genre_shares, persona_table
from soundatlas.clustering.result import LABEL_COLUMNS, PERSONA_COLUMNS, MethodSummary
from soundatlas.config import BuildConfig
from soundatlas.engines.spark import clustering
from soundatlas.engines.spark.catalog import (
    CANONICAL_COLUMNS,
    LINE,
    STATUS,
    TRACK_LINE,
    SparkCatalog,
    validate,
)
from soundatlas.engines.spark.session import LOCAL_MASTER, log_of, spark_errors, spark_session
from soundatlas.engines.spark.source import read_source
from soundatlas.errors import ConfigError
from soundatlas.ingest.schema import AUDIO_FEATURES

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

SOURCE_LINE = "source_line"
PART_SONGS = 1_000_000
"""Songs per Parquet part of the track table."""
"""Where each track is in the user's file (its line, or record number for Parquet)."""


def build_atlas_spark(
    source: str | Path,
    output: str | Path,
    config: BuildConfig | None = None,
    *,
    master: str = LOCAL_MASTER,
    progress: Progress | None = None,
) -> Path:
    """Build the atlas of ``source`` on Spark and save it to the folder ``output``.

    Parameters
    ----------
    source
        A CSV file, a Parquet file, a folder or glob of Parquet parts, or a URL of Parquet
        data on the cluster's storage.
    output
        The atlas folder; an atlas already there is replaced only once the new one is complete.
    master
        Where Spark runs: ``local[N]`` on this machine, ``spark://host:7077``, ``yarn``, ….

    Returns
    -------
    Path
        ``output``; open it with `soundatlas.load_atlas`.

    Raises
    ------
    CatalogError, ConfigError
        The same input problems, in the same words, as the local engine.
    EngineError
        Spark cannot start or a job fails (the message names the log with the details).
    """
    config = config or BuildConfig()
    if config.density_algorithm != "dbscan" and "dbscan" in config.methods:
        raise ConfigError(
            f"--density {config.density_algorithm}: the spark engine runs DBSCAN only; build "
            "with the local engine for HDBSCAN."
        )
    output = Path(output)
    check_atlas_target(output)
    tick = progress or (lambda stage, fraction: None)
    tick("start", 0.0)
    with (
        spark_session(master) as spark,
        spark_errors(log_of(spark)),
        scratch_folder(output) as work,
    ):
        tick("start", 1.0)
        return _Build(spark, source, output, config, master, tick, work).run()


class _Build:
    def __init__(
        self,
        spark,
        source: str | Path,
        output: Path,
        config: BuildConfig,
        master: str,
        tick: Progress,
        work: Path,
    ) -> None:
        self.spark = spark
        self.source = source
        self.output = output
        self.config = config
        self.master = master
        self.tick = tick
        self.work = work
        self.timings: dict[str, float] = {}

    def _timed(self, stage: str, started: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - started
        self.tick(stage, 1.0)

    def run(self) -> Path:
        from pyspark import StorageLevel

        config, tick = self.config, self.tick
        started = time.perf_counter()
        tick("read", 0.0)
        source = read_source(self.spark, self.source)
        catalog = validate(
            source, features=config.features, overrides=config.columns, work=self.work
        )
        size = catalog.size
        if config.k is not None and config.k > size // 2:
            raise ConfigError(
                f"k={config.k}: {source.name} has {size:,} usable songs, too few for "
                f"{config.k} clusters; choose k of at most {max(2, size // 2)} or auto."
            )
        catalog.tracks.write.parquet(str(self.work / "tracks"))
        tracks = self.spark.read.parquet(str(self.work / "tracks"))
        self._timed("read", started)

        started = time.perf_counter()
        scaler = clustering.fit_scaler(tracks, config.features, config.scaling)
        distinct = clustering.distinct_songs(tracks, config.features, source.name, size)
        if config.k is not None and config.k > distinct:
            raise ConfigError(
                f"k={config.k}: {source.name} has only {distinct:,} songs that differ in their "
                f"features; choose k of at most {distinct} or auto."
            )
        described = _described_features(config.features)
        raw = [f for f in described if f not in config.features]
        narrow = tracks.select(LINE, *config.features, *raw)
        if narrow.rdd.getNumPartitions() > clustering.partitions_for(size):
            narrow = narrow.coalesce(clustering.partitions_for(size))
        vectors = clustering.with_vector(narrow, scaler, keep=raw)
        vectors = vectors.persist(StorageLevel.MEMORY_AND_DISK)
        samples = clustering.draw_samples(vectors, size, config)
        self._timed("scale", started)

        fitted: dict[str, clustering.SparkMethod] = {}
        for method in ("kmeans", "dbscan", "hierarchical"):
            if method not in config.methods:
                continue
            started = time.perf_counter()
            progress = _stage_tick(tick, method)
            if method == "dbscan":
                fitted[method] = clustering.fit_density(vectors, size, config, progress)
            else:
                chosen = fitted["kmeans"].params["k"] if "kmeans" in fitted else None
                fitted[method] = clustering.fit_partitional(
                    method, vectors, size, distinct, samples, config, progress, kmeans_k=chosen
                )
            self._timed(method, started)
        started = time.perf_counter()
        projection = clustering.fit_projection(vectors, config.features)
        self._timed("pca", started)

        vectors.unpersist()
        started = time.perf_counter()
        tick("save", 0.0)
        with staged_atlas(self.output) as folder:
            # Labels are computed once, in the pass that writes the track table; the summary
            # reads them back from the parts, and the final numbering and persona names are
            # written into the parts afterwards (a rewrite on this machine, part by part).
            labelled = _final_tracks(tracks, scaler, size, fitted, projection)
            part_names = _write_parts(labelled, folder, "tracks")
            self.timings["labels"] = time.perf_counter() - started
            started = time.perf_counter()
            written = self.spark.read.parquet(*[str(folder / p) for p in part_names])
            summary = _Summary(written, list(fitted), scaler, described)
            scored = summary.renumbered(_labelled(samples.silhouette, fitted))
            methods = {
                method: MethodSummary(
                    method=method,
                    params=fit.params,
                    rule=fit.rule,
                    scores=summary.scores(method, scored, samples.silhouette_size),
                    details=fit.details | summary.extra_details(method),
                    timings=fit.timings,
                )
                for method, fit in fitted.items()
            }
            agreement = summary.agreement()
            personas = summary.personas(_genre_counts(summary.renumbered(written), summary))
            self._timed("personas", started)
            started = time.perf_counter()
            fraction = IN_MEMORY_SONGS / size if size > IN_MEMORY_SONGS else None
            sampled = _name_parts(
                folder, part_names, summary.mapping, personas, fraction, config.random_state
            )
            parts = _write_tables(part_names, catalog, folder, config, size, fraction, sampled)
            if parts["sample"]:
                from soundatlas.discovery.directory import write_song_directory

                parts["directory"] = write_song_directory(
                    folder,
                    parts["tracks"],
                    scaler=scaler,
                    centre=projection.mean,
                    methods=list(methods),
                    random_state=config.random_state,
                    progress=_stage_tick(tick, "save"),
                )
            self.timings["save"] = time.perf_counter() - started
            atlas = Atlas(
                tracks=pd.DataFrame(),
                original_rows=pd.DataFrame(),
                report=catalog.report,
                config=config,
                scaler=scaler,
                projection=projection,
                methods=methods,
                centroids=summary.centroids,
                personas=personas,
                selection=_selection_tables(fitted),
                linkage=None,
                manifest={
                    "source": {"name": source.name},
                    "agreement": agreement,
                    "timings": self.timings,
                    "engine": self._engine(samples, fitted, size, parts),
                },
            )
            write_atlas_files(atlas, folder, parts=parts)
        tick("save", 1.0)
        return self.output

    def _engine(self, samples, fitted, size: int, parts: dict[str, Any]) -> dict[str, Any]:
        import pyspark

        notes = [
            f"candidate values of k fitted on a random sample of {samples.selection_size:,} "
            "songs"
            + (" (every song)" if samples.selection_size == size else "")
            + "; final models fitted on every song",
            f"silhouette: Spark's ClusteringEvaluator (squared Euclidean) on a random sample "
            f"of {samples.silhouette_size:,} songs; Davies–Bouldin and Calinski–Harabasz on "
            "every song",
        ]
        if "hierarchical" in fitted:
            notes.append(
                "hierarchical is MLlib's bisecting K-Means (divisive), not Ward's agglomerative "
                "merging"
            )
        if "dbscan" in fitted:
            notes.append(
                f"DBSCAN fitted on a random sample of {fitted['dbscan'].details['fitted_on']:,} "
                "songs; every song joins its nearest core song's cluster within eps, or noise"
            )
        if parts.get("sample"):
            notes.append(
                f"charts and lookups load a uniform random sample of "
                f"{parts['sample']['songs']:,} of {size:,} songs; counts, sizes, means and "
                "exports cover every song"
            )
            directory = parts["directory"]
            notes.append(
                f"similar songs come from every song through an approximate index ("
                f"{directory['index']}, {directory['lists']:,} lists, {directory['probes']} "
                "probed per query)"
            )
        return {
            "name": "spark",
            "master": self.master,
            "spark_version": pyspark.__version__,
            "notes": notes,
        }


def _stage_tick(tick: Progress, stage: str):
    return lambda fraction: tick(stage, fraction)


def _described_features(features: tuple[str, ...]) -> list[str]:
    """The audio features personas describe (as `CatalogStats.of` chooses them)."""
    return [f for f in AUDIO_FEATURES if f in features] or list(AUDIO_FEATURES)


def _labelled(frame: DataFrame, fitted: dict[str, clustering.SparkMethod]) -> DataFrame:
    """``frame`` with every method's label (numbered by the fit's cluster sizes)."""
    for method, fit in fitted.items():
        frame = fit.apply(frame, LABEL_COLUMNS[method])
    return frame


class _Summary:
    """Everything the atlas records about the labels, computed in a few passes over them.

    Per-cluster means of the described features come from the means of the scaled features
    (scaling is linear), so the cached frame holds only each song's vector and labels.
    """

    def __init__(
        self, labelled: DataFrame, methods: list[str], scaler: Scaler, described: list[str]
    ) -> None:
        from pyspark.sql import functions as F

        self.labelled = labelled
        self.methods = methods
        self.scaler = scaler
        self.described = described
        width = len(scaler.features)
        values = [self.scaled(i).alias(f"_sa_s{i}") for i in range(width)]
        raw = [f for f in described if f not in scaler.features]
        long = labelled.select(
            F.explode(
                F.array(
                    *[
                        F.struct(F.lit(m).alias("method"), F.col(LABEL_COLUMNS[m]).alias("label"))
                        for m in self.methods
                    ]
                )
            ).alias("entry"),
            *values,
            *raw,
        ).select("entry.method", "entry.label", *[f"_sa_s{i}" for i in range(width)], *raw)
        rows = (
            long.groupBy("method", "label")
            .agg(
                F.count(F.lit(1)).alias("size"),
                *[F.avg(f"_sa_s{i}").alias(f"_sa_s{i}") for i in range(width)],
                *[F.avg(f).alias(f) for f in raw],
            )
            .toPandas()
        )
        spread = (
            labelled.select(*values, *raw)
            .agg(
                *[F.avg(f"_sa_s{i}").alias(f"mean_s{i}") for i in range(width)],
                *[F.stddev_pop(f"_sa_s{i}").alias(f"std_s{i}") for i in range(width)],
                *[F.avg(f).alias(f"mean_{f}") for f in raw],
                *[F.stddev_pop(f).alias(f"std_{f}") for f in raw],
            )
            .collect()[0]
        )
        means, stds = {}, {}
        for feature in described:
            if feature in scaler.features:
                i = scaler.features.index(feature)
                means[feature] = spread[f"mean_s{i}"] * scaler.scale[i] + scaler.center[i]
                stds[feature] = spread[f"std_s{i}"] * scaler.scale[i]
            else:
                means[feature], stds[feature] = spread[f"mean_{feature}"], spread[f"std_{feature}"]
        self.stats = CatalogStats(pd.Series(means), pd.Series(stds).replace(0.0, 1.0))
        self.mapping: dict[str, dict[int, int]] = {}
        self.tables: dict[str, pd.DataFrame] = {}
        scaled = [f"_sa_s{i}" for i in range(width)]
        for method in self.methods:
            table = rows[rows["method"] == method].set_index("label").sort_index()
            clusters = table.index[table.index != NOISE]
            order = sorted(clusters, key=lambda c: (-table.loc[c, "size"], c))
            mapping = {int(old): new for new, old in enumerate(order)}
            mapping[NOISE] = NOISE
            self.mapping[method] = mapping
            table.index = [mapping[int(c)] for c in table.index]
            table = table.sort_index()
            for feature in described:
                if feature in scaler.features:
                    i = scaler.features.index(feature)
                    table[feature] = table[f"_sa_s{i}"] * scaler.scale[i] + scaler.center[i]
            self.tables[method] = table
        self.centroids = {
            m: t.loc[t.index != NOISE, scaled].to_numpy(dtype=np.float64)
            for m, t in self.tables.items()
        }
        self.size = int(self.tables[self.methods[0]]["size"].sum())
        self._dispersion = self._dispersions()

    def scaled(self, index: int) -> Column:
        """The scaled value of feature ``index`` of each track, from its raw value."""
        from pyspark.sql import functions as F

        feature = self.scaler.features[index]
        return (F.col(feature) - float(self.scaler.center[index])) / float(self.scaler.scale[index])

    def renumbered(self, frame: DataFrame) -> DataFrame:
        """``frame`` with every label column numbered by cluster size (largest first)."""
        from pyspark.sql import functions as F

        for method, mapping in self.mapping.items():
            if all(old == new for old, new in mapping.items()):
                continue
            column = LABEL_COLUMNS[method]
            expression = F.col(column)
            for old, new in mapping.items():
                expression = F.when(F.col(column) == old, F.lit(new)).otherwise(expression)
            frame = frame.withColumn(column, expression)
        return frame

    def _dispersions(self) -> dict[str, pd.DataFrame]:
        """Per method and cluster: mean and sum of squared distances to the centroid."""
        from pyspark.sql import functions as F

        out = {}
        frame = self.renumbered(self.labelled)
        width = len(self.scaler.features)
        for method in self.methods:
            label = F.col(LABEL_COLUMNS[method])
            centroids = self.centroids[method]
            if len(centroids) == 0:
                out[method] = pd.DataFrame(columns=["spread", "squares"])
                continue
            squared = F.lit(0.0)
            for cluster, centroid in enumerate(centroids):
                distance = sum((self.scaled(i) - float(centroid[i])) ** 2 for i in range(width))
                squared = F.when(label == cluster, distance).otherwise(squared)
            out[method] = (
                frame.filter(label != NOISE)
                .groupBy(label.alias("label"))
                .agg(F.avg(F.sqrt(squared)).alias("spread"), F.sum(squared).alias("squares"))
                .toPandas()
                .set_index("label")
                .sort_index()
            )
        return out

    def scores(self, method: str, sample: DataFrame, sample_size: int) -> dict[str, Any]:
        """Silhouette on the sample; Davies–Bouldin and Calinski–Harabasz on every song."""
        table = self.tables[method]
        clusters = table[table.index != NOISE]
        k = len(clusters)
        noise = int(table.loc[NOISE, "size"]) if NOISE in table.index else 0
        scores: dict[str, Any] = {
            "silhouette": None,
            "silhouette_sample": sample_size,
            "silhouette_distance": "squared euclidean",
            "davies_bouldin": None,
            "calinski_harabasz": None,
            "n_clusters": k,
            "noise_share": noise / self.size if self.size else 0.0,
        }
        kept = int(clusters["size"].sum())
        if k < 2 or kept <= k:
            return scores
        scores["silhouette"] = clustering.silhouette_of(sample, LABEL_COLUMNS[method])
        centroids = self.centroids[method]
        sizes = clusters["size"].to_numpy(dtype=np.float64)
        dispersion = self._dispersion[method]
        within = float(dispersion["squares"].sum())
        overall = (centroids * sizes[:, None]).sum(axis=0) / sizes.sum()
        between = float(np.sum(sizes * np.sum((centroids - overall) ** 2, axis=1)))
        scores["calinski_harabasz"] = (
            float(between * (kept - k) / (within * (k - 1))) if within > 0 else None
        )
        spread = dispersion["spread"].reindex(range(k)).to_numpy(dtype=np.float64)
        gaps = np.sqrt(((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))
        np.fill_diagonal(gaps, np.inf)
        ratios = (spread[:, None] + spread[None, :]) / gaps
        scores["davies_bouldin"] = float(np.mean(ratios.max(axis=1)))
        return scores

    def extra_details(self, method: str) -> dict[str, Any]:
        table = self.tables[method]
        noise = int(table.loc[NOISE, "size"]) if NOISE in table.index else 0
        return {"noise_songs": noise} if method == "dbscan" else {}

    def personas(self, genres: dict[str, dict[int, list[dict[str, float]]]]) -> pd.DataFrame:
        """The persona table of every method, named by the local engine's rules."""
        tables = []
        for method in self.methods:
            table = self.tables[method]
            tables.append(
                persona_table(
                    method, self.stats, table[self.described], table["size"], genres[method]
                )
            )
        return pd.concat(tables, ignore_index=True)

    def agreement(self) -> list[dict[str, Any]]:
        """Adjusted Rand index and NMI between every pair of methods, from counted pairs."""
        frame = self.renumbered(self.labelled)
        columns = [LABEL_COLUMNS[m] for m in self.methods]
        if len(columns) < 2:
            return []
        counts = frame.groupBy(*columns).count().toPandas()
        rows = []
        for i, first in enumerate(self.methods):
            for second in self.methods[i + 1 :]:
                table = counts.pivot_table(
                    index=LABEL_COLUMNS[first],
                    columns=LABEL_COLUMNS[second],
                    values="count",
                    aggfunc="sum",
                    fill_value=0,
                )
                rows.append(
                    {"first": first, "second": second} | agreement_of_counts(table.to_numpy())
                )
        return rows


def _genre_counts(tracks: DataFrame, summary: _Summary) -> dict[str, dict]:
    """Each method's dominant genres per cluster, counted over the written track parts."""
    methods = summary.methods
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    long = tracks.select(
        F.explode(
            F.array(
                *[
                    F.struct(F.lit(m).alias("method"), F.col(LABEL_COLUMNS[m]).alias("cluster"))
                    for m in methods
                ]
            )
        ).alias("entry"),
        F.explode("genres").alias("genre"),
    ).select("entry.method", "entry.cluster", "genre")
    rank = F.row_number().over(
        Window.partitionBy("method", "cluster").orderBy(F.desc("count"), "genre")
    )
    counts = (
        long.groupBy("method", "cluster", "genre")
        .count()
        .withColumn("rank", rank)
        .filter(F.col("rank") <= 3)
        .toPandas()
    )
    out = {}
    for method in methods:
        mine = counts[counts["method"] == method][["cluster", "genre", "count"]]
        sizes = summary.tables[method]["size"]
        out[method] = genre_shares(mine, sizes) if len(mine) else {}
    return out


def _selection_tables(fitted) -> pd.DataFrame:
    tables = [f.selection.assign(method=m) for m, f in fitted.items() if f.selection is not None]
    if not tables:
        return pd.DataFrame(columns=["method", "k"])
    return pd.concat(tables, ignore_index=True)


def _final_tracks(
    tracks: DataFrame,
    scaler: Scaler,
    size: int,
    fitted: dict[str, clustering.SparkMethod],
    projection,
) -> DataFrame:
    """The track table the atlas holds, in file order: canonical columns, source line, PCA
    and each method's cluster as its fit numbered them (`_name_parts` renumbers them by size
    and adds the persona names)."""
    from pyspark.sql import functions as F

    # Sorted before labelling: a range sort first samples its input, which would otherwise run
    # the DBSCAN assignment (a Python UDF, the costliest step per song) a second time.
    ordered = tracks.repartitionByRange(-(-size // PART_SONGS), LINE).sortWithinPartitions(LINE)
    wide = clustering.with_vector(ordered, scaler, keep=CANONICAL_COLUMNS)
    wide = _labelled(wide, fitted).select("*", *clustering.projected(projection))
    return wide.select(
        *[c for c in CANONICAL_COLUMNS if c != "release_year"],
        F.col("release_year").cast("long").alias("release_year"),
        F.col(LINE).alias(SOURCE_LINE),
        *PCA_COLUMNS,
        *[F.col(LABEL_COLUMNS[m]).cast("int").alias(LABEL_COLUMNS[m]) for m in fitted],
    )


def _name_parts(
    folder: Path,
    names: list[str],
    mapping: dict[str, dict[int, int]],
    personas: pd.DataFrame,
    fraction: float | None,
    seed: int,
) -> int:
    """Rewrite each track part with clusters numbered by size and each method's persona
    column, one part at a time (file names and order kept; each part replaced atomically).

    With a ``fraction``, the same pass writes ``sample.parquet``: each song kept with that
    probability, in file order; returns the songs kept (0 without). Done here, on the driver,
    because Spark's cached view of the rewritten parts would miss the persona columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    sample_path = folder / ".sample.parquet.tmp"
    kept, sample = 0, None

    lookups = {}
    for method, renumber in mapping.items():
        top = max(renumber) + 2
        table = np.full(top, NOISE, dtype=np.int32)
        for old, new in renumber.items():
            table[old + 1] = new
        named = personas[personas["method"] == method].set_index("cluster")["persona"]
        lookups[method] = (table, named)
    for name in names:
        path = folder / name
        table = pq.read_table(path)
        for method, (renumber, named) in lookups.items():
            column = LABEL_COLUMNS[method]
            old = table[column].to_numpy(zero_copy_only=False).astype(np.int64)
            new = renumber[old + 1]
            categories = [str(named[c]) for c in named.index]
            codes = pd.Index(named.index).get_indexer(new).astype(np.int32)
            persona = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(categories))
            at = table.schema.get_field_index(column)
            table = table.set_column(at, column, pa.array(new, type=pa.int32()))
            table = table.add_column(at + 1, PERSONA_COLUMNS[method], persona)
        temporary = path.with_name(f".{path.name}.tmp")
        pq.write_table(table, temporary, compression="zstd")
        temporary.replace(path)
        if fraction is not None:
            chosen = table.filter(pa.array(rng.random(table.num_rows) < fraction))
            if sample is None:
                sample = pq.ParquetWriter(sample_path, table.schema, compression="zstd")
            sample.write_table(chosen)
            kept += chosen.num_rows
    if sample is not None:
        sample.close()
        sample_path.replace(folder / "sample.parquet")
    return kept


def _write_tables(
    tracks: list[str],
    catalog: SparkCatalog,
    folder: Path,
    config: BuildConfig,
    size: int,
    fraction: float | None,
    sampled: int,
) -> dict[str, Any]:
    """Write the original rows as Parquet parts in file order; name every part for the
    manifest, and the chart sample `_name_parts` wrote (``sampled`` songs at ``fraction``)."""
    from pyspark.sql import functions as F

    parts: dict[str, Any] = {"tracks": tracks}
    source = catalog.source
    original = catalog.rows.select(
        *[F.col(c).alias(h) for c, h in zip(source.columns, source.headers, strict=True)],
        LINE,
        STATUS,
        TRACK_LINE,
    ).orderBy(LINE)
    parts["original"] = _write_parts(original, folder, "original")
    parts["sample"] = None
    if fraction is not None:
        parts["sample"] = {
            "file": "sample.parquet",
            "songs": sampled,
            "of": size,
            "method": f"uniform random (Bernoulli, fraction {fraction:.4f}, seed "
            f"{config.random_state})",
        }
    parts["rows"] = size
    return parts


def _write_parts(frame: DataFrame, folder: Path, name: str) -> list[str]:
    """Write ``frame`` as Parquet parts under ``folder/name``; the part files, in order."""
    target = folder / name
    frame.write.option("compression", "zstd").parquet(str(target))
    for extra in [*target.glob(".*.crc"), *target.glob("_*")]:
        extra.unlink()
    return sorted(str(p.relative_to(folder)) for p in target.glob("part-*.parquet"))
