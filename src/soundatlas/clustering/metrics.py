"""How good a clustering is, and how much two clusterings agree.

Silhouette is quadratic in the number of songs, so above ``sample_size`` songs it is computed on a
fixed random sample whose size is reported with the score. Distances within the sample are
computed once and reused for every candidate labelling, which makes scoring eleven values of k
(and every method) cost about as much as scoring one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# scikit-learn is imported by the functions that score, not here: discovery reads NOISE and
# loading an atlas for a query needs no scikit-learn (slow to import).
NOISE = -1


@dataclass(frozen=True)
class SilhouetteSample:
    """A random sample of songs and the distances between them, for sampled silhouettes."""

    rows: np.ndarray
    distances: np.ndarray
    total: int

    @property
    def exact(self) -> bool:
        """True when the sample is every song, so the silhouette is exact."""
        return len(self.rows) == self.total

    def score(self, labels: np.ndarray, *, noise_as_group: bool = False) -> float | None:
        """Mean silhouette of the sampled songs under ``labels``.

        Noise is left out, or with ``noise_as_group`` counted as one more group: a method that
        calls most songs noise then no longer scores as if those songs were not there.
        Returns None when fewer than two groups (or too few songs) are in the sample.
        """
        sampled = np.asarray(labels)[self.rows]
        keep = sampled != NOISE if not noise_as_group else np.ones(len(sampled), dtype=bool)
        if keep.sum() < 3:
            return None
        distances = self.distances if keep.all() else self.distances[np.ix_(keep, keep)]
        return _silhouette(distances, sampled[keep])


def silhouette_sample(x: np.ndarray, *, size: int, random_state: int) -> SilhouetteSample:
    """Draw the sample (every row when there are at most ``size``) and its distance matrix."""
    n = len(x)
    rng = np.random.default_rng(random_state)
    rows = np.arange(n) if n <= size else np.sort(rng.choice(n, size=size, replace=False))
    return SilhouetteSample(rows, pairwise_distances32(x[rows]), n)


def pairwise_distances32(x: np.ndarray, block: int = 2048) -> np.ndarray:
    """Euclidean distances between all rows as float32, filled block by block to bound memory."""
    x = np.asarray(x, dtype=np.float32)
    squared = np.einsum("ij,ij->i", x, x)
    out = np.empty((len(x), len(x)), dtype=np.float32)
    for start in range(0, len(x), block):
        stop = min(start + block, len(x))
        part = out[start:stop]
        np.matmul(x[start:stop], x.T, out=part)
        part *= -2.0
        part += squared[start:stop, None]
        part += squared[None, :]
        np.maximum(part, 0.0, out=part)
        np.sqrt(part, out=part)
    np.fill_diagonal(out, 0.0)
    return out


def _silhouette(distances: np.ndarray, labels: np.ndarray) -> float | None:
    """Silhouette from a distance matrix: one matrix product gives every song's distance sums."""
    clusters, codes, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    if len(clusters) < 2 or len(clusters) >= len(labels):
        return None
    onehot = np.zeros((len(labels), len(clusters)), dtype=np.float32)
    onehot[np.arange(len(labels)), codes] = 1.0
    sums = (distances @ onehot).astype(np.float64)
    own_size = sizes[codes]
    own = sums[np.arange(len(labels)), codes]
    a = np.divide(own, own_size - 1, out=np.zeros_like(own), where=own_size > 1)
    mean_to = sums / sizes[None, :]
    mean_to[np.arange(len(labels)), codes] = np.inf
    b = mean_to.min(axis=1)
    denominator = np.maximum(a, b)
    s = np.divide(b - a, denominator, out=np.zeros_like(a), where=denominator > 0)
    s[own_size == 1] = 0.0
    return float(s.mean())


@dataclass(frozen=True)
class Scores:
    """Internal validity scores of one labelling. Noise (-1) is left out of all three scores;
    ``silhouette_with_noise`` counts it as one more group (equal to ``silhouette`` when there
    is no noise)."""

    silhouette: float | None
    davies_bouldin: float | None
    calinski_harabasz: float | None
    n_clusters: int
    noise_share: float
    silhouette_with_noise: float | None = None


