"""Text keys for matching songs and artists the way people type them.

``"Beyoncé"`` and ``"beyonce"``, ``"AC/DC"`` and ``"ac dc"`` must meet, so every name is folded
to a key: accents removed (NFKD, combining marks dropped), lowercase, every run of punctuation
or spaces turned into one space. A *compact* key also drops the spaces, so ``"acdc"`` equals
(or starts) ``"AC/DC"`` and ``"camron"`` equals ``"Cam’ron"``.

The same folding exists twice: `normalise_text` for one query (plain Python) and
`normalise_array` for a whole catalog column (vectorised in Arrow). Tests keep them equal.
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


def compact_array(keys: pa.Array) -> pa.Array:
    """`compact` over a column of keys."""
    return pc.replace_substring(keys, " ", "")
