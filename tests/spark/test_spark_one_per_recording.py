"""`SongDirectory.one_per_recording` (reads and compares only songs whose primary artist
repeats among the rows) keeps exactly the songs the rule of `same_recording` keeps when every
song is compared with every earlier kept one."""

from __future__ import annotations

import numpy as np
import pytest

from soundatlas import load_atlas
from soundatlas.discovery.recordings import first_recordings, same_recording
from soundatlas.discovery.wholecatalog import song_directory

pytestmark = pytest.mark.spark


def _kept_by_the_rule(directory, rows: np.ndarray) -> list[int]:
    """The first of ``rows`` of each recording, each song compared with every kept one."""
    kept: list[tuple[int, tuple]] = []
    for row, recording in zip(rows.tolist(), directory.recordings(rows), strict=True):
        if not any(same_recording(recording, other) for _, other in kept):
            kept.append((row, recording))
    return [row for row, _ in kept]


def test_one_per_recording_keeps_what_the_rule_keeps(sampled_atlas):
    directory = song_directory(load_atlas(sampled_atlas))
    every = np.arange(directory.size, dtype=np.int64)
    rng = np.random.default_rng(0)
    orders = [every, every[::-1], *(rng.permutation(every) for _ in range(3))]
    orders += [rng.choice(every, 40, replace=False), every[:1], every[:0]]
    orders += [np.concatenate(directory.title_matches(key)) for key in ("a", "love", "the")]
    for rows in orders:
        assert directory.one_per_recording(rows).tolist() == _kept_by_the_rule(directory, rows)
    # The catalog holds songs released more than once, so the check compares something.
    assert len(directory.one_per_recording(every)) < directory.size


def test_a_song_sounding_like_a_kept_one_of_its_artist_is_dropped():
    sounds = np.array([[0.5, 120.0], [0.5, 120.0], [0.5, 120.0], [0.7, 90.0]])
    artists = np.array([3, 3, 4, 3])
    titles = ["song", "song live", "song", "song"]
    # The second sounds like the first (same artist); the third is another artist's; the
    # fourth repeats the first's title.
    assert first_recordings(artists, titles, sounds).tolist() == [True, False, True, False]
