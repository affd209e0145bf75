"""A copy of a sampled atlas as an older SoundAtlas saved it: sort orders of an older version,
without the parts that version lacked (for `soundatlas reindex` and the code reading them)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path


def older_sorted_copy(
    atlas_dir: Path, target: Path, version: int, lacking: tuple[str, ...]
) -> Path:
    """Copy ``atlas_dir`` to ``target`` with its directory's sort orders of ``version``,
    without the parts ``lacking`` (their files and manifest entries removed)."""
    shutil.copytree(atlas_dir, target)
    manifest = json.loads((target / "manifest.json").read_text())
    entry = manifest["parts"]["directory"]["sorted"]
    for part in lacking:
        name = entry["files"].pop(part)
        del manifest["files"][name]
        (target / name).unlink()
    entry["version"] = version
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target
