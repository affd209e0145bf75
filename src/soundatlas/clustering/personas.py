"""Name each cluster as a musical persona, from how its average sound differs from the catalog.

A cluster's profile is the z-score of its mean on each audio feature against the whole catalog
(how many catalog standard deviations it sits above or below). A persona name is only eligible
for a cluster when the name's lead trait is that cluster's most distinctive one (largest |z|,
same direction) and the name's other conditions hold, so a cluster far above the catalog in
speechiness can only get a speech name. Names are then assigned so they are unique within a
method (best total fit). Clusters left without an eligible name get one built from their two
most distinctive traits ("Electric & Vocal"), which is right by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from soundatlas.clustering.metrics import NOISE
from soundatlas.ingest.schema import AUDIO_FEATURES

NOISE_NAME = "Noise (no dense group)"
GENRES_SHOWN = 3
"""Genres named per cluster."""
BALANCED = 0.35
"""Below this |z| on every feature a cluster is close to the catalog average: "Balanced Mix"."""

TRAIT_WORDS: dict[tuple[str, int], str] = {
    ("danceability", 1): "Danceable",
    ("danceability", -1): "Freeform",
    ("energy", 1): "Energetic",
    ("energy", -1): "Calm",
    ("loudness", 1): "Loud",
    ("loudness", -1): "Quiet",
    ("speechiness", 1): "Spoken",
    ("speechiness", -1): "Melodic",
    ("acousticness", 1): "Acoustic",
    ("acousticness", -1): "Electric",
    ("instrumentalness", 1): "Instrumental",
    ("instrumentalness", -1): "Vocal",
    ("liveness", 1): "Live",
    ("liveness", -1): "Studio",
    ("valence", 1): "Happy",
    ("valence", -1): "Dark",
    ("tempo", 1): "Fast",
    ("tempo", -1): "Slow",
}


@dataclass(frozen=True)
class Persona:
    """A named sound: its lead trait, extra conditions on other z-scores, and fit weights."""

    name: str
    lead: tuple[str, int]
    conditions: tuple[tuple[str, float], ...] = ()
    """(feature, threshold): z >= threshold if threshold > 0, z <= threshold if < 0."""
    weights: tuple[tuple[str, float], ...] = ()

    def fits(self, z: dict[str, float]) -> bool:
        """Whether the conditions hold for a cluster's z-scores."""
        for feature, threshold in self.conditions:
            value = z.get(feature, 0.0)
            if (threshold > 0 and value < threshold) or (threshold < 0 and value > threshold):
                return False
        return True

    def score(self, z: dict[str, float]) -> float:
        """How well the cluster fits: its lead z-score (in the lead's direction) plus weights."""
        feature, sign = self.lead
        return sign * z.get(feature, 0.0) + sum(w * z.get(f, 0.0) for f, w in self.weights)


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "Rap & Hip-Hop", ("speechiness", 1), (("danceability", 0.3),), (("danceability", 0.5),)
    ),
    Persona(
        "Spoken Word & Talk", ("speechiness", 1), (("energy", -0.2),), (("acousticness", 0.3),)
    ),
    Persona("Rap & Spoken Word", ("speechiness", 1)),
    Persona("Acoustic & Instrumental", ("acousticness", 1), (("instrumentalness", 0.5),)),
    Persona("Acoustic & Mellow", ("acousticness", 1), (("energy", -0.3),), (("energy", -0.3),)),
    Persona("Unplugged & Acoustic", ("acousticness", 1)),
    Persona("Acoustic & Instrumental", ("instrumentalness", 1), (("acousticness", 0.5),)),
    Persona(
        "Ambient & Instrumental", ("instrumentalness", 1), (("energy", -0.5),), (("energy", -0.3),)
    ),
    Persona("Electronic & Instrumental", ("instrumentalness", 1), (("acousticness", -0.2),)),
    Persona("Instrumental Focus", ("instrumentalness", 1)),
    Persona("Loud & Intense", ("energy", 1), (("loudness", 0.3), ("valence", -0.1))),
    Persona(
        "High Energy & Dance", ("energy", 1), (("danceability", 0.2),), (("danceability", 0.5),)
    ),
    Persona("Energetic Rock", ("energy", 1), (("acousticness", -0.3),)),
    Persona("High Energy", ("energy", 1)),
    Persona("Chill & Mellow", ("energy", -1), (), (("tempo", -0.3),)),
    Persona("Soft & Quiet", ("energy", -1), (("loudness", -0.5),)),
    Persona("Loud & Intense", ("loudness", 1), (("energy", 0.3),)),
    Persona("Loud & Punchy", ("loudness", 1)),
    Persona("Quiet & Ambient", ("loudness", -1), (("energy", -0.5),)),
    Persona("Soft & Quiet", ("loudness", -1)),
    Persona("High Energy & Dance", ("danceability", 1), (("energy", 0.3),), (("energy", 0.5),)),
    Persona("Happy Pop & Upbeat", ("danceability", 1), (("valence", 0.3),), (("valence", 0.5),)),
    Persona("Groovy & Danceable", ("danceability", 1)),
    Persona(
        "Happy Pop & Upbeat", ("valence", 1), (("danceability", 0.0),), (("danceability", 0.5),)
    ),
    Persona("Bright & Cheerful", ("valence", 1)),
    Persona("Dark & Moody", ("valence", -1), (("energy", 0.0),)),
    Persona("Melancholic & Sad", ("valence", -1)),
    Persona("Live & Raw", ("liveness", 1)),
    Persona("Fast & Driving", ("tempo", 1), (), (("energy", 0.3),)),
    Persona("Slow & Laid-back", ("tempo", -1)),
    Persona("Studio-Polished Vocals", ("instrumentalness", -1)),
)


