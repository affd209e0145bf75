"""Turn a user's track file into the canonical track table, and say what was wrong with it.

Rows that cannot be clustered are left out, never silently: each one is counted under the rule it
broke, with the lines where it happens, and the original rows are kept so exports can give the
user's file back with our columns added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from soundatlas.errors import CatalogError
from soundatlas.ingest.columns import NUMERIC_COLUMNS, map_columns, quoted
from soundatlas.ingest.duplicates import combine_genres, find_duplicates
from soundatlas.ingest.reading import RaggedRow, RawTable, read_table
from soundatlas.ingest.schema import (
    AUDIO_FEATURES,
    PERCENT_SUFFIX,
    RANGES,
    SPOTIFY_TRACK_ID,
    normalise_header,
    passed_over,
)
from soundatlas.ingest.validation import SHOWN_ROWS, Finding, ValidationReport, where
from soundatlas.ingest.values import (
    parse_flags,
    parse_name_lists,
    parse_years,
    to_numbers,
    uses_decimal_comma,
)

TYPICAL_TEMPO = 120.0
"""Tempo given to songs with none detected when no other song has one either."""
MIN_TRACKS = 10
"""Fewest usable tracks worth clustering: below this, scores and personas mean nothing."""

STATUS_COLUMN = "_sa_status"
TRACK_COLUMN = "_sa_track"
LINE_COLUMN = "_sa_line"
"""In the original rows: the line (or record) of the file each row was read from."""
TRACK_LINE_COLUMN = "_sa_track_line"
"""In an atlas written as Parquet parts: the line of the row a row's song is kept under (itself,
an earlier copy, or null if the row was left out)."""
INTERNAL_COLUMNS = (STATUS_COLUMN, TRACK_COLUMN, LINE_COLUMN, TRACK_LINE_COLUMN)
"""Columns SoundAtlas adds to the original rows; never part of an export."""


@dataclass(frozen=True)
class Catalog:
    """A validated track table.

    Attributes
    ----------
    tracks
        The canonical table, one row per usable track (see `soundatlas.ingest.schema`), with
        ``source_row``: the position of the row it came from in ``original``.
    original
        Every row of the file as read, plus ``_sa_line`` (where it is in the file),
        ``_sa_track`` (its row in ``tracks``, -1 if left out) and ``_sa_status`` (why it is not
        a track of its own; empty when it is).
    report
        What was found and done, rule by rule.
    ragged
        Records of a CSV file whose field count did not match the header (not in
        ``original``: they cannot be split into its columns).
    """

    tracks: pd.DataFrame
    original: pd.DataFrame
    report: ValidationReport
    ragged: tuple[RaggedRow, ...] = ()

    def rejected_rows(self) -> pd.DataFrame:
        """Every row left out of clustering, with ``soundatlas_line``, ``soundatlas_reason``
        and, for ragged records, ``soundatlas_raw_text`` (the record as written)."""
        original = self.original
        left_out = original[original[TRACK_COLUMN] < 0]
        table = left_out.drop(columns=[TRACK_COLUMN, LINE_COLUMN, STATUS_COLUMN])
        table.insert(0, "soundatlas_reason", left_out[STATUS_COLUMN].to_numpy())
        table.insert(0, "soundatlas_line", left_out[LINE_COLUMN].to_numpy())
        if self.ragged:
            ragged = pd.DataFrame(
                {
                    "soundatlas_line": [r.line for r in self.ragged],
                    "soundatlas_reason": "ragged row",
                    "soundatlas_raw_text": [r.text for r in self.ragged],
                }
            )
            table = pd.concat([table, ragged], ignore_index=True)
            table = table.sort_values("soundatlas_line", kind="stable", na_position="last")
        return table.reset_index(drop=True)


def load_catalog(
    source: str | Path | pd.DataFrame,
    *,
    features: Sequence[str] = AUDIO_FEATURES,
    columns: dict[str, str] | None = None,
    min_tracks: int = MIN_TRACKS,
    name: str | None = None,
    fill_tempo: float | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Catalog:
    """Read, normalise and validate a track table.

    Parameters
    ----------
    source
        A CSV/TSV/pipe-separated, Parquet, JSON or JSON Lines file, or a DataFrame.
    features
        The numeric columns that will be clustered: a row missing any of them is left out.
    columns
        ``{canonical: original}`` to name columns the aliases do not recognise,
        e.g. ``{"name": "Title"}``.
    min_tracks
        Fewest usable tracks accepted.
    name
        What to call the source in messages (defaults to the path, or "<DataFrame>").
    fill_tempo
        Tempo for songs whose tempo is 0 (undetected); by default the file's median. Adding
        songs to an existing atlas passes the atlas's median.
    progress
        Called with a stage name and the fraction done, for progress bars.

    Raises
    ------
    CatalogError
        If the file cannot be read, lacks a required column, or has too few usable rows.

    Examples
    --------
    >>> catalog = load_catalog("tracks.csv")  # doctest: +SKIP
    >>> catalog.report.summary()  # doctest: +SKIP
    '11,200 rows read from tracks.csv; 10,963 tracks kept; 237 merged into earlier rows'
    """
    report_progress = progress or (lambda stage, fraction: None)
    report_progress("read", 0.0)
    raw = _raw_from(source)
    if name is None:
        name = str(source) if not isinstance(source, pd.DataFrame) else "<DataFrame>"
    report_progress("read", 0.5)
    table = RowChecker(raw, name, tuple(features), columns or {}, fill_tempo).run(min_tracks)
    report_progress("read", 1.0)
    return table


def _raw_from(source: str | Path | pd.DataFrame) -> RawTable:
    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True).copy()
        frame.columns = [str(c) for c in frame.columns]
        return RawTable(frame, np.arange(1, len(frame) + 1), "dataframe")
    return read_table(source)


@dataclass(frozen=True)
class ColumnChoices:
    """How whole columns are read, decided from their values: which headers write decimals
    with a comma (``0,5``), and whether durations are ``m:ss`` clocks or seconds.

    The local engine decides from every row; the Spark engine decides once from the first rows
    and applies the same choices to every batch, so all batches read a column the same way.
    """

    decimal_comma: tuple[str, ...] = ()
    clock_durations: bool = False
    seconds_durations: bool = False

    @classmethod
    def of(
        cls, frame: pd.DataFrame, column_map: dict[str, str], delimiter: str | None
    ) -> ColumnChoices:
        """The choices the values of ``frame`` call for."""
        comma_is_free = delimiter not in (None, ",")
        decimal_comma = tuple(
            header
            for canonical in NUMERIC_COLUMNS
            if (header := column_map.get(canonical)) is not None
            and uses_decimal_comma(frame[header], comma_is_free=comma_is_free)
        )
        clock = seconds = False
        header = column_map.get("duration_ms")
        if header is not None and normalise_header(header) not in _MILLISECOND_HEADERS:
            text = frame[header].astype("string").str.strip()
            clock = bool(text.str.match(_CLOCK).fillna(False).mean() > 0.5)
            if not clock:
                values, _ = to_numbers(frame[header], decimal_comma=header in decimal_comma)
                seconds = bool(values.median() < 10_000)
        return cls(decimal_comma, clock, seconds)


_MILLISECOND_HEADERS = ("durationms", "trackdurationms", "lengthms")
_CLOCK = r"^(?:(\d+):)?(\d{1,3}):(\d{2})$"


@dataclass(frozen=True)
class RuleSpec:
    """One rule a row can break, in words: what is wrong with the subject, and what was done."""

    rule: str
    severity: str
    column: str | None
    problem: str
    """Completes "<subject> …": ``"is not a number"``."""
    outcome: str
    """What was done and what the user can do."""


def finding_of(
    source: str,
    word: str,
    spec: RuleSpec,
    count: int,
    lines: Sequence[int],
    examples: Sequence[str] = (),
) -> Finding:
    """The `Finding` for ``count`` rows breaking ``spec``, first seen on ``lines``."""
    subject = f"column '{spec.column}'" if spec.column else "a row"
    found = f"; found {quoted(list(examples))}" if examples else ""
    rows = f"{count:,} row{'s' if count > 1 else ''}"
    shown = tuple(int(x) for x in lines[:SHOWN_ROWS])
    message = (
        f"{source}: {subject} {spec.problem} on {where(word, shown, count)} "
        f"({rows}{found}): {spec.outcome}"
    )
    return Finding(spec.rule, spec.severity, count, message, spec.column, shown)  # type: ignore[arg-type]


class RowChecker:
    """One pass of the row rules over a raw table: map columns, parse values, record findings,
    pick tracks.

    `load_catalog` runs it on a whole file; the spark engine runs the same rules on each batch
    of rows (`canonical`, then `status` and `rule_lists`), passing ``choices`` made once for the
    whole file and ``row_hashes`` computed by Spark, so both engines judge rows alike.
    """

    def __init__(
        self,
        raw: RawTable,
        source: str,
        features: tuple[str, ...],
        overrides: dict[str, str],
        fill_tempo: float | None,
        *,
        choices: ColumnChoices | None = None,
        row_hashes: np.ndarray | None = None,
    ) -> None:
        self.raw = raw
        self.fill_tempo = fill_tempo
        self.source = source
        self.features = features
        self.frame = raw.frame
        self.lines = raw.lines
        self.word = raw.location_word
        self.findings: list[Finding] = []
        self.specs: dict[str, RuleSpec] = {}
        self.hits: list[tuple[RuleSpec, np.ndarray, Callable[[np.ndarray], list[str]] | None]] = []
        self.status = np.full(len(self.frame), "", dtype=object)
        self.column_map = map_columns(
            list(self.frame.columns), features, overrides, source, written=raw.names_as_written
        )
        self.choices = choices or ColumnChoices.of(self.frame, self.column_map, raw.delimiter)
        self._given_hashes = row_hashes

    def _original(self, canonical: str) -> pd.Series | None:
        header = self.column_map.get(canonical)
        return None if header is None else self.frame[header]

    # -- the pass ----------------------------------------------------------------------------
    def run(self, min_tracks: int) -> Catalog:
        canonical = self.canonical()
        self._ragged_rows()
        self._undetected_tempo(canonical)
        usable = self.status == ""
        representative = self._merge_duplicates(canonical, usable)
        return self._finish(canonical, representative, min_tracks)

    def canonical(self) -> pd.DataFrame:
        """The canonical columns of every row; rules broken are in ``status`` and ``hits``."""
        for text in self.raw.notes:
            self._note(text)
        written = self.raw.names_as_written
        for canonical, others in passed_over(self.column_map, list(self.frame.columns)).items():
            chosen = self.column_map[canonical]
            names = [written[self.frame.columns.get_loc(h)] for h in others]
            self._note(
                f"column '{chosen}' was read as {canonical}; {quoted(names)} could be too and "
                f"{'was' if len(names) == 1 else 'were'} not used. To use another, pass "
                f"--column {canonical}=<its name>"
            )
        canonical = pd.DataFrame(index=self.frame.index)
        canonical["track_id"] = self._track_ids()
        canonical["name"] = self._text("name")
        canonical["artists"] = self._names("artists", split_commas=False, lower=False)
        canonical["genres"] = self._names("genres", split_commas=True, lower=True)
        for column in NUMERIC_COLUMNS:
            canonical[column] = self._numbers(column)
        if self.choices.decimal_comma:
            self._note(
                f"column(s) {quoted(self.choices.decimal_comma)} write decimals with a "
                "comma (0,5); read as 0.5"
            )
        canonical["explicit"] = self._flags()
        canonical["release_year"] = self._years()
        return canonical

    def rule_lists(self) -> tuple[list[list[str]], list[list[str | None]]]:
        """For every row, the rules it broke (in the order they were checked) and an example
        value for each (None where the rule shows none): what a batch reports to an engine
        that counts findings over many batches."""
        rules: list[list[str]] = [[] for _ in range(len(self.frame))]
        examples: list[list[str | None]] = [[] for _ in range(len(self.frame))]
        for spec, mask, example in self.hits:
            rows = np.flatnonzero(mask)
            texts = example(mask) if example is not None else [None] * len(rows)
            for row, text in zip(rows, texts, strict=True):
                rules[row].append(spec.rule)
                examples[row].append(text)
        return rules, examples

    @cached_property
    def row_hashes(self) -> np.ndarray:
        """A 64-bit hash of every row's original cells (as given, or computed on first use):
        ids for rows without one, and the key that finds exact duplicate rows."""
        if self._given_hashes is not None:
            return self._given_hashes
        return pd.util.hash_pandas_object(self.frame, index=False).to_numpy()

    def _track_ids(self) -> pd.Series:
        series = self._original("track_id")
        if series is None:
            hashes = self.row_hashes
            return pd.Series([f"sa{h:016x}" for h in hashes], index=self.frame.index, dtype=object)
        text = series.astype("string").fillna("").str.strip()
        extracted = text.str.extract(SPOTIFY_TRACK_ID, expand=False)
        text = extracted.fillna(text)
        blank = (text == "").to_numpy()
        if blank.any():
            fallback = self.row_hashes[blank]
            text = text.astype(object)
            text[blank] = [f"sa{h:016x}" for h in fallback]
            self._finding(
                "missing-track-id",
                "fixed",
                blank,
                self.column_map["track_id"],
                "is empty",
                "an id was made from each row's content; fill in the ids to look songs up by id.",
            )
        return text.astype(object)

    def _text(self, canonical: str) -> pd.Series:
        series = self._original(canonical)
        if series is None:
            return pd.Series("", index=self.frame.index, dtype=object)
        return series.astype("string").fillna("").str.strip().astype(object)

    def _names(self, canonical: str, *, split_commas: bool, lower: bool) -> pd.Series:
        series = self._original(canonical)
        if series is None:
            empty = np.empty(len(self.frame), dtype=object)
            empty[:] = [[] for _ in range(len(self.frame))]
            return pd.Series(empty, index=self.frame.index, dtype=object)
        return parse_name_lists(series, split_commas=split_commas, lower=lower)

    def _numbers(self, canonical: str) -> pd.Series:
        series = self._original(canonical)
        if series is None:
            return pd.Series(np.nan, index=self.frame.index, dtype="float64")
        header = self.column_map[canonical]
        values, not_numeric = to_numbers(series, decimal_comma=header in self.choices.decimal_comma)
        values, not_numeric = self._rescale(canonical, header, series, values, not_numeric)
        required = canonical in self.features
        severity = "rejected" if required else "fixed"
        consequence = "left out of clustering" if required else "the value was cleared, rows kept"
        self._finding(
            f"non-numeric {canonical}",
            severity,
            not_numeric.to_numpy(),
            header,
            "is not a number",
            f"{consequence}. Fix or remove the text in those cells.",
            examples=lambda mask, cells=series: cells[mask].astype(str).tolist(),
        )
        missing = values.isna().to_numpy() & ~not_numeric.to_numpy()
        if required:
            self._finding(
                f"missing {canonical}",
                "rejected",
                missing,
                header,
                "has no value",
                "left out of clustering. Fill in the values or remove the rows.",
                examples=lambda mask, cells=series: _as_written(cells[mask], blank=None),
            )
        bounds = RANGES.get(canonical)
        if bounds is not None:
            outside = (values.notna() & ~values.between(bounds.low, bounds.high)).to_numpy()
            self._finding(
                f"out-of-range {canonical}",
                severity,
                outside,
                header,
                f"is outside {bounds.low:g} to {bounds.high:g} ({bounds.meaning})",
                f"{consequence}. Check the column holds what its name says.",
                examples=lambda mask, cells=series: _as_written(cells[mask], blank=""),
            )
            if not required:
                values = values.where(~outside)
        return values

    def _rescale(
        self,
        canonical: str,
        header: str,
        series: pd.Series,
        values: pd.Series,
        not_numeric: pd.Series,
    ) -> tuple[pd.Series, pd.Series]:
        """Convert percent columns, m:ss or h:mm:ss durations and durations in seconds."""
        normal = normalise_header(header)
        if normal.endswith(PERCENT_SUFFIX) and canonical in AUDIO_FEATURES:
            self._note(f"column '{header}' is in percent; divided by 100")
            return values / 100.0, not_numeric
        if canonical == "duration_ms" and self.choices.clock_durations:
            text = series.astype("string").str.strip()
            clock = text.str.extract(_CLOCK)
            parts = clock.apply(pd.to_numeric, errors="coerce").fillna({0: 0})
            seconds = (parts[0] * 3600 + parts[1] * 60 + parts[2]).astype("float64")
            self._note(f"column '{header}' holds m:ss durations; converted to milliseconds")
            unreadable = seconds.isna() & text.fillna("").ne("")
            return seconds * 1000.0, unreadable.astype(bool)
        if canonical == "duration_ms" and self.choices.seconds_durations:
            self._note(f"column '{header}' looks like seconds; converted to milliseconds")
            return values * 1000.0, not_numeric
        return values, not_numeric

    def _flags(self) -> pd.Series:
        series = self._original("explicit")
        if series is None:
            return pd.Series(pd.NA, index=self.frame.index, dtype="boolean")
        flags = parse_flags(series)
        unknown = (flags.isna() & series.astype("string").fillna("").str.strip().ne("")).to_numpy()
        self._finding(
            "unreadable explicit",
            "fixed",
            unknown,
            self.column_map["explicit"],
            "is not 0/1/true/false",
            "the value was cleared, rows kept. Use 0/1 or true/false.",
            examples=lambda mask, cells=series: cells[mask].astype(str).tolist(),
        )
        return flags

    def _years(self) -> pd.Series:
        series = self._original("release_year")
        if series is None:
            return pd.Series(pd.NA, index=self.frame.index, dtype="Int64")
        years = parse_years(series)
        given = series.astype("string").fillna("").str.strip().ne("")
        unreadable = (years.isna() & given).to_numpy()
        self._finding(
            "unreadable release_year",
            "fixed",
            unreadable,
            self.column_map["release_year"],
            "holds no year between 1000 and 2100",
            "the year was cleared, rows kept. Use a year (1999) or a date (1999-07-15).",
            examples=lambda mask, cells=series: cells[mask].astype(str).tolist(),
        )
        return years

    def _ragged_rows(self) -> None:
        ragged = self.raw.ragged
        if not ragged:
            return
        lines = tuple(r.line for r in ragged if r.line is not None)
        counts = sorted({r.found for r in ragged})
        self.findings.append(
            ragged_finding(self.source, self.word, len(ragged), lines, ragged[0].expected, counts)
        )

    def _undetected_tempo(self, canonical: pd.DataFrame) -> None:
        if "tempo" not in self.features:
            return
        tempo = canonical["tempo"]
        zero = (tempo == 0).to_numpy() & (self.status == "")
        if not zero.any():
            return
        detected = tempo[(tempo > 0).to_numpy() & (self.status == "")]
        fill, source = tempo_fill(
            self.fill_tempo, float(detected.median()) if len(detected) else None
        )
        canonical.loc[zero, "tempo"] = fill
        spec = undetected_tempo_spec(self.column_map["tempo"], fill, source)
        self._finding(spec.rule, spec.severity, zero, spec.column, spec.problem, spec.outcome)

    def _merge_duplicates(self, canonical: pd.DataFrame, usable: np.ndarray) -> np.ndarray:
        """For every row, the row that stands for it (itself, an earlier row, or -1)."""
        merged = find_duplicates(self.row_hashes, canonical["track_id"].to_numpy(), usable)
        exact, repeated = duplicate_specs(self.column_map.get("track_id"))
        self._finding(exact.rule, exact.severity, merged.exact, None, exact.problem, exact.outcome)
        if merged.repeated_id.any():
            canonical["genres"] = combine_genres(
                canonical["genres"].to_numpy(copy=True), merged.representative, merged.repeated_id
            )
        self._finding(
            repeated.rule,
            repeated.severity,
            merged.repeated_id,
            repeated.column,
            repeated.problem,
            repeated.outcome,
        )
        return merged.representative

    def _finish(
        self, canonical: pd.DataFrame, representative: np.ndarray, min_tracks: int
    ) -> Catalog:
        is_track = representative == np.arange(len(representative))
        track_rows = np.flatnonzero(is_track)
        if len(track_rows) < min_tracks:
            raise CatalogError(self._too_few_message(len(track_rows), min_tracks))
        track_of_row = np.full(len(representative), -1, dtype=np.int64)
        track_of_row[track_rows] = np.arange(len(track_rows))
        has_rep = representative >= 0
        # Every representative is itself a track row (find_duplicates resolves chains).
        track_of_row[has_rep] = track_of_row[representative[has_rep]]
        tracks = canonical.iloc[track_rows].reset_index(drop=True)
        tracks["source_row"] = track_rows
        original = self.frame.copy()
        original[LINE_COLUMN] = self.lines
        original[TRACK_COLUMN] = track_of_row
        original[STATUS_COLUMN] = self.status
        dropped = pd.Series(self.status[self.status != ""]).value_counts()
        ragged = len(self.raw.ragged)
        dropped_dict = {str(k): int(v) for k, v in dropped.items()}
        if ragged:
            dropped_dict["ragged row"] = ragged
        merged = int(np.sum(has_rep & ~is_track))
        report = ValidationReport(
            source=self.source,
            file_format=self.raw.file_format,
            rows_read=len(self.frame) + ragged,
            rows_rejected=int(np.sum(representative < 0)) + ragged,
            rows_merged=merged,
            tracks=len(track_rows),
            dropped=dropped_dict,
            findings=tuple(self.findings),
            column_map=dict(self.column_map),
            encoding=self.raw.encoding,
            delimiter=self.raw.delimiter,
        )
        return Catalog(tracks, original, report, self.raw.ragged)

    def _too_few_message(self, found: int, needed: int) -> str:
        return too_few_message(self.source, found, len(self.frame), needed, self.findings)

    # -- findings ----------------------------------------------------------------------------
    def _finding(
        self,
        rule: str,
        severity: str,
        mask: np.ndarray,
        header: str | None,
        problem: str,
        outcome: str,
        examples: Callable[[np.ndarray], list[str]] | None = None,
    ) -> None:
        """Record rows breaking a rule: ``problem`` completes "<subject> …", ``outcome`` says
        what was done and what the user can do; ``examples`` gives the cells of masked rows."""
        spec = RuleSpec(rule, severity, header, problem, outcome)
        self.specs[rule] = spec
        count = int(mask.sum())
        if not count:
            return
        if severity == "rejected":
            fresh = mask & (self.status == "")
            self.status[fresh] = rule
        elif severity == "merged":
            self.status[mask] = rule
        self.hits.append((spec, mask, examples))
        shown = examples(mask & _first_true(mask, 3)) if examples is not None else []
        shown = [text for text in shown if text is not None]
        self.findings.append(
            finding_of(self.source, self.word, spec, count, self.lines[mask][:SHOWN_ROWS], shown)
        )

    def _note(self, text: str) -> None:
        self.findings.append(Finding("note", "note", 0, f"{self.source}: {text}."))


def ragged_finding(
    source: str, word: str, count: int, lines: Sequence[int], expected: int, found: list[int]
) -> Finding:
    """The finding for records whose field count differs from the header's."""
    message = (
        f"{source}: {where(word, tuple(lines), count)}: the row has "
        f"{_or_list(found)} fields where the header has {expected}; left out. "
        "Quote cells that contain the delimiter, or fix the row."
    )
    return Finding("ragged row", "rejected", count, message, None, tuple(lines[:SHOWN_ROWS]))


