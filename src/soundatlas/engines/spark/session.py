"""A Spark session that keeps the JVM quiet and turns Spark's failures into one-line errors.

The JVM and the Python workers it starts write their logs to a file under
``$SOUNDATLAS_HOME/logs`` (never to the user's terminal); an error names that file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from soundatlas.demo.atlas import data_home
from soundatlas.errors import ConfigError, EngineError, SoundAtlasError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOCAL_MASTER = "local[2]"
DRIVER_MEMORY = "6g"
"""Heap of the JVM in local mode (driver and executors share it): enough for 10M songs."""
_PANDAS_WARNING = "PySpark does not yet fully support pandas"
_LOG_KEY = "soundatlas.log"


def check_master(master: str) -> str:
    """The master URL, checked for the forms Spark accepts, so a typo fails before a JVM starts."""
    text = master.strip()
    forms = ("local", "local[", "spark://", "yarn", "k8s://", "mesos://")
    if not text or not text.startswith(forms):
        raise ConfigError(
            f"--master {master!r}: use local[N], spark://HOST:PORT, yarn or k8s://URL."
        )
    return text


@contextlib.contextmanager
def spark_session(
    master: str = LOCAL_MASTER, *, app_name: str = "soundatlas"
) -> Iterator[SparkSession]:
    """Start a Spark session for one build and stop it afterwards; a session already active
    in this process (a notebook's, or a test suite's) is used as it is and left running.

    Raises
    ------
    EngineError
        PySpark or Java is missing, or Spark cannot start; the message says what to install
        or where the log is.
    """
    master = check_master(master)
    _require_pyspark()
    from pyspark.sql import SparkSession

    with warnings.catch_warnings():
        _quiet_python_warnings()
        active = SparkSession.getActiveSession()
        if active is not None:
            yield active
            return
        _require_java()
        log = _log_file()
        with spark_errors(log):
            session = _start(master, app_name, log)
        try:
            yield session
        finally:
            with contextlib.suppress(Exception):
                session.stop()


def _quiet_python_warnings() -> None:
    """PySpark 4 warns about pandas 3 (which it handles for what the engine uses) and pandas 3
    about arguments PySpark still passes: nothing a user can act on, so not on their terminal."""
    warnings.filterwarnings("ignore", message=_PANDAS_WARNING)
    warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
    warnings.filterwarnings("ignore", module=r"pyspark(\.|$)")


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise EngineError(
            "--engine spark needs PySpark: install it with pip install 'soundatlas[spark]'."
        ) from None


def _require_java() -> None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return
    if shutil.which("java") is None:
        raise EngineError(
            "--engine spark needs Java 17 or newer, and none was found (no java on PATH, no "
            "JAVA_HOME). Install it (apt-get install openjdk-17-jre-headless) and try again."
        )


def _log_file() -> Path:
    folder = data_home() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"spark-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


def _start(master: str, app_name: str, log: Path) -> SparkSession:
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "20000")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=warn")
    )
    if master.startswith("local"):
        # Workers run this very Python, so they import the same SoundAtlas and libraries; on a
        # cluster PYSPARK_PYTHON names the executors' Python (see the README).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = (
            builder.config(
                "spark.driver.memory", os.environ.get("SOUNDATLAS_SPARK_MEMORY", DRIVER_MEMORY)
            )
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.local.dir", str(data_home() / "spark-tmp"))
        )
    with _output_to(log):
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    session.conf.set(_LOG_KEY, str(log))
    return session


def log_of(session: SparkSession) -> Path | None:
    """The file the session's JVM writes its log to (None for a session started elsewhere)."""
    value = session.conf.get(_LOG_KEY, None)
    return Path(value) if value else None


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``log`` while the JVM starts: it inherits them, so its
    output (and its Python workers') goes to the log for the whole session."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for descriptor in (*saved, target):
            os.close(descriptor)


@contextlib.contextmanager
def spark_errors(log: Path | None = None) -> Iterator[None]:
    """Turn a Spark or Py4J failure into one `EngineError` line; our own errors pass through.

    A SoundAtlas error raised inside a Python worker reaches the driver wrapped in a Java
    exception: its message is found in the text and raised again as the original class.
    """
    try:
        yield
    except SoundAtlasError:
        raise
    except Exception as exc:
        if not _is_spark_failure(exc):
            raise
        raise translate(exc, log) from None


def _is_spark_failure(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith(("pyspark", "py4j")) or isinstance(exc, ConnectionError)


def translate(exc: BaseException, log: Path | None) -> SoundAtlasError:
    """The SoundAtlas error a Spark failure stands for."""
    from soundatlas import errors

    text = str(exc)
    for name in ("CatalogError", "ConfigError", "AtlasError", "OutputError"):
        marker = f"soundatlas.errors.{name}: "
        if marker in text:
            message = text.split(marker, 1)[1].split("\n", 1)[0].strip()
            return getattr(errors, name)(message)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    where = f" Details are in {log}." if log is not None else ""
    return EngineError(f"Spark failed: {first[:300]}{where}")
