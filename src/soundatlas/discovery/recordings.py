"""Which rows of a catalog are releases of one recording.

Catalogs list a recording once per album, compilation, remaster, radio edit or mono release,
and discovery should answer with the recording once. Two rows are releases of one recording
when they credit the same primary artist (the first one listed, by normalised name) and either

- their titles are equal once release qualifiers are removed ("Hello - Remastered 2011",
  "Hello (Mono)", "Hello"; see `soundatlas.discovery.text.RELEASE_QUALIFIERS`), or
- every audio feature is equal to within rounding: ``|a - b| <= 0.0005 + 2**-23 * max(|a|, |b|)``
  in the feature's own unit, which is how far a value printed to three decimals, or stored as
  float32, can sit from the same value in full. Such rows hold the same audio under different
  titles ("Taki Taki (with Selena Gomez …)" and "Taki Taki (feat. Selena Gomez …)").

The relation is made transitive: if A and B share a title and B and C their sound, A, B and C
are one recording. Two exceptions: a generic title ("Intro", "Interlude", "Untitled", "Outro",
"Skit", "Track 1"; `soundatlas.discovery.text.GENERIC_TITLES`) says nothing, so two such songs
by one artist are one recording only when their audio is the same; and in a catalog without
artists, rows with the same title (without qualifiers) and the same audio are one recording,
while the same title alone joins nothing (two "Intro"s by unknown artists are not one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from soundatlas.discovery.text import GENERIC_TITLES, name_keys, recording_titles
from soundatlas.ingest.schema import AUDIO_FEATURES

TOLERANCE = 5e-4
"""Absolute part of "equal to within rounding": half the last digit of three decimals."""
RELATIVE = 2.0**-23
"""Relative part: the rounding of a float32 (covers large values such as tempo in BPM)."""


def same_recording(first: tuple[str, str, np.ndarray], second: tuple[str, str, np.ndarray]) -> bool:
    """The rule of this module for two songs given as ``(primary artist key, title key without
    release qualifiers, audio features)``: the same primary artist, and the same title or
    audio features equal to within rounding. `recording_groups` applies it to a whole catalog
    at once; this form serves lookups in catalogs too big to group in memory."""
    if first[0] != second[0]:
        return False
    if first[1] == second[1]:
        return True
    a, b = first[2], second[2]
    limit = TOLERANCE + RELATIVE * np.maximum(np.abs(a), np.abs(b))
    return bool(len(a) and np.all(np.abs(a - b) <= limit))


def sounds_like_any(sound: np.ndarray, others: list[np.ndarray]) -> bool:
    """Whether ``sound`` (audio features) equals any of ``others`` within rounding, as
    `same_recording` compares two songs' features, all in one array operation (a search
    checks a thousand songs, each against the songs of its artist seen before it)."""
    if not len(sound) or not others:
        return False
    stacked = np.asarray(others)
    limit = TOLERANCE + RELATIVE * np.maximum(np.abs(sound), np.abs(stacked))
    return bool(np.all(np.abs(stacked - sound) <= limit, axis=1).any())


def first_recordings(artists: np.ndarray, titles: list[str], sounds: np.ndarray) -> np.ndarray:
    """Which songs, given in order as primary artist codes, title keys without release
    qualifiers and audio features (one row each), are the first of their recording
    (`same_recording`) among them: each is checked against the songs of its artist kept
    before it."""
    kept = np.zeros(len(titles), dtype=bool)
    seen: dict[int, tuple[set[str], list[np.ndarray]]] = {}
    for i, (artist, title) in enumerate(zip(artists.tolist(), titles, strict=True)):
        kept_titles, kept_sounds = seen.setdefault(artist, (set(), []))
        if title not in kept_titles and not sounds_like_any(sounds[i], kept_sounds):
            kept_titles.add(title)
            kept_sounds.append(sounds[i])
            kept[i] = True
    return kept


def recording_title_codes(names: pa.Array, title_keys: pa.Array) -> np.ndarray:
    """A code per title, equal for titles equal once release qualifiers are removed.

    ``title_keys`` are the titles' keys as `soundatlas.discovery.text.name_keys` folds them;
    only titles that carry a qualifier are folded again.
    """
    stripped = recording_titles(names)
    changed = pc.not_equal(stripped, names.cast(pa.large_string()))
    keys = name_keys(pc.filter(stripped, changed))
    # A title that is nothing but a qualifier ("(Bonus Track)") keeps its whole key.
    keys = pc.if_else(pc.equal(keys, ""), pc.filter(title_keys, changed), keys)
    titles = pc.replace_with_mask(title_keys.cast(pa.large_string()), changed, keys)
    codes = pc.dictionary_encode(titles).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    # "Intro", "Skit", "Track 1": the title says nothing, so each gets a code of its own and
    # only the same-sound rule can join them.
    generic = pc.match_substring_regex(titles, f"^(?:{GENERIC_TITLES})$").to_numpy(
        zero_copy_only=False
    )
    codes[generic] = codes.max(initial=-1) + 1 + np.arange(int(generic.sum()))
    return codes


def recording_sound(tracks: pd.DataFrame) -> np.ndarray:
    """The values the same-sound rule compares: every audio feature the table has (not only
    those clustered on: popularity or duration may differ between releases of one
    recording), as float64."""
    return tracks[[f for f in AUDIO_FEATURES if f in tracks]].to_numpy(dtype=np.float64)


def recording_groups(primary: np.ndarray, titles: np.ndarray, sound: np.ndarray) -> np.ndarray:
    """The recording of every row, numbered 0, 1, … in the order of each one's first row.

    Parameters
    ----------
    primary
        Code of each row's primary artist; negative when the row has none.
    titles
        Code of each row's title without release qualifiers (equal codes, equal titles).
    sound
        Audio features, one row per song (float64); NaN is equal to nothing.

    Notes
    -----
    Two rows that sound the same have feature sums at most a known window apart, so rows are
    sorted by primary artist, then by their sum in buckets as wide as that window, and each row
    is compared only with the rows after it in its own and the next bucket (NumPy passes, one
    per distance in that order), never with every song of its artist.
    """
    size = len(primary)
    known = np.flatnonzero(primary >= 0)
    combined = titles[known].astype(np.int64) * (int(primary.max(initial=0)) + 1) + primary[known]
    codes, uniques = pd.factorize(combined)
    first = np.full(len(uniques), size, dtype=np.int64)
    np.minimum.at(first, codes, known)
    parent = np.arange(size, dtype=np.int64)
    parent[known] = first[codes]
    # Who may share a sound: the same primary artist or, for rows without one, the same title
    # (a catalog without artists still lists one recording twice under one title).
    group = np.asarray(primary, dtype=np.int64).copy()
    unknown = group < 0
    group[unknown] = int(primary.max(initial=-1)) + 1 + np.asarray(titles)[unknown]
    sound = np.ascontiguousarray(sound, dtype=np.float64)
    total = sound.sum(axis=1)
    measured = np.flatnonzero(np.isfinite(total))
    joined = np.zeros((0, 2), dtype=np.int64)
    if len(measured):
        largest = float(np.abs(sound).sum(axis=1)[measured].max())
        window = sound.shape[1] * TOLERANCE * 1.001 + 4 * RELATIVE * largest
        bucket = ((total[measured] - total[measured].min()) // window).astype(np.int64)
        order = np.lexsort((bucket, group[measured]))
        joined = _same_sound_pairs(measured[order], group[measured][order], bucket[order], sound)
    return pd.factorize(_smallest_row(parent, joined))[0].astype(np.int64)


def _same_sound_pairs(
    rows: np.ndarray, artist: np.ndarray, bucket: np.ndarray, sound: np.ndarray
) -> np.ndarray:
    """Every two of ``rows`` with the same artist, buckets at most one apart and every
    feature equal within tolerance, as (a, b) row pairs. ``rows`` are sorted by artist, then
    bucket; ``artist`` and ``bucket`` are the rows', in the same order.

    Each row is compared with the rows after it at distance 1, 2, … while they share its
    artist and lie in its bucket or the next; NumPy does one distance for every row at once
    (runs are a few rows long), so no compiled code is needed to answer a query.
    """
    pairs = []
    first = np.arange(len(rows) - 1)
    distance = 1
    while len(first):
        second = first + distance
        near = second < len(rows)
        first, second = first[near], second[near]
        near = (artist[second] == artist[first]) & (bucket[second] <= bucket[first] + 1)
        first, second = first[near], second[near]
        a, b = sound[rows[first]], sound[rows[second]]
        within = np.abs(a - b) <= TOLERANCE + RELATIVE * np.maximum(np.abs(a), np.abs(b))
        same = within.all(axis=1)
        pairs.append(np.column_stack([rows[first[same]], rows[second[same]]]))
        distance += 1
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)


def _smallest_row(parent: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """The smallest row of each row's group, once the groups ``parent`` links (each row to
    the first row of its title group) are joined along ``pairs``: every link lowers both ends
    to the smaller label, and each label jumps to its label's label, until nothing changes."""
    rows = np.arange(len(parent))
    ends = np.concatenate([rows, pairs[:, 0]]), np.concatenate([parent, pairs[:, 1]])
    group = parent.copy()
    while True:
        before = group
        low = np.minimum(group[ends[0]], group[ends[1]])
        group = group.copy()
        np.minimum.at(group, ends[0], low)
        np.minimum.at(group, ends[1], low)
        group = group[group]
        if np.array_equal(group, before):
            return group
