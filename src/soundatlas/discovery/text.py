"""Text keys for matching songs and artists the way people type them.

``"Beyoncé"`` and ``"beyonce"``, ``"AC/DC"`` and ``"ac dc"`` must meet, so every name is folded
to a key: accents removed (NFKD, combining marks dropped), lowercase, every run of punctuation
or spaces turned into one space. A *compact* key also drops the spaces, so ``"acdc"`` equals
(or starts) ``"AC/DC"`` and ``"camron"`` equals ``"Cam’ron"``.

The same folding exists twice: `normalise_text` for one query (plain Python) and
`normalise_array` for a whole catalog column (vectorised in Arrow). Tests keep them equal.

Catalogs list one recording under several titles: ``"Hello - Remastered 2011"``,
``"Hello (Mono)"``, ``"Hello - Radio Edit"``. `recording_titles` removes those release
qualifiers (the grammar of `RELEASE_QUALIFIERS`) so the releases of one recording share a title
key; what makes a different recording (live, remix, acoustic, a "feat." credit) is never removed.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

from soundatlas.discovery.arrowconvert import text_scalar

_NOT_WORD = re.compile(r"[\W_]+")

MATCH_TIERS: tuple[str, ...] = ("exact", "prefix", "word prefix", "substring")
"""How a key matched a query, best first; the tier decides the order of search results."""


def normalise_text(text: object) -> str:
    """Fold text to its matching key: no accents, lowercase, punctuation as single spaces.

    Examples
    --------
    >>> normalise_text("Beyoncé")
    'beyonce'
    >>> normalise_text("AC/DC")
    'ac dc'
    """
    text = str(text)
    if text.isascii():  # no accents to remove: NFKD leaves ASCII as it is (half the time)
        return " ".join(_NOT_WORD.sub(" ", text.lower()).split())
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(_NOT_WORD.sub(" ", bare.lower()).split())


_YEAR = r"(?:19|20)\d\d"
_QUOTED = r"[\"“”][^\"“”]*[\"“”]"
RELEASE_QUALIFIERS: tuple[str, ...] = (
    r"(?:digital(?:ly)? )?re-?master(?:ed|ing)?(?: (?:digital )?edition)?",
    r"(?:digital(?:ly)? )?re-?master(?:ed)? version(?: [^/()\[\]]+)?",
    r"(?:(?:us|uk) )?album version",
    r"(?:single|radio|lp|video|short|original|main|mono|stereo|soundtrack) version",
    r"(?:(?:original )?radio|single|video|short|album) edit",
    r"edit(?:ed)?",
    r"mono|stereo|(?:mono|stereo) mix",
    r"original(?: mix)?",
    r"main",
    r"explicit|clean|super ?clean|dirty|amended|censored|uncensored",
    r"deluxe|(?:deluxe|expanded|special|(?:\d+(?:st|nd|rd|th) )?anniversary) edition",
    r"bonus(?: track)?",
    r"(?:original )?(?:soundtrack|score)",
    rf"from (?:the )?{_QUOTED}(?:[ /]*(?:original )?(?:soundtrack|score)(?: version)?)?",
    r"from (?:the )?[^()\[\]/\"“”-][^()\[\]/]*",
)
"""Qualifiers that name a release of a recording, not a different recording: the words of the
grammar below (regular expressions, case-insensitive, each matching a whole qualifier).

