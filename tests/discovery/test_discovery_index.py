"""The shared per-atlas index and the exact top-k search under it."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
import pytest

from soundatlas.atlas.build import build_atlas
from soundatlas.config import BuildConfig
from soundatlas.discovery import index as index_module
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.nearest import top_cosine, unit_rows
from soundatlas.ingest.catalog import load_catalog
from soundatlas.ingest.schema import UNIT_FEATURES


def small_atlas(seed: int):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "track_id": [f"s{seed}-{i}" for i in range(40)],
            "name": [f"Song {i}" for i in range(40)],
            "artists": [f"Band {i % 7}" for i in range(40)],
            **{feature: rng.uniform(0, 1, 40) for feature in UNIT_FEATURES},
            "loudness": rng.uniform(-20, -3, 40),
            "tempo": rng.uniform(70, 170, 40),
        }
    )
    return build_atlas(load_catalog(frame), BuildConfig(methods=("kmeans",), k=3))


def test_one_index_per_atlas_reused_and_released() -> None:
    first, second = small_atlas(1), small_atlas(2)
    index = discovery_index(first)
    assert discovery_index(first) is index
    assert discovery_index(second) is not index
    key, gone = id(first), weakref.ref(first)
    del first, index
    gc.collect()
    assert gone() is None, "nothing else holds the atlas (else the test proves nothing)"
    assert key not in index_module._INDEXES


def test_top_cosine_equals_brute_force_with_filters() -> None:
    rng = np.random.default_rng(0)
    unit = unit_rows(rng.normal(size=(5_000, 9)))
    labels = rng.integers(0, 4, 5_000).astype(np.int32)
    for trial in range(20):
        query = unit[trial]
        banned = rng.choice(5_000, size=50, replace=False)
        wanted = np.array([trial % 4], dtype=np.int32)
        rows, scores = top_cosine(unit, query, 15, labels=labels, wanted=wanted, banned=banned)
        allowed = (labels == wanted[0]) & ~np.isin(np.arange(5_000), banned)
        brute = unit @ query
        expected = np.flatnonzero(allowed)[np.argsort(-brute[allowed], kind="stable")][:15]
        assert rows.tolist() == expected.tolist()
        assert scores == pytest.approx(brute[expected], abs=1e-6)


def test_top_cosine_with_only_banned_rows_equals_the_masked_search() -> None:
    """Banned rows alone take a shorter path (scored -inf); it must give what the same rows
    left out by a mask give, ties included, and hand over when k reaches the banned rows."""
    rng = np.random.default_rng(1)
    rounded = np.round(rng.normal(size=(3_000, 4)), 1)  # many songs share a direction
    unit = unit_rows(np.vstack([rounded, rounded[:500]]))  # and exact duplicates (ties)
    size = len(unit)
    for trial, k in enumerate([1, 10, 40, 200, size - 60, size - 50, size]):
        banned = rng.choice(size, size=50, replace=False)
        query = unit[trial]
        allowed = ~np.isin(np.arange(size), banned)
        rows, scores = top_cosine(unit, query, k, banned=np.concatenate([banned, banned[:3]]))
        masked_rows, masked_scores = top_cosine(unit, query, k, allowed=allowed)
        assert rows.tolist() == masked_rows.tolist()
        assert scores.tolist() == masked_scores.tolist()
        assert not set(rows.tolist()) & set(banned.tolist())
        assert len(rows) == min(k, size - 50)


def test_top_cosine_keeps_ties_in_row_order() -> None:
    unit = unit_rows(np.array([[1.0, 0.0]] * 6 + [[0.0, 1.0]]))
    rows, _ = top_cosine(unit, np.array([1.0, 0.0], dtype=np.float32), 3)
    assert sorted(rows.tolist()) == rows.tolist() and set(rows) <= set(range(6))
    rows, _ = top_cosine(unit, np.array([1.0, 0.0], dtype=np.float32), 0)
    assert len(rows) == 0
