"""Commands that make and describe atlases: validate, build, info, export, demo.

The library is imported inside each command, so that ``--help`` loads none of it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from soundatlas.cli import app
from soundatlas.cli.render import (
    JsonOption,
    agreement_table,
    assessment_text,
    console,
    engine_text,
    err_console,
    escape,
    methods_table,
    personas_table,
    print_json,
    progress_bars,
    projection_text,
    report_tables,
    rules_text,
)
from soundatlas.config import EXPORT_FORMATS
from soundatlas.errors import ConfigError
from soundatlas.files import check_not_input
from soundatlas.ingest.schema import AUDIO_FEATURES

if TYPE_CHECKING:
    from soundatlas.atlas.build import Progress
    from soundatlas.atlas.model import Atlas

ENGINES = ("local", "spark")
ColumnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        "-c",
        help="Name a column the aliases miss: canonical=Original (e.g. name=Title). Repeatable.",
    ),
]
FeaturesOption = Annotated[
    str | None,
    typer.Option(
        help=f"Comma-separated features to cluster on [default: {','.join(AUDIO_FEATURES)}]"
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables.")]


def parse_columns(pairs: list[str] | None) -> dict[str, str]:
    """``["name=Title"]`` -> ``{"name": "Title"}``."""
    columns: dict[str, str] = {}
    for pair in pairs or []:
        canonical, sep, original = pair.partition("=")
        if not sep or not canonical.strip() or not original.strip():
            raise ConfigError(f"--column {pair}: write it as canonical=Original, e.g. name=Title.")
        columns[canonical.strip()] = original.strip()
    return columns


def parse_list(text: str | None, option: str = "--features") -> tuple[str, ...] | None:
    """``"a, b"`` -> ``("a", "b")``; None stays None; an option given empty is refused."""
    if text is None:
        return None
    parts = tuple(part.strip() for part in text.split(",") if part.strip())
    if not parts:
        raise ConfigError(f"{option} {text!r}: name at least one, separated by commas.")
    return parts


def parse_k(text: str) -> int | None:
    """``auto`` -> None, ``7`` -> 7."""
    if text.strip().lower() == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--k {text}: use 'auto' or a whole number such as 6.") from None


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Track table: CSV/TSV/pipe, Parquet, JSON, JSONL.")],
    column: ColumnOption = None,
    features: FeaturesOption = None,
    rejected: Annotated[
        Path | None, typer.Option("--rejected", help="Write the rows left out to this CSV.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check a track table and print the full report.

    Exit code 0: every row usable; 1: some rows would be left out or merged; 2: the file
    cannot be used.
    """
    from soundatlas.ingest.catalog import load_catalog
    from soundatlas.reports.exports import write_table

    if rejected is not None:
        check_not_input(rejected, file)
    with progress_bars(quiet=as_json) as tick:
        catalog = load_catalog(
            file,
            features=parse_list(features) or AUDIO_FEATURES,
            columns=parse_columns(column),
            progress=tick,
        )
    report = catalog.report
    if rejected is not None:
        write_table(catalog.rejected_rows(), rejected, "csv")
    if as_json:
        print_json(report.to_dict())
    else:
        for renderable in report_tables(report):
            console.print(renderable)
        console.print(report.summary())
        if rejected is not None:
            console.print(f"Rows left out written to {escape(str(rejected))}.")
    if report.rows_rejected or report.rows_merged:
        raise typer.Exit(1)


