"""The feature matrix and its scaling.

Audio features live on very different scales (tempo in BPM, loudness in dB, the rest in 0-1), so
they are scaled before any distance is measured. The scaler is two plain arrays, stored in the
atlas as such and applied the same way to songs added later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from soundatlas.config import SCALINGS
from soundatlas.errors import ConfigError


@dataclass(frozen=True)
class Scaler:
    """``(x - center) / scale`` per feature: standard, robust (median/IQR) or min-max scaling."""

    features: tuple[str, ...]
    kind: str
    center: np.ndarray
    scale: np.ndarray

    def transform(self, tracks: pd.DataFrame) -> np.ndarray:
        """Scaled feature matrix (float64, one row per track) of a track table."""
        return (feature_matrix(tracks, self.features) - self.center) / self.scale


def feature_matrix(tracks: pd.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    """The raw feature values as a C-contiguous float64 matrix."""
    return np.ascontiguousarray(tracks.loc[:, list(features)].to_numpy(dtype=np.float64))


def fit_scaler(tracks: pd.DataFrame, features: tuple[str, ...], kind: str = "standard") -> Scaler:
    """Fit a scaler to the tracks' features.

    A feature that does not vary (zero spread) keeps a scale of 1, so it adds nothing to
    distances instead of dividing by zero.
    """
    if kind not in SCALINGS:
        raise ConfigError(f"scaling '{kind}' is not known; use one of {', '.join(SCALINGS)}.")
    values = feature_matrix(tracks, features)
    stats = {"mean": values.mean(axis=0), "std": values.std(axis=0)}
    if kind == "robust":
        stats["q1"], stats["median"], stats["q3"] = np.percentile(values, [25, 50, 75], axis=0)
    stats["low"], stats["high"] = values.min(axis=0), values.max(axis=0)
    return scaler_from(features, kind, stats)


def scaler_from(features: tuple[str, ...], kind: str, stats: dict[str, np.ndarray]) -> Scaler:
    """The scaler of ``kind`` from per-feature statistics (``mean``, ``std`` with ddof 0,
    ``low``, ``high`` and, for robust scaling, the quartiles ``q1``, ``median``, ``q3``),
    however they were computed."""
    if kind == "standard":
        center, scale = stats["mean"], stats["std"]
    elif kind == "robust":
        q1, median, q3, spread = stats["q1"], stats["median"], stats["q3"], stats["std"]
        # Mostly-zero features (instrumentalness, speechiness) have an IQR near 0; dividing by it
        # would blow their rare large values up, so they fall back to the standard deviation.
        center, scale = median, np.where(q3 - q1 > 0.1 * spread, q3 - q1, spread)
    else:
        center, scale = stats["low"], stats["high"] - stats["low"]
    scale = np.where(scale > 1e-12, scale, 1.0)
    return Scaler(
        tuple(features),
        kind,
        np.asarray(center, dtype=np.float64),
        np.asarray(scale, dtype=np.float64),
    )
