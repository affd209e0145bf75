"""Open a catalog: upload (validated by content, report shown, built once per content, private
to the session that uploaded it, cleared out when stale), pick an atlas, and clear states for a
missing or damaged atlas."""

from __future__ import annotations

import os
import shutil
import time
from datetime import timedelta

import pytest
from dashboard.hostile import APP

from soundatlas.dashboard import catalogs


def _upload_bytes(songs: int = 400, seed: int = 7) -> bytes:
    from soundatlas.demo import generate_catalog

    return generate_catalog(songs, random_state=seed).to_csv(index=False).encode()


def _upload_and_build(at, data: bytes, name: str = "my hits.csv"):
    at.file_uploader(key="open_upload").upload(name, data, "text/csv").run()
    assert not at.exception
    at.button(key="open_build").click().run(timeout=240)
    assert not at.exception
    return at


def test_upload_validates_builds_and_reuses_the_atlas(app, text_of):
    at = app("open_catalog")
    data = _upload_bytes()
    at.file_uploader(key="open_upload").upload("my hits.csv", data, "text/csv").run()
    assert not at.exception
    assert "400 rows read from my hits.csv" in text_of(at)
    at.button(key="open_build").click().run(timeout=240)
    assert not at.exception
    assert at.query_params["atlas"].startswith("upload-")
    # The built atlas opens at once, on its Overview.
    assert at.title[0].value == "Overview" or "The three methods compared" in text_of(at)
    assert at.metric[0].value == "400"
    assert "my hits.csv" in text_of(at).replace("\\", "")
    assert at.query_params["atlas"].startswith("upload-")

    again = app("open_catalog")
    again.file_uploader(key="open_upload").upload("renamed.txt", data, "text/plain").run()
    assert "built before" in text_of(again)
    again.button(key="open_cached").click().run()
    assert not again.exception
    assert again.query_params["atlas"] == at.query_params["atlas"]


def test_an_upload_is_private_to_the_session_that_uploaded_it(app, text_of):
    owner = _upload_and_build(app("open_catalog"), _upload_bytes(seed=11), "private.csv")
    upload_id = owner.query_params["atlas"]
    owner.switch_page("app_pages/open_catalog.py").run()
    picker = owner.selectbox(key="open_pick")
    assert any("private.csv" in label and "(your upload)" in label for label in picker.options)
    assert picker.value == upload_id  # the atlas now open, not the one picked before

    visitor = app("open_catalog")
    assert not any("(your upload)" in label for label in visitor.selectbox(key="open_pick").options)

    follower = app(atlas=upload_id)  # a visitor given the owner's link
    assert not follower.exception
    assert "atlas" not in follower.query_params  # back on the atlas the server started with
    assert "private" in " ".join(t.value for t in follower.toast)
    assert "private.csv" not in text_of(follower).replace("\\", "")


def test_binary_file_with_a_csv_name_is_refused_with_the_core_message(app, text_of):
    at = app("open_catalog")
    junk = bytes(range(256)) * 64
    at.file_uploader(key="open_upload").upload("tracks.csv", junk, "text/csv").run()
    assert not at.exception
    assert at.error, "the core's CatalogError must be shown"
    assert "Fix the file and upload it again" in text_of(at)


def test_page_states_who_sees_uploads_and_when_they_are_deleted(app, text_of):
    shown = text_of(app("open_catalog"))
    assert "private to this browser session" in shown
    assert f"deleted from this server {catalogs.UPLOAD_MAX_AGE.days} days after" in shown


def _age(path, days: float) -> None:
    stamp = time.time() - days * 86_400
    os.utime(path, (stamp, stamp))


def test_stale_uploads_are_removed_with_their_atlases(tmp_path, monkeypatch):
    monkeypatch.setenv("SOUNDATLAS_HOME", str(tmp_path))
    old, recent, kept = (catalogs.store_upload(f"{n}".encode() * 10, "x.csv")[0] for n in "abc")
    for digest in (old, recent, kept):
        atlas = catalogs.upload_atlas_path(digest)
        atlas.mkdir(parents=True)
        (atlas / "manifest.json").write_text("{}")
    for digest in (old, kept):
        _age(catalogs.stored_upload(digest).parent, 8)
        _age(catalogs.upload_atlas_path(digest), 8)
    _age(catalogs.stored_upload(recent).parent, 8)  # file old, but its atlas opened lately
    removed = catalogs.prune_uploads(keep={kept}, max_age=timedelta(days=7))
    assert removed == [old]
    assert not catalogs.stored_upload(old).parent.exists()
    assert not catalogs.upload_atlas_path(old).exists()
    for digest in (recent, kept):
        assert catalogs.upload_atlas_path(digest).is_dir()
    assert not list(catalogs.atlases_folder().glob(".deleting-*"))


def test_listing_shows_only_the_sessions_own_uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("SOUNDATLAS_HOME", str(tmp_path))
    mine, theirs = (catalogs.upload_atlas_path(d) for d in ("0" * 16, "1" * 16))
    for folder in (mine, theirs):
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}")
    ids = [c.id for c in catalogs.known_atlases(None, uploads={mine.name, "../../etc"})]
    assert ids == [mine.name]
    assert catalogs.known_atlases(None) == []


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
    assert "does not match its checksum" in at.error[0].value.replace("\\", "")


@pytest.mark.realdata
def test_a_real_chart_table_uploads_and_builds(app, text_of):
    import pandas as pd
    from realdata import TOPHITS, shared_file

    frame = pd.read_csv(shared_file(TOPHITS), dtype=str, keep_default_na=False).head(400)
    at = app("open_catalog")
    at.file_uploader(key="open_upload").upload("hits.csv", frame.to_csv(index=False).encode())
    at.run()
    assert "400 rows read from hits.csv" in text_of(at)
    at.button(key="open_build").click().run(timeout=240)
    assert not at.exception
    at.switch_page("app_pages/overview.py").run()
    assert 300 < int(at.metric[0].value.replace(",", "")) <= 400
