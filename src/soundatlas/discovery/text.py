"""Text keys for matching songs and artists the way people type them.

``"Beyoncé"`` and ``"beyonce"``, ``"AC/DC"`` and ``"ac dc"`` must meet, so every name is folded
to a key: accents removed (NFKD, combining marks dropped), lowercase, every run of punctuation
or spaces turned into one space. A *compact* key also drops the spaces, so ``"acdc"`` equals
(or starts) ``"AC/DC"`` and ``"camron"`` equals ``"Cam’ron"``.

The same folding exists twice: `normalise_text` for one query (plain Python) and
`normalise_array` for a whole catalog column (vectorised in Arrow). Tests keep them equal.

Catalogs list one recording under several titles: ``"Hello - Remastered 2011"``,
``"Hello (Mono)"``, ``"Hello - Radio Edit"``. `recording_titles` removes those release
qualifiers (`RELEASE_QUALIFIERS`) so the releases of one recording share a title key; what
makes a different recording (live, remix, acoustic, a "feat." credit) is never removed.
"""

from __future__ import annotations

import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

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
    decomposed = unicodedata.normalize("NFKD", str(text))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(_NOT_WORD.sub(" ", bare.lower()).split())


RELEASE_QUALIFIERS: tuple[str, ...] = (
    r"(?:(?:19|20)\d\d(?: -)? )?(?:digitally )?remaster(?:ed)?(?: (?:19|20)\d\d)?"
    r"(?: version| edition)?",
    r"(?:(?:us|uk) )?album version",
    r"(?:single|radio|lp|video|short|original|main|mono|stereo) version",
    r"(?:(?:original )?radio|single|video|short) edit",
    r"edit(?:ed)?",
    r"mono|stereo|(?:mono|stereo) mix",
    r"original(?: mix)?",
    r"main",
    r"explicit|clean|super ?clean|dirty|amended|censored|uncensored",
    r"deluxe|(?:deluxe|expanded|special|(?:\d+(?:st|nd|rd|th) )?anniversary) edition",
    r"bonus(?: track)?",
    r"from (?:the )?[\"“”][^\"“”]*[\"“”](?:[ /]*(?:original )?(?:soundtrack|score)(?: version)?)?",
)
"""Qualifiers that name a release of a recording, not a different recording (regular
expressions, case-insensitive, each matching a whole qualifier).

A qualifier follows the title after a spaced dash (``"Hello - Radio Edit"``) or stands in
parentheses or brackets (``"Hello (2015 Remaster)"``); several may combine, with spaces or a
slash between them (``"Main Explicit"``, ``"Edited Album Version"``, ``"Remastered / Mono"``).
They are: remasters (``"Remastered"``, ``"2011 Remaster"``, ``"Remastered 2011"``,
``"2019 - Remaster"``); the cut of a release (album, US/UK album, single, radio, LP, video,
short, original, main, mono and stereo versions; radio, single, video and short edits;
``"Edit"``, ``"Edited"``); ``"Mono"``, ``"Stereo"`` and mono or stereo mixes; ``"Original"``
and ``"Original Mix"`` (the un-remixed recording); explicit and clean releases (``"Explicit"``,
``"Clean"``, ``"Dirty"``, ``"Amended"``, ``"Censored"``); editions (``"Deluxe"``,
``"Deluxe Edition"``, ``"20th Anniversary Edition"``); ``"Bonus Track"``; and a film the song
was released with (``'From "Moulin Rouge" Soundtrack'``).

Never removed, because they name a different recording: live recordings (``"Live"``,
``"Live at …"``), remixes and named mixes or edits (``"Remix"``, ``"Club Mix"``,
``"Radio Mix"``, ``"2019 Mix"``, ``"Robin Schulz Radio Edit"``), ``"Extended"`` versions,
covers, ``"Acoustic"``, ``"Instrumental"``, ``"Demo"``, ``"Karaoke"``, re-recordings, language
versions (``"Spanish Version"``) and credits (``"feat. X"``, ``"with X"``).
"""

_QUALIFIER = "(?:{0})(?:(?: ?/ ?| )(?:{0}))*".format("|".join(RELEASE_QUALIFIERS))
_BRACKETED_QUALIFIER = rf"(?i)\s*[(\[]\s*{_QUALIFIER}\s*[)\]]"
_DASHED_QUALIFIERS = rf"(?i)(?:\s+[-–—]\s+{_QUALIFIER})+[\s\p{{P}}]*$"


def recording_titles(names: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Titles without their release qualifiers (see `RELEASE_QUALIFIERS`), otherwise as given.

    A qualifier in parentheses or brackets is removed wherever it stands; dashed qualifiers
    only at the end of the title, where a suffix stands. Nulls become ``""``.

    Examples
    --------
    >>> recording_titles(pa.array(["Hello - Remastered 2011", "Hello - Live"])).to_pylist()
    ['Hello', 'Hello - Live']
    """
    titles = pc.fill_null(names.cast(pa.large_string()), "")
    titles = pc.replace_substring_regex(titles, _BRACKETED_QUALIFIER, "")
    titles = pc.replace_substring_regex(titles, _DASHED_QUALIFIERS, "")
    return titles.combine_chunks() if isinstance(titles, pa.ChunkedArray) else titles


def compact(key: str) -> str:
    """A key without its spaces (``"ac dc"`` -> ``"acdc"``)."""
    return key.replace(" ", "")


def normalise_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`normalise_text` over a whole string column at Arrow speed (nulls become ``""``)."""
    folded = pc.utf8_normalize(pc.fill_null(values.cast(pa.large_string()), ""), "NFKD")
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
        pc.utf8_trim_whitespace(pc.fill_null(names.cast(pa.large_string()), ""))
    )
    return pc.if_else(pc.equal(keys, ""), fallback, keys)


def compact_array(keys: pa.Array) -> pa.Array:
    """`compact` over a column of keys."""
    return pc.replace_substring(keys, " ", "")