@dataclass(frozen=True)
class CatalogStats:
    """Catalog-wide means and standard deviations of the audio features, and genre counts."""

    means: pd.Series
    stds: pd.Series

    @classmethod
    def of(cls, tracks: pd.DataFrame, features: Sequence[str] = AUDIO_FEATURES) -> CatalogStats:
        """Reference statistics of the audio features among ``features`` that have values."""
        present = [f for f in AUDIO_FEATURES if f in features and f in tracks]
        # Clustered on no audio feature (say popularity only): still describe the sound.
        present = present or [f for f in AUDIO_FEATURES if f in tracks]
        values = tracks[present].astype(float).dropna(axis=1, how="all")
        stds = values.std(ddof=0).replace(0.0, 1.0)
        return cls(values.mean(), stds)


def name_clusters(
    tracks: pd.DataFrame,
    labels: np.ndarray,
    method: str,
    *,
    features: Sequence[str] = AUDIO_FEATURES,
    genre_table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per cluster of a method: persona name, size, reasons, z-scores, genres.

    Parameters
    ----------
    tracks
        The canonical track table (audio features and ``genres`` lists).
    labels
        The method's cluster of each track (-1 for noise).
    method
        Method name, stored in the ``method`` column.
    features
        The features the atlas clustered on: names are built from the audio features among
        them (a persona cannot be "Acoustic" if acousticness was not clustered on).
    genre_table
        `exploded_genres` of ``tracks``, passed in when several methods are named, so the genre
        lists are exploded once.
    """
    stats = CatalogStats.of(tracks, features)
    features = list(stats.means.index)
    frame = tracks[features].astype(float)
    frame = frame.assign(_label=labels)
    means = frame.groupby("_label")[features].mean()
    sizes = frame.groupby("_label").size()
    genres = dominant_genres(
        genre_table if genre_table is not None else exploded_genres(tracks), labels
    )
    return persona_table(method, stats, means, sizes, genres)


def persona_table(
    method: str,
    stats: CatalogStats,
    means: pd.DataFrame,
    sizes: pd.Series,
    genres: dict[int, list[dict[str, float]]],
) -> pd.DataFrame:
    """The persona table from per-cluster aggregates: whichever engine computed them, the
    same names and reasons follow.

    Parameters
    ----------
    stats
        Catalog means and standard deviations of the audio features described.
    means, sizes
        Mean of each of those features per cluster (index: cluster, -1 for noise) and the
        number of songs in each.
    genres
        `dominant_genres` of each cluster.
    """
    features = list(stats.means.index)
    total = float(sizes.sum())
    z = (means[features] - stats.means) / stats.stds
    clusters = [c for c in means.index if c != NOISE]
    names = _assign_names({c: z.loc[c].to_dict() for c in clusters})
    names[NOISE] = NOISE_NAME
    rows = []
    for cluster in means.index:
        profile = z.loc[cluster]
        order = profile.abs().sort_values(ascending=False).index[:3]
        rows.append(
            {
                "method": method,
                "cluster": int(cluster),
                "persona": names[cluster],
                "size": int(sizes.loc[cluster]),
                "share": float(sizes.loc[cluster] / total),
                "reasons": [
                    {
                        "feature": feature,
                        "z": round(float(profile[feature]), 3),
                        "mean": float(means.loc[cluster, feature]),
                        "catalog_mean": float(stats.means[feature]),
                    }
                    for feature in order
                ],
                "dominant_genres": genres.get(int(cluster), []),
                **{f"z_{f}": float(profile[f]) for f in features},
                **{f"mean_{f}": float(means.loc[cluster, f]) for f in features},
            }
        )
    return pd.DataFrame(rows)


def reason_text(reasons: list[dict]) -> str:
    """``"speechiness +2.31σ (0.41 vs 0.09), energy −0.80σ (…)"``: why a cluster has its name."""
    parts = []
    for reason in reasons:
        sign = "+" if reason["z"] >= 0 else "−"
        parts.append(
            f"{reason['feature']} {sign}{abs(reason['z']):.2f}σ "
            f"({_fmt(reason['mean'])} vs {_fmt(reason['catalog_mean'])})"
        )
    return ", ".join(parts)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 20 else f"{value:.2f}"


def _assign_names(profiles: dict[int, dict[str, float]]) -> dict[int, str]:
    """Unique persona names for clusters, best total fit, descriptive names where none fits."""
    clusters = list(profiles)
    unique_names = list(dict.fromkeys(p.name for p in PERSONAS))
    scores = np.full((len(clusters), len(unique_names)), -np.inf)
    for i, cluster in enumerate(clusters):
        z = profiles[cluster]
        if max(abs(v) for v in z.values()) < BALANCED:
            continue
        lead = _lead_trait(z)
        for persona in PERSONAS:
            if persona.lead == lead and persona.fits(z):
                j = unique_names.index(persona.name)
                scores[i, j] = max(scores[i, j], persona.score(z))
    names: dict[int, str] = {}
    feasible = np.where(np.isfinite(scores), scores, -1e6)
    if len(clusters):
        from scipy.optimize import linear_sum_assignment  # only when naming: see metrics.py

        rows, cols = linear_sum_assignment(feasible, maximize=True)
        for row, col in zip(rows, cols, strict=True):
            if np.isfinite(scores[row, col]):
                names[clusters[row]] = unique_names[col]
    taken = set(names.values())
    for cluster in clusters:
        if cluster in names:
            continue
        names[cluster] = _descriptive_name(profiles[cluster], taken)
        taken.add(names[cluster])
    return names


def _lead_trait(z: dict[str, float]) -> tuple[str, int]:
    feature = max(z, key=lambda f: abs(z[f]))
    return feature, 1 if z[feature] >= 0 else -1


def _descriptive_name(z: dict[str, float], taken: set[str]) -> str:
    if max(abs(v) for v in z.values()) < BALANCED:
        base = "Balanced Mix"
        candidates = [base, "Mainstream Middle", "Middle of the Road"]
    else:
        traits = sorted(z, key=lambda f: -abs(z[f]))
        words = [TRAIT_WORDS[(f, 1 if z[f] >= 0 else -1)] for f in traits]
        candidates = [" & ".join(words[:2])]
        if len(words) > 2:
            candidates.append(f"{words[0]}, {words[1]} & {words[2]}")
        base = candidates[0]
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    number = 2
    while f"{base} {number}" in taken:
        number += 1
    return f"{base} {number}"


def exploded_genres(tracks: pd.DataFrame) -> pd.DataFrame:
    """``(row, genre)`` pairs, one per genre of each track."""
    genres = tracks["genres"]
    lengths = genres.map(len).to_numpy()
    rows = np.repeat(np.arange(len(tracks)), lengths)
    flat = [g for items in genres.to_numpy() for g in items]
    return pd.DataFrame({"row": rows, "genre": pd.Series(flat, dtype=object)})


def dominant_genres(
    exploded: pd.DataFrame, labels: np.ndarray, top: int = GENRES_SHOWN
) -> dict[int, list[dict[str, float]]]:
    """The ``top`` most common genres of each cluster, with the share of its songs carrying each."""
    if exploded.empty:
        return {}
    labels = np.asarray(labels)
    sizes = pd.Series(labels).value_counts()
    pairs = pd.DataFrame(
        {"cluster": labels[exploded["row"].to_numpy()], "genre": exploded["genre"]}
    )
    counts = pairs.value_counts().reset_index(name="count")
    return genre_shares(counts, sizes, top)


def genre_shares(
    counts: pd.DataFrame, sizes: pd.Series, top: int = GENRES_SHOWN
) -> dict[int, list[dict[str, float]]]:
    """The ``top`` genres of each cluster from ``counts`` (columns cluster, genre, count; at
    least the top ones per cluster), with the share of the cluster's ``sizes`` carrying each."""
    counts = counts.sort_values(["cluster", "count", "genre"], ascending=[True, False, True])
    best = counts.groupby("cluster").head(top)
    result: dict[int, list[dict[str, float]]] = {}
    for cluster, group in best.groupby("cluster"):
        result[int(cluster)] = [
            {"genre": str(g), "share": round(float(c) / float(sizes[cluster]), 4)}
            for g, c in zip(group["genre"], group["count"], strict=True)
        ]
    return result
