"""Find names by exact text, prefix, word prefix or substring without scanning every name.

Scanning 100k titles for a substring takes tens of milliseconds; search must answer in a few.
So each list of names gets:

- the names sorted, so the ones equal to or starting with the query are one binary search away
  (also without spaces, so ``"acdc"`` meets ``"ac dc"``);
- its vocabulary (every distinct word, sorted) and, for each word, the names that use it. A word
  prefix is then a range of the vocabulary, and a substring is a scan of the vocabulary alone,
  which is far smaller than the names. Multi-word queries are checked against the few names
  those words point to.

Everything is held in Arrow and NumPy arrays (no Python string per name), built once per atlas
and saved with it (`parts` / ``from_parts``), so a query process maps them instead of sorting.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from soundatlas.discovery.arrowconvert import to_arrow, to_numpy
from soundatlas.discovery.text import compact, compact_array

Parts = dict[str, "np.ndarray | pa.Array"]
"""Named arrays an index is made of: NumPy for numbers, Arrow for text."""


class Strings:
    """A read-only sequence of strings kept as one Python string and offsets.

    Binary search needs cheap random access; one string per name would cost ~60 bytes each,
    an Arrow scalar per access is slow. Slicing one string is both cheap and compact.
    """

    def __init__(self, values: pa.Array) -> None:
        lengths = to_numpy(pc.utf8_length(values)).astype(np.int64)
        self._ends = np.cumsum(lengths)
        self._starts = self._ends - lengths
        self._text = "".join(values.to_pylist())

    def parts(self, prefix: str) -> Parts:
        """The arrays this is made of, named under ``prefix`` (see `from_parts`)."""
        return {
            f"{prefix}.text": pa.array([self._text], type=pa.large_string()),
            f"{prefix}.ends": self._ends,
        }

    @classmethod
    def from_parts(cls, parts: Parts, prefix: str) -> Self:
        """The strings saved by `parts`, without joining them again."""
        strings = cls.__new__(cls)
        strings._text = parts[f"{prefix}.text"][0].as_py()
        strings._ends = np.asarray(parts[f"{prefix}.ends"], dtype=np.int64)
        strings._starts = np.concatenate([[0], strings._ends[:-1]]).astype(np.int64)
        return strings

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, position: int) -> str:
        return self._text[self._starts[position] : self._ends[position]]


class SortedNames:
    """Strings in sorted order, each with the item it names; exact and prefix lookups."""

    def __init__(self, names: pa.Array, items: np.ndarray | None = None) -> None:
        order = pc.sort_indices(names).to_numpy()
        self._names = Strings(pc.take(names, pa.array(order)))
        items = np.arange(len(names), dtype=np.int64) if items is None else items
        self._items = np.asarray(items, dtype=np.int64)[order]

    def parts(self, prefix: str) -> Parts:
        """The arrays this is made of, named under ``prefix`` (see `from_parts`)."""
        return self._names.parts(f"{prefix}.names") | {f"{prefix}.items": self._items}

    @classmethod
    def from_parts(cls, parts: Parts, prefix: str) -> Self:
        """The sorted names saved by `parts`."""
        names = cls.__new__(cls)
        names._names = Strings.from_parts(parts, f"{prefix}.names")
        names._items = parts[f"{prefix}.items"]
        return names

    def items(self, query: str, *, prefix: bool = False) -> np.ndarray:
        """Items whose name equals (or starts with) ``query``."""
        low, high = _span(self._names, query, prefix=prefix)
        return self._items[low:high]


class TextIndex:
    """Exact, prefix, word-prefix and substring lookups over one normalised key per item.

    Parameters
    ----------
    keys
        Normalised keys (see `soundatlas.discovery.text.normalise_text`), one per item.
    """

    def __init__(self, keys: pa.Array) -> None:
        keys = keys.cast(pa.large_string())
        self.keys = keys
        self.exact = SortedNames(keys)
        self.compact = SortedNames(compact_array(keys))
        words = pc.split_pattern(keys, " ")
        lengths = pc.list_value_length(words).to_numpy(zero_copy_only=False).astype(np.int64)
        owners = np.repeat(np.arange(len(keys), dtype=np.int64), lengths)
        flat = pc.list_flatten(words)
        used = pc.greater(pc.utf8_length(flat), 0).to_numpy(zero_copy_only=False)
        encoded = pc.dictionary_encode(pc.filter(flat, pa.array(used)))
        owners = owners[used]
        vocabulary = encoded.dictionary
        order = pc.sort_indices(vocabulary).to_numpy()
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        self.vocabulary = pc.take(vocabulary, pa.array(order)).cast(pa.large_string())
        self._sorted_vocabulary = Strings(self.vocabulary)
        word = rank[encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)]
        pairs = sorted_unique(word * max(len(keys), 1) + owners)
        word, owners = pairs // max(len(keys), 1), pairs % max(len(keys), 1)
        self._postings = owners.astype(np.int32 if len(keys) < 2**31 else np.int64)
        counts = np.bincount(word, minlength=len(order))
        self._starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def parts(self, prefix: str) -> Parts:
        """The arrays this is made of, named under ``prefix`` (see `from_parts`); the keys
        themselves are the caller's, saved once."""
        return {
            **self.exact.parts(f"{prefix}.exact"),
            **self.compact.parts(f"{prefix}.compact"),
            f"{prefix}.vocabulary": self.vocabulary,
            f"{prefix}.postings": self._postings,
            f"{prefix}.starts": self._starts,
        }

    @classmethod
    def from_parts(cls, keys: pa.Array, parts: Parts, prefix: str) -> Self:
        """The index of ``keys`` saved by `parts`."""
        index = cls.__new__(cls)
        index.keys = keys.cast(pa.large_string())
        index.exact = SortedNames.from_parts(parts, f"{prefix}.exact")
        index.compact = SortedNames.from_parts(parts, f"{prefix}.compact")
        index.vocabulary = parts[f"{prefix}.vocabulary"].cast(pa.large_string())
        index._sorted_vocabulary = Strings(index.vocabulary)
        index._postings = parts[f"{prefix}.postings"]
        index._starts = parts[f"{prefix}.starts"]
        return index

    # ---------------------------------------------------------------------------- tiers

    def equal(self, query: str) -> np.ndarray:
        """Items whose key is ``query``, with or without spaces."""
        return np.concatenate([self.exact.items(query), self.compact.items(compact(query))])

    def starting(self, query: str) -> np.ndarray:
        """Items whose key starts with ``query`` (spaces optional)."""
        return np.concatenate(
            [
                self.exact.items(query, prefix=True),
                self.compact.items(compact(query), prefix=True),
            ]
        )

    def word_starting(self, query: str) -> np.ndarray:
        """Items where ``query`` starts at the beginning of a word (the first word included)."""
        words = query.split(" ")
        if len(words) == 1:
            low, high = _span(self._sorted_vocabulary, query, prefix=True)
            return self._posted(np.arange(low, high))
        # Every word but the last is whole: the names using the rarest of them are the only
        # candidates.
        found = self._rarest(words[:-1])
        return self._verify(found, " " + query, pad=True)

    def containing(self, query: str) -> np.ndarray:
        """Items whose key contains ``query`` anywhere."""
        words = query.split(" ")
        if len(words) == 1:
            hit = pc.match_substring(self.vocabulary, query)
            return self._posted(np.flatnonzero(_flags(hit)))
        if len(words) > 2:
            found = self._rarest(words[1:-1])
        else:
            hit = pc.ends_with(self.vocabulary, words[0])
            found = sorted_unique(self._posted(np.flatnonzero(_flags(hit))))
        return self._verify(found, query, pad=False)

    def _rarest(self, words: list[str]) -> np.ndarray:
        """Items using the least used of ``words`` (each a whole word); none if one is unknown."""
        best = None
        for word in words:
            low, high = _span(self._sorted_vocabulary, word, prefix=False)
            if low == high:
                return np.zeros(0, dtype=np.int64)
            size = self._starts[low + 1] - self._starts[low]
            if best is None or size < best[1]:
                best = (low, size)
        return self._posted(np.array([best[0]]))

    def _posted(self, words: np.ndarray) -> np.ndarray:
        """Items using any of the vocabulary ``words`` (may repeat)."""
        if len(words) == 0:
            return np.zeros(0, dtype=np.int64)
        starts, stops = self._starts[words], self._starts[words + 1]
        if len(words) == 1:
            return self._postings[starts[0] : stops[0]].astype(np.int64)
        return np.concatenate(
            [self._postings[a:b] for a, b in zip(starts, stops, strict=True)]
        ).astype(np.int64)

    def _verify(self, items: np.ndarray, text: str, *, pad: bool) -> np.ndarray:
        """The ``items`` (unique) whose key contains ``text`` (`` key`` when ``pad``)."""
        if len(items) == 0:
            return items
        keys = pc.take(self.keys, to_arrow(np.asarray(items, dtype=np.int64)))
        found = pc.match_substring(keys, text)
        if pad:  # " " + key contains text, which starts with a space
            found = pc.or_(found, pc.starts_with(keys, text[1:]))
        return items[_flags(found)]


