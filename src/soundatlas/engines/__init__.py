"""Engines that run the build past one machine, through the same public functions as the local
build. Today: Apache Spark (`soundatlas.engines.spark`)."""
