"""Built-in demo catalog: synthetic songs that are statistically faithful to real music.

A fresh machine has no catalog to cluster, so SoundAtlas ships a generator. Its songs follow, genre
by genre, the audio-feature distributions of 112 Spotify genres (a Gaussian copula per genre: the
quantiles of each column plus the correlation of their normal scores), and are grouped into
artists whose songs resemble each other, as in a real catalog. The same generator makes the
synthetic scale-ups (95,837 / 1,000,000 / 10,000,000 songs) used by the benchmarks, chunk by chunk
with bounded memory.

The figures come from ``soundatlas/data/demo_genre_stats.json``, built by
``scripts/build_demo_stats.py`` from public Spotify audio-feature tables; it holds derived figures
only (quantiles, correlations, rates), never rows, ids or names of the sources. Every generated
artist is called ``"Demo Artist · ..."`` and every song title ends with ``" (demo)"`` so demo data
cannot be mistaken for real data.

Output follows the seed-schema catalog users start from (:data:`SEED_COLUMNS`).

The package is split by noun: :mod:`~soundatlas.demo.figures` (the per-genre figures),
:mod:`~soundatlas.demo.names` (names, titles, ids), :mod:`~soundatlas.demo.generator` (artists
and songs), :mod:`~soundatlas.demo.writer` (CSV / Parquet files) and
:mod:`~soundatlas.demo.atlas` (the demo atlas the dashboard opens).
"""

from soundatlas.demo.atlas import (
    DEMO_SIZE,
    build_demo_atlas,
    data_home,
    demo_atlas_path,
    ensure_demo_atlas,
)
from soundatlas.demo.generator import generate_catalog, iter_catalog_chunks
from soundatlas.demo.writer import write_catalog
from soundatlas.ingest.schema import SEED_COLUMNS

__all__ = [
    "DEMO_SIZE",
    "SEED_COLUMNS",
    "build_demo_atlas",
    "data_home",
    "demo_atlas_path",
    "ensure_demo_atlas",
    "generate_catalog",
    "iter_catalog_chunks",
    "write_catalog",
]
