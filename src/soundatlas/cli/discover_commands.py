"""Commands that explore an atlas: similar, playlist, search, artist, genres.

Each prints a readable table, or pure JSON on stdout with ``--json``; ``-o FILE`` saves the
result where that makes sense; ``-n`` is how many results to give (songs, playlist songs, table
rows). A query naming several songs or artists exits with code 2 and lists the candidates to
choose from. The library (and pandas) is imported inside each command, so that ``--help``
loads none of it.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from soundatlas.cli import app
from soundatlas.cli.render import JsonOption, console, err_console, escape, fmt, print_json
from soundatlas.config import PLAYLIST_ORDERS
from soundatlas.errors import AmbiguousQuery, ConfigError
from soundatlas.files import check_not_input

if TYPE_CHECKING:
    import pandas as pd

    from soundatlas.atlas.model import Atlas
    from soundatlas.discovery.queryindex import QueryIndex

AtlasArgument = Annotated[Path, typer.Argument(metavar="ATLAS", help="Atlas folder.")]


@contextlib.contextmanager
def _asks_to_choose(*, as_json: bool) -> Iterator[None]:
    """Turn an ambiguous query into the list of candidates and exit code 2."""
    try:
        yield
    except AmbiguousQuery as exc:
        import pandas as pd

        candidates = exc.candidates if isinstance(exc.candidates, pd.DataFrame) else None
        if as_json:
            print_json({"error": str(exc), "candidates": _records(candidates)})
        else:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            for line in _candidate_lines(candidates):
                err_console.print(line, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


def _candidate_lines(candidates: pd.DataFrame | None) -> list[str]:
    import pandas as pd

    if candidates is None or candidates.empty:
        return []
    lines = ["Candidates:"]
    for number, row in enumerate(candidates.to_dict(orient="records"), start=1):
        if "track_id" in row:
            year = f" ({row['release_year']})" if pd.notna(row.get("release_year")) else ""
            by = f" — {row['artists']}" if row.get("artists") else ""
            text = f"{row['name']}{by}{year}  [id {row['track_id']}]"
        else:
            songs = row["songs"]
            text = f"{row['artist']}  ({songs} song{'' if songs == 1 else 's'})"
        lines.append(f"  {number:>2}. {escape(text)}")
    return lines


def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None:
        return []
    return json.loads(frame.to_json(orient="records", force_ascii=False))


def _load(atlas_dir: Path, output: Path | None) -> Atlas:
    """The atlas, once ``-o`` is known not to overwrite it or write inside it."""
    from soundatlas import load_atlas

    if output is not None:
        check_not_input(output, atlas_dir)
    return load_atlas(atlas_dir)


def _write_frame(frame: pd.DataFrame, output: Path) -> None:
    from soundatlas.reports.exports import write_table

    suffix = output.suffix.lower().lstrip(".")
    if suffix not in ("csv", "json", "parquet"):
        raise ConfigError(f"-o {output}: save as .csv, .json or .parquet.")
    write_table(frame, output, suffix)
    err_console.print(f"Wrote {escape(str(output))}.")


def _write_json(data: dict, output: Path) -> None:
    from soundatlas.formulas import write_json

    write_json(data, output)
    err_console.print(f"Wrote {escape(str(output))}.")


def _limits(pairs: list[str] | None, option: str) -> dict[str, float]:
    """``["energy=0.5"]`` -> ``{"energy": 0.5}``."""
    limits: dict[str, float] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        try:
            number = float(value) if sep and name.strip() else None
        except ValueError:
            number = None
        if number is None:
            raise ConfigError(f"{option} {pair}: write it as feature=value, e.g. energy=0.5.")
        limits[name.strip()] = number
    return limits


_PERSONA_ORDER = ("kmeans", "hierarchical", "dbscan")
"""Whose persona a song table shows: the first method the atlas ran."""


def _persona_column(frame: pd.DataFrame) -> str | None:
    from soundatlas.clustering.result import PERSONA_COLUMNS

    return next((PERSONA_COLUMNS[m] for m in _PERSONA_ORDER if PERSONA_COLUMNS[m] in frame), None)


def _saved_index(atlas_dir: Path) -> QueryIndex | None:
    """The atlas's saved discovery index, read without pandas (`open_saved_index`); None when
    it has none, or holds a sample: then the whole atlas is loaded."""
    from soundatlas.discovery.saved import open_saved_index

    return open_saved_index(atlas_dir)


def _song_table(title: str, rows: pd.DataFrame | list[dict], columns: dict[str, str]) -> Table:
    """A table of songs (a frame, or its rows as dicts): ``columns`` maps columns to
    headers."""
    table = Table(title=escape(title))
    for header in columns.values():
        table.add_column(header, justify="right" if header in ("#", "similarity") else "left")
    records = rows if isinstance(rows, list) else _frame_rows(rows)
    for row in records:
        table.add_row(*[fmt(_plain(row.get(c)), _DIGITS.get(c, 3)) for c in columns])
    return table


_DIGITS = {"popularity": 0, "release_year": 0, "tempo": 1, "z": 2, "entropy": 2, "purity": 2}


def _frame_rows(frame: pd.DataFrame) -> list[dict]:
    """A frame's rows as dicts, missing values (NaN, NA, NaT) as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value


