"""Cluster a catalog in Spark MLlib, every song labelled, with the local engine's rules.

- K-Means: candidate k fitted on a stated random sample (every k of the range, as the local
  engine does above 200,000 songs), scored with Spark's `ClusteringEvaluator` silhouette on a
  stated sample, k chosen by `choose_k`; the final model starts from the local engine's best
  k-means++ start on that sample (every song up to 200,000) and is refined by Lloyd passes
  over every song in Spark (`final_kmeans`).
- Hierarchical: MLlib's bisecting K-Means — divisive (top-down), not Ward's agglomerative
  merging — with the k chosen for K-Means (or chosen by the same rule when K-Means is not run).
- DBSCAN: the local code on a stated random sample (eps from that sample's k-distance knee);
  then every song joins the cluster of its nearest core song of the sample within eps, or noise.
- PCA: MLlib's PCA of the scaled features.

Songs travel as one MLlib vector of scaled features (`VECTOR`) beside their line: the smallest
form every step can read.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from soundatlas.clustering.dbscan import cluster_density
from soundatlas.clustering.features import Scaler, scaler_from
from soundatlas.clustering.kmeans import SELECTION_ROWS, final_model
from soundatlas.clustering.metrics import NOISE, silhouette_sample
from soundatlas.clustering.projection import COMPONENTS, Projection
from soundatlas.clustering.selection import choose_k, k_candidates
from soundatlas.config import BuildConfig
from soundatlas.engines.spark.catalog import LINE
from soundatlas.errors import CatalogError, ConfigError

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

DENSITY_SAMPLE = 50_000
"""Songs DBSCAN is fitted on (the local code, on one machine); every song is then assigned."""
VECTOR = "_sa_vector"
SHIFT_TOLERANCE = 1e-8
"""Lloyd passes of the final K-Means stop once no centre moves farther than this (squared
distance, in scaled units): MLlib's own rule (``tol=1e-4``, a distance), so a catalog larger
than the sample the start was fitted on takes no more passes than MLlib's K-Means did."""
CANDIDATE_ITERATIONS, FINAL_ITERATIONS = 20, 50
"""Lloyd iterations at most: MLlib's default for candidate values of k (their inertia and
silhouette settle well before), more for the model every song is labelled by."""
BISECTING_ITERATIONS = 10
SONGS_PER_PARTITION = 250_000
"""MLlib runs a job per iteration with a task per partition: tiny partitions cost more in
scheduling than they save (1,769 songs in 8 partitions: K-Means several times slower)."""
_TREES: dict[str, Any] = {}
"""Core-song kd-trees of DBSCAN, built once per worker process."""


def scaled_value(index: int) -> Column:
    """The scaled value of feature ``index`` of each row, from its vector."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    return vector_to_array(F.col(VECTOR))[index]


def fit_scaler(tracks: DataFrame, features: tuple[str, ...], kind: str) -> Scaler:
    """The local engine's scaler, from statistics Spark computes over every track."""
    from pyspark.sql import functions as F

    aggregates = []
    for i, feature in enumerate(features):
        column = F.col(feature)
        aggregates += [
            F.avg(column).alias(f"mean{i}"),
            F.stddev_pop(column).alias(f"std{i}"),
            F.min(column).alias(f"low{i}"),
            F.max(column).alias(f"high{i}"),
        ]
        if kind == "robust":
            aggregates.append(
                F.percentile_approx(column, [0.25, 0.5, 0.75], 10_000).alias(f"quartiles{i}")
            )
    row = tracks.agg(*aggregates).collect()[0]
    stats = {
        name: np.array([row[f"{name}{i}"] for i in range(len(features))], dtype=np.float64)
        for name in ("mean", "std", "low", "high")
    }
    if kind == "robust":
        quartiles = np.array([row[f"quartiles{i}"] for i in range(len(features))])
        stats["q1"], stats["median"], stats["q3"] = quartiles.T
    return scaler_from(features, kind, stats)


def distinct_songs(tracks: DataFrame, features: tuple[str, ...], source: str, size: int) -> int:
    """How many different feature vectors there are (exactly when few, else a HyperLogLog
    estimate: only "fewer than k" matters); refuse a catalog with one (the local engine's
    rule and words)."""
    from pyspark.sql import functions as F

    signature = F.xxhash64(*[F.col(f) for f in features])
    estimate = tracks.agg(F.approx_count_distinct(signature).alias("n")).collect()[0]["n"]
    distinct = estimate if estimate > 10_000 else tracks.select(*features).distinct().count()
    if distinct < 2:
        raise CatalogError(
            f"{source}: all {size:,} usable songs have the same values for every clustering "
            f"feature ({', '.join(features)}), so there is nothing to cluster. Check the "
            "columns hold real audio features."
        )
    return int(distinct)


