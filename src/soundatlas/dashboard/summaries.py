"""Numbers the dashboard's charts are drawn from, computed from the filtered songs with NumPy.

Pure functions over the arrays of an `FilterIndex`: cluster sizes are exact counts of the filtered
songs; quantiles, means and correlations are computed on at most `SUMMARY_CAP` of them (a fixed
random sample, stated on the page), so every chart costs a few milliseconds even at a million
songs. Charts receive small tables (one row per cluster) instead of raw songs, except the PCA
map, which gets a stated sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from soundatlas.discovery.filters import FilterIndex

SCATTER_CAP = 10_000
"""Most points drawn on the PCA map; above it a stratified sample (by cluster) is drawn."""
SUMMARY_CAP = 200_000
"""Most songs box plots, profiles and correlations are computed on (a fixed random sample above
it: quartiles and means of 200,000 random songs are within about 0.005 of the exact ones)."""
CORRELATION_CAP = 50_000
"""Most songs correlations are computed on (random; correlations of 50,000 songs are within
about 0.01 of the exact ones)."""
SCATTER_FLOOR = 25
"""Songs every non-empty cluster keeps on the sampled PCA map, however small."""


def summary_rows(index: FilterIndex, mask: np.ndarray, *, cap: int = SUMMARY_CAP) -> np.ndarray:
    """Positions of the filtered songs, or of ``cap`` of them in a fixed random order when
    there are more (the same songs for the same filters, on every rerun and for every user)."""
    count = int(np.count_nonzero(mask))
    if count <= cap:
        return np.flatnonzero(mask)
    if count == index.n:
        return np.sort(index.shuffled[:cap])
    return np.sort(index.shuffled[mask[index.shuffled]][:cap])


MAX_CLUSTERS_DRAWN = 15
"""Box plots and radar show at most this many clusters (the largest)."""


def cluster_sizes(index: FilterIndex, mask: np.ndarray, method: str) -> pd.DataFrame:
    """Songs per cluster among the filtered songs, largest first.

    Columns: ``cluster, persona, songs, share`` (of the filtered songs), ``catalog_songs``.
    """
    labels = index.labels[method]
    offset = 1  # noise is -1
    size = int(labels.max()) + 1 + offset if len(labels) else 1
    filtered = np.bincount(labels[mask] + offset, minlength=size)
    everyone = np.bincount(labels + offset, minlength=size)
    present = np.flatnonzero(everyone)
    total = max(int(filtered.sum()), 1)
    table = pd.DataFrame(
        {
            "cluster": present - offset,
            "persona": [index.persona_of(method, c - offset) for c in present],
            "songs": filtered[present],
            "share": filtered[present] / total,
            "catalog_songs": everyone[present],
        }
    )
    return table.sort_values(["songs", "cluster"], ascending=[False, True]).reset_index(drop=True)


def split_small(
    sizes: pd.DataFrame, *, min_songs: int = 0, min_share: float = 0.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(shown, hidden)``: clusters with at least ``min_songs`` and ``min_share``, and the rest
    (empty clusters are always hidden)."""
    keep = (sizes["songs"] >= max(min_songs, 1)) & (sizes["share"] >= min_share)
    return sizes[keep].reset_index(drop=True), sizes[~keep].reset_index(drop=True)


def largest_clusters(sizes: pd.DataFrame, limit: int = MAX_CLUSTERS_DRAWN) -> list[int]:
    """The non-empty clusters to draw, largest first, at most ``limit``."""
    return sizes.loc[sizes["songs"] > 0, "cluster"].head(limit).astype(int).tolist()