The grammar: a qualifier follows the title after a spaced dash (``"Hello - Radio Edit"``, also
doubled: ``"Hello - - Remaster"``) or stands in parentheses or brackets (``"Hello (2015
Remaster)"``). It is one of these words, each optionally preceded by a year (``"2006 Digital
Remaster"``, ``"1964 Single Version"``, ``"2019 - Remaster"``) or followed by one
(``"Remastered 2011"``), and several combine with a space, a slash, a comma or a spaced dash
between them (``"Main Explicit"``, ``"1964 Single Version / Mono"``, ``"Remastered /
Single Version"``). After a dash, words that are not qualifiers may come first and the
qualifiers after a slash (``"Song - Pt. 1 / Remastered 2002"`` is ``"Song - Pt. 1"``).

The words: remasters (``"Remastered"``, ``"Re-master"``, ``"Digital Remaster"``,
``"Remastered Version"`` with a year or an album name after it); the cut of a release (album,
US/UK album, single, radio, LP, video, short, original, main, mono, stereo and soundtrack
versions; radio, single, video, short and album edits; ``"Edit"``, ``"Edited"``); ``"Mono"``,
``"Stereo"`` and mono or stereo mixes; ``"Original"`` and ``"Original Mix"`` (the un-remixed
recording); explicit and clean releases (``"Explicit"``, ``"Clean"``, ``"Dirty"``,
``"Amended"``, ``"Censored"``); editions (``"Deluxe"``, ``"Deluxe Edition"``, ``"20th
Anniversary Edition"``); ``"Bonus Track"``; ``"Soundtrack"`` and ``"Score"``; and a film the
song was released with, quoted or not (``'From "Moulin Rouge" Soundtrack'``, ``"From
Frozen"``, ``"From The Netflix Film “To All The Boys”"``).

Never removed, because they name a different recording: live recordings (``"Live"``,
``"Live at …"``, ``"Ao Vivo"``), remixes and named mixes or edits (``"Remix"``, ``"Club Mix"``,
``"Radio Mix"``, ``"2019 Mix"``, ``"Robin Schulz Radio Edit"``), ``"Extended"`` versions,
covers, ``"Acoustic"``, ``"Instrumental"``, ``"Demo"``, ``"Karaoke"``, re-recordings, language
versions (``"Spanish Version"``) and credits (``"feat. X"``, ``"with X"``).
"""

_WORD = "(?:{0} (?:- )?)?(?:{1})(?: {0})?".format(_YEAR, "|".join(RELEASE_QUALIFIERS))
_QUALIFIER = rf"{_WORD}(?:(?: ?/ ?| | - |, )(?:{_WORD}))*"
_BRACKETED_QUALIFIER = rf"(?i)\s*[(\[]\s*{_QUALIFIER}\s*[)\]]"
_DASHED_QUALIFIERS = rf"(?i)(?:\s+(?:[-–—]\s*)+{_QUALIFIER})+[\s\p{{P}}]*$"
_AFTER_A_SLASH = rf"(?i)(\s+[-–—]\s+[^/]+?)\s*/\s*{_QUALIFIER}[\s\p{{P}}]*$"
GENERIC_TITLES = r"(?:intro|outro|interlude|untitled|skit|reprise|track|untitled track)(?: \d+)?"
"""Title keys (`normalise_text`) too generic to say two songs of one artist are one recording
("Intro", "Skit", "Track 1"): such songs are one recording only when their audio is the same."""


_EMPTY = text_scalar("")
"""``""`` for the compute functions (see `soundatlas.discovery.arrowconvert`)."""


def recording_titles(names: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Titles without their release qualifiers (see `RELEASE_QUALIFIERS`), otherwise as given.

    A qualifier in parentheses or brackets is removed wherever it stands; dashed qualifiers
    only at the end of the title, where a suffix stands, and qualifiers after a slash at the
    end of a dashed suffix. Nulls become ``""``.

    Examples
    --------
    >>> recording_titles(pa.array(["Hello - Remastered 2011", "Hello - Live"])).to_pylist()
    ['Hello', 'Hello - Live']
    """
    titles = pc.fill_null(names.cast(pa.large_string()), _EMPTY)
    titles = pc.replace_substring_regex(titles, _BRACKETED_QUALIFIER, "")
    titles = pc.replace_substring_regex(titles, _DASHED_QUALIFIERS, "")
    titles = pc.replace_substring_regex(titles, _AFTER_A_SLASH, r"\1")
    return titles.combine_chunks() if isinstance(titles, pa.ChunkedArray) else titles


def compact(key: str) -> str:
    """A key without its spaces (``"ac dc"`` -> ``"acdc"``)."""
    return key.replace(" ", "")


def normalise_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`normalise_text` over a whole string column at Arrow speed (nulls become ``""``)."""
    folded = pc.utf8_normalize(pc.fill_null(values.cast(pa.large_string()), _EMPTY), "NFKD")
    folded = pc.replace_substring_regex(folded, r"\p{Mn}+", "")
    folded = pc.utf8_lower(folded)
    folded = pc.replace_substring_regex(folded, r"[^\p{L}\p{N}]+", " ")
    folded = pc.utf8_trim_whitespace(folded)
    return folded.combine_chunks() if isinstance(folded, pa.ChunkedArray) else folded


def name_keys(names: pa.Array) -> pa.Array:
    """`normalise_array`, except that a name that is all punctuation ("!!!") keeps its
    lowercase self as its key, so it can still be told from other names."""
    keys = normalise_array(names)
    fallback = pc.utf8_lower(
        pc.utf8_trim_whitespace(pc.fill_null(names.cast(pa.large_string()), _EMPTY))
    )
    return pc.if_else(pc.equal(keys, _EMPTY), fallback, keys)


def name_key(name: str | None) -> str:
    """`name_keys` of one name, in plain Python: for the few names of one lookup, where the
    Arrow functions' fixed cost (compiling their regular expressions, about a millisecond a
    call) is most of the work."""
    if name is None:
        return ""
    key = normalise_text(name)
    if key:
        return key
    return str(name_keys(pa.array([name], type=pa.large_string()))[0].as_py())


FOLDED_ONE_BY_ONE = 800
"""Most names `folded_names` folds one by one in Python (`name_key`, about 5 µs a name); more
are folded as one Arrow column (`name_keys`: 3.5 ms and more, most of it compiling its
regular expressions). Measured on the 10,000,000-song atlas's names."""


def folded_names(names: pa.Array) -> pa.Array:
    """`name_keys` of ``names`` (a missing name the key ``""``), by whichever way is cheaper
    for their number (`FOLDED_ONE_BY_ONE`)."""
    if len(names) <= FOLDED_ONE_BY_ONE:
        return pa.array([name_key(n) for n in names.to_pylist()], pa.large_string())
    return pc.fill_null(name_keys(names), _EMPTY)


def compact_array(keys: pa.Array) -> pa.Array:
    """`compact` over a column of keys."""
    return pc.replace_substring(keys, " ", "")


NAME_IDS_KEPT = 16_384
"""Names whose `name_id` a process keeps (a few megabytes at most)."""
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 22
_BASE62_PAIRS = tuple(a + b for a in _BASE62 for b in _BASE62)


def derived_id(key: str) -> str:
    """A stable 22-character base-62 id for a normalised name (128 bits of its SHA-256).

    Examples
    --------
    >>> derived_id("beyonce") == derived_id("beyonce")
    True
    >>> len(derived_id("beyonce"))
    22
    """
    number = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:16], "big")
    pairs = []  # two base-62 digits at a time: half the divisions of a 128-bit number
    for _ in range(ID_LENGTH // 2):
        number, pair = divmod(number, 62 * 62)
        pairs.append(_BASE62_PAIRS[pair])
    return "".join(reversed(pairs))


@functools.lru_cache(maxsize=NAME_IDS_KEPT)
def name_id(name: str) -> str:
    """The id of an artist (or any name) as it is spelled anywhere: `derived_id` of its
    normalised key, so "Beyoncé" and "beyonce" get one id. Remembered for the last
    `NAME_IDS_KEPT` names: a search page's tracks and artists name the same artists, and
    popular artists come back request after request (about 60 µs a name otherwise)."""
    return derived_id(normalise_text(name))
