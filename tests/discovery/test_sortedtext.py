"""Sorted lookups and row taking over a table of many record batches, against plain Python."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from soundatlas.discovery.sortedtext import SortedStrings, take_rows


def _batched(values: list[str], size: int) -> pa.Table:
    return pa.Table.from_batches(
        [
            pa.record_batch({"text": pa.array(values[i : i + size])})
            for i in range(0, len(values), size)
        ]
    )


def test_sorted_strings_find_exact_values_and_prefixes() -> None:
    rng = np.random.default_rng(0)
    words = ["love", "lovely", "lover", "loves", "low", "ab", "ä", "", "zz", "love"]
    values = [str(w) for w in rng.choice(words, size=600)]
    table = _batched(values, 64)  # several batches, like the directory's
    lookup = SortedStrings(table["text"])
    for word in [*words, "missing", "lo"]:
        row = lookup.row_of(word)
        assert row == (values.index(word) if word in values else None)
        expected = sorted(i for i, v in enumerate(values) if v.startswith(word))
        assert sorted(lookup.rows_starting(word).tolist()) == expected


def test_take_rows_keeps_the_order_asked_across_batches() -> None:
    table = _batched([f"song {i}" for i in range(1000)], 128)
    rows = np.array([999, 0, 500, 127, 128, 500])
    taken = take_rows(table, rows, ["text"])
    assert taken.column_names == ["text"]
    assert taken["text"].to_pylist() == [f"song {i}" for i in rows]
    assert take_rows(table, np.zeros(0, dtype=np.int64)).num_rows == 0
