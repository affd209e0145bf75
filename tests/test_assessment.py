"""Degenerate results, the silhouette with noise counted, and the one recommended method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from realdata import GENRES_11K

from soundatlas.clustering.assessment import (
    DEGENERATE_RULE,
    assess_methods,
    method_warnings,
)
from soundatlas.clustering.metrics import silhouette_sample
from soundatlas.clustering.result import MethodSummary
from soundatlas.discovery.save import save_atlas


def summary(method: str, clusters: int, silhouette: float, noise: float = 0.0, **more):
    scores = {"n_clusters": clusters, "silhouette": silhouette, "noise_share": noise} | more
    return MethodSummary(method, {}, "", scores, {}, {})


def personas(shares: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"method": m, "cluster": c, "share": s}
        for m, values in shares.items()
        for c, s in enumerate(values)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("clusters", "largest", "noise", "found"),
    [
        (5, 0.40, 0.0, None),
        (2, 0.60, 0.0, "only 2 clusters (fewer than 3)"),
        (1, 0.90, 0.10, "only 1 cluster (fewer than 3)"),
        (4, 0.86, 0.0, "one cluster holds 86.0% of the songs (more than 85%)"),
        (4, 0.85, 0.0, None),
        (6, 0.20, 0.51, "51.0% of the songs are noise (more than 50%)"),
    ],
)
def test_the_degenerate_rule_by_hand(clusters, largest, noise, found):
    scores = {"n_clusters": clusters, "noise_share": noise}
    warnings = method_warnings("dbscan", scores, largest)
    if found is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and found in warnings[0]
        assert warnings[0].startswith("DBSCAN is degenerate: ")
        assert "--eps" in warnings[0]  # says what to do


def test_a_degenerate_method_is_never_recommended_however_it_scores():
    methods = {
        "kmeans": summary("kmeans", 7, 0.195),
        "dbscan": summary("dbscan", 2, 0.606, 0.055, silhouette_with_noise=0.58),
        "hierarchical": summary("hierarchical", 8, 0.144),
    }
    shares = personas({"kmeans": [0.3] * 3, "dbscan": [0.94, 0.005], "hierarchical": [0.2] * 5})
    assessment = assess_methods(methods, shares)
    assert assessment.recommended == "kmeans"
    assert assessment.degenerate("dbscan") and not assessment.degenerate("kmeans")
    assert assessment.reason == (
        "K-Means separates the songs best (silhouette 0.195 against Hierarchical (Ward) 0.144, "
        "noise counted) among the methods that split the catalog usefully (DBSCAN is degenerate)."
    )


def test_methods_are_compared_with_noise_counted():
    methods = {
        "kmeans": summary("kmeans", 5, 0.20),
        "dbscan": summary("dbscan", 6, 0.45, 0.30, silhouette_with_noise=0.10),
    }
    assessment = assess_methods(methods, personas({"kmeans": [0.3], "dbscan": [0.3]}))
    assert assessment.recommended == "kmeans"
    assert "DBSCAN 0.100" in assessment.reason


def test_when_every_method_is_degenerate_the_reason_says_so():
    methods = {"kmeans": summary("kmeans", 2, 0.3), "dbscan": summary("dbscan", 2, 0.5)}
    assessment = assess_methods(methods, personas({"kmeans": [0.6], "dbscan": [0.95]}))
    assert assessment.recommended == "dbscan"
    assert assessment.reason.startswith("Every method is degenerate on this catalog; DBSCAN")


def test_silhouette_with_noise_counts_noise_as_one_group():
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(0)
    x = np.vstack(
        [rng.normal(0, 0.1, (20, 2)), rng.normal(3, 0.1, (20, 2)), rng.normal(9, 3, (8, 2))]
    )
    labels = np.array([0] * 20 + [1] * 20 + [-1] * 8)
    sample = silhouette_sample(x, size=1000, random_state=0)
    assert sample.score(labels) == pytest.approx(silhouette_score(x[:40], labels[:40]), abs=1e-5)
    assert sample.score(labels, noise_as_group=True) == pytest.approx(
        silhouette_score(x, labels), abs=1e-5
    )


def test_the_real_genre_table_flags_dbscan_and_recommends_another(atlas_of):
    atlas = atlas_of(GENRES_11K)
    assessment = atlas.assessment
    dbscan = atlas.methods["dbscan"].scores
    assert dbscan["silhouette_with_noise"] < dbscan["silhouette"]
    assert assessment.degenerate("dbscan")
    assert assessment.recommended != "dbscan"
    assert DEGENERATE_RULE.startswith("a result is degenerate when")


def test_info_says_which_method_to_use_and_warns_in_text_and_json(atlas_of, tmp_path):
    import json

    from typer.testing import CliRunner

    from soundatlas.cli import app

    atlas = atlas_of(GENRES_11K)
    save_atlas(atlas, tmp_path / "atlas")
    runner = CliRunner()
    result = runner.invoke(app, ["info", str(tmp_path / "atlas")])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert f"Recommended: {atlas.methods[atlas.assessment.recommended].title}." in flat
    assert "warning: DBSCAN is degenerate:" in flat and "The rule: a result is degenerate" in flat
    info = json.loads(runner.invoke(app, ["info", str(tmp_path / "atlas"), "--json"]).output)
    assert info["recommended"]["method"] == atlas.assessment.recommended
    assert info["recommended"]["reason"] == atlas.assessment.reason
    assert info["methods"]["dbscan"]["warnings"][0].startswith("DBSCAN is degenerate:")
    assert info["methods"]["kmeans"]["warnings"] == []
    assert info["methods"]["dbscan"]["scores"]["silhouette_with_noise"] is not None


def test_the_report_leads_with_the_recommendation_and_the_warnings(atlas_of):
    from soundatlas.reports import report_markdown

    atlas = atlas_of(GENRES_11K)
    text = report_markdown(atlas)
    methods = text.split("## Clustering methods", 1)[1]
    assert methods.lstrip().startswith("**Recommended: ")
    assert "silhouette (noise counted)" in methods and "degenerate" in methods
    assert "DBSCAN is degenerate" in methods
