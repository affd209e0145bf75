"""Persona names: right for the cluster's sound, unique within a method, with reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from realdata import GENRES_11K, SEED_SAMPLE, SHARED_FILES, TOPHITS

from soundatlas.clustering.personas import NOISE_NAME, TRAIT_WORDS, name_clusters, reason_text
from soundatlas.ingest.schema import AUDIO_FEATURES

SPEECH_WORDS = ("Rap", "Spoken", "Talk", "Hip-Hop")
SPEECH_PERSONAS = ("Rap & Hip-Hop", "Spoken Word & Talk", "Rap & Spoken Word")


def _tracks(
    groups: dict[int, dict[str, float]], per_group: int = 30
) -> tuple[pd.DataFrame, np.ndarray]:
    """Songs around a centre per cluster; unspecified features at a neutral value."""
    rng = np.random.default_rng(0)
    base = {
        "danceability": 0.55, "energy": 0.6, "loudness": -8.0, "speechiness": 0.08,
        "acousticness": 0.3, "instrumentalness": 0.1, "liveness": 0.2, "valence": 0.5,
        "tempo": 120.0,
    }  # fmt: skip
    rows, labels = [], []
    for label, centre in groups.items():
        for _ in range(per_group):
            row = {f: v * (1 + rng.normal(0, 0.03)) for f, v in (base | centre).items()}
            row["genres"] = ["test"]
            rows.append(row)
            labels.append(label)
    return pd.DataFrame(rows), np.array(labels)


def test_hand_made_clusters_get_the_obvious_names():
    tracks, labels = _tracks(
        {
            0: {},
            1: {"speechiness": 0.6, "danceability": 0.8},
            2: {"acousticness": 0.95, "instrumentalness": 0.9, "energy": 0.15, "loudness": -20},
            3: {"liveness": 0.9},
            4: {"energy": 0.98, "loudness": -2.0, "acousticness": 0.01},
        }
    )
    names = name_clusters(tracks, labels, "kmeans").set_index("cluster")["persona"]
    assert names[1] in SPEECH_PERSONAS
    assert names[2] in ("Acoustic & Instrumental", "Ambient & Instrumental", "Quiet & Ambient")
    assert names[3] == "Live & Raw"
    assert names[4] in ("Loud & Intense", "Energetic Rock", "High Energy", "Loud & Punchy")
    assert names.is_unique


def test_noise_group_is_named_as_noise_and_reasons_are_readable():
    tracks, labels = _tracks({0: {}, 1: {"tempo": 180.0}, -1: {"liveness": 0.9}})
    table = name_clusters(tracks, labels, "dbscan").set_index("cluster")
    assert table.loc[-1, "persona"] == NOISE_NAME
    assert table.loc[1, "persona"] == "Fast & Driving"
    text = reason_text(table.loc[1, "reasons"])
    assert text.startswith("tempo +") and "σ (178 vs 1" in text


def test_clusters_without_a_fitting_persona_get_descriptive_unique_names():
    tracks, labels = _tracks(
        {0: {}, 1: {"acousticness": 0.02}, 2: {"acousticness": 0.025, "liveness": 0.05}}
    )
    names = name_clusters(tracks, labels, "kmeans").set_index("cluster")["persona"]
    assert "Electric" in names[1] and "Electric" in names[2]
    assert names.is_unique


@pytest.mark.parametrize("name", SHARED_FILES)
def test_real_personas_agree_with_their_centroids(atlas_of, name):
    atlas = atlas_of(name)
    for method in atlas.methods:
        table = atlas.personas_of(method)
        clusters = table[table["cluster"] >= 0]
        assert clusters["persona"].is_unique, f"{method}: names repeat"
        for row in clusters.itertuples():
            z = {f: getattr(row, f"z_{f}") for f in AUDIO_FEATURES}
            lead = max(z, key=lambda f: abs(z[f]))
            if max(abs(v) for v in z.values()) < 0.35:
                continue
            # The persona's first trait word must be the cluster's most distinctive trait, or
            # the name one of the personas whose lead is that trait.
            assert row.reasons[0]["feature"] == lead
            if z["speechiness"] > 1.5:
                assert any(w in row.persona for w in SPEECH_WORDS), (method, row.persona, z)
                assert "Acoustic" not in row.persona
            if z["acousticness"] < -0.5:
                assert not row.persona.startswith("Acoustic")
            word = TRAIT_WORDS[(lead, 1 if z[lead] > 0 else -1)]
            assert row.persona.startswith(word) or _persona_leads_with(row.persona, lead, z[lead])


def _persona_leads_with(persona: str, feature: str, z: float) -> bool:
    from soundatlas.clustering.personas import PERSONAS

    sign = 1 if z > 0 else -1
    return any(p.name == persona and p.lead == (feature, sign) for p in PERSONAS)


def test_real_speech_heavy_clusters_are_named_for_speech(atlas_of):
    atlas = atlas_of(GENRES_11K)
    table = atlas.personas_of("kmeans")
    speechy = table[table["z_speechiness"] > 2]
    assert len(speechy) >= 1
    assert speechy["persona"].isin(SPEECH_PERSONAS).all()
    genres = [g["genre"] for g in speechy.iloc[0]["dominant_genres"]]
    assert "comedy" in genres


@pytest.mark.parametrize("name", [GENRES_11K, TOPHITS, SEED_SAMPLE])
def test_every_cluster_has_reasons_and_genres(atlas_of, name):
    atlas = atlas_of(name)
    for row in atlas.personas.itertuples():
        assert len(row.reasons) == 3
        assert all(-20 < r["z"] < 20 for r in row.reasons)
        shares = [g["share"] for g in row.dominant_genres]
        assert shares == sorted(shares, reverse=True)
        assert all(0 < s <= 1 for s in shares)
