"""The atlas a server answers from: swapped when the folder is rebuilt, kept when the rebuild
cannot be loaded."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from realdata import TOPHITS, shared_file

from soundatlas.api.holder import AtlasHolder
from soundatlas.atlas.build import build_atlas
from soundatlas.discovery.save import save_atlas

pytestmark = pytest.mark.realdata


def test_rebuilt_atlas_is_swapped_in_and_a_broken_one_is_not(atlas_dir, tmp_path) -> None:
    folder = tmp_path / "atlas"
    shutil.copytree(atlas_dir, folder)
    holder = AtlasHolder(folder, poll=0)
    first = holder.atlas
    assert holder.refresh() is False and holder.atlas is first  # nothing changed

    manifest = folder / "manifest.json"
    kept = manifest.read_bytes()
    manifest.write_text("{not json")
    assert holder.refresh() is False and holder.atlas is first  # unloadable: keep serving
    manifest.write_bytes(kept)

    chart = pd.read_csv(shared_file(TOPHITS))
    smaller = tmp_path / "small.csv"
    chart.head(400).to_csv(smaller, index=False)
    save_atlas(build_atlas(smaller), folder)
    assert holder.refresh() is True
    assert holder.atlas is not first and len(holder.atlas.tracks) < len(first.tracks)
    assert len(first.tracks) > 1000  # a request holding the old atlas still has all of it
