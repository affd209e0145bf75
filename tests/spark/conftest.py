"""A Spark session in local[2] mode shared by the spark-engine tests (one JVM for the run)."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest
from required import skip_unless_required


def require_spark() -> None:
    """Skip when PySpark or Java is missing; fail instead when CI requires Spark."""
    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("PySpark (pip install 'soundatlas[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing.append("Java 17 (apt-get install openjdk-17-jre-headless)")
    if not missing:
        return
    reason = f"spark engine tests need {' and '.join(missing)}"
    skip_unless_required("SOUNDATLAS_REQUIRE_SPARK", reason)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):
    """The active Spark session every `build_atlas_spark` call in the tests reuses."""
    require_spark()
    os.environ.setdefault("SOUNDATLAS_HOME", str(tmp_path_factory.getbasetemp() / "home"))
    from soundatlas.engines.spark.session import spark_session

    with spark_session("local[2]") as session:
        yield session


@pytest.fixture(scope="session")
def sampled_atlas(spark, tmp_path_factory):
    """The tophits atlas built as if its 1,769 songs were too many to load (limit: 500)."""
    from realdata import TOPHITS, shared_file
    from typer.testing import CliRunner

    import soundatlas.engines.spark.build as spark_build
    from soundatlas.cli import app

    folder = tmp_path_factory.mktemp("sampled") / "atlas"
    arguments = ["build", str(shared_file(TOPHITS)), "-o", str(folder), "--engine", "spark"]
    arguments += ["--k", "4", "--methods", "kmeans,dbscan", "--quiet"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spark_build, "IN_MEMORY_SONGS", 500)
        result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    return folder
