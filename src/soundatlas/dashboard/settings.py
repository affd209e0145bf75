"""Settings shared by the dashboard and the command that starts it (no Streamlit import here)."""

from __future__ import annotations

ATLAS_ENV = "SOUNDATLAS_DASHBOARD_ATLAS"
"""Environment variable holding the atlas folder the dashboard opens first."""
UPLOAD_LIMIT_MB = 200
"""Largest catalog file a user can upload from the dashboard, in megabytes."""
UPLOAD_TYPES: tuple[str, ...] = ("csv", "tsv", "txt", "parquet", "json", "jsonl", "gz")
"""File names the upload box offers; the content is what decides how a file is read."""

STREAMLIT_OPTIONS: dict[str, str] = {
    "server.headless": "true",
    "server.maxUploadSize": str(UPLOAD_LIMIT_MB),
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "runner.magicEnabled": "false",
    "runner.postScriptGC": "false",
    "browser.gatherUsageStats": "false",
    "client.showErrorDetails": "none",
    "client.toolbarMode": "minimal",
    "theme.base": "light",
    "theme.primaryColor": "#4c72b0",
}
"""Options passed to ``streamlit run``: no tracebacks shown to users, the upload limit, no
usage statistics. ``.streamlit/config.toml`` beside the app holds the same for a manual run.

No full garbage collection after every script run (Streamlit's default): with a 95,837-song
atlas loaded it walks about 400,000 objects, 0.14 s of CPU holding the GIL on every page of every
visitor, most of the server's time per page (`benchmarks/load.py`). Python's own generational
collector still frees cycles."""
