"""Build the small table of figures the demo catalog generator samples from.

Reads the real track tables in ``../shared/data`` (never shipped with the package) and writes
``src/soundatlas/data/demo_genre_stats.json``: for each of the 112 genres of
``tracks_11k_genres.csv`` a Gaussian copula (per-column quantiles plus the correlation matrix of
the normal scores), the explicit and mode rates and the key distribution; plus a few global
figures calibrated on ``tophits_2k.csv`` (how many genres an artist has, how much an artist's
songs resemble each other). Only derived figures are written: no row, id, title or artist name
of the source tables ends up in the JSON.

Run from the repository root::

    .venv/bin/python scripts/build_demo_stats.py [--data-dir ../shared/data] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri

from soundatlas.ingest.schema import AUDIO_FEATURES

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "src" / "soundatlas" / "data" / "demo_genre_stats.json"

GENRES_FILE = "tracks_11k_genres.csv"
TOPHITS_FILE = "tophits_2k.csv"

#: Copula columns, in the order the generator expects them.
COPULA_COLUMNS: tuple[str, ...] = (*AUDIO_FEATURES, "popularity", "duration_ms", "release_year")
N_QUANTILES = 41
#: Weight of the pooled within-genre correlation in each genre's matrix (100 rows per genre
#: make a 12 x 12 correlation noisy; shrinking keeps it positive definite and stable).
CORR_SHRINKAGE = 0.25
#: Pseudo-counts of the global distribution added to each genre's key / mode / explicit counts.
PRIOR_STRENGTH = 20.0
N_NEIGHBOURS = 6
#: Clamp of the artist share of variance (intra-artist correlation) per column.
ARTIST_SHARE_RANGE = (0.05, 0.8)
#: Artist shares set by hand, with the reason, where the chart-hits estimate is biased: every
#: chart hit is popular, so the artist explains little of popularity *among hits*; across a
#: whole catalogue an obscure artist's songs are all obscure and a star's are all popular.
ARTIST_SHARE_OVERRIDES = {
    "popularity": {
        "value": 0.6,
        "why": "chart hits are range-restricted in popularity; whole catalogues are not",
    }
}
#: Global time-signature distribution (Spotify catalogues: mostly 4/4, some 3/4, few 5 or 1).
TIME_SIGNATURE = {"values": [4, 3, 5, 1], "probs": [0.89, 0.085, 0.015, 0.01]}

#: Display names for slugs that are not just "replace '-' by ' '".
DISPLAY_NAMES = {
    "r-n-b": "r&b",
    "rock-n-roll": "rock and roll",
    "psych-rock": "psychedelic rock",
    "singer-songwriter": "singer-songwriter",
    "k-pop": "k-pop",
    "j-pop": "j-pop",
    "j-rock": "j-rock",
    "j-dance": "j-dance",
    "j-idol": "j-idol",
}
TOPHITS_COLUMNS = {"year": "release_year"}


def display_name(slug: str) -> str:
    """Return the Spotify-style artist genre name (``'hip hop'``) for a genre slug."""
    return DISPLAY_NAMES.get(slug, slug.replace("-", " "))


def load_genre_tracks(data_dir: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """Read the 112-genre table, fix its quirks and drop repeated track ids (first kept)."""
    raw = pd.read_csv(data_dir / GENRES_FILE)
    tracks = raw.rename(columns={"loadness": "loudness"})
    tracks["release_year"] = tracks["release_date"].astype(str).str[:4].astype(int)
    deduped = tracks.drop_duplicates("id", keep="first").reset_index(drop=True)
    counts = {"rows": len(raw), "unique_ids": len(deduped)}
    return deduped, counts


def colisted_genre_pairs(data_dir: Path, genres: list[str]) -> np.ndarray:
    """Count, for each pair of genres, the tracks the source lists under both."""
    raw = pd.read_csv(data_dir / GENRES_FILE, usecols=["id", "genre"]).drop_duplicates()
    index = {name: i for i, name in enumerate(genres)}
    counts = np.zeros((len(genres), len(genres)))
    for _, group in raw[raw["id"].duplicated(keep=False)].groupby("id"):
        members = [index[g] for g in group["genre"]]
        for a in members:
            for b in members:
                if a != b:
                    counts[a, b] += 1
    return counts


def normal_scores(values: pd.DataFrame) -> np.ndarray:
    """Rank-based normal scores (average ranks for ties) of each column."""
    ranks = values.rank(method="average").to_numpy()
    return ndtri(ranks / (len(values) + 1))


def score_correlation(scores: np.ndarray) -> np.ndarray:
    """Correlation of normal scores; constant columns get zero correlation."""
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(scores, rowvar=False)
    corr = np.nan_to_num(corr, nan=0.0)
    np.fill_diagonal(corr, 1.0)
    return corr


def round_sig(values: np.ndarray, digits: int = 4) -> list[float | int]:
    """Round to ``digits`` significant digits; whole numbers become ints (shorter JSON)."""
    out: list[float | int] = []
    for value in np.asarray(values, dtype=float).ravel():
        rounded = float(f"{value:.{digits}g}")
        out.append(int(rounded) if rounded.is_integer() else rounded)
    return out


def smoothed_probs(counts: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Blend a genre's category counts with the global distribution (``PRIOR_STRENGTH``)."""
    probs = (counts + PRIOR_STRENGTH * prior) / (counts.sum() + PRIOR_STRENGTH)
    return probs / probs.sum()