def with_vector(tracks: DataFrame, scaler: Scaler, *, keep: list[str]) -> DataFrame:
    """``_sa_line``, the columns ``keep`` and the scaled features as one vector."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F

    names = [f"_sa_s{i}" for i in range(len(scaler.features))]
    scaled = tracks.select(
        *dict.fromkeys([LINE, *keep]),
        *[
            ((F.col(f) - float(c)) / float(s)).alias(name)
            for f, c, s, name in zip(
                scaler.features, scaler.center, scaler.scale, names, strict=True
            )
        ],
    )
    return VectorAssembler(inputCols=names, outputCol=VECTOR).transform(scaled).drop(*names)


def partitions_for(size: int) -> int:
    """Partitions for ``size`` songs: one per `SONGS_PER_PARTITION`."""
    return max(1, -(-size // SONGS_PER_PARTITION))


@dataclass(frozen=True)
class SparkMethod:
    """One method's fit, its labels still in Spark: what the atlas needs to record it."""

    method: str
    params: dict[str, Any]
    rule: str
    details: dict[str, Any]
    timings: dict[str, float]
    selection: pd.DataFrame | None
    apply: Callable[[DataFrame, str], DataFrame]
    """Adds the method's label (clusters numbered by size, noise -1) of each row of a frame
    holding the vector, under the given column name."""


@dataclass(frozen=True)
class Samples:
    """The stated random samples the engine works on where every song is not needed."""

    selection: DataFrame
    """Songs candidate values of k are fitted on (every song up to SELECTION_ROWS)."""
    silhouette: DataFrame
    """Songs silhouettes are computed on."""
    selection_size: int
    silhouette_size: int


def draw_samples(vectors: DataFrame, size: int, config: BuildConfig) -> Samples:
    """The selection and silhouette samples, drawn once and kept in memory."""
    from pyspark import StorageLevel

    vectors = vectors.select(LINE, VECTOR)
    selection = sample_of(vectors, size, SELECTION_ROWS, config.random_state)
    silhouette = sample_of(vectors, size, config.silhouette_sample, config.random_state + 1)
    selection = selection.persist(StorageLevel.MEMORY_AND_DISK)
    silhouette = silhouette.persist(StorageLevel.MEMORY_AND_DISK)
    return Samples(selection, silhouette, selection.count(), silhouette.count())


def sample_of(frame: DataFrame, size: int, wanted: int, seed: int) -> DataFrame:
    """A uniform random sample of about ``wanted`` rows (every row when there are fewer):
    Bernoulli sampling, so every song has the same chance and the size varies a little."""
    if size <= wanted:
        return frame
    return frame.sample(fraction=wanted / size, seed=seed)


def silhouette_of(labelled: DataFrame, label: str) -> float | None:
    """Spark's silhouette (squared Euclidean) of a labelled sample; noise left out."""
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.sql import functions as F

    kept = labelled.filter(F.col(label) != NOISE)
    if kept.select(label).distinct().count() < 2:
        return None
    evaluator = ClusteringEvaluator(featuresCol=VECTOR, predictionCol=label)
    return float(evaluator.evaluate(kept))


