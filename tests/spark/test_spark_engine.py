"""The spark engine gives the local engine's answers: same report, same rows left out for the
same reasons, the same K-Means partition (ARI >= 0.95 at the same k) on the real tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from realdata import GENRES_11K, TOPHITS, shared_file
from sklearn.metrics import adjusted_rand_score

from soundatlas import BuildConfig, build_atlas, load_atlas
from soundatlas.clustering.result import LABEL_COLUMNS, PERSONA_COLUMNS
from soundatlas.ingest.catalog import LINE_COLUMN, STATUS_COLUMN

pytestmark = pytest.mark.spark

SAME_K = {TOPHITS: 7, GENRES_11K: 6}


@pytest.fixture(scope="module")
def engines(spark, tmp_path_factory):
    """``engines(name)``: the local atlas and the spark-built atlas of a real table, same k."""
    from soundatlas.engines.spark import build_atlas_spark

    built = {}

    def get(name: str):
        if name not in built:
            path = shared_file(name)
            methods = ("kmeans", "dbscan", "hierarchical") if name == TOPHITS else ("kmeans",)
            config = BuildConfig(k=SAME_K[name], methods=methods)
            folder = tmp_path_factory.mktemp("spark") / "atlas"
            build_atlas_spark(path, folder, config)
            built[name] = (build_atlas(path, config), load_atlas(folder))
        return built[name]

    return get


def _line_of_tracks(atlas) -> np.ndarray:
    return atlas.original[LINE_COLUMN].to_numpy()[atlas.tracks["source_row"].to_numpy()]


@pytest.mark.parametrize("name", [TOPHITS, GENRES_11K])
def test_same_report_and_rows_left_out_for_the_same_reasons(engines, name):
    local, spark = engines(name)
    assert spark.report.to_dict() == local.report.to_dict()
    mine = local.original.set_index(LINE_COLUMN)[STATUS_COLUMN]
    theirs = spark.original.set_index(LINE_COLUMN)[STATUS_COLUMN]
    pd.testing.assert_series_equal(theirs.sort_index(), mine.sort_index(), check_dtype=False)
    assert spark.report.rows_merged > 0  # duplicates exist in both real tables


@pytest.mark.parametrize("name", [TOPHITS, GENRES_11K])
def test_same_kmeans_partition_at_the_same_k(engines, name):
    local, spark = engines(name)
    mine = dict(zip(_line_of_tracks(local), local.tracks["cluster"], strict=True))
    theirs = dict(zip(spark.tracks["source_line"], spark.tracks["cluster"], strict=True))
    assert mine.keys() == theirs.keys()
    lines = sorted(mine)
    score = adjusted_rand_score([mine[x] for x in lines], [theirs[x] for x in lines])
    assert score >= 0.95, score


def test_spark_atlas_states_how_it_ran(engines):
    _, spark = engines(TOPHITS)
    engine = spark.manifest["engine"]
    assert engine["name"] == "spark" and engine["master"] == "local[2]"
    assert any("bisecting" in note for note in engine["notes"])
    assert any("DBSCAN fitted on a random sample" in note for note in engine["notes"])
    hierarchical = spark.methods["hierarchical"]
    assert hierarchical.title == "Hierarchical (bisecting K-Means)"
    assert "divisive" in hierarchical.details["variant"]
    assert spark.methods["kmeans"].scores["silhouette_distance"] == "squared euclidean"


def test_spark_atlas_clusters_and_personas_cover_every_song(engines):
    _, spark = engines(TOPHITS)
    assert len(spark.tracks) == spark.report.tracks
    for method in spark.methods:
        personas = spark.personas_of(method).set_index("cluster")["size"].sort_index()
        assert personas.sum() == spark.report.tracks
        counts = spark.tracks.groupby(LABEL_COLUMNS[method]).size().sort_index()
        assert counts.tolist() == personas.tolist()
    sizes = spark.personas_of("kmeans")["size"].to_numpy()
    assert (np.diff(sizes) <= 0).all()  # cluster 0 is the largest, as locally


def test_discovery_works_on_a_spark_atlas(engines):
    from soundatlas.discovery import similar_tracks

    _, spark = engines(TOPHITS)
    found = similar_tracks(spark, spark.tracks["track_id"].iloc[0], n=5)
    assert len(found) == 5
    assert spark.tracks["track_id"].iloc[0] not in set(found["track_id"])


def test_export_streams_every_row_of_the_file(engines, tmp_path):
    from soundatlas.reports.exports import export_atlas

    local, spark = engines(TOPHITS)
    export_atlas(spark, tmp_path / "seed.csv", "seed-csv")
    export_atlas(local, tmp_path / "local.csv", "seed-csv")
    theirs = pd.read_csv(tmp_path / "seed.csv")
    mine = pd.read_csv(tmp_path / "local.csv")
    assert list(theirs.columns) == list(mine.columns)
    assert len(theirs) == len(mine) == local.report.rows_read
    ours = [*LABEL_COLUMNS.values(), *PERSONA_COLUMNS.values()]
    pd.testing.assert_frame_equal(theirs.drop(columns=ours), mine.drop(columns=ours))
    assert theirs["cluster"].notna().all()  # duplicates get their first copy's cluster
    export_atlas(spark, tmp_path / "tracks.parquet", "parquet")
    assert pq.ParquetFile(tmp_path / "tracks.parquet").metadata.num_rows == spark.report.tracks
    export_atlas(spark, tmp_path / "tracks.json", "json")
    assert len(pd.read_json(tmp_path / "tracks.json")) == spark.report.tracks