def _span(names: Strings, query: str, *, prefix: bool) -> tuple[int, int]:
    """Positions ``[low, high)`` of the sorted ``names`` equal to (or starting with) ``query``."""
    low = bisect_left(names, query)
    if prefix:
        size = len(query)
        return low, bisect_right(names, query, lo=low, key=lambda name: name[:size])
    return low, bisect_right(names, query, lo=low)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers by sort and compare (several times faster on large arrays)."""
    values = np.sort(values)
    if len(values) < 2:
        return values
    return values[np.concatenate([[True], values[1:] != values[:-1]])]


def _flags(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow mask as NumPy, a missing value as False."""
    return np.nan_to_num(to_numpy(mask), nan=0.0).astype(bool)


def rank_matches(
    tiers: list,
    score: np.ndarray,
    group: np.ndarray | None,
    limit: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The best ``limit`` items over tiers of matches, tier first, then ``score`` (high first),
    then item; one item per ``group`` (releases of a recording), each item at its best tier.

    Parameters
    ----------
    tiers
        Callables returning the items of each tier (may repeat items of earlier tiers). Later
        tiers are only computed while fewer than ``limit`` items are found.
    score
        Ranking score of every item (popularity).
    group
        Items sharing a group count once (None: every item is its own group).
    limit
        How many items; None for all.
    """
    if limit is None:
        return _rank_all([produce() for produce in tiers], score, group)
    picked: list[int] = []
    picked_tiers: list[int] = []
    seen: set[int] = set()
    for tier, produce in enumerate(tiers):
        need = None if limit is None else limit - len(picked)
        if need is not None and need <= 0:
            break
        items = produce()
        if len(items) == 0:
            continue
        ordered = _best_first(items, score, need)
        taken = _first_new(ordered, group, seen, need)
        if need is not None and len(taken) < need and len(ordered) < len(items):
            # Copies or earlier tiers used up the partitioned top: order them all after all.
            seen.difference_update(_group(group, i) for i in taken)
            taken = _first_new(_best_first(items, score, None), group, seen, need)
        picked.extend(taken)
        picked_tiers.extend([tier] * len(taken))
    return np.asarray(picked, dtype=np.int64), np.asarray(picked_tiers, dtype=np.int8)


def rank_first(
    tiers: list[np.ndarray], score: np.ndarray, group: np.ndarray | None, limit: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """The first ``limit`` items (None: all) `rank_matches` ranks over the items of every
    tier (items, their tiers) and how many it ranks in all (one per ``group``): a page of
    results and their total without ranking every match (a common word matches tens of
    thousands of songs)."""
    items, item_tiers = rank_matches([lambda t=t: t for t in tiers], score, group, limit)
    return items, item_tiers, len(items) if limit is None else count_groups(tiers, group)


def count_groups(tiers: list[np.ndarray], group: np.ndarray | None) -> int:
    """How many distinct groups (items when ``group`` is None) the ``tiers`` hold: the
    number of matches `rank_matches` ranks with no limit."""
    every = [t for t in tiers if len(t)]
    if not every:
        return 0
    matched = np.concatenate(every)
    keys = matched if group is None else group[matched]
    size = int(keys.max()) + 1
    if len(keys) <= size // 64:  # a few matches: sorting them is cheaper than marking
        return len(np.unique(keys))
    seen = np.zeros(size, dtype=bool)
    seen[keys] = True
    return int(np.count_nonzero(seen))


def _rank_all(
    tiers: list[np.ndarray], score: np.ndarray, group: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Every item of ``tiers`` ranked as `rank_matches` ranks them, in array operations: the
    first occurrence of each group in (tier, score high first, item) order. A common word
    matches thousands of songs, which an item-by-item pass took milliseconds to walk."""
    if not sum(len(items) for items in tiers):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8)
    # Each item once, at its best tier (the tiers of a search overlap: a title starting with
    # a word also has the word and contains it), before any sorting: the later tiers are
    # written first and the earlier ones over them.
    size = 1 + max(int(np.max(t)) for t in tiers if len(t))
    best = np.full(size, len(tiers), dtype=np.int8)
    for tier in range(len(tiers) - 1, -1, -1):
        best[np.asarray(tiers[tier], dtype=np.int64)] = tier
    items = np.flatnonzero(best < len(tiers))  # ascending: the sort below keeps that order
    tier_of = best[items]
    order = np.lexsort((-score[items], tier_of))
    items, tier_of = items[order], tier_of[order]
    keys = items if group is None else group[items]
    _, first = np.unique(keys, return_index=True)
    first.sort()
    return items[first], tier_of[first]


def _best_first(items: np.ndarray, score: np.ndarray, need: int | None) -> np.ndarray:
    """``items`` by score then item; only about the best ``need`` (room for repeats) when many."""
    if need is not None:
        room = 4 * need + 64
        if len(items) > room:
            values = score[items]
            cut = np.partition(values, len(values) - room)[len(values) - room]
            items = items[values >= cut]
    return items[np.lexsort((items, -score[items]))]


def _group(group: np.ndarray | None, item: int) -> int:
    return item if group is None else int(group[item])


def _first_new(
    ordered: np.ndarray, group: np.ndarray | None, seen: set[int], need: int | None
) -> list[int]:
    taken: list[int] = []
    for item in ordered.tolist():
        key = _group(group, item)
        if key in seen:
            continue
        seen.add(key)
        taken.append(item)
        if need is not None and len(taken) == need:
            break
    return taken
