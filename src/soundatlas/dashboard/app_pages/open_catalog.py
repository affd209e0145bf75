"""Open a catalog: pick an atlas already built, upload a track file and build its atlas, or build
the demo atlas. The uploaded file is validated by the core (its content, never its extension)
in a worker process with a memory limit, the validation report is shown, and the atlas is cached
by the file's content hash. Uploads are private to the session that uploaded them, kept only if
they built, and deleted after `UPLOAD_MAX_AGE` without use (see
`soundatlas.dashboard.catalogs`)."""

from __future__ import annotations

import streamlit as st

from soundatlas.dashboard import session
from soundatlas.dashboard.catalogs import (
    UPLOAD_MAX_AGE,
    UPLOADS_MAX_BYTES,
    build_upload_atlas,
    is_atlas,
    prune_uploads,
    store_upload,
    upload_atlas_path,
    validate_upload,
)
from soundatlas.dashboard.settings import UPLOAD_LIMIT_MB, UPLOAD_TYPES
from soundatlas.dashboard.ui import show_table
from soundatlas.demo import DEMO_SIZE, demo_atlas_path, ensure_demo_atlas
from soundatlas.errors import SoundAtlasError
from soundatlas.ingest.validation import ValidationReport
from soundatlas.stages import BUILD_STAGES, STAGE_TITLES

STEPS = ("generate", *BUILD_STAGES, "save")


def _progress_bar():
    bar = st.progress(0.0, text="Starting…")

    def tick(stage: str, fraction: float) -> None:
        position = STEPS.index(stage) if stage in STEPS else 0
        done = (position + min(max(fraction, 0.0), 1.0)) / len(STEPS)
        bar.progress(min(done, 1.0), text=STAGE_TITLES.get(stage, stage))

    return bar, tick


PICK_KEY = "open_pick"
PICKED_FOR_KEY = "_sa_picked_for"
"""Session state: the atlas that was open when the picker was last drawn."""
UPLOAD_KEY = "_sa_upload"
"""Session state: ``(file id, content hash, validation report, the error that refused it, or
None)`` of the file in the upload box, so reruns neither hash the file again nor re-validate it.
Kept in the session, not in a shared cache: an upload is only ever this session's."""


def _stored(uploaded) -> tuple[str, ValidationReport | None]:
    """The content hash of the file in the upload box (stored once; a new file first clears
    out stale uploads) and its validation report if already made."""
    known = st.session_state.get(UPLOAD_KEY)
    if known and known[0] == uploaded.file_id:
        if isinstance(known[2], SoundAtlasError):
            raise known[2]  # refused, and deleted: said again, not tried again
        return known[1], known[2]
    digest, _ = store_upload(uploaded.getvalue(), uploaded.name)
    prune_uploads(keep={digest})
    st.session_state[UPLOAD_KEY] = (uploaded.file_id, digest, None)
    return digest, None


def _validated(uploaded, digest: str) -> ValidationReport:
    """The validation report of the stored upload (made in a worker process), kept for reruns."""
    known = st.session_state.get(UPLOAD_KEY)
    if known and known[1] == digest and known[2] is not None:
        return known[2]
    try:
        report = validate_upload(digest, uploaded.name)
    except SoundAtlasError as exc:
        st.session_state[UPLOAD_KEY] = (uploaded.file_id, digest, exc)
        raise
    st.session_state[UPLOAD_KEY] = (uploaded.file_id, digest, report)
    return report


OVERVIEW = "app_pages/overview.py"


def _open(atlas_id: str) -> None:
    """Open an atlas and show it: its Overview, which opens on the recommended method."""
    session.open_atlas(atlas_id)
    st.switch_page(OVERVIEW)


def _open_upload(digest: str) -> None:
    target = upload_atlas_path(digest)
    session.add_upload(target.name)
    st.session_state.pop(UPLOAD_KEY, None)
    _open(target.name)