def tempo_fill(given: float | None, median: float | None) -> tuple[float, str]:
    """The tempo given to songs whose tempo was not detected, and where it comes from."""
    if given is not None:
        return given, "the atlas's median"
    if median is not None:
        return median, "the catalog's median"
    return TYPICAL_TEMPO, "a typical tempo (no song here has a detected tempo)"


def undetected_tempo_spec(header: str, fill: float, source: str) -> RuleSpec:
    """The rule for a tempo of 0, which is set to ``fill`` so the song can be clustered."""
    return RuleSpec(
        "undetected tempo",
        "fixed",
        header,
        "is 0 (tempo not detected)",
        f"set to {source}, {fill:.1f} BPM, so the rows can be clustered. "
        "Nothing to do unless you have the real tempo.",
    )


def duplicate_specs(id_header: str | None) -> tuple[RuleSpec, RuleSpec]:
    """The rules for exact duplicate rows and repeated track ids (both merged, not dropped)."""
    exact = RuleSpec(
        "duplicate row",
        "merged",
        None,
        "repeats an earlier row exactly",
        "counted once. Nothing to do.",
    )
    repeated = RuleSpec(
        "repeated track id",
        "merged",
        id_header,
        "repeats the track id of an earlier row",
        "merged into that row (genres combined, the first row's values kept). Nothing to "
        "do if the file lists a track once per genre or playlist.",
    )
    return exact, repeated


