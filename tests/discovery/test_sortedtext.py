"""Sorted lookups and row taking over a table of many record batches, against plain Python."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from soundatlas.discovery.sortedtext import SLICED_ROWS, SortedStrings, take_rows


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


def test_few_rows_and_many_rows_are_taken_alike() -> None:
    """Up to `SLICED_ROWS` rows are sliced, more taken: both as ``Table.take`` gives them,
    list columns and repeated, unordered rows included."""
    rng = np.random.default_rng(2)
    values = [f"t{i}" for i in range(5_000)]
    table = pa.Table.from_batches(
        [
            pa.record_batch(
                {
                    "text": pa.array(values[i : i + 97]),
                    "lists": pa.array([[v, v] for v in values[i : i + 97]]),
                }
            )
            for i in range(0, len(values), 97)
        ]
    )
    for count in (1, 7, SLICED_ROWS, SLICED_ROWS + 1, 2_000):
        rows = rng.integers(0, len(values), count)
        expected = table.take(pa.array(rows)).combine_chunks()
        assert take_rows(table, rows).equals(expected)
        assert take_rows(table, rows, ["lists"]).equals(expected.select(["lists"]))