def _song_rows(columns: dict[str, object]) -> list[dict]:
    """Rows as dicts from a library result's columns (`similar_rows`, `find`)."""
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


@app.command()
def similar(
    atlas_dir: AtlasArgument,
    query: Annotated[str, typer.Argument(help="Track id, or title (and artist) text.")],
    n: Annotated[int, typer.Option("--n", "-n", help="Number of songs.")] = 10,
    same_cluster: Annotated[
        str | None, typer.Option(metavar="METHOD", help="Only songs in the query's cluster.")
    ] = None,
    exclude_artist: Annotated[
        bool, typer.Option("--exclude-artist", help="Leave out the query's artists.")
    ] = False,
    features: Annotated[
        str | None, typer.Option(help="Compare on these features only (comma-separated).")
    ] = None,
    also: Annotated[
        list[str] | None,
        typer.Option(metavar="QUERY", help="More songs: find songs like all of them. Repeatable."),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="sound|sound+context",
            help="sound: audio features only; sound+context (default): also popularity, "
            "release year, duration and genre.",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Save as .csv, .json or .parquet.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Songs that sound most like a song (or like several, with --also)."""
    chosen = [f.strip() for f in features.split(",")] if features else None
    options = {"n": n, "same_cluster": same_cluster, "exclude_same_artist": exclude_artist}
    about = f"{len(also) + 1} songs" if also else repr(query)
    columns = {"rank": "#", "name": "song", "artists": "artists", "similarity": "similarity"}
    index = _saved_index(atlas_dir) if output is None and not as_json else None
    if index is not None:
        from soundatlas.clustering.result import PERSONA_COLUMNS
        from soundatlas.discovery.similar import similar_rows, similarity_for

        with _asks_to_choose(as_json=False):
            kind = similarity_for(index, by)
            found = similar_rows(
                index, [query, *(also or [])], features=chosen, similarity=kind, **options
            )
        persona = next((m for m in _PERSONA_ORDER if m in index.methods), None)
        shown = {
            "rank": range(1, len(found.rows) + 1),
            "name": index.names_of(found.rows),
            "artists": index.artist_text(found.rows),
            "similarity": found.similarity,
            "closest": found.closest,
            "differs": found.differs,
        }
        if persona:
            columns[PERSONA_COLUMNS[persona]] = "persona"
            shown[PERSONA_COLUMNS[persona]] = index.persona_names(persona, found.rows)
        columns |= {"closest": "closest", "differs": "differs most"}
        title = f"Songs like {about} (by {kind})"
        console.print(_song_table(title, _song_rows(shown), columns))
        return
    from soundatlas.discovery import similar_to_many, similar_tracks, similarity_for

    atlas = _load(atlas_dir, output)
    with _asks_to_choose(as_json=as_json):
        kind = similarity_for(atlas, by)
        if also:
            result = similar_to_many(
                atlas, [query, *also], features=chosen, similarity=kind, **options
            )
        else:
            result = similar_tracks(atlas, query, features=chosen, similarity=kind, **options)
    if output is not None:
        _write_frame(result, output)
    if as_json:
        print_json(_records(result))
        return
    persona = _persona_column(result)
    if persona:
        columns[persona] = "persona"
    if "closest" in result:
        columns |= {"closest": "closest", "differs": "differs most"}
    console.print(_song_table(f"Songs like {about} (by {kind})", result, columns))


@app.command()
def playlist(
    atlas_dir: AtlasArgument,
    method: Annotated[str, typer.Option(help="Method of --cluster.")] = "kmeans",
    cluster: Annotated[int | None, typer.Option(help="Take songs from this cluster.")] = None,
    seed: Annotated[
        list[str] | None, typer.Option(metavar="QUERY", help="Seed song. Repeatable.")
    ] = None,
    seed_artist: Annotated[
        list[str] | None, typer.Option(metavar="NAME", help="Seed artist. Repeatable.")
    ] = None,
    size: Annotated[int, typer.Option("--size", "-n", help="Songs wanted, 1-100.")] = 20,
    threshold: Annotated[float, typer.Option(help="Least similarity, 0.70-1.00.")] = 0.80,
    minimum: Annotated[
        list[str] | None,
        typer.Option("--min", metavar="FEATURE=VALUE", help="Lower limit. Repeatable."),
    ] = None,
    maximum: Annotated[
        list[str] | None,
        typer.Option("--max", metavar="FEATURE=VALUE", help="Upper limit. Repeatable."),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option("--target", metavar="FEATURE=VALUE", help="Prefer songs near. Repeatable."),
    ] = None,
    no_explicit: Annotated[bool, typer.Option("--no-explicit", help="No explicit songs.")] = False,
    max_per_artist: Annotated[int, typer.Option(help="Most songs per artist.")] = 2,
    order: Annotated[str, typer.Option(help=f"One of: {', '.join(PLAYLIST_ORDERS)}.")] = "score",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Save as .csv, .json or .txt (Spotify URLs)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A playlist from a cluster and/or seed songs and artists, within limits you set."""
    from soundatlas.discovery import (
        PlaylistRequest,
        generate_playlist,
        playlist_json,
        save_playlist,
    )

    request = PlaylistRequest(
        method=method,
        cluster=cluster,
        seeds=tuple(seed or ()),
        seed_artists=tuple(seed_artist or ()),
        size=size,
        threshold=threshold,
        minimum=_limits(minimum, "--min"),
        maximum=_limits(maximum, "--max"),
        target=_limits(target, "--target"),
        allow_explicit=not no_explicit,
        max_per_artist=max_per_artist,
        order=order,
    )
    atlas = _load(atlas_dir, output)
    with _asks_to_choose(as_json=as_json):
        result = generate_playlist(atlas, request)
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}")
    if result.tracks.empty:
        # Nothing to save or show: the reason, and a failing exit code for scripts.
        err_console.print(escape(result.message))
        raise typer.Exit(1)
    if output is not None:
        save_playlist(result, output)
        err_console.print(f"Wrote {escape(str(output))}.")
    if as_json:
        print_json(json.loads(playlist_json(result)))
        return
    columns = {
        "position": "#",
        "name": "song",
        "artists": "artists",
        "similarity": "similarity",
        "energy": "energy",
        "tempo": "tempo",
    }
    persona = _persona_column(result.tracks)
    if persona:
        columns[persona] = "persona"
    console.print(_song_table(f"Playlist ({order} order)", result.tracks, columns))
    console.print(escape(result.message))


@app.command(name="search")
def search_command(
    atlas_dir: AtlasArgument,
    text: Annotated[str, typer.Argument(help="Part of a title or an artist's name.")],
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Most songs, and most artists, shown.")
    ] = 20,
    offset: Annotated[
        int, typer.Option(help="Skip this many of the best results (the next page).")
    ] = 0,
    as_json: JsonOption = False,
) -> None:
    """Find songs and artists by name: any case, accents and punctuation optional; a typo
    finds the closest name ("did you mean")."""
    index = None if as_json else _saved_index(atlas_dir)
    if index is not None:
        from soundatlas.discovery.search import artist_columns, find, page_text, song_columns

        found = find(index, text, limit=limit, offset=offset)
        rows, tiers = found.rows[found.page], found.tiers[found.page]
        codes, artist_tiers = found.codes[found.page], found.artist_tiers[found.page]
        first = found.offset + 1
        songs = {
            **song_columns(index, rows, tiers, first=first),
            "name": index.names_of(rows),
            "artists": index.artist_text(rows),
            "popularity": index.popularity[rows],
            "track_id": index.ids_of(rows),
        }
        _print_search(
            text,
            found.suggestion,
            (
                _song_rows(songs),
                _song_rows(artist_columns(index, codes, artist_tiers, first=first)),
            ),
            (
                page_text(found.offset, len(rows), len(found.rows), "songs"),
                page_text(found.offset, len(codes), len(found.codes), "artists"),
            ),
            found.offset,
            (len(found.rows), len(found.codes)),
        )
        return
    from soundatlas.discovery import search

    found = search(_load(atlas_dir, None), text, limit=limit, offset=offset)
    if as_json:
        print_json(
            {
                "songs": _records(found.songs),
                "artists": _records(found.artists),
                "total_songs": found.total_songs,
                "total_artists": found.total_artists,
                "offset": found.offset,
                "suggestion": found.suggestion,
            }
        )
        return
    _print_search(
        text,
        found.suggestion,
        (found.songs, found.artists),
        (found.page_text("songs"), found.page_text("artists")),
        found.offset,
        (found.total_songs, found.total_artists),
    )


