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

import numba
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from soundatlas.discovery.text import GENERIC_TITLES, name_keys, recording_titles
from soundatlas.schema import AUDIO_FEATURES

TOLERANCE = 5e-4
"""Absolute part of "equal to within rounding": half the last digit of three decimals."""
RELATIVE = 2.0**-23
"""Relative part: the rounding of a float32 (covers large values such as tempo in BPM)."""


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
    is compared only with the rows after it in its own and the next bucket (a compiled pass,
    milliseconds at a million songs), never with every song of its artist.
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
    if len(measured):
        largest = float(np.abs(sound).sum(axis=1)[measured].max())
        window = sound.shape[1] * TOLERANCE * 1.001 + 4 * RELATIVE * largest
        bucket = ((total[measured] - total[measured].min()) // window).astype(np.int64)
        order = np.lexsort((bucket, group[measured]))
        _join_same_sound(measured[order], group[measured][order], bucket[order], sound, parent)
    return pd.factorize(_roots(parent))[0].astype(np.int64)


@numba.njit(cache=True, nogil=True)
def _root(parent: np.ndarray, row: int) -> int:
    while parent[row] != row:
        parent[row] = parent[parent[row]]
        row = parent[row]
    return row


@numba.njit(cache=True, nogil=True)
def _roots(parent: np.ndarray) -> np.ndarray:
    roots = np.empty(len(parent), dtype=np.int64)
    for row in range(len(parent)):
        roots[row] = _root(parent, row)
    return roots


@numba.njit(cache=True, nogil=True)
def _join_same_sound(
    rows: np.ndarray, artist: np.ndarray, bucket: np.ndarray, sound: np.ndarray, parent: np.ndarray
) -> None:
    """Join every two of ``rows`` with the same artist, buckets at most one apart and every
    feature equal within tolerance. ``rows`` are sorted by artist, then bucket; ``artist``
    and ``bucket`` are the rows', in the same order."""
    features = sound.shape[1]
    for p in range(len(rows)):
        a = rows[p]
        for q in range(p + 1, len(rows)):
            if artist[q] != artist[p] or bucket[q] > bucket[p] + 1:
                break
            b = rows[q]
            same = True
            for f in range(features):
                x, y = sound[a, f], sound[b, f]
                if abs(x - y) > TOLERANCE + RELATIVE * max(abs(x), abs(y)):
                    same = False
                    break
            if same:
                ra, rb = _root(parent, a), _root(parent, b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
