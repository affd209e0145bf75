"""The stages of building an atlas, and the words every front door shows for them.

Kept free of imports so that a front door can name a stage without loading the libraries that
run it.
"""

from __future__ import annotations

BUILD_STAGES: tuple[str, ...] = (
    "read",
    "scale",
    "kmeans",
    "dbscan",
    "pca",
    "hierarchical",
    "personas",
)
"""The stages `soundatlas.atlas.build.build_atlas` reports progress for, in order."""

STAGE_TITLES: dict[str, str] = {
    "start": "Starting Spark",
    "generate": "Generating demo songs",
    "read": "Reading and validating",
    "scale": "Scaling features",
    "kmeans": "K-Means: choosing k and fitting",
    "dbscan": "DBSCAN: choosing eps and finding core songs",
    "pca": "PCA map",
    "hierarchical": "Hierarchical: Ward tree",
    "personas": "Naming personas",
    "save": "Saving the atlas",
    "load": "Loading the atlas",
    "index": "Writing the discovery index",
    "sort": "Sorting the whole catalog's ids, titles and artists",
}
"""What a progress bar says during each stage (a build's, and the steps around it)."""