def feature_boxes(
    index: FilterIndex, rows: np.ndarray, method: str, feature: str, clusters: list[int]
) -> pd.DataFrame:
    """Box-plot statistics of one feature per cluster of the songs at ``rows``: quartiles,
    Tukey whiskers, mean. Computed here so the chart sends five numbers per cluster."""
    values = index.features[feature][rows]
    labels = index.labels[method][rows]
    out = []
    for cluster in clusters:
        chosen = values[labels == cluster]
        chosen = chosen[np.isfinite(chosen)]
        if not len(chosen):
            continue
        q1, median, q3 = np.percentile(chosen, [25, 50, 75])
        reach = 1.5 * (q3 - q1)
        inside = chosen[(chosen >= q1 - reach) & (chosen <= q3 + reach)]
        out.append(
            {
                "cluster": cluster,
                "persona": index.persona_of(method, cluster),
                "songs": len(chosen),
                "q1": float(q1),
                "median": float(median),
                "q3": float(q3),
                "lowerfence": float(inside.min()) if len(inside) else float(q1),
                "upperfence": float(inside.max()) if len(inside) else float(q3),
                "mean": float(chosen.mean()),
            }
        )
    return pd.DataFrame(out)


def cluster_profiles(
    index: FilterIndex, rows: np.ndarray, method: str, clusters: list[int]
) -> pd.DataFrame:
    """Mean of every audio feature per cluster, scaled 0–1 by the feature's catalog range
    (the sidebar slider's range), so features in decibels and BPM share one radar.

    Index: cluster; columns: features; ``persona`` column last.
    """
    labels = index.labels[method]
    offset = 1
    size = int(labels.max()) + 1 + offset if len(labels) else 1
    codes = labels[rows] + offset
    counts = np.bincount(codes, minlength=size)
    out = {}
    for feature in index.feature_names:
        values = index.features[feature][rows]
        if index.has_missing[feature]:
            finite = np.isfinite(values)
            sums = np.bincount(codes[finite], weights=values[finite], minlength=size)
            valid = np.bincount(codes[finite], minlength=size)
        else:
            sums, valid = np.bincount(codes, weights=values, minlength=size), counts
        means = np.divide(sums, valid, out=np.full(size, np.nan), where=valid > 0)
        bounds = index.bounds[feature]
        scaled = (means - bounds.low) / ((bounds.high - bounds.low) or 1.0)
        out[feature] = np.clip(scaled[[c + offset for c in clusters]], 0.0, 1.0)
    table = pd.DataFrame(out, index=pd.Index(clusters, name="cluster"))
    table = table[counts[[c + offset for c in clusters]] > 0]
    table["persona"] = [index.persona_of(method, c) for c in table.index]
    return table


def correlations(
    index: FilterIndex, rows: np.ndarray, *, cap: int = CORRELATION_CAP
) -> tuple[pd.DataFrame, int]:
    """Pearson correlations between the audio features of the songs at ``rows`` (the first
    ``cap`` of them in the atlas's fixed random order), and how many songs (with every feature
    known) they were computed on."""
    if len(rows) > cap:
        rows = np.sort(rows[np.argsort(index.rank[rows], kind="stable")[:cap]])
    features = list(index.feature_names)
    matrix = np.column_stack([index.features[f][rows] for f in features]).astype(np.float64)
    matrix = matrix[np.isfinite(matrix).all(axis=1)]
    if len(matrix) < 3:
        return pd.DataFrame(np.nan, index=features, columns=features), len(matrix)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(matrix, rowvar=False)
    return pd.DataFrame(corr, index=features, columns=features), len(matrix)


def stratified_sample(
    index: FilterIndex, mask: np.ndarray, method: str, *, cap: int = SCATTER_CAP
) -> np.ndarray:
    """At most about ``cap`` filtered songs for the PCA map, all of them when there are fewer.

    Songs are taken in a fixed random order, so clusters appear in proportion to their size,
    then every cluster short of `SCATTER_FLOOR` songs is topped up from its own songs, so small
    clusters stay visible. The same filters always draw the same songs.
    """
    if int(np.count_nonzero(mask)) <= cap:
        return np.flatnonzero(mask)
    order = index.shuffled[mask[index.shuffled]]
    labels = index.labels[method][order]
    offset = 1  # noise is -1
    total = np.bincount(labels + offset)
    taken = np.bincount(labels[:cap] + offset, minlength=len(total))
    picked = [order[:cap]]
    for code in np.flatnonzero(taken < np.minimum(total, SCATTER_FLOOR)):
        rest = order[cap:][labels[cap:] == code - offset]
        picked.append(rest[: SCATTER_FLOOR - taken[code]])
    return np.sort(np.concatenate(picked))


