"""Open a catalog: upload (validated by content, report shown, built once per content), pick an
atlas, and clear states for a missing or damaged atlas."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from dashboard.hostile import APP
from realdata import TOPHITS, shared_file

pytestmark = pytest.mark.realdata


def _upload_bytes() -> bytes:
    frame = pd.read_csv(shared_file(TOPHITS), dtype=str, keep_default_na=False).head(400)
    return frame.to_csv(index=False).encode()


def test_upload_validates_builds_and_reuses_the_atlas(app, text_of):
    at = app("open_catalog")
    data = _upload_bytes()
    at.file_uploader(key="open_upload").upload("my hits.csv", data, "text/csv").run()
    assert not at.exception
    assert "400 rows read from my hits.csv" in text_of(at)
    at.button(key="open_build").click().run(timeout=240)
    assert not at.exception
    assert at.query_params["atlas"].startswith("upload-")
    at.switch_page("app_pages/overview.py").run()
    assert 300 < int(at.metric[0].value.replace(",", "")) <= 400
    assert "my hits.csv" in text_of(at).replace("\\", "")
    assert at.query_params["atlas"].startswith("upload-")

    again = app("open_catalog")
    again.file_uploader(key="open_upload").upload("renamed.txt", data, "text/plain").run()
    assert "built before" in text_of(again)
    again.button(key="open_cached").click().run()
    assert not again.exception


def test_binary_file_with_a_csv_name_is_refused_with_the_core_message(app, text_of):
    at = app("open_catalog")
    junk = bytes(range(256)) * 64
    at.file_uploader(key="open_upload").upload("tracks.csv", junk, "text/csv").run()
    assert not at.exception
    assert at.error, "the core's CatalogError must be shown"
    assert "Fix the file and upload it again" in text_of(at)


def test_missing_atlas_shows_the_reason_and_a_way_out(monkeypatch, tmp_path, text_of):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SOUNDATLAS_DASHBOARD_ATLAS", str(tmp_path / "nowhere"))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "no atlas here" in at.error[0].value
    assert "Open a catalog" in [t.value for t in at.title]
    assert at.button(key="open_demo_build") or at.button(key="open_demo")


def test_damaged_atlas_is_reported_not_a_traceback(hostile_atlas_path, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    damaged = tmp_path / "damaged"
    shutil.copytree(hostile_atlas_path, damaged)
    (damaged / "tracks.parquet").write_bytes(b"not parquet")
    monkeypatch.setenv("SOUNDATLAS_DASHBOARD_ATLAS", str(damaged))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "does not match its checksum" in at.error[0].value
