"""Build options, in one frozen value that is stored with every atlas."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from soundatlas.errors import ConfigError
from soundatlas.ingest.columns import NUMERIC_COLUMNS
from soundatlas.ingest.schema import AUDIO_FEATURES, CANONICAL_COLUMNS

METHODS: tuple[str, ...] = ("kmeans", "dbscan", "hierarchical")
SCALINGS: tuple[str, ...] = ("standard", "robust", "minmax")
DENSITY_ALGORITHMS: tuple[str, ...] = ("dbscan", "hdbscan")
EXACT_LIMIT = 200_000
"""Largest catalog clustered with exact Ward (about 4 minutes on one core at this size)."""
EXPORT_FORMATS: tuple[str, ...] = ("seed-csv", "csv", "parquet", "json")
PLAYLIST_ORDERS: tuple[str, ...] = ("score", "smooth", "rising", "falling")
# The names above are defined here, with nothing heavy imported, so that the command line can
# show them in its help without loading the clustering libraries (`soundatlas --help`).


@dataclass(frozen=True)
class BuildConfig:
    """How to build an atlas. Every field has a sensible default; see ``soundatlas build --help``.

    Attributes
    ----------
    features
        Numeric columns to cluster on (the nine audio features by default; ``popularity``,
        ``duration_ms``, ``key``, ``mode`` and ``time_signature`` may be added).
    scaling
        ``"standard"`` (z-scores), ``"robust"`` (median/IQR) or ``"minmax"``.
    methods
        Which of ``kmeans``, ``dbscan``, ``hierarchical`` to run.
    k
        Number of clusters for K-Means and hierarchical; None chooses it from ``k_range``.
    density_algorithm
        ``"dbscan"`` or ``"hdbscan"`` for the density-based method.
    eps, min_samples
        DBSCAN parameters; None chooses them (eps from the k-distance knee, min_samples from
        the number of features).
    exact_ward_limit
        Largest catalog clustered with exact Ward; above it the two-stage method runs.
    silhouette_sample
        Songs in the random sample silhouettes are computed on (exact below this size).
    stability_resamples
        Bootstrap refits used to measure K-Means stability.
    columns
        ``{canonical: original}`` column names the aliases do not recognise.
    random_state
        Seed for every random step: the same seed and data give the same atlas.
    """

    features: tuple[str, ...] = AUDIO_FEATURES
    scaling: str = "standard"
    methods: tuple[str, ...] = METHODS
    k: int | None = None
    k_range: tuple[int, int] = (2, 12)
    density_algorithm: str = "dbscan"
    eps: float | None = None
    min_samples: int | None = None
    exact_ward_limit: int = EXACT_LIMIT
    silhouette_sample: int = 10_000
    stability_resamples: int = 5
    columns: dict[str, str] = field(default_factory=dict)
    random_state: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "methods", tuple(self.methods))
        object.__setattr__(self, "k_range", tuple(self.k_range))
        object.__setattr__(self, "columns", dict(self.columns))
        self._check()

    def _check(self) -> None:
        unknown = [f for f in self.features if f not in NUMERIC_COLUMNS]
        if unknown or not self.features:
            raise ConfigError(
                f"features {', '.join(unknown) or '(none)'}: not clusterable; choose from "
                f"{', '.join(NUMERIC_COLUMNS)}."
            )
        if len(set(self.features)) != len(self.features):
            raise ConfigError(f"features: each feature once, got {', '.join(self.features)}.")
        if self.scaling not in SCALINGS:
            raise ConfigError(f"scaling '{self.scaling}': use one of {', '.join(SCALINGS)}.")
        bad = [m for m in self.methods if m not in METHODS]
        if len(set(self.methods)) != len(self.methods):
            raise ConfigError(f"methods {', '.join(self.methods)}: name each method once.")
        if bad or not self.methods:
            raise ConfigError(
                f"methods {', '.join(bad) or '(none)'}: use some of {', '.join(METHODS)}."
            )
        if self.k is not None and not 2 <= self.k <= 200:
            raise ConfigError(f"k={self.k}: must be between 2 and 200 (or auto).")
        low, high = self.k_range
        if not 2 <= low <= high <= 200:
            raise ConfigError(f"k range {low}-{high}: must satisfy 2 <= low <= high <= 200.")
        if self.density_algorithm not in DENSITY_ALGORITHMS:
            raise ConfigError(
                f"density algorithm '{self.density_algorithm}': use one of "
                f"{', '.join(DENSITY_ALGORITHMS)}."
            )
        if self.eps is not None and not 0 < self.eps < float("inf"):
            raise ConfigError(f"eps={self.eps}: must be a number above 0.")
        if self.min_samples is not None and self.min_samples < 2:
            raise ConfigError(f"min_samples={self.min_samples}: must be at least 2.")
        if self.silhouette_sample < 100:
            raise ConfigError(f"silhouette sample {self.silhouette_sample}: must be at least 100.")
        for canonical in self.columns:
            if canonical not in CANONICAL_COLUMNS:
                raise ConfigError(
                    f"--column {canonical}=…: '{canonical}' is not a SoundAtlas column; use one of "
                    f"{', '.join(CANONICAL_COLUMNS)}."
                )

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        data = asdict(self)
        data["features"] = list(self.features)
        data["methods"] = list(self.methods)
        data["k_range"] = list(self.k_range)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> BuildConfig:
        """Inverse of `to_dict` (unknown keys from other versions are ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
