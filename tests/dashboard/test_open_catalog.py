"""Open a catalog: upload (validated by content, report shown, built once per content, private
to the session that uploaded it, cleared out when stale), pick an atlas, and clear states for a
missing or damaged atlas."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import timedelta
from unittest import mock

import pytest
from dashboard.hostile import APP
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize("demo_built", [False, True], ids=["no-demo", "demo-built"])
def test_missing_atlas_shows_the_reason_and_a_way_out(
    demo_built, hostile_atlas_path, monkeypatch, tmp_path
):
    from streamlit.testing.v1 import AppTest

    from soundatlas.demo import demo_atlas_path

    monkeypatch.setenv("SOUNDATLAS_HOME", str(tmp_path / "home"))
    if demo_built:  # any atlas in the demo's folder counts as the built demo
        shutil.copytree(hostile_atlas_path, demo_atlas_path())
    monkeypatch.setenv("SOUNDATLAS_DASHBOARD_ATLAS", str(tmp_path / "nowhere"))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "no atlas here" in at.error[0].value
    assert "Open a catalog" in [t.value for t in at.title]
    keys = {button.key for button in at.button}
    shown, absent = ("open_demo", "open_demo_build")[:: 1 if demo_built else -1]
    assert shown in keys and absent not in keys


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


def _wide_upload(rows: int = 600) -> bytes:
    """A table of 4,096 columns (the most read), mostly empty: reading it takes about 20 times
    its size in memory."""
    from soundatlas.ingest.reading import MAX_COLUMNS
    from soundatlas.ingest.schema import AUDIO_FEATURES

    extra = MAX_COLUMNS - len(AUDIO_FEATURES)
    header = ",".join([*AUDIO_FEATURES, *(f"c{i}" for i in range(extra))])
    row = ",".join(["0.5"] * 8 + ["120"]) + "," * extra
    return (header + "\n" + "\n".join(f"{row}{n}" for n in range(rows)) + "\n").encode()


def test_an_upload_past_the_workers_memory_is_a_message_not_a_dead_server(
    app, text_of, monkeypatch
):
    monkeypatch.setenv(catalogs.MEMORY_VARIABLE, "24")
    at = app("open_catalog")
    data = _wide_upload()
    at.file_uploader(key="open_upload").upload("wide.csv", data, "text/csv").run()
    assert not at.exception
    shown = text_of(at).replace("\\", "")
    assert "wide.csv: stopped, as it needed more than the 24 MiB of memory" in shown
    assert not catalogs.stored_upload(catalogs.content_hash(data)).parent.exists()
    at.run()  # the same file on a rerun: the message again, not another worker
    assert "memory this server gives one file" in text_of(at)


def test_a_refused_upload_is_deleted_and_a_failed_write_leaves_nothing(
    app, text_of, monkeypatch, tmp_path
):
    at = app("open_catalog")
    junk = b"a,b\n" + b"\x00" * 64
    at.file_uploader(key="open_upload").upload("junk.csv", junk).run()
    assert "junk.csv: this is a binary file" in text_of(at).replace("\\", "")
    assert not catalogs.stored_upload(catalogs.content_hash(junk)).parent.exists()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pathlib.Path.write_bytes", disk_full)
    with pytest.raises(catalogs.OutputError, match="the disk is full"):
        catalogs.store_upload(b"name,energy\n", "x.csv")
    assert not catalogs.stored_upload(catalogs.content_hash(b"name,energy\n")).parent.exists()


def test_uploads_never_built_go_after_an_hour_and_the_total_is_capped(tmp_path, monkeypatch):
    monkeypatch.setenv("SOUNDATLAS_HOME", str(tmp_path))
    pending, old, recent, kept = (
        catalogs.store_upload(f"{n}".encode() * 1000, "x.csv")[0] for n in "pork"
    )
    for digest in (old, recent, kept):
        atlas = catalogs.upload_atlas_path(digest)
        atlas.mkdir(parents=True)
        (atlas / "manifest.json").write_text("{}")
        (atlas / "tracks.parquet").write_bytes(b"x" * 10_000)
    _age(catalogs.stored_upload(pending).parent, 2 / 24)
    for days, digest in ((3, old), (1, recent), (5, kept)):
        _age(catalogs.stored_upload(digest).parent, days)
        _age(catalogs.upload_atlas_path(digest), days)
    assert catalogs.prune_uploads() == [pending]
    assert catalogs.prune_uploads(max_bytes=25_000, keep={kept}) == [old]
    assert catalogs.upload_atlas_path(recent).is_dir() and catalogs.upload_atlas_path(kept).is_dir()
    assert catalogs.prune_uploads(max_bytes=0) == sorted([recent, kept])


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(
    uploads=st.lists(
        st.tuples(st.integers(1, 30_000), st.floats(0, 10 * 24), st.booleans()),
        min_size=1,
        max_size=8,
    ),
    cap=st.integers(0, 150_000),
)
def test_pruning_keeps_only_what_the_rules_allow(uploads, cap):
    """Any mix of uploads (size, hours since last use, built or not): after pruning, the upload
    in use is kept; no other unbuilt one is over an hour old, no built one over UPLOAD_MAX_AGE;
    and the rest take at most the cap, unless only the upload in use is left."""
    with tempfile.TemporaryDirectory() as home, mock.patch.dict(os.environ, SOUNDATLAS_HOME=home):
        ages = {}
        for number, (size, hours, built) in enumerate(uploads):
            digest, stored = catalogs.store_upload(bytes([number]) * size, "x.csv")
            folders = [stored.parent]
            if built:
                atlas = catalogs.upload_atlas_path(digest)
                atlas.mkdir(parents=True)
                (atlas / "manifest.json").write_text("{}")
                folders.append(atlas)
            for folder in folders:
                _age(folder, hours / 24)
            ages[digest] = (hours, built)
        in_use = next(iter(ages))
        removed = catalogs.prune_uploads(max_bytes=cap, keep={in_use})
        left = [d for d in ages if d not in removed]
        assert in_use in left
        assert all(not catalogs.stored_upload(d).parent.exists() for d in removed)
        for digest in left:
            hours, built = ages[digest]
            if digest != in_use:
                limit = catalogs.UPLOAD_MAX_AGE if built else catalogs.PENDING_MAX_AGE
                assert hours * 3600 <= limit.total_seconds() + 60
        folders = [catalogs.stored_upload(d).parent for d in left]
        folders += [catalogs.upload_atlas_path(d) for d in left]
        taken = sum(p.stat().st_size for f in folders for p in f.rglob("*") if p.is_file())
        assert taken <= cap or left == [in_use]
