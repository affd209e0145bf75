"""PCA coordinates of every song, for maps of the catalog."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

COMPONENTS = 3


@dataclass(frozen=True)
class Projection:
    """A fitted PCA: its axes, how much variance each explains, and how features load on them."""

    features: tuple[str, ...]
    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        """Coordinates of scaled feature rows on the principal axes."""
        return (np.asarray(scaled) - self.mean) @ self.components.T

    def loadings(self) -> pd.DataFrame:
        """Feature × component weights (which features each axis is made of)."""
        columns = [f"pc{i + 1}" for i in range(len(self.components))]
        return pd.DataFrame(self.components.T, index=list(self.features), columns=columns)

    def axis_label(self, axis: int) -> str:
        """``"PC1 (31% · energy, acousticness)"``: an axis with its variance and top features."""
        weights = pd.Series(np.abs(self.components[axis]), index=list(self.features))
        top = ", ".join(weights.sort_values(ascending=False).index[:2])
        return f"PC{axis + 1} ({self.explained_variance_ratio[axis]:.0%} · {top})"


def fit_projection(
    scaled: np.ndarray, features: tuple[str, ...], *, random_state: int = 0
) -> Projection:
    """Fit PCA on every song's scaled features (up to three components)."""
    from sklearn.decomposition import PCA  # here: loading an atlas needs no scikit-learn

    count = min(COMPONENTS, scaled.shape[1], len(scaled))
    pca = PCA(n_components=count, random_state=random_state).fit(scaled)
    return Projection(
        tuple(features),
        pca.mean_.copy(),
        pca.components_.copy(),
        pca.explained_variance_ratio_.copy(),
    )
