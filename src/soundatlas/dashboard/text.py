"""Showing user text (song, artist, genre, file names) safely in Streamlit's Markdown elements.

`st.markdown`, `st.caption`, `st.error` and the other alerts never render raw HTML here (no
``unsafe_allow_html``), but Markdown itself can still turn text into links, images, styled spans
or icons. `plain` backslashes every ASCII punctuation mark so the text appears exactly as written
and nothing in it becomes markup; `plain_lines` does the same but keeps the line breaks (for
error messages, which may span lines).
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_PATH = re.compile(r"(?<![\w.:/])(?:~|\.{1,2})?(?:/[^\s/'\"`]+)+/([^\s/'\"`]+)")


def plain(text: object) -> str:
    """``"<img src=x>"`` -> ``"\\<img src\\=x\\>"``: shows literally in Markdown elements."""
    return _PUNCTUATION.sub(r"\\\1", str(text).replace("\r", " ").replace("\n", " "))


def plain_lines(text: object) -> str:
    """`plain` line by line, joined with Markdown hard line breaks, so a message keeps its
    lines and none of its text becomes markup."""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "  \n".join(plain(line) for line in lines)


def without_folders(text: object) -> str:
    """``"/srv/uploads/ab12/hits.csv: line 3"`` -> ``"hits.csv: line 3"``: a message shown to
    visitors names files, never the folders they sit in on the server."""
    return _PATH.sub(r"\1", str(text))