@app.command()
def build(
    file: Annotated[
        Path,
        typer.Argument(
            help="Track table: CSV/TSV/pipe, Parquet, JSON, JSONL (spark engine: CSV, Parquet, "
            "or a folder or glob of Parquet parts)."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Atlas folder to write.")],
    k: Annotated[
        str, typer.Option("--k", help="Clusters for K-Means and Ward: auto or N.")
    ] = "auto",
    methods: Annotated[
        str, typer.Option(help="Comma-separated: kmeans, dbscan, hierarchical.")
    ] = "kmeans,dbscan,hierarchical",
    features: FeaturesOption = None,
    column: ColumnOption = None,
    scaling: Annotated[str, typer.Option(help="standard, robust or minmax.")] = "standard",
    density: Annotated[str, typer.Option(help="Density method: dbscan or hdbscan.")] = "dbscan",
    eps: Annotated[float | None, typer.Option(help="DBSCAN eps [default: knee].")] = None,
    min_samples: Annotated[int | None, typer.Option(help="DBSCAN min_samples.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    engine: Annotated[
        str,
        typer.Option(help="local (this process) or spark (Apache Spark, for huge catalogs)."),
    ] = "local",
    master: Annotated[
        str | None,
        typer.Option(help="With --engine spark: local[N], spark://HOST:PORT or yarn [local[2]]."),
    ] = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Cluster every song three ways, name the clusters, and save the atlas folder."""
    from soundatlas import BuildConfig, build_atlas, load_atlas
    from soundatlas.atlas.folders import check_atlas_target
    from soundatlas.atlas.manifest import read_manifest

    config = BuildConfig(
        features=parse_list(features) or AUDIO_FEATURES,
        scaling=scaling,
        methods=parse_list(methods, "--methods") or (),
        k=parse_k(k),
        density_algorithm=density,
        eps=eps,
        min_samples=min_samples,
        columns=parse_columns(column),
        random_state=seed,
    )
    if engine not in ENGINES:
        raise ConfigError(f"--engine {engine}: use one of {', '.join(ENGINES)}.")
    if master is not None and engine != "spark":
        raise ConfigError("--master applies to --engine spark only.")
    check_atlas_target(output)
    with progress_bars(quiet=quiet or as_json) as tick:
        if engine == "spark":
            from soundatlas.engines.spark import LOCAL_MASTER, build_atlas_spark

            build_atlas_spark(file, output, config, master=master or LOCAL_MASTER, progress=tick)
            tick("load", 0.0)
            atlas = load_atlas(output)
            tick("load", 1.0)
        else:
            atlas = build_atlas(file, config, progress=tick)
            _save(atlas, output, tick)
    _print_notes(atlas.report)
    if as_json:
        saved = dataclasses.replace(atlas, manifest=read_manifest(output))
        print_json(_summary_json(saved, output))
        return
    if not quiet:
        _print_atlas(atlas)
    console.print(
        f"{escape(atlas.report.summary())}\nAtlas saved to [bold]{escape(str(output))}[/]"
    )


@app.command()
def info(
    atlas_dir: Annotated[Path, typer.Argument(metavar="ATLAS", help="Atlas folder.")],
    as_json: JsonOption = False,
) -> None:
    """Describe an atlas: metrics per method, personas with reasons, rows dropped and why."""
    from soundatlas import load_atlas

    atlas = load_atlas(atlas_dir)
    if as_json:
        print_json(_summary_json(atlas, atlas_dir))
        return
    manifest = atlas.manifest
    console.print(
        f"[bold]{escape(str(atlas_dir))}[/] — built {manifest.get('created', '?')} by SoundAtlas "
        f"{manifest.get('soundatlas_version', '?')} from {escape(atlas.report.source)}"
    )
    console.print(escape(atlas.report.summary()))
    if atlas.report.dropped:
        dropped = ", ".join(
            f"{count:,} × {reason}" for reason, count in atlas.report.dropped.items()
        )
        console.print(f"Not clustered as their own track: {escape(dropped)}")
    _print_atlas(atlas)


@app.command()
def reindex(
    atlas_dir: Annotated[Path, typer.Argument(metavar="ATLAS", help="Atlas folder.")],
    quiet: QuietOption = False,
) -> None:
    """Add the derived indexes an atlas lacks (saved by an older SoundAtlas, or a big spark
    atlas built before its sort orders were saved), so queries and `serve` map them instead
    of building them. Atomic: the atlas is replaced whole, its files hard-linked, not copied.
    """
    from soundatlas.discovery.reindex import reindex_atlas

    with progress_bars(quiet=quiet) as tick:
        added = reindex_atlas(atlas_dir, progress=tick)
    if added:
        console.print(f"Added the {' and the '.join(added)} to [bold]{escape(str(atlas_dir))}[/].")
    else:
        console.print(f"{escape(str(atlas_dir))} already has every derived index; nothing to add.")


@app.command()
def export(
    atlas_dir: Annotated[Path, typer.Argument(metavar="ATLAS", help="Atlas folder.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    file_format: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(EXPORT_FORMATS)}.")
    ] = "seed-csv",
    raw: Annotated[
        bool,
        typer.Option(help="Keep cells starting with = + - @ as they are (unsafe in spreadsheets)."),
    ] = False,
) -> None:
    """Export an atlas as seed-csv (your rows plus our columns), csv, parquet or json.

    seed-csv gives every row of your file that splits into its columns, those columns
    unchanged, plus cluster, cluster_dbscan, cluster_hc and the persona names (blank for rows
    left out); csv/parquet/json give the clustered track table.
    """
    from soundatlas import load_atlas
    from soundatlas.reports.exports import export_atlas

    check_not_input(output, atlas_dir)
    atlas = load_atlas(atlas_dir)
    export_atlas(atlas, output, file_format, raw=raw)
    console.print(f"Wrote {escape(str(output))} ({file_format}).")
    ragged = atlas.report.dropped.get("ragged row", 0)
    if file_format == "seed-csv" and ragged:
        err_console.print(
            f"[yellow]warning:[/] {ragged:,} ragged row(s) of {escape(atlas.report.source)} "
            "could not be split into its columns and are not in the export; "
            "`soundatlas validate FILE --rejected rows.csv` writes them as they were."
        )


@app.command()
def demo(
    size: Annotated[int, typer.Option(help="Number of synthetic songs.")] = 20_000,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Atlas folder (or, with --catalog-only, a .csv/.parquet file, or a folder for "
            "Parquet parts).",
        ),
    ] = None,
    catalog_only: Annotated[
        bool, typer.Option(help="Only write the synthetic catalog, in the seed schema.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    quiet: QuietOption = False,
) -> None:
    """Build an atlas of synthetic demo songs, or write just the catalog.

    The songs are statistically faithful to real music (per-genre distributions measured on
    real tables) and their names are marked as demo.
    """
    from soundatlas.atlas.folders import check_atlas_target
    from soundatlas.demo import build_demo_atlas, demo_atlas_path, write_catalog

    if size < 10:
        raise ConfigError(f"--size {size}: a demo needs at least 10 songs.")
    if catalog_only:
        if output is None:
            raise ConfigError(
                "--catalog-only needs -o FILE (.csv or .parquet) or -o FOLDER (Parquet parts)."
            )
        with progress_bars(quiet=quiet) as tick:
            write_catalog(
                output,
                size,
                random_state=seed,
                progress=lambda done, total: tick("generate", done / max(total, 1)),
            )
        console.print(f"Wrote {size:,} synthetic demo songs to {escape(str(output))}.")
        return
    target = output or demo_atlas_path(size, seed)
    check_atlas_target(target)
    with progress_bars(quiet=quiet) as tick:
        atlas = build_demo_atlas(size, random_state=seed, progress=tick)
        _save(atlas, target, tick)
    if not quiet:
        _print_atlas(atlas)
    console.print(f"Demo atlas saved to [bold]{escape(str(target))}[/]")


def _save(atlas: Atlas, path: Path, tick: Progress) -> None:
    from soundatlas.discovery.save import save_atlas

    tick("save", 0.0)
    save_atlas(atlas, path)
    tick("save", 1.0)


def _print_notes(report) -> None:
    """Warnings worth seeing even in a successful build (encoding fallback, rows left out)."""
    for finding in report.findings:
        if finding.severity in ("note", "rejected"):
            err_console.print(f"[yellow]warning:[/] {escape(finding.message)}")


def _print_atlas(atlas) -> None:
    console.print(engine_text(atlas))
    console.print(methods_table(atlas))
    console.print(assessment_text(atlas))
    console.print(rules_text(atlas))
    console.print(projection_text(atlas))
    agreement = agreement_table(atlas)
    if agreement is not None:
        console.print(agreement)
    for method in atlas.methods:
        console.print(personas_table(atlas, method))


def _summary_json(atlas, path: Path) -> dict:
    from soundatlas.clustering.assessment import DEGENERATE_RULE

    manifest = atlas.manifest
    assessment = atlas.assessment
    personas = atlas.personas.drop(columns=[c for c in atlas.personas if c.startswith("mean_")])
    return {
        "path": str(path),
        "source": manifest.get("source"),
        "rows": manifest.get("rows"),
        "dropped": atlas.report.dropped,
        "methods": {
            method: summary | {"warnings": list(assessment.warnings.get(method, ()))}
            for method, summary in (manifest.get("methods") or {}).items()
        },
        "recommended": {"method": assessment.recommended, "reason": assessment.reason},
        "degenerate_rule": DEGENERATE_RULE,
        "agreement": manifest.get("agreement"),
        "timings": manifest.get("timings"),
        "engine": manifest.get("engine") or {"name": "local"},
        "personas": personas.to_dict(orient="records"),
    }
