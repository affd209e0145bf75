"""The summary report: HTML (self-contained, charts embedded) and Markdown, from the library and
from `soundatlas report`, with every user-provided text escaped."""

from __future__ import annotations

import re

import numpy as np
import pytest
from dashboard.hostile import HOSTILE_ARTIST, HOSTILE_SONG
from typer.testing import CliRunner

from soundatlas.cli import app as cli
from soundatlas.clustering.result import LABEL_COLUMNS
from soundatlas.reports import (
    cluster_shares,
    cluster_tables,
    correlation_matrix,
    map_sample,
    md_text,
    profile_z,
    report_figures,
    report_html,
    report_markdown,
    write_figures,
)


@pytest.fixture(scope="module")
def atlas(hostile_atlas):
    return hostile_atlas


def test_cluster_tables_hold_mean_std_size_per_cluster(atlas):
    tables = {t.method: t for t in cluster_tables(atlas)}
    assert set(tables) == {"kmeans", "dbscan", "hierarchical"}
    kmeans = tables["kmeans"]
    labels = atlas.tracks["cluster"]
    assert kmeans.clusters["size"].sum() == len(atlas.tracks)
    first = int(kmeans.clusters["cluster"].iloc[0])
    chosen = atlas.tracks.loc[labels == first, "energy"]
    assert kmeans.means.at[first, "energy"] == pytest.approx(chosen.mean())
    assert kmeans.stds.at[first, "energy"] == pytest.approx(chosen.std(ddof=0))
    assert kmeans.clusters["persona"].notna().all()


def test_report_on_filtered_songs_counts_only_them(atlas):
    rows = (atlas.tracks["energy"] > 0.8).to_numpy()
    table = cluster_tables(atlas, rows=rows)[0]
    assert table.clusters["size"].sum() == rows.sum()
    assert f"{rows.sum():,} of {len(atlas.tracks):,} songs (filtered)" in report_markdown(
        atlas, rows=rows
    )


def test_charts_of_a_filtered_report_describe_only_the_filtered_songs(atlas):
    mask = (atlas.tracks["energy"] > 0.8).to_numpy()
    chosen = np.flatnonzero(mask)
    for method in atlas.methods:
        shares = cluster_shares(atlas, method, mask)
        labels = atlas.tracks[LABEL_COLUMNS[method]].to_numpy()[chosen]
        assert shares["songs"].sum() == len(chosen)
        assert set(shares["cluster"]) == set(labels)
        z = profile_z(atlas, method, mask)
        first = int(z.index[-1])
        energy = atlas.tracks["energy"].to_numpy()
        everyone, mine = energy, energy[chosen][labels == first]
        assert z.at[first, "energy"] == pytest.approx(
            (mine.mean() - everyone.mean()) / everyone.std()
        )
    assert set(map_sample(atlas, mask)) <= set(chosen)
    expected = np.corrcoef(atlas.tracks.loc[mask, ["energy", "loudness"]].T.to_numpy())[0, 1]
    assert correlation_matrix(atlas, mask).at["energy", "loudness"] == pytest.approx(expected)
    filtered, everything = report_figures(atlas, rows=mask), report_figures(atlas)
    assert filtered.keys() == everything.keys()
    assert all(filtered[name] != everything[name] for name in filtered)


def test_unfiltered_profiles_are_the_personas_z_scores(atlas):
    z = profile_z(atlas, "kmeans")
    personas = atlas.personas_of("kmeans").set_index("cluster")
    assert z["energy"].to_numpy() == pytest.approx(personas.loc[z.index, "z_energy"].to_numpy())


def test_html_report_is_self_contained_and_escapes_user_text(atlas):
    page = report_html(atlas)
    assert page.startswith("<!doctype html>")
    assert page.count("data:image/png;base64,") >= 5
    assert not re.search(r"<script|src=\"http|href=\"http|<link", page)
    assert HOSTILE_SONG not in page and HOSTILE_ARTIST not in page
    for words in (
        "Davies–Bouldin",
        "agreement (ARI)",
        "stability (ARI)",
        "Dropped at ingestion",
        "Mean ± standard deviation",
        "dominant genres",
    ):
        assert words in page


def test_markdown_report_has_every_section_and_inert_user_text(atlas):
    text = report_markdown(atlas)
    for heading in (
        "## Clustering methods",
        "## K-Means: clusters",
        "## DBSCAN: clusters",
        "## Hierarchical (Ward): clusters",
        "## Dropped at ingestion",
    ):
        assert heading in text
    assert "duplicate row" in text
    assert md_text("<img src=x onerror=alert(1)>") == "\\<img src=x onerror=alert(1)\\>"
    assert md_text("a|b [x](y)") == "a\\|b \\[x\\](y)"


def test_figures_are_written_as_png(atlas, tmp_path):
    written = write_figures(atlas, tmp_path / "figures")
    names = sorted(p.name for p in written)
    assert "cluster_sizes.png" in names and "correlations.png" in names
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)


def test_cli_report_html_md_and_figures(hostile_atlas_path, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "report",
            str(hostile_atlas_path),
            "-o",
            str(tmp_path / "r.html"),
            "--figures",
            str(tmp_path / "png"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and (tmp_path / "r.html").is_file()
    assert len(list((tmp_path / "png").glob("*.png"))) >= 5
    result = runner.invoke(cli, ["report", str(hostile_atlas_path), "-o", str(tmp_path / "r.md")])
    assert result.exit_code == 0, result.output
    assert "(md)" in result.output  # the format follows the file's extension
    # The title names the file the atlas came from, not the folder it sat in on the builder's disk.
    assert (tmp_path / "r.md").read_text().startswith("# SoundAtlas report — hits.csv\n")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--format", "pdf"], "use one of html, md"),
        (["--figures", "FILE"], "is a file"),
    ],
)
def test_cli_report_refuses_bad_options(hostile_atlas_path, tmp_path, arguments, message):
    (tmp_path / "FILE").write_text("x")
    arguments = [str(tmp_path / "FILE") if a == "FILE" else a for a in arguments]
    result = CliRunner().invoke(
        cli, ["report", str(hostile_atlas_path), "-o", str(tmp_path / "r.html"), *arguments]
    )
    assert result.exit_code == 2
    assert message in result.output


def test_cli_report_on_a_missing_atlas_exits_2_with_the_reason(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "none"), "-o", "x.html"])
    assert result.exit_code == 2
    assert "no atlas here" in result.output