def score_labels(x: np.ndarray, labels: np.ndarray, sample: SilhouetteSample) -> Scores:
    """Silhouette (on the sample), Davies–Bouldin and Calinski–Harabasz (on every song)."""
    labels = np.asarray(labels)
    keep = labels != NOISE
    clusters = np.unique(labels[keep])
    noise_share = float(1.0 - keep.mean()) if len(labels) else 0.0
    if len(clusters) < 2 or keep.sum() <= len(clusters):
        return Scores(None, None, None, len(clusters), noise_share)
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    kept_x, kept_labels = (x, labels) if keep.all() else (x[keep], labels[keep])
    silhouette = sample.score(labels)
    return Scores(
        silhouette=silhouette,
        davies_bouldin=float(davies_bouldin_score(kept_x, kept_labels)),
        calinski_harabasz=float(calinski_harabasz_score(kept_x, kept_labels)),
        n_clusters=len(clusters),
        noise_share=noise_share,
        silhouette_with_noise=(
            silhouette if keep.all() else sample.score(labels, noise_as_group=True)
        ),
    )


def agreement(first: np.ndarray, second: np.ndarray) -> dict[str, float]:
    """Adjusted Rand index and normalised mutual information between two labellings.

    Noise counts as a group of its own, so a method that calls most songs noise agrees little.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "adjusted_rand": float(adjusted_rand_score(first, second)),
        "nmi": float(normalized_mutual_info_score(first, second)),
    }


def agreement_of_counts(contingency: np.ndarray) -> dict[str, float]:
    """`agreement` from a contingency table (songs per pair of labels), for engines that count
    pairs where the labels live instead of bringing every label to one place."""
    from sklearn.metrics import mutual_info_score

    table = np.asarray(contingency, dtype=np.float64)
    n = table.sum()
    rows, columns = table.sum(axis=1), table.sum(axis=0)

    def pairs(counts: np.ndarray) -> float:
        return float(np.sum(counts * (counts - 1) / 2.0))

    together, first, second = pairs(table.ravel()), pairs(rows), pairs(columns)
    expected = first * second / (n * (n - 1) / 2.0) if n > 1 else 0.0
    top = (first + second) / 2.0
    ari = 1.0 if top == expected else (together - expected) / (top - expected)
    information = mutual_info_score(None, None, contingency=table)

    def entropy(counts: np.ndarray) -> float:
        shares = counts[counts > 0] / n
        return float(-np.sum(shares * np.log(shares)))

    spread = (entropy(rows) + entropy(columns)) / 2.0
    nmi = 1.0 if spread == 0 else float(information / spread)
    return {"adjusted_rand": float(ari), "nmi": nmi}


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber clusters 0, 1, 2 … from largest to smallest (ties by old label); noise stays -1."""
    labels = np.asarray(labels, dtype=np.int64)
    keep = labels != NOISE
    clusters, counts = np.unique(labels[keep], return_counts=True)
    order = np.lexsort((clusters, -counts))
    mapping = np.empty(clusters.max() + 1 if len(clusters) else 0, dtype=np.int64)
    mapping[clusters[order]] = np.arange(len(clusters))
    out = np.full_like(labels, NOISE)
    out[keep] = mapping[labels[keep]]
    return out


def centroids(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean of each cluster 0..k-1 (rows in label order); noise is not a cluster."""
    labels = np.asarray(labels)
    k = int(labels.max()) + 1 if (labels >= 0).any() else 0
    keep = labels >= 0
    kept = labels[keep]
    sums = np.column_stack(
        [np.bincount(kept, weights=column, minlength=k) for column in np.asarray(x)[keep].T]
    )
    counts = np.bincount(kept, minlength=k)[:, None]
    return sums / np.maximum(counts, 1)
