"""Ranking search matches: every match at once (array operations) ranks exactly as the
item-by-item pass that stops at a limit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from soundatlas.discovery.textindex import rank_first, rank_matches


@st.composite
def matches(draw):
    size = draw(st.integers(1, 60))
    score = np.asarray(draw(st.lists(st.integers(-1, 5), min_size=size, max_size=size)), float)
    grouped = draw(st.booleans())
    group = (
        np.asarray(draw(st.lists(st.integers(0, 9), min_size=size, max_size=size)))
        if grouped
        else None
    )
    tiers = draw(st.lists(st.lists(st.integers(0, size - 1), max_size=40), min_size=1, max_size=5))
    return [np.asarray(t, dtype=np.int64) for t in tiers], score, group, size


@settings(max_examples=300, deadline=None)
@given(matches())
def test_ranking_every_match_equals_the_limited_pass(case):
    tiers, score, group, size = case
    produce = [lambda t=t: t for t in tiers]
    every, every_tiers = rank_matches(produce, score, group, None)
    limited, limited_tiers = rank_matches(produce, score, group, 10 * size + 100)
    assert every.tolist() == limited.tolist()
    assert every_tiers.tolist() == limited_tiers.tolist()
    keys = every if group is None else group[every]
    assert len(set(keys.tolist())) == len(keys)  # one item per group


@settings(max_examples=300, deadline=None)
@given(matches(), st.integers(1, 30))
def test_a_page_ranked_alone_is_the_start_of_every_match_ranked(case, limit):
    tiers, score, group, _ = case
    every, every_tiers = rank_matches([lambda t=t: t for t in tiers], score, group, None)
    first, first_tiers, total = rank_first(tiers, score, group, limit)
    assert first.tolist() == every[:limit].tolist()
    assert first_tiers.tolist() == every_tiers[:limit].tolist()
    assert total == len(every)


def test_ranking_nothing_matched():
    rows, tiers = rank_matches([lambda: np.zeros(0, dtype=np.int64)], np.zeros(3), None, None)
    assert rows.dtype == np.int64 and tiers.dtype == np.int8
    assert len(rows) == len(tiers) == 0
