"""One script run's filtered view of an atlas (the filters themselves live in
`soundatlas.discovery.filters`; the sidebar turns widgets and the URL into a `Filters` value)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from soundatlas.atlas.model import Atlas
from soundatlas.clustering.result import PERSONA_COLUMNS
from soundatlas.discovery.filters import FilterIndex, Filters


@dataclass(frozen=True)
class View:
    """One script run's filtered view of an atlas: what every page draws from."""

    atlas: Atlas
    index: FilterIndex
    filters: Filters
    mask: np.ndarray
    source: str = ""
    """Id of the atlas choice it was loaded from (see `soundatlas.dashboard.catalogs`)."""

    @cached_property
    def rows(self) -> np.ndarray:
        """Positions of the filtered songs."""
        return np.flatnonzero(self.mask)

    @property
    def count(self) -> int:
        """Songs passing the filters."""
        return len(self.rows)

    @property
    def total(self) -> int:
        """Songs in the atlas."""
        return self.index.n

    @property
    def method(self) -> str:
        """The clustering method chosen in the sidebar."""
        return self.filters.method

    @property
    def labels(self) -> np.ndarray:
        """Cluster of every song (all songs, not only the filtered ones) for the method."""
        return self.index.labels[self.method]

    @property
    def persona_column(self) -> str:
        """Persona column of the method in the track table."""
        return PERSONA_COLUMNS[self.method]