@dataclass(frozen=True)
class TreeTop:
    """The top branches of a Ward tree, ready to draw (see `dendrogram_data`)."""

    icoord: list
    dcoord: list
    labels: list[str]
    """One per branch, left to right: ``"(1,234)"``, how many `unit` it holds."""
    cut: float | None
    """Merge height at which the tree is cut into the chosen number of clusters."""
    unit: str
    """``"songs"``, or ``"leaves"`` when the tree's leaves are groups of songs (the two-stage
    tree of a big catalog) and the atlas does not record how many songs each merge holds."""


def dendrogram_data(
    linkage: np.ndarray,
    clusters: int,
    *,
    songs: np.ndarray | None = None,
    total_songs: int | None = None,
    leaves: int = 30,
) -> TreeTop:
    """The top ``leaves`` branches of a Ward tree, as line coordinates, with the merge height at
    which the tree is cut into ``clusters`` clusters, and how much each branch holds.

    Parameters
    ----------
    linkage
        The tree in scipy's format. Its 4th column counts the tree's leaves under each merge:
        songs for an exact tree, micro-clusters for the two-stage tree above 200,000 songs.
    songs
        Songs under each merge (``Atlas.linkage_songs``, same rows as ``linkage``), if the
        atlas records them; branches are then labelled with song counts.
    total_songs
        Songs in the atlas: when the tree has one leaf per song, its leaf counts are song
        counts even without ``songs``.
    """
    from scipy.cluster.hierarchy import dendrogram

    tree = dendrogram(linkage, truncate_mode="lastp", p=leaves, no_plot=True)
    n_leaves = len(linkage) + 1
    one_per_song = total_songs is not None and total_songs == n_leaves
    if songs is not None and len(songs) == len(linkage):
        counts = _branch_songs(
            linkage, np.asarray(songs, dtype=np.float64), tree["leaves"], one_per_song
        )
        unit = "songs"
    else:
        counts = [
            1.0 if node < n_leaves else float(linkage[node - n_leaves, 3])
            for node in tree["leaves"]
        ]
        unit = "songs" if one_per_song else "leaves"
    labels = ["(?)" if c is None else f"({round(c):,})" for c in counts]
    heights = linkage[:, 2]
    cut = None
    if 2 <= clusters <= len(heights):
        cut = float((heights[-clusters] + heights[-(clusters - 1)]) / 2)
    return TreeTop(tree["icoord"], tree["dcoord"], labels, cut, unit)


def _branch_songs(
    linkage: np.ndarray, songs: np.ndarray, nodes: list[int], one_per_song: bool
) -> list[float | None]:
    """Songs under each node: a merge's from ``songs``; a single leaf's is one song in an exact
    tree, else its parent merge's songs minus its sibling's (None when the sibling is a single
    leaf too: then only the pair's total is known)."""
    n_leaves = len(linkage) + 1
    out: list[float | None] = []
    for node in nodes:
        if node >= n_leaves:
            out.append(float(songs[node - n_leaves]))
            continue
        if one_per_song:
            out.append(1.0)
            continue
        rows = np.flatnonzero((linkage[:, 0] == node) | (linkage[:, 1] == node))
        if not len(rows):
            out.append(None)
            continue
        row = int(rows[0])
        left, right = int(linkage[row, 0]), int(linkage[row, 1])
        sibling = right if left == node else left
        out.append(float(songs[row] - songs[sibling - n_leaves]) if sibling >= n_leaves else None)
    return out
