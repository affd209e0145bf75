"""Find the canonical columns in a user's header row, and say clearly what is missing."""

from __future__ import annotations

import re
from collections.abc import Sequence

from soundatlas.errors import CatalogError, ConfigError
from soundatlas.ingest.schema import (
    AUDIO_FEATURES,
    CANONICAL_COLUMNS,
    EXTRA_FEATURES,
    close_matches,
    match_columns,
    normalise_header,
    spelling_groups,
)

NUMERIC_COLUMNS = (*AUDIO_FEATURES, *EXTRA_FEATURES)


def map_columns(
    headers: list[str],
    features: Sequence[str],
    overrides: dict[str, str],
    source: str,
    *,
    written: list[str] | None = None,
) -> dict[str, str]:
    """``{canonical: header}`` for a file, checking the user's overrides and required features.

    ``written`` gives the names as the file writes them, where a repeated name was numbered in
    ``headers``. Two columns spelled alike (``Energy`` and ``energy``, or ``energy`` twice) that
    would both be a canonical column are refused: choosing one would be a guess.

    Raises
    ------
    ConfigError
        An override names an unknown canonical column, or a feature is not numeric.
    CatalogError
        An override names a column the file lacks, or a required feature is missing; the
        message lists close matches among the file's columns and how to map one.
    """
    for canonical, original in overrides.items():
        if canonical not in CANONICAL_COLUMNS:
            raise ConfigError(
                f"--column {canonical}={original}: '{canonical}' is not a SoundAtlas column. "
                f"Use one of: {', '.join(CANONICAL_COLUMNS)}."
            )
        if original not in headers:
            hint = close_matches(original, headers)
            raise CatalogError(
                f"{source}: --column {canonical}={original}: the file has no column "
                f"'{original}'"
                + (f" (did you mean {quoted(hint)}?)" if hint else "")
                + f". Its columns are: {quoted(headers[:40])}."
            )
    for feature in features:
        if feature not in NUMERIC_COLUMNS:
            raise ConfigError(
                f"feature '{feature}' is not a numeric track column. Choose from: "
                f"{', '.join(NUMERIC_COLUMNS)}."
            )
    found = match_columns(headers, overrides, written)
    _refuse_ambiguous(found, overrides, headers, written or headers, source)
    missing = [f for f in features if f not in found]
    if missing:
        unmapped = [h for h in headers if h not in found.values()]
        raise CatalogError(_missing_message(source, missing, written or headers, unmapped))
    return found


def _refuse_ambiguous(
    found: dict[str, str],
    overrides: dict[str, str],
    headers: list[str],
    written: list[str],
    source: str,
) -> None:
    groups = spelling_groups(headers, written)
    for canonical, header in found.items():
        if canonical in overrides:
            continue
        alike = groups[normalise_header(written[headers.index(header)])]
        if len(alike) < 2:
            continue
        positions = [headers.index(h) for h in alike]
        names = [written[p] for p in positions]
        listed = " and ".join(
            f"'{name}' (column {p + 1})" for name, p in zip(names, positions, strict=True)
        )
        choose = (
            "Rename or remove all but one of them"
            if len(set(names)) < len(names)
            else f"Choose one with --column {canonical}={names[0]} (or rename the others)"
        )
        raise CatalogError(
            f"{source}: {len(alike)} columns could be {canonical}: {listed}; SoundAtlas will not "
            f"guess which holds it. {choose}, and try again."
        )


def _missing_message(
    source: str, missing: list[str], headers: list[str], unmapped: list[str]
) -> str:
    if looks_like_data(headers):
        return (
            f"{source}: the first line looks like data, not a header "
            f"({quoted(headers[:4])}…). Add a header row naming the columns "
            f"({', '.join(AUDIO_FEATURES)}) and try again."
        )
    parts = []
    for column in missing:
        hint = close_matches(column, unmapped)
        parts.append(column + (f" (did you mean {quoted(hint)}?)" if hint else ""))
    shown = quoted(headers[:30]) + ("…" if len(headers) > 30 else "")
    return (
        f"{source}: missing required audio-feature column(s): {'; '.join(parts)}. "
        f"The file's columns are: {shown}. Rename them, or map them with "
        f"--column {missing[0]}=<your column name>."
    )


def looks_like_data(headers: list[str]) -> bool:
    """Whether a header row is mostly numbers (the file has no header)."""
    numeric = sum(1 for h in headers if re.fullmatch(r"\s*[-+]?\d*\.?\d+(e[-+]?\d+)?\s*", h, re.I))
    return numeric >= max(2, len(headers) // 2)


def quoted(items: Sequence[object]) -> str:
    """``'a', 'b'``: names quoted for messages."""
    return ", ".join(f"'{item}'" for item in items)