def _print_search(
    text: str,
    suggestion: str | None,
    tables: tuple[pd.DataFrame | list[dict], pd.DataFrame | list[dict]],
    pages: tuple[str, str],
    offset: int,
    totals: tuple[int, int],
) -> None:
    """A search's songs and artists (``tables``), each titled with its page (``pages``), and
    how to see more."""
    if suggestion is not None:
        console.print(
            f"Nothing matches {escape(repr(text))}. Did you mean "
            f"[bold]{escape(suggestion)}[/]? Showing its results."
        )
        text = suggestion
    songs = {"rank": "#", "name": "song", "artists": "artists", "match": "match"}
    songs |= {"popularity": "popularity", "releases": "releases", "other_titles": "also as"}
    songs |= {"track_id": "track id"}
    console.print(_song_table(f"Songs matching {text!r}: {pages[0]}", tables[0], songs))
    artists = {"rank": "#", "artist": "artist", "match": "match", "songs": "songs"}
    artists |= {"popularity": "popularity", "genres": "genres"}
    console.print(_song_table(f"Artists matching {text!r}: {pages[1]}", tables[1], artists))
    shown = offset + max(len(tables[0]), len(tables[1]))
    if shown < max(totals):
        console.print(f"More: --offset {shown}")


@app.command()
def artist(
    atlas_dir: AtlasArgument,
    name: Annotated[str, typer.Argument(help="Artist name (accents and case optional).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Save the whole profile as .json.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """An artist's songs, clusters, sound against the catalog, and similar artists."""
    from soundatlas.clustering.result import METHOD_TITLES
    from soundatlas.discovery import artist_profile

    atlas = _load(atlas_dir, output)
    with _asks_to_choose(as_json=as_json):
        profile = artist_profile(atlas, name)
    data = {
        "name": profile.name,
        "dominant_personas": profile.dominant_personas,
        "genres": profile.genres,
        "profile": _records(profile.profile),
        "cluster_shares": _records(profile.cluster_shares),
        "top_songs": _records(profile.top_songs),
        "similar_artists": _records(profile.similar_artists),
        "songs": _records(profile.songs),
    }
    if output is not None:
        if output.suffix.lower() != ".json":
            raise ConfigError(f"-o {output}: an artist profile is saved as .json.")
        _write_json(data, output)
    if as_json:
        print_json(data)
        return
    personas = ", ".join(
        f"{METHOD_TITLES[m]}: {escape(p)}" for m, p in profile.dominant_personas.items()
    )
    console.print(f"[bold]{escape(profile.name)}[/] — {len(profile.songs):,} songs; {personas}")
    console.print(f"Genres: {escape(', '.join(profile.genres[:10])) or '—'}")
    sound = Table(title="Sound against the catalog")
    for header in ("feature", "mean", "catalog", "z"):
        sound.add_column(header, justify="left" if header == "feature" else "right")
    for row in profile.profile.itertuples():
        sound.add_row(row.feature, fmt(row.mean), fmt(row.catalog_mean), f"{row.z:+.2f}")
    console.print(sound)
    shares = Table(title="Songs per cluster")
    for header in ("method", "cluster", "persona", "songs", "share"):
        shares.add_column(header, justify="right" if header in ("songs", "share") else "left")
    for row in profile.cluster_shares.itertuples():
        shares.add_row(
            row.method,
            str(row.cluster),
            escape(str(row.persona)),
            fmt(row.songs),
            f"{row.share:.0%}",
        )
    console.print(shares)
    top = {"name": "song", "popularity": "popularity", "release_year": "year"}
    console.print(_song_table("Top songs", profile.top_songs, top))
    alike = {"artist": "artist", "similarity": "similarity", "songs": "songs"}
    console.print(_song_table("Artists who sound alike", profile.similar_artists, alike))


@app.command()
def genres(
    atlas_dir: AtlasArgument,
    method: Annotated[str, typer.Option(help="Method whose clusters genres are compared with.")] = (
        "kmeans"
    ),
    min_songs: Annotated[int, typer.Option(help="Leave out genres with fewer songs.")] = 5,
    outliers: Annotated[int, typer.Option(help="Candidate mislabels to list.")] = 50,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Genre rows shown in the table.")
    ] = 30,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Save: .csv (genre table) or .json (everything)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Genre labels against the sound: purity and entropy per genre, NMI, likely mislabels."""
    from soundatlas.clustering.result import METHOD_TITLES
    from soundatlas.discovery import genre_lens

    lens = genre_lens(
        _load(atlas_dir, output), method=method, min_songs=min_songs, outliers=outliers
    )
    data = {
        "method": lens.method,
        "agreement": _records(lens.agreement),
        "genres": _records(lens.genres),
        "outliers": _records(lens.outliers),
    }
    if output is not None:
        if output.suffix.lower() == ".json":
            _write_json(data, output)
        else:
            _write_frame(lens.genres, output)
    if as_json:
        print_json(data)
        return
    agreement = Table(title="Genre–cluster agreement (first genre of each song)")
    for header in ("method", "NMI", "adjusted Rand", "songs"):
        agreement.add_column(header, justify="left" if header == "method" else "right")
    for row in lens.agreement.itertuples():
        agreement.add_row(row.title, fmt(row.nmi), fmt(row.adjusted_rand), fmt(row.songs))
    console.print(agreement)
    shown = lens.genres.head(limit)
    columns = {"genre": "genre", "songs": "songs", "top_persona": "main persona"}
    columns |= {"purity": "purity", "entropy": "entropy (bits)", "clusters": "clusters"}
    title = f"Genres by purity — {METHOD_TITLES[method]}"
    console.print(_song_table(title, shown, columns))
    if len(lens.genres) > len(shown):
        console.print(f"… {len(lens.genres) - len(shown):,} more genres (--limit, --json or -o).")
    candidates = {"rank": "#", "name": "song", "artists": "artists", "genre": "labelled"}
    candidates |= {"nearest_genre": "sounds like", "z": "z"}
    console.print(
        _song_table("Songs farthest from their genre's sound", lens.outliers.head(15), candidates)
    )