st.title("Open a catalog")
error = st.session_state.get("_sa_load_error")
if error:
    session.show_error(error)
    st.caption("Pick another atlas below, upload a catalog, or build the demo atlas.")

options = session.choices()
st.subheader("Atlases already built")
if options:
    view = st.session_state.get(session.VIEW_KEY)
    current = view.source if view is not None else None
    ids = [c.id for c in options]
    labels = {c.id: c.label for c in options}
    if st.session_state.get(PICKED_FOR_KEY) != current and current in ids:
        # The open atlas changed (an upload was opened): show it, not the last pick (set
        # through the session, so the browser's picker is told too).
        st.session_state[PICKED_FOR_KEY] = current
        st.session_state[PICK_KEY] = current
    picked = st.selectbox(
        "Atlas",
        ids,
        index=ids.index(current) if current in ids else 0,
        format_func=lambda i: labels[i],
        key=PICK_KEY,
    )
    if st.button("Open this atlas", key="open_button", icon=":material/folder_open:"):
        _open(picked)
    st.caption("Listed: the atlas the dashboard was started with, the demo, and your uploads.")
else:
    st.caption("None yet: upload a catalog or build the demo atlas below.")

st.subheader("Upload your catalog")
days = UPLOAD_MAX_AGE.days
st.caption(
    f"A CSV/TSV, Parquet, JSON or JSON Lines track table, up to {UPLOAD_LIMIT_MB} MB, read by its "
    "content and checked row by row."
)
st.caption(
    ":material/lock: Your upload is private to this browser session: other visitors do not see "
    "it and a link to it does not open it for them. Reloading the page starts a new session: "
    "upload the same file again and its atlas opens at once. Only files that build are kept: "
    f"their atlases are deleted from this server {days} days after they were last uploaded or "
    f"opened, or sooner, oldest first, when uploads take more than "
    f"{UPLOADS_MAX_BYTES / 2**30:.0f} GiB in all."
)
uploaded = st.file_uploader(
    "Track table",
    type=list(UPLOAD_TYPES),
    key="open_upload",
    max_upload_size=UPLOAD_LIMIT_MB,
)
if uploaded is not None:
    try:
        digest, _ = _stored(uploaded)
        target = upload_atlas_path(digest)
        if is_atlas(target):
            st.success(
                "This file was built before (same content): its atlas is ready.",
                icon=":material/bolt:",
            )
            if st.button("Open its atlas", type="primary", key="open_cached"):
                _open_upload(digest)
        else:
            with st.spinner("Checking the file…"):
                report = _validated(uploaded, digest)
            st.text(report.summary())
            findings = [
                {"what": f.severity, "rule": f.rule, "rows": f.count, "details": f.message}
                for f in report.findings
            ]
            if findings:
                show_table(findings)
            else:
                st.success("No problems found.", icon=":material/check:")
            if st.button("Build the atlas", type="primary", key="open_build"):
                bar, tick = _progress_bar()
                try:
                    build_upload_atlas(digest, uploaded.name, progress=tick)
                except SoundAtlasError as exc:
                    st.session_state[UPLOAD_KEY] = (uploaded.file_id, digest, exc)
                    raise
                bar.progress(1.0, text="Done")
                _open_upload(digest)
    except SoundAtlasError as exc:
        session.show_error(exc)
        st.caption("Fix the file and upload it again, or pick an atlas above.")

st.subheader("Demo atlas")
demo = demo_atlas_path()
st.caption(f"{DEMO_SIZE:,} synthetic songs, statistically like real music and marked as demo.")
if is_atlas(demo):
    if st.button("Open the demo atlas", key="open_demo"):
        _open(demo.name)
elif st.button("Build the demo atlas", key="open_demo_build", icon=":material/build:"):
    bar, tick = _progress_bar()
    try:
        ensure_demo_atlas(progress=tick)
    except SoundAtlasError as exc:
        session.show_error(exc)
        st.stop()
    _open(demo.name)
