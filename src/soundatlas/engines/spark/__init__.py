"""The spark engine: the same atlas built on Apache Spark, for catalogs past one machine.

`build_atlas_spark` reads CSV or Parquet (a file, or a folder or glob of parts), applies the
local engine's validation rules in Spark, clusters every song with Spark MLlib and writes the
atlas folder that `soundatlas.load_atlas`, the CLI and the dashboard read. PySpark and Java are
needed only here: nothing outside this package imports PySpark.
"""

from soundatlas.engines.spark.build import build_atlas_spark
from soundatlas.engines.spark.session import LOCAL_MASTER

__all__ = ["LOCAL_MASTER", "build_atlas_spark"]