def smoothed_rate(successes: float, n: int, prior: float) -> float:
    """Blend a genre's rate of a 0/1 flag with the global rate (``PRIOR_STRENGTH``)."""
    return round(float((successes + PRIOR_STRENGTH * prior) / (n + PRIOR_STRENGTH)), 4)


def genre_neighbours(
    tracks: pd.DataFrame, genres: list[str], colisted: np.ndarray
) -> list[list[list[float]]]:
    """Per genre, the genres an artist of it most plausibly also has, with weights.

    The weight combines sound similarity (distance between the genres' median normal profiles)
    with how many tracks the source lists under both genres.
    """
    cols = list(COPULA_COLUMNS)
    scores = pd.DataFrame(normal_scores(tracks[cols]), columns=cols)
    profiles = scores.groupby(tracks["genre"].to_numpy()).median().loc[genres].to_numpy()
    dist = np.sqrt(((profiles[:, None, :] - profiles[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(dist, np.inf)
    bandwidth = float(np.median(np.sort(dist, axis=1)[:, :N_NEIGHBOURS]))
    weight = (1.0 + colisted) * np.exp(-((dist / bandwidth) ** 2))
    result = []
    for row in weight:
        top = np.argsort(-row, kind="stable")[:N_NEIGHBOURS]
        probs = row[top] / row[top].sum()
        result.append([[int(j), round(float(p), 4)] for j, p in zip(top, probs, strict=True)])
    return result


def genre_entries(tracks: pd.DataFrame, genres: list[str]) -> list[dict]:
    """Copula and categorical figures for each genre."""
    cols = list(COPULA_COLUMNS)
    probs = np.linspace(0.0, 1.0, N_QUANTILES)
    key_prior = np.bincount(tracks["key"].astype(int), minlength=12) / len(tracks)
    mode_prior = float(tracks["mode"].mean())
    explicit_prior = float(tracks["explicit"].mean())
    raw_corrs = {}
    for genre, group in tracks.groupby("genre"):
        raw_corrs[genre] = score_correlation(normal_scores(group[cols]))
    pooled = np.mean(list(raw_corrs.values()), axis=0)
    iu = np.triu_indices(len(cols), k=1)
    entries = []
    for genre in genres:
        group = tracks[tracks["genre"] == genre]
        corr = (1 - CORR_SHRINKAGE) * raw_corrs[genre] + CORR_SHRINKAGE * pooled
        quantiles = np.quantile(group[cols].to_numpy(dtype=float), probs, axis=0).T
        keys = np.bincount(group["key"].astype(int), minlength=12).astype(float)
        n = len(group)
        entries.append(
            {
                "slug": genre,
                "name": display_name(genre),
                "n_tracks": n,
                "quantiles": [round_sig(q) for q in quantiles],
                "corr_upper": [round(float(c), 3) for c in corr[iu]],
                "key_probs": [round(float(p), 4) for p in smoothed_probs(keys, key_prior)],
                "mode_rate": smoothed_rate(group["mode"].sum(), n, mode_prior),
                "explicit_rate": smoothed_rate(group["explicit"].sum(), n, explicit_prior),
            }
        )
    return entries


def tophits_artist_figures(data_dir: Path) -> tuple[dict, list[float], float, dict[str, int]]:
    """Artist-level calibration from the chart-hits table.

    Returns the intra-artist correlation of each copula column (share of a column's variance
    explained by the artist, from a one-way ANOVA on normal scores of artists with >= 3 songs),
    the distribution of how many genres an artist has (1, 2, 3+; capped at 3), the intra-artist
    correlation of the explicit flag, and row counts.
    """
    raw = pd.read_csv(data_dir / TOPHITS_FILE)
    hits = raw.drop_duplicates().drop_duplicates(["artist", "song"]).reset_index(drop=True)
    hits = hits.rename(columns=TOPHITS_COLUMNS)
    hits["explicit"] = hits["explicit"].astype(str).str.upper().eq("TRUE").astype(float)
    song_counts = hits["artist"].map(hits["artist"].value_counts())
    multi = hits[song_counts >= 3]
    share = {}
    for col in [*COPULA_COLUMNS, "explicit"]:
        scores = pd.Series(normal_scores(hits[[col]])[:, 0], index=hits.index)[multi.index]
        share[col] = intra_class_correlation(scores, multi["artist"])
    genre_counts = hits.groupby("artist")["genre"].agg(count_artist_genres)
    genre_counts = genre_counts[genre_counts > 0].clip(upper=3)
    count_probs = genre_counts.value_counts(normalize=True).reindex([1, 2, 3], fill_value=0.0)
    explicit_icc = share.pop("explicit")
    low, high = ARTIST_SHARE_RANGE
    clamped = {col: round(min(max(v, low), high), 3) for col, v in share.items()}
    clamped.update({col: spec["value"] for col, spec in ARTIST_SHARE_OVERRIDES.items()})
    counts = {"rows": len(raw), "unique_songs": len(hits), "artists": hits["artist"].nunique()}
    return clamped, [round(float(p), 4) for p in count_probs], round(explicit_icc, 3), counts


def count_artist_genres(genre_strings: pd.Series) -> int:
    """Number of distinct genres listed across an artist's rows (``set()`` means none)."""
    found: set[str] = set()
    for text in genre_strings:
        if text.strip() != "set()":
            found.update(part.strip() for part in text.split(","))
    return len(found)


def intra_class_correlation(values: pd.Series, groups: pd.Series) -> float:
    """One-way random-effects ICC(1) for unbalanced groups."""
    grouped = values.groupby(groups)
    sizes = grouped.size()
    n_total, n_groups = len(values), len(sizes)
    ms_within = ((values - grouped.transform("mean")) ** 2).sum() / (n_total - n_groups)
    ms_between = (sizes * (grouped.mean() - values.mean()) ** 2).sum() / (n_groups - 1)
    n0 = (n_total - (sizes**2).sum() / n_total) / (n_groups - 1)
    return float((ms_between - ms_within) / (ms_between + (n0 - 1) * ms_within))


def build_stats(data_dir: Path) -> dict:
    """Compute every figure the generator needs, with provenance."""
    tracks, genre_counts = load_genre_tracks(data_dir)
    genres = sorted(tracks["genre"].unique())
    colisted = colisted_genre_pairs(data_dir, genres)
    entries = genre_entries(tracks, genres)
    for entry, neighbours in zip(entries, genre_neighbours(tracks, genres, colisted), strict=True):
        entry["neighbours"] = neighbours
    artist_share, genre_count_probs, explicit_icc, hits_counts = tophits_artist_figures(data_dir)
    return {
        "format": "soundatlas-demo-genre-stats",
        "version": 1,
        "provenance": {
            "derived_figures_only": True,
            "note": (
                "Quantiles, correlations and rates computed from public Spotify audio-feature "
                "tables; no rows, ids, titles or artist names of the sources are included."
            ),
            "built_on": dt.datetime.now(dt.UTC).date().isoformat(),
            "script": "scripts/build_demo_stats.py",
            "sources": {
                GENRES_FILE: {
                    **genre_counts,
                    "used_for": "per-genre copulas, key/mode/explicit, genre neighbours",
                    "dedup": "repeated track ids dropped, first genre listing kept",
                },
                TOPHITS_FILE: {
                    **hits_counts,
                    "used_for": "artist share of variance, genres per artist, explicit ICC",
                    "dedup": "exact duplicate rows and repeated artist+song dropped",
                },
            },
        },
        "columns": list(COPULA_COLUMNS),
        "n_quantiles": N_QUANTILES,
        "artist_share": artist_share,
        "artist_share_overrides": ARTIST_SHARE_OVERRIDES,
        "artist_genre_count_probs": genre_count_probs,
        "explicit_artist_icc": explicit_icc,
        "time_signature": TIME_SIGNATURE,
        "genres": entries,
    }


def dump_stats(stats: dict) -> str:
    """JSON text: readable top level, one compact line per genre (small and diff-friendly)."""
    genres = stats["genres"]
    head = {k: v for k, v in stats.items() if k != "genres"}
    text = json.dumps(head, indent=1, ensure_ascii=False)
    lines = [json.dumps(entry, separators=(",", ":"), ensure_ascii=False) for entry in genres]
    body = ",\n".join(lines)
    return text[:-2] + ',\n "genres": [\n' + body + "\n ]\n}\n"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    stats = build_stats(args.data_dir)
    text = dump_stats(stats)
    json.loads(text)  # the hand-assembled text must stay valid JSON
    write_atomically(args.out, text)
    print(f"wrote {args.out} ({len(text.encode('utf-8')):,} bytes, {len(stats['genres'])} genres)")


if __name__ == "__main__":
    main()