def fit_partitional(
    method: str,
    vectors: DataFrame,
    size: int,
    distinct: int,
    samples: Samples,
    config: BuildConfig,
    tick: Callable[[float], None],
    *,
    kmeans_k: int | None = None,
) -> SparkMethod:
    """K-Means (``method="kmeans"``) or bisecting K-Means (``"hierarchical"``).

    With k chosen from the data, bisecting K-Means takes the k chosen for K-Means when K-Means
    ran (``kmeans_k``): its candidate fits are the slowest step of a build (every level of the
    division is a pass per iteration), and a divisive split of the same songs into the same
    number of clusters is what the comparison of methods needs.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    selection, k = None, config.k
    rule = f"fixed by the user (k={k})"
    if k is None and kmeans_k is not None:
        k = kmeans_k
        rule = (
            f"k={k}, the k chosen for K-Means (bisecting K-Means splits the songs top-down "
            "until there are k clusters)"
        )
    if k is None:
        selection = _selection_table(method, samples, size, distinct, config, tick)
        k, rule = choose_k(selection)
        timings["selection"] = time.perf_counter() - started
    fit_started = time.perf_counter()
    params: dict[str, Any] = {"k": int(k)}
    details: dict[str, Any] = {
        "engine": "spark",
        "candidates_fitted_on": samples.selection_size if selection is not None else None,
    }
    if method == "kmeans":
        final = final_kmeans(vectors.select(VECTOR), samples, k, config.random_state)
        sizes, cost = final.sizes, final.cost
        params["n_init"] = final.inits
        details |= {"started_on": samples.selection_size, "lloyd_passes": final.passes}
    else:
        model, cost = _fit(method, vectors.select(VECTOR), k, config.random_state, FINAL_ITERATIONS)
        sizes = np.asarray(model.summary.clusterSizes, dtype=np.int64)
    timings["fit"] = time.perf_counter() - fit_started
    tick(1.0)
    details["inertia"] = cost
    order = np.lexsort((np.arange(len(sizes)), -sizes))
    mapping = {int(old): new for new, old in enumerate(order)}
    if method == "kmeans":
        apply = _nearest_centre(final.centres, mapping)
    else:
        apply = _predicted(model, mapping)
        params["variant"] = "bisecting"
        details["variant"] = (
            "bisecting K-Means (divisive: clusters split top-down), Spark MLlib; not Ward's "
            "agglomerative merging"
        )
        details["clusters_found"] = int(np.count_nonzero(sizes))
    return SparkMethod(method, params, rule, details, timings, selection, apply)


@dataclass(frozen=True)
class FinalKMeans:
    """The final K-Means model of every song."""

    centres: np.ndarray
    sizes: np.ndarray
    """Songs nearest each centre."""
    cost: float
    """Sum of squared distances of the songs to their nearest centre (the inertia)."""
    inits: int
    """k-means++ starts tried on the driver."""
    passes: int
    """Lloyd passes over every song in Spark."""


def final_kmeans(vectors: DataFrame, samples: Samples, k: int, seed: int) -> FinalKMeans:
    """The local engine's final K-Means (the best of its k-means++ starts, on the driver) on
    the selection sample — every song up to `SELECTION_ROWS` — refined by Lloyd passes over
    every song in Spark until no centre moves by more than MLlib's tolerance.

    MLlib's K-Means was 1.4% above scikit-learn's best inertia on a real table with its three
    k-means|| starts, and each start is a Spark job per iteration (a second or more even on
    14 songs); the local engine's starts cost milliseconds on one machine.
    """
    start = final_model(collect_vectors(samples.selection), k, seed)
    centres = np.asarray(start.cluster_centers_, dtype=np.float64)
    for passes in range(1, FINAL_ITERATIONS + 1):
        sizes, cost, means = _lloyd_pass(vectors, centres)
        moved = ((means - centres) ** 2).sum(axis=1)[sizes > 0]
        if passes == FINAL_ITERATIONS or moved.max(initial=0.0) <= SHIFT_TOLERANCE:
            break
        centres = np.where(sizes[:, None] > 0, means, centres)
    return FinalKMeans(centres, sizes, cost, int(start.n_init), passes)


def _nearest(centres: np.ndarray) -> Column:
    """Per row, a struct of the squared distance ``d`` to the nearest centre and its index
    ``j`` (the first on ties), over the array column ``_sa_array``."""
    from pyspark.sql import functions as F

    values = F.col("_sa_array")
    pairs = [
        F.struct(
            sum((values[i] - float(c)) ** 2 for i, c in enumerate(centre)).alias("d"),
            F.lit(j).alias("j"),
        )
        for j, centre in enumerate(centres)
    ]
    return F.array_min(F.array(*pairs))


def _with_array(frame: DataFrame) -> DataFrame:
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    return frame.withColumn("_sa_array", vector_to_array(F.col(VECTOR)))


def _lloyd_pass(vectors: DataFrame, centres: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """One pass over every song: songs per centre, the inertia, and the mean of each centre's
    songs (the centre itself when none is nearest it)."""
    from pyspark.ml.stat import Summarizer
    from pyspark.sql import functions as F

    nearest = _with_array(vectors).select(VECTOR, _nearest(centres).alias("_sa_n"))
    rows = (
        nearest.groupBy(F.col("_sa_n.j").alias("j"))
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.sum("_sa_n.d").alias("d"),
            Summarizer.mean(F.col(VECTOR)).alias("m"),
        )
        .collect()
    )
    sizes = np.zeros(len(centres), dtype=np.int64)
    means = centres.copy()
    cost = 0.0
    for row in rows:
        sizes[row["j"]] = row["n"]
        means[row["j"]] = row["m"].toArray()
        cost += float(row["d"])
    return sizes, cost, means


def _nearest_centre(
    centres: np.ndarray, mapping: dict[int, int]
) -> Callable[[DataFrame, str], DataFrame]:
    """Adds the size-ordered label of each row: its nearest centre, renumbered."""
    from pyspark.sql import functions as F

    def apply(frame: DataFrame, name: str) -> DataFrame:
        nearest = _nearest(centres)["j"]
        renumbered = F.lit(None).cast("int")
        for old, new in mapping.items():
            renumbered = F.when(nearest == old, F.lit(new)).otherwise(renumbered)
        return _with_array(frame).withColumn(name, renumbered).drop("_sa_array")

    return apply


def _estimator(method: str, k: int, seed: int, iterations: int):
    from pyspark.ml.clustering import BisectingKMeans, KMeans

    if method == "kmeans":
        return KMeans(k=k, seed=seed, featuresCol=VECTOR, maxIter=iterations, tol=1e-4)
    # Bisecting runs every iteration of every split (it has no tolerance); each split is a
    # 2-means, which settles in a few iterations.
    return BisectingKMeans(k=k, seed=seed, featuresCol=VECTOR, maxIter=BISECTING_ITERATIONS)


def _fit(method: str, vectors: DataFrame, k: int, seed: int, iterations: int):
    """An MLlib fit and its cost (sum of squared distances to the nearest centre)."""
    model = _estimator(method, k, seed, iterations).fit(vectors)
    return model, float(model.summary.trainingCost)


def _predicted(model, mapping: dict[int, int]) -> Callable[[DataFrame, str], DataFrame]:
    """Adds the size-ordered label of each row (the model's prediction, renumbered)."""
    from pyspark.sql import functions as F

    def apply(frame: DataFrame, name: str) -> DataFrame:
        predicted = model.setPredictionCol("_sa_prediction").transform(frame)
        renumbered = F.lit(None).cast("int")
        for old, new in mapping.items():
            renumbered = F.when(F.col("_sa_prediction") == old, F.lit(new)).otherwise(renumbered)
        return predicted.withColumn(name, renumbered).drop("_sa_prediction")

    return apply


def _selection_table(
    method: str,
    samples: Samples,
    size: int,
    distinct: int,
    config: BuildConfig,
    tick: Callable[[float], None],
) -> pd.DataFrame:
    """Every candidate k fitted on the selection sample and scored, for `choose_k`."""
    rows = []
    candidates = k_candidates(size, config.k_range, distinct)
    vectors = samples.selection.select(VECTOR)
    for position, k in enumerate(candidates):
        model, cost = _fit(method, vectors, k, config.random_state, CANDIDATE_ITERATIONS)
        scored = model.setPredictionCol("label").transform(samples.silhouette)
        sizes = np.asarray(model.summary.clusterSizes, dtype=np.float64)
        rows.append(
            {
                "k": k,
                "silhouette": silhouette_of(scored, "label"),
                "davies_bouldin": None,
                "calinski_harabasz": None,
                "inertia": cost * size / samples.selection_size,
                "smallest_share": float(sizes.min() / sizes.sum()),
            }
        )
        tick(0.8 * (position + 1) / len(candidates))
    return pd.DataFrame(rows)


def collect_vectors(frame: DataFrame) -> np.ndarray:
    """The scaled features of (a sample of) songs as a float64 matrix on the driver."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    values = frame.select(vector_to_array(F.col(VECTOR)).alias("v")).toPandas()["v"]
    return np.stack(values.to_numpy()).astype(np.float64) if len(values) else np.zeros((0, 0))


def fit_density(
    vectors: DataFrame,
    size: int,
    config: BuildConfig,
    tick: Callable[[float], None],
) -> SparkMethod:
    """DBSCAN fitted on a random sample with the local code; every song then assigned to the
    cluster of its nearest core song within eps (or noise)."""
    from scipy.spatial import cKDTree

    if config.density_algorithm != "dbscan":
        raise ConfigError(
            f"--density {config.density_algorithm}: the spark engine runs DBSCAN only; build "
            "with the local engine for HDBSCAN."
        )
    started = time.perf_counter()
    x = collect_vectors(sample_of(vectors, size, DENSITY_SAMPLE, config.random_state + 2))
    tick(0.2)
    local = cluster_density(
        x,
        sample=silhouette_sample(x, size=min(len(x), 2_000), random_state=config.random_state),
        eps=config.eps,
        min_samples=config.min_samples,
        random_state=config.random_state,
    )
    eps, min_samples = float(local.params["eps"]), int(local.params["min_samples"])
    # A core song has min_samples songs (itself included) within eps: its min_samples-th
    # nearest neighbour is within eps. The search stops there, whatever the density.
    distances, _ = cKDTree(x).query(x, k=min_samples, distance_upper_bound=eps, workers=-1)
    core = np.isfinite(distances[:, -1]) & (local.labels != NOISE)
    tick(0.6)
    key = uuid.uuid4().hex
    points, labels = x[core], local.labels[core].astype(np.int32)
    where = (
        f"fitted on a random sample of {len(x):,} of {size:,} songs, then every song"
        if len(x) < size
        else "every song"
    )
    rule = (
        f"{local.rule}; {where} assigned to the cluster of its nearest core song within eps "
        "(noise if none)"
    )
    details = {
        "fitted_on": len(x),
        "core_songs": int(core.sum()),
        "engine": "spark",
        "k_distance_quantiles": local.details["k_distance_quantiles"],
    }

    def apply(frame: DataFrame, name: str) -> DataFrame:
        from pyspark.ml.functions import vector_to_array
        from pyspark.sql import functions as F

        nearest = _nearest_core(key, points, labels, eps)
        return frame.withColumn(name, nearest(vector_to_array(F.col(VECTOR))))

    return SparkMethod(
        "dbscan",
        local.params | {"algorithm": "dbscan"},
        rule,
        details,
        {"fit": time.perf_counter() - started},
        None,
        apply,
    )


def _nearest_core(key: str, points: np.ndarray, labels: np.ndarray, eps: float):
    """A pandas UDF: the cluster of the nearest core song within eps, else noise.

    The nearest core song is found exactly, by faiss's brute-force search (one matrix product
    per batch, one thread per Spark task): in 9 dimensions with eps this wide, scipy's kd-tree
    prunes little and was slower (measured 31–117 µs a song against 17–91 µs).
    """
    from pyspark.sql import functions as F

    @F.pandas_udf("int")
    def nearest(vectors: pd.Series) -> pd.Series:
        index = _TREES.get(key)
        if index is None:
            import faiss

            faiss.omp_set_num_threads(1)
            _TREES.clear()
            index = _TREES[key] = faiss.IndexFlatL2(points.shape[1])
            index.add(np.ascontiguousarray(points, dtype=np.float32))
        x = np.ascontiguousarray(np.stack(vectors.to_numpy()), dtype=np.float32)
        squared, nearest_index = index.search(x, 1)
        found = squared[:, 0] <= np.float32(eps) ** 2
        out = np.full(len(x), NOISE, dtype=np.int32)
        out[found] = labels[nearest_index[found, 0]]
        return pd.Series(out)

    return nearest


def fit_projection(vectors: DataFrame, features: tuple[str, ...]) -> Projection:
    """PCA of the scaled features with MLlib, in the local engine's form (mean, axes, shares;
    each axis signed so its largest loading is positive, for stable maps)."""
    from pyspark.ml.feature import PCA
    from pyspark.ml.stat import Summarizer

    count = min(COMPONENTS, len(features))
    model = PCA(k=count, inputCol=VECTOR, outputCol="_sa_pca").fit(vectors.select(VECTOR))
    components = np.array(model.pc.toArray(), dtype=np.float64).T
    signs = np.sign(components[np.arange(count), np.abs(components).argmax(axis=1)])
    components *= np.where(signs == 0, 1.0, signs)[:, None]
    mean = vectors.select(Summarizer.mean(vectors[VECTOR]).alias("m")).collect()[0]["m"]
    ratio = np.asarray(model.explainedVariance.toArray(), dtype=np.float64)
    return Projection(
        tuple(features), np.asarray(mean.toArray(), dtype=np.float64), components, ratio
    )


def projected(projection: Projection) -> list[Column]:
    """The PCA coordinates ``pc1``… of each row, as column expressions over its vector."""
    columns = []
    for axis, component in enumerate(projection.components):
        value = sum(
            (scaled_value(i) - float(mean)) * float(weight)
            for i, (mean, weight) in enumerate(zip(projection.mean, component, strict=True))
        )
        columns.append(value.cast("float").alias(f"pc{axis + 1}"))
    return columns
