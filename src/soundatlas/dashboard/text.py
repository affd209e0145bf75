"""Showing user text (song, artist, genre, file names) safely in Streamlit's Markdown elements.

`st.markdown` and `st.caption` never render raw HTML here (no ``unsafe_allow_html``), but Markdown
itself can still turn text into links, images or styled spans. `plain` backslashes every ASCII
punctuation mark so the text appears exactly as written and nothing in it becomes markup.
"""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def plain(text: object) -> str:
    """``"<img src=x>"`` -> ``"\\<img src\\=x\\>"``: shows literally in Markdown elements."""
    return _PUNCTUATION.sub(r"\\\1", str(text).replace("\n", " "))
