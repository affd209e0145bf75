"""Turn a user's track file into the canonical track table, and say what was wrong with it.

Rows that cannot be clustered are left out, never silently: each one is counted under the rule it
broke, with the lines where it happens, and the original rows are kept so exports can give the
user's file back with our columns added.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from soundatlas.errors import CatalogError, ConfigError
from soundatlas.reading import RawTable, read_table
from soundatlas.schema import (
    AUDIO_FEATURES,
    CANONICAL_COLUMNS,
    EXTRA_FEATURES,
    PERCENT_SUFFIX,
    RANGES,
    close_matches,
    match_columns,
    normalise_header,
)
from soundatlas.validation import Finding, ValidationReport, where
from soundatlas.values import (
    parse_flags,
    parse_name_lists,
    parse_years,
    to_numbers,
    uses_decimal_comma,
)

MIN_TRACKS = 10
"""Fewest usable tracks worth clustering: below this, scores and personas mean nothing."""

NUMERIC_COLUMNS = (*AUDIO_FEATURES, *EXTRA_FEATURES)
STATUS_COLUMN = "_sa_status"
TRACK_COLUMN = "_sa_track"
LINE_COLUMN = "_sa_line"
_SPOTIFY_ID = re.compile(r"(?:spotify:track:|open\.spotify\.com/track/)([A-Za-z0-9]{22})")


@dataclass(frozen=True)
class Catalog:
    """A validated track table.

    Attributes
    ----------
    tracks
        The canonical table, one row per usable track (see `soundatlas.schema`), with
        ``source_row``: the position of the row it came from in ``original``.
    original
        Every row of the file as read, plus ``_sa_line`` (where it is in the file),
        ``_sa_track`` (its row in ``tracks``, -1 if left out) and ``_sa_status`` (why it is not
        a track of its own; empty when it is).
    report
        What was found and done, rule by rule.
    """

    tracks: pd.DataFrame
    original: pd.DataFrame
    report: ValidationReport


def load_catalog(
    source: str | Path | pd.DataFrame,
    *,
    features: Sequence[str] = AUDIO_FEATURES,
    columns: dict[str, str] | None = None,
    min_tracks: int = MIN_TRACKS,
    name: str | None = None,
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
    table = _Normaliser(raw, name, tuple(features), columns or {}).run(min_tracks)
    report_progress("read", 1.0)
    return table


def _raw_from(source: str | Path | pd.DataFrame) -> RawTable:
    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True).copy()
        frame.columns = [str(c) for c in frame.columns]
        return RawTable(frame, np.arange(1, len(frame) + 1), "dataframe")
    return read_table(source)


class _Normaliser:
    """One pass over a raw table: map columns, parse values, record findings, pick tracks."""

    def __init__(
        self, raw: RawTable, source: str, features: tuple[str, ...], overrides: dict[str, str]
    ) -> None:
        self.raw = raw
        self.source = source
        self.features = features
        self.frame = raw.frame
        self.lines = raw.lines
        self.word = raw.location_word
        self.findings: list[Finding] = []
        self.status = np.full(len(self.frame), "", dtype=object)
        self.column_map = self._map_columns(overrides)

    # -- columns ---------------------------------------------------------------------------
    def _map_columns(self, overrides: dict[str, str]) -> dict[str, str]:
        headers = list(self.frame.columns)
        for canonical, original in overrides.items():
            if canonical not in CANONICAL_COLUMNS:
                raise ConfigError(
                    f"--column {canonical}={original}: '{canonical}' is not a SoundAtlas column. "
                    f"Use one of: {', '.join(CANONICAL_COLUMNS)}."
                )
            if original not in headers:
                hint = close_matches(original, headers)
                raise CatalogError(
                    f"{self.source}: --column {canonical}={original}: the file has no column "
                    f"'{original}'"
                    + (f" (did you mean {_quoted(hint)}?)" if hint else "")
                    + f". Its columns are: {_quoted(headers[:40])}."
                )
        for feature in self.features:
            if feature not in NUMERIC_COLUMNS:
                raise ConfigError(
                    f"feature '{feature}' is not a numeric track column. Choose from: "
                    f"{', '.join(NUMERIC_COLUMNS)}."
                )
        found = match_columns(headers, overrides)
        missing = [f for f in self.features if f not in found]
        if missing:
            unmapped = [h for h in headers if h not in found.values()]
            raise CatalogError(self._missing_message(missing, headers, unmapped))
        return found

    def _missing_message(self, missing: list[str], headers: list[str], unmapped: list[str]) -> str:
        if _looks_like_data(headers):
            return (
                f"{self.source}: the first line looks like data, not a header "
                f"({_quoted(headers[:4])}…). Add a header row naming the columns "
                f"({', '.join(AUDIO_FEATURES)}) and try again."
            )
        parts = []
        for column in missing:
            hint = close_matches(column, unmapped)
            parts.append(column + (f" (did you mean {_quoted(hint)}?)" if hint else ""))
        shown = _quoted(headers[:30]) + ("…" if len(headers) > 30 else "")
        return (
            f"{self.source}: missing required audio-feature column(s): {'; '.join(parts)}. "
            f"The file's columns are: {shown}. Rename them, or map them with "
            f"--column {missing[0]}=<your column name>."
        )

    def _original(self, canonical: str) -> pd.Series | None:
        header = self.column_map.get(canonical)
        return None if header is None else self.frame[header]

    # -- the pass ----------------------------------------------------------------------------
    def run(self, min_tracks: int) -> Catalog:
        for text in self.raw.notes:
            self._note(text)
        canonical = pd.DataFrame(index=self.frame.index)
        canonical["track_id"] = self._track_ids()
        canonical["name"] = self._text("name")
        canonical["artists"] = self._names("artists", split_commas=False, lower=False)
        canonical["genres"] = self._names("genres", split_commas=True, lower=True)
        for column in NUMERIC_COLUMNS:
            canonical[column] = self._numbers(column)
        canonical["explicit"] = self._flags()
        canonical["release_year"] = self._years()
        self._ragged_rows()
        self._undetected_tempo(canonical)
        usable = self.status == ""
        representative = self._merge_duplicates(canonical, usable)
        return self._finish(canonical, representative, min_tracks)

    def _track_ids(self) -> pd.Series:
        series = self._original("track_id")
        if series is None:
            hashes = pd.util.hash_pandas_object(self.frame, index=False).to_numpy()
            return pd.Series([f"sa{h:016x}" for h in hashes], index=self.frame.index, dtype=object)
        text = series.astype("string").fillna("").str.strip()
        extracted = text.str.extract(_SPOTIFY_ID, expand=False)
        text = extracted.fillna(text)
        blank = (text == "").to_numpy()
        if blank.any():
            fallback = pd.util.hash_pandas_object(self.frame[blank], index=False).to_numpy()
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
        comma = uses_decimal_comma(series)
        values, not_numeric = to_numbers(series, decimal_comma=comma)
        if comma:
            self._note(f"column '{header}' writes decimals with a comma (0,5); read them as 0.5")
        values = self._rescale(canonical, header, series, values)
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
            examples=series[not_numeric].astype(str).head(3).tolist(),
        )
        missing = values.isna().to_numpy() & ~not_numeric.to_numpy()
        if required:
            self._finding(
                f"missing {canonical}",
                "rejected",
                missing,
                header,
                "is empty",
                "left out of clustering. Fill in the values or remove the rows.",
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
                examples=[f"{v:g}" for v in values[outside].head(3)],
            )
            if not required:
                values = values.where(~outside)
        return values

    def _rescale(
        self, canonical: str, header: str, series: pd.Series, values: pd.Series
    ) -> pd.Series:
        normal = normalise_header(header)
        if normal.endswith(PERCENT_SUFFIX) and canonical in AUDIO_FEATURES:
            self._note(f"column '{header}' is in percent; divided by 100")
            return values / 100.0
        if canonical == "duration_ms" and normal not in (
            "durationms",
            "trackdurationms",
            "lengthms",
        ):
            clock = series.astype("string").str.fullmatch(r"\s*\d{1,3}:\d{2}\s*")
            if clock.fillna(False).mean() > 0.5:
                parts = series.astype("string").str.strip().str.split(":", expand=True)
                self._note(f"column '{header}' holds m:ss durations; converted to milliseconds")
                return (parts[0].astype(float) * 60 + parts[1].astype(float)) * 1000.0
            if values.median() < 10_000:
                self._note(f"column '{header}' looks like seconds; converted to milliseconds")
                return values * 1000.0
        return values

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
            examples=series[unknown].astype(str).head(3).tolist(),
        )
        return flags

    def _years(self) -> pd.Series:
        series = self._original("release_year")
        if series is None:
            return pd.Series(pd.NA, index=self.frame.index, dtype="Int64")
        return parse_years(series)

    def _ragged_rows(self) -> None:
        ragged = self.raw.ragged
        if not ragged:
            return
        lines = tuple(r.line for r in ragged if r.line is not None)
        expected = ragged[0].expected
        counts = sorted({r.found for r in ragged})
        message = (
            f"{self.source}: {where(self.word, lines, len(ragged))}: the row has "
            f"{_or_list(counts)} fields where the header has {expected}; left out. "
            "Quote cells that contain the delimiter, or fix the row."
        )
        self.findings.append(
            Finding("ragged row", "rejected", len(ragged), message, None, lines[:10])
        )

    def _undetected_tempo(self, canonical: pd.DataFrame) -> None:
        if "tempo" not in self.features:
            return
        tempo = canonical["tempo"]
        zero = (tempo == 0).to_numpy() & (self.status == "")
        if not zero.any():
            return
        median = float(tempo[(tempo > 0).to_numpy() & (self.status == "")].median())
        canonical.loc[zero, "tempo"] = median
        self._finding(
            "undetected tempo",
            "fixed",
            zero,
            self.column_map["tempo"],
            "is 0 (tempo not detected)",
            f"set to the catalog's median, {median:.1f} BPM, so the rows can be clustered. "
            "Nothing to do unless you have the real tempo.",
        )

    def _merge_duplicates(self, canonical: pd.DataFrame, usable: np.ndarray) -> np.ndarray:
        """For every row, the row that stands for it (itself, an earlier copy, or -1)."""
        n = len(self.frame)
        representative = np.where(usable, np.arange(n), -1)
        rows = np.flatnonzero(usable)
        hashes = pd.util.hash_pandas_object(self.frame.iloc[rows], index=False).to_numpy()
        first = _first_of_each(hashes, rows)
        exact = np.zeros(n, dtype=bool)
        exact[rows] = first != rows
        if exact.any():
            representative[rows] = first
            self._finding(
                "duplicate row",
                "merged",
                exact,
                None,
                "repeats an earlier row exactly",
                "counted once. Nothing to do.",
            )
        rows = np.flatnonzero(usable & ~exact)
        first = _first_of_each(canonical["track_id"].to_numpy()[rows], rows)
        repeated = np.zeros(n, dtype=bool)
        repeated[rows] = first != rows
        if repeated.any():
            representative[rows] = first
            self._merge_lists(canonical, np.flatnonzero(repeated), representative)
            self._finding(
                "repeated track id",
                "merged",
                repeated,
                self.column_map.get("track_id"),
                "repeats the track id of an earlier row",
                "merged into that row (genres combined, the first row's values kept). Nothing to "
                "do if the file lists a track once per genre or playlist.",
            )
        return representative

    @staticmethod
    def _merge_lists(canonical: pd.DataFrame, rows: np.ndarray, representative: np.ndarray) -> None:
        genres = canonical["genres"].to_numpy(copy=True)
        for row in rows:
            target = representative[row]
            extra = [g for g in genres[row] if g not in genres[target]]
            if extra:
                genres[target] = [*genres[target], *extra]
        canonical["genres"] = genres

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
        return Catalog(tracks, original, report)

    def _too_few_message(self, found: int, needed: int) -> str:
        reasons = [f for f in self.findings if f.severity == "rejected"]
        reasons.sort(key=lambda f: -f.count)
        why = "; ".join(f"{f.count:,} × {f.rule}" for f in reasons[:3])
        return (
            f"{self.source}: only {found:,} usable track(s) of {len(self.frame):,} rows; at least "
            f"{needed} are needed to cluster."
            + (f" Rows were left out for: {why}." if why else "")
            + " Run `soundatlas validate` on the file for the full report."
        )

    # -- findings ----------------------------------------------------------------------------
    def _finding(
        self,
        rule: str,
        severity: str,
        mask: np.ndarray,
        header: str | None,
        problem: str,
        outcome: str,
        examples: list[str] | None = None,
    ) -> None:
        """Record rows breaking a rule: ``problem`` completes "<subject> …", ``outcome`` says
        what was done and what the user can do."""
        count = int(mask.sum())
        if not count:
            return
        lines = tuple(int(x) for x in self.lines[mask][:10])
        if severity == "rejected":
            fresh = mask & (self.status == "")
            self.status[fresh] = rule
        elif severity == "merged":
            self.status[mask] = rule
        subject = f"column '{header}'" if header else "a row"
        found = f"; found {_quoted(examples)}" if examples else ""
        rows = f"{count:,} row{'s' if count > 1 else ''}"
        message = (
            f"{self.source}: {subject} {problem} on {where(self.word, lines, count)} "
            f"({rows}{found}): {outcome}"
        )
        self.findings.append(Finding(rule, severity, count, message, header, lines))

    def _note(self, text: str) -> None:
        self.findings.append(Finding("note", "note", 0, f"{self.source}: {text}."))


def _first_of_each(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row, the first row (in file order) with the same key."""
    codes, _ = pd.factorize(keys)
    _, first_index = np.unique(codes, return_index=True)
    return rows[first_index[codes]]


def _quoted(items: Sequence[object]) -> str:
    return ", ".join(f"'{item}'" for item in items)


def _or_list(numbers: list[int]) -> str:
    text = [str(n) for n in numbers]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " or " + text[-1]


def _looks_like_data(headers: list[str]) -> bool:
    numeric = sum(1 for h in headers if re.fullmatch(r"\s*[-+]?\d*\.?\d+(e[-+]?\d+)?\s*", h, re.I))
    return numeric >= max(2, len(headers) // 2)
