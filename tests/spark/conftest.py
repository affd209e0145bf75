"""A Spark session in local[2] mode shared by the spark-engine tests (one JVM for the run)."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest


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
    if os.environ.get("SOUNDATLAS_REQUIRE_SPARK"):
        pytest.fail(reason + " but SOUNDATLAS_REQUIRE_SPARK is set (CI must not skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):
    """The active Spark session every `build_atlas_spark` call in the tests reuses."""
    require_spark()
    os.environ.setdefault("SOUNDATLAS_HOME", str(tmp_path_factory.getbasetemp() / "home"))
    from soundatlas.engines.spark.session import spark_session

    with spark_session("local[2]") as session:
        yield session