def too_few_message(
    source: str, found: int, rows: int, needed: int, findings: Sequence[Finding]
) -> str:
    """Why a file has too few usable tracks to cluster, naming the commonest reasons."""
    reasons = sorted((f for f in findings if f.severity == "rejected"), key=lambda f: -f.count)
    why = "; ".join(f"{f.count:,} × {f.rule}" for f in reasons[:3])
    return (
        f"{source}: only {found:,} usable track(s) of {rows:,} rows; at least "
        f"{needed} are needed to cluster."
        + (f" Rows were left out for: {why}." if why else "")
        + " Run `soundatlas validate` on the file for the full report."
    )


def _as_written(cells: pd.Series, *, blank: str | None) -> list[str | None]:
    """Cells as the file writes them (``NaN``, ``1e309``), for messages; ``blank`` for empty
    cells, and numbers of a typed column (Parquet, JSON) in their shortest form."""
    if pd.api.types.is_numeric_dtype(cells) or pd.api.types.is_bool_dtype(cells):
        return [blank if pd.isna(v) else f"{v:g}" for v in cells]
    return [blank if pd.isna(v) or not str(v).strip() else str(v) for v in cells]


def _first_true(mask: np.ndarray, count: int) -> np.ndarray:
    """A mask of the first ``count`` True positions of ``mask``."""
    first = np.zeros(len(mask), dtype=bool)
    first[np.flatnonzero(mask)[:count]] = True
    return first


def _or_list(numbers: list[int]) -> str:
    text = [str(n) for n in numbers]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " or " + text[-1]
