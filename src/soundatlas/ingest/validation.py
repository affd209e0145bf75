"""What was found wrong with a track table, row by row, in words a user can act on."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import Literal

Severity = Literal["rejected", "merged", "fixed", "note"]
"""``rejected``: rows left out of clustering. ``merged``: rows folded into another row.
``fixed``: values changed or cleared, rows kept. ``note``: nothing changed, worth knowing."""

SHOWN_ROWS = 10


@dataclass(frozen=True)
class Finding:
    """One rule broken by one or more rows of the file."""

    rule: str
    severity: Severity
    count: int
    message: str
    column: str | None = None
    rows: tuple[int, ...] = ()
    """The first few lines (CSV) or records (other formats) where it happens."""

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self) | {"rows": list(self.rows)}


def source_name(source: str) -> str:
    """The file name of a source (``"tracks.csv"``), not the folders it sat in on the
    builder's disk; names that are not paths (``"<DataFrame>"``) as they are."""
    return PurePath(source).name if "/" in source else source


@dataclass(frozen=True)
class ValidationReport:
    """Everything validation learned about a file: how it was read and what was done to rows."""

    source: str
    file_format: str
    rows_read: int
    rows_rejected: int
    rows_merged: int
    tracks: int
    dropped: dict[str, int] = field(default_factory=dict)
    """Rows that did not become tracks of their own, by their first reason (sums to
    ``rows_rejected + rows_merged``)."""
    findings: tuple[Finding, ...] = ()
    column_map: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None

    def summary(self) -> str:
        """One line: how many rows were read, kept, merged and left out."""
        parts = [f"{self.rows_read:,} rows read from {self.source}", f"{self.tracks:,} tracks kept"]
        if self.rows_merged:
            parts.append(f"{self.rows_merged:,} merged into earlier rows")
        if self.rows_rejected:
            parts.append(f"{self.rows_rejected:,} left out of clustering")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        """A JSON-ready dict (for ``--json`` and the atlas manifest)."""
        return {
            "source": self.source,
            "file_format": self.file_format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "rows_read": self.rows_read,
            "rows_rejected": self.rows_rejected,
            "rows_merged": self.rows_merged,
            "tracks": self.tracks,
            "dropped": dict(self.dropped),
            "column_map": dict(self.column_map),
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: dict) -> ValidationReport:
        """Inverse of `to_dict`."""
        findings = tuple(
            Finding(**{k: v for k, v in f.items() if k != "rows"}, rows=tuple(f.get("rows", ())))
            for f in data.get("findings", ())
        )
        return cls(
            source=data["source"],
            file_format=data["file_format"],
            rows_read=data["rows_read"],
            rows_rejected=data["rows_rejected"],
            rows_merged=data["rows_merged"],
            tracks=data["tracks"],
            dropped=dict(data.get("dropped", {})),
            findings=findings,
            column_map=dict(data.get("column_map", {})),
            encoding=data.get("encoding"),
            delimiter=data.get("delimiter"),
        )


def where(word: str, rows: tuple[int, ...] | list[int], total: int) -> str:
    """``"lines 4, 9 and 12"`` / ``"lines 4, 9, …"``: where a finding happens."""
    shown = [str(r) for r in rows[:SHOWN_ROWS]]
    if not shown:
        return "rows that could not be located"
    plural = word + "s" if total > 1 else word
    if total > len(shown):
        return f"{plural} {', '.join(shown)}, …"
    if len(shown) == 1:
        return f"{word} {shown[0]}"
    return f"{plural} {', '.join(shown[:-1])} and {shown[-1]}"
