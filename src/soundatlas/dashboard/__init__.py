"""The SoundAtlas dashboard (Streamlit): a thin view over a built atlas.

Run it with ``soundatlas dashboard [ATLAS]``. `app` is the entry script; `state` and `summaries`
hold the filtering and the numbers (plain NumPy, testable without Streamlit); `charts` builds the
Plotly figures; the pages live in `app_pages`.
"""
