"""One recording, one answer: which titles name releases of one recording, which rows are
releases of one recording, and that similar songs, playlists, search and artist profiles give
each recording once."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from realdata import GENRES_11K, TOPHITS, shared_file
from scipy.sparse.csgraph import connected_components

from soundatlas.atlas.build import build_atlas
from soundatlas.config import BuildConfig
from soundatlas.discovery import (
    PlaylistRequest,
    artist_profile,
    generate_playlist,
    resolve_track,
    search,
    similar_to_many,
    similar_tracks,
)
from soundatlas.discovery.index import discovery_index
from soundatlas.discovery.recordings import (
    RELATIVE,
    TOLERANCE,
    recording_groups,
    same_recording,
    sounds_like_any,
)
from soundatlas.discovery.search import OTHER_TITLES_SEPARATOR
from soundatlas.discovery.text import recording_titles
from soundatlas.ingest.catalog import load_catalog

# ------------------------------------------------------------------------------------- titles

RELEASES = [
    ("Here Comes the Sun - Remastered 2009", "Here Comes the Sun"),
    ("Here Comes the Sun - Remastered", "Here Comes the Sun"),
    ("You Oughta Know - 2015 Remaster", "You Oughta Know"),
    ("Ain't Got No Home - 2019 - Remaster", "Ain't Got No Home"),
    ("Roucky (feat. Taj Mahal) - 2017 Remastered Version", "Roucky (feat. Taj Mahal)"),
    ("Skylined (Remastered)", "Skylined"),
    ("Dreams (2004 Remaster)", "Dreams"),
    ("Black Magic Woman [Remastered]", "Black Magic Woman"),
    ("0952 - Remastered 10th Anniversary Edition", "0952"),
    ("Love Potion No. 9 - Remastered / Single Version", "Love Potion No. 9"),
    ("I'm Outta Love - Radio Edit", "I'm Outta Love"),
    ("Thunder in My Heart Again (Radio Edit)", "Thunder in My Heart Again"),
    ("Touch Me (Radio Edit) [feat. Cassandra]", "Touch Me [feat. Cassandra]"),
    ("Silhouettes - Original Radio Edit", "Silhouettes"),
    ("One Last Breath - Radio Version", "One Last Breath"),
    ("Eternal Flame - Single Version", "Eternal Flame"),
    ("Wonderwall - US Album Version", "Wonderwall"),
    ("Bounce With Me (feat. Xscape) - Edited Album Version", "Bounce With Me (feat. Xscape)"),
    ("Heartbroken - Edit", "Heartbroken"),
    ("Now You're Gone - Video Edit", "Now You're Gone"),
    ("God Only Knows - Mono", "God Only Knows"),
    ("Paint It Black (Mono Version)", "Paint It Black"),
    ("Sloop John B - Stereo Mix", "Sloop John B"),
    ("#SELFIE - Original Mix", "#SELFIE"),
    ("Beggin (original version)", "Beggin"),
    ("The Way I Live - Main Explicit", "The Way I Live"),
    ("Turnin Me On - Original Dirty", "Turnin Me On"),
    ("Suffocate - Superclean", "Suffocate"),
    ("Halo - Deluxe Edition", "Halo"),
    ("Yellow - Bonus Track", "Yellow"),
    ('Lady Marmalade - From "Moulin Rouge" Soundtrack', "Lady Marmalade"),
    ('Let It Go - From "Frozen"/Soundtrack Version', "Let It Go"),
    ('Unravel (From "Tokyo Ghoul")', "Unravel"),
    # Collected from real catalogs: spellings a list of exact strings missed.
    ("Wouldn't It Be Nice (2009 Re-master)", "Wouldn't It Be Nice"),
    ("Don't Let Me Down - 2006 Digital Remaster", "Don't Let Me Down"),
    ("I Get Around - 1964 Single Version / Mono", "I Get Around"),
    ("Brain Damage - Pt. 1 / Remastered 2002", "Brain Damage - Pt. 1"),
    ("Dancing Queen - Soundtrack Version", "Dancing Queen"),
    ("How Far I'll Go - From Moana", "How Far I'll Go"),
    ("Into the Unknown (From Frozen 2)", "Into the Unknown"),
    ("Let It Be - Remastered Version 2009", "Let It Be"),
    ("Help! - Remastered Version Help!", "Help!"),
    ("When You Were Young - - Remaster", "When You Were Young"),
    ("Beautiful - From The Netflix Film “To All The Boys: P.S. I Still Love You”", "Beautiful"),
    ('Part of Your World - From "The Little Mermaid"/Score', "Part of Your World"),
    ('Let It Go - From "Frozen" / Soundtrack Version', "Let It Go"),
    ("Under the Sea - Score", "Under the Sea"),
    ("Tears in Heaven - Live / Remastered 2002", "Tears in Heaven - Live"),
    ("HUMBLE. - Explicit!", "HUMBLE."),
    ("Song 2 – Remastered 2012", "Song 2"),
    ("Shout - Live at Wembley - Remastered 2011", "Shout - Live at Wembley"),
    ("Old Town Road - Remix (Clean)", "Old Town Road - Remix"),
]
"""Release titles, and the title of the recording they are a release of."""

DIFFERENT = [
    "Old Town Road - Remix",
    "Stutter (feat. Mystikal) - Double Take Remix",
    "One Day / Reckoning Song (Wankelmut Remix)",
    "Gotta Get Thru This - D'N'D Radio Edit",
    "Waves - Robin Schulz Radio Edit",
    "Gabry Ponte Original Radio Edit",
    "The Tide Is High - Radio Mix",
    "Tipsy - Club Mix",
    "Come Together - 2019 Mix",
    "Everytime We Touch - Extended Version",
    "Hotel California - Live",
    "Hotel California (Live)",
    "Whole Lotta Love - Live at the Royal Albert Hall",
    "Evidências - Ao Vivo",
    "Layla - Acoustic",
    "Creep (Acoustic Version)",
    "Bad Guy (feat. Justin Bieber)",
    "Him & I (with Halsey)",
    "Levels - Instrumental",
    "Yellow (Demo)",
    "Wannabe - Karaoke Version",
    "Jolene - Cover",
    "Love Story (Taylor's Version)",
    "Waterloo - Re-Recorded In Stereo",
    "She Bangs - Spanish Version",
    "Miss You (Interlude)",
    "Mono",
    "Edit the World",
    "Clean",
    "Love - Clean Bandit Mix",
    "Ai Se Eu Te Pego - Ao Vivo Em São Paulo / 2018",
    "Fire - Live From The Louisville Palace, Kentucky / 2002",
    "Song (Live from Hot Potato Studios)",
    "Closer - Pt. 2",
]
"""Titles of recordings of their own: nothing in them may be removed."""


@pytest.mark.parametrize(("title", "recording"), RELEASES)
def test_release_qualifiers_are_removed(title, recording) -> None:
    assert recording_titles(pa.array([title])).to_pylist() == [recording]


@pytest.mark.parametrize("title", DIFFERENT)
def test_what_makes_another_recording_is_kept(title) -> None:
    assert recording_titles(pa.array([title])).to_pylist() == [title]


def test_missing_titles_become_empty() -> None:
    assert recording_titles(pa.chunked_array([["Yellow - Remastered", None]])).to_pylist() == [
        "Yellow",
        "",
    ]


_DIFFERENT_WORDS = re.compile(
    r"\b(live|ao vivo|en vivo|remix|acoustic|acústico|instrumental|karaoke|demo|cover|feat)\b",
    re.IGNORECASE,
)


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "column"), [(TOPHITS, "song"), (GENRES_11K, "name")])
def test_real_titles_keep_every_live_remix_acoustic_or_feat_marker(name, column) -> None:
    titles = pd.read_csv(shared_file(name))[column].astype(str)
    stripped = pd.Series(recording_titles(pa.array(titles)).to_pylist())
    before = titles.str.lower().str.count(_DIFFERENT_WORDS)
    after = stripped.str.lower().str.count(_DIFFERENT_WORDS)
    assert before.sum() > 50
    assert (before == after).all(), titles[before != after].tolist()
    suffixed = titles.str.contains(r" - (?:\d{4} )?Remaster(?:ed)?(?: \d{4})?$| - Radio Edit$")
    assert suffixed.sum() > 30
    assert not stripped[suffixed].str.contains(r"Remaster|Radio Edit").any()


# ---------------------------------------------------------------------------------- the rule


def _groups(primary, titles, sound) -> list[int]:
    return recording_groups(
        np.asarray(primary, dtype=np.int64),
        np.asarray(titles, dtype=np.int64),
        np.asarray(sound, dtype=np.float64),
    ).tolist()


def test_same_title_needs_the_same_primary_artist() -> None:
    sound = np.arange(12.0).reshape(4, 3)  # every song sounds different
    assert _groups([0, 0, 1, -1], [5, 5, 5, 5], sound) == [0, 0, 1, 2]


def test_same_sound_within_rounding_is_one_recording_whatever_the_title() -> None:
    base = np.array([0.735, 0.5786, -5.883, 0.0102, 0.00003, 117.973])
    rounded = np.round(base, 3)  # a catalog that prints three decimals
    as_float32 = base.astype(np.float32).astype(np.float64)
    beyond = base + np.array([0, 0, 0, 0, 0.0006, 0])  # one feature off by more than rounding
    sound = np.vstack([base, rounded, as_float32, beyond, base, base])
    primary = [3, 3, 3, 3, 4, -1]  # a cover by another artist; a song without artists
    assert _groups(primary, [0, 1, 2, 3, 4, 5], sound) == [0, 0, 0, 1, 2, 3]


def test_without_artists_the_same_title_and_sound_is_one_recording() -> None:
    sound = np.array([[0.5, 0.2], [0.5, 0.2], [0.5, 0.2], [0.9, 0.1]])
    # Rows 0 and 1: one title, one sound; row 2: the same sound, another title; row 3: the
    # same title, another sound.
    assert _groups([-1, -1, -1, -1], [4, 4, 5, 4], sound) == [0, 0, 1, 2]


def test_generic_titles_of_one_artist_are_one_recording_only_with_the_same_audio() -> None:
    from soundatlas.discovery.recordings import recording_title_codes
    from soundatlas.discovery.text import name_keys

    names = pa.array(["Intro", "Intro", "Skit", "Track 1", "Track 1", "Halo", "Halo - Remastered"])
    codes = recording_title_codes(names, name_keys(names))
    assert len(set(codes[:5])) == 5  # generic titles: a code each
    assert codes[5] == codes[6]
    sound = np.array([[0.1, 0.2], [0.8, 0.7], [0.3, 0.3], [0.4, 0.5], [0.4, 0.5], [0, 1], [1, 0]])
    assert _groups([0] * 7, codes, sound) == [0, 1, 2, 3, 3, 4, 4]


def test_unmeasured_features_are_equal_to_nothing() -> None:
    sound = np.array([[0.5, np.nan], [0.5, np.nan], [0.5, 0.2]])
    assert _groups([0, 0, 0], [0, 1, 2], sound) == [0, 1, 2]


def test_releases_join_through_each_other() -> None:
    """A shares its title with B, B its sound with C: one recording, numbered in row order."""
    sound = np.array([[0.1, 0.1], [0.9, 0.2], [0.7, 0.7], [0.9, 0.2]])
    assert _groups([1, 1, 2, 1], [7, 8, 9, 7], sound) == [0, 0, 1, 0]


def test_the_bucketed_pass_equals_comparing_every_pair() -> None:
    """Random songs, many near-copies (some within rounding, some just beyond), one artist in
    ten without a name: the groups equal the connected components of every pair compared."""
    rng = np.random.default_rng(3)
    base = np.column_stack(
        [rng.uniform(0, 1, (300, 7)), rng.uniform(-20, -3, 300), rng.uniform(60, 180, 300)]
    )
    picks = rng.integers(0, 300, 500)
    level = rng.choice([0.0, 0.0002, 0.0005, 0.0007], size=(500, 1))  # the same on every feature
    noise = level * rng.choice([-1, 1], (500, 9))
    sound = np.vstack([base, base[picks] + noise])
    primary = rng.integers(-1, 9, len(sound))
    primary[300:] = np.where(rng.random(500) < 0.8, primary[picks], primary[300:])
    titles = rng.integers(0, 400, len(sound))
    close = np.abs(sound[:, None, :] - sound[None, :, :]) <= (
        TOLERANCE + RELATIVE * np.maximum(np.abs(sound[:, None, :]), np.abs(sound[None, :, :]))
    )
    same_artist = (primary[:, None] == primary[None, :]) & (primary[:, None] >= 0)
    same_title = titles[:, None] == titles[None, :]
    unknown = (primary[:, None] < 0) & (primary[None, :] < 0)
    linked = same_artist & (close.all(axis=2) | same_title)
    linked |= unknown & same_title & close.all(axis=2)
    _, expected = connected_components(linked, directed=False)
    groups = recording_groups(primary, titles, sound)
    assert len(sound) - (groups.max() + 1) > 100  # many rows merged
    assert (pd.crosstab(groups, expected) > 0).sum(axis=1).eq(1).all()
    assert (pd.crosstab(groups, expected) > 0).sum(axis=0).eq(1).all()


# ------------------------------------------------------------------------- one catalog, five


FILLERS = 40
"""Songs of other artists around the releases, so similarity has something to choose from."""


@pytest.fixture(scope="module")
def discography():
    """The releases of a few recordings, as catalogs list them, among 40 other songs.

    Rows 0-2 are one recording (remaster, original, mono) with slightly different sound; the
    live version (3) and the remix (4) are other recordings of the same song, the cover (5)
    another artist's. Row 7 is row 6 on another album: a different title but the same sound
    to within rounding. Every one of them sounds much alike, and unlike the other songs.
    """
    centre = {
        "danceability": 0.40,
        "energy": 0.30,
        "loudness": -10.0,
        "speechiness": 0.03,
        "acousticness": 0.80,
        "instrumentalness": 0.0,
        "liveness": 0.10,
        "valence": 0.35,
        "tempo": 96.0,
    }
    songs = [
        ("Yesterday - Remastered 2009", "The Beatles", 80, {"loudness": -9.7}),
        ("Yesterday", "The Beatles", 60, {}),
        ("Yesterday (Mono)", "The Beatles", 30, {"energy": 0.31}),
        ("Yesterday - Live At The BBC", "The Beatles", 40, {"liveness": 0.45, "energy": 0.36}),
        ("Yesterday - Remix", "The Beatles", 45, {"danceability": 0.52, "tempo": 100.0}),
        ("Yesterday", "Matt Monro", 35, {"acousticness": 0.74}),
        ("Let It Be", "The Beatles; Billy Preston", 70, {"valence": 0.41, "energy": 0.33}),
        (
            "Let It Be - 1 (The Collection)",
            "The Beatles",
            20,
            {"valence": 0.4104, "energy": 0.3296, "loudness": -10.0004},
        ),
    ]
    rows = [
        centre | change | {"name": name, "artists": artists, "popularity": popularity}
        for name, artists, popularity, change in songs
    ]
    rng = np.random.default_rng(7)
    for i in range(FILLERS):
        rows.append(
            {
                "name": f"Filler {i}",
                "artists": f"Band {i % 9}",
                "popularity": 50,
                "danceability": rng.uniform(0.5, 0.95),
                "energy": rng.uniform(0.5, 0.95),
                "loudness": rng.uniform(-8, -3),
                "speechiness": rng.uniform(0.03, 0.3),
                "acousticness": rng.uniform(0.0, 0.3),
                "instrumentalness": rng.uniform(0.0, 0.5),
                "liveness": rng.uniform(0.05, 0.4),
                "valence": rng.uniform(0.4, 0.9),
                "tempo": rng.uniform(100, 170),
            }
        )
    frame = pd.DataFrame(rows)
    frame.insert(0, "track_id", [f"t{i:02d}" for i in range(len(frame))])
    catalog = load_catalog(frame, min_tracks=len(frame))
    return build_atlas(catalog, BuildConfig(methods=("kmeans",), k=2))


REMASTER, ORIGINAL, MONO, LIVE, REMIX, COVER, LET_IT_BE, LET_IT_BE_1 = range(8)
YESTERDAY = [REMASTER, ORIGINAL, MONO]


def test_the_index_groups_releases_and_only_them(discography) -> None:
    recording = discovery_index(discography).recording
    assert len(set(recording[YESTERDAY])) == 1
    assert recording[LET_IT_BE] == recording[LET_IT_BE_1]
    others = [REMASTER, LIVE, REMIX, COVER, LET_IT_BE, *range(8, 8 + FILLERS)]
    assert len(set(recording[others])) == len(others)


def test_similar_songs_never_return_a_release_of_the_query(discography) -> None:
    index = discovery_index(discography)
    for query in YESTERDAY:
        # Without the rule, the other releases would be among the nearest songs.
        nearest = np.argsort(-(index.unit @ index.unit[query]))[:4]
        assert set(YESTERDAY) <= set(nearest)
        found = similar_tracks(discography, query, n=10)["row"].tolist()
        assert not set(found) & set(YESTERDAY)
        assert {LIVE, REMIX, COVER} <= set(found)  # other recordings stay
        assert len(set(index.recording[found])) == len(found)
    found = similar_to_many(discography, [ORIGINAL, LET_IT_BE], n=10)["row"].tolist()
    assert not set(found) & {*YESTERDAY, LET_IT_BE, LET_IT_BE_1}


def test_playlists_hold_each_recording_once_and_no_release_of_a_seed(discography) -> None:
    index = discovery_index(discography)
    request = PlaylistRequest(
        method=None, seeds=("t06",), size=20, threshold=0.7, max_per_artist=10
    )
    playlist = generate_playlist(discography, request)
    rows = playlist.tracks["row"].tolist()
    assert LET_IT_BE_1 not in rows and LET_IT_BE not in rows
    assert len(set(index.recording[rows])) == len(rows)
    assert len(set(rows) & set(YESTERDAY)) == 1 and {LIVE, REMIX, COVER} <= set(rows)
    assert playlist.cut_by["releases"] == 2  # two more releases of "Yesterday" passed


def test_search_lists_a_recording_once_with_its_releases(discography) -> None:
    songs = search(discography, "yesterday").songs
    assert len(songs) == 4  # the recording, the cover, the live version, the remix
    beatles = songs[songs["row"].isin(YESTERDAY)]
    assert len(beatles) == 1 and beatles["releases"].iat[0] == 3
    shown = beatles["name"].iat[0]
    others = beatles["other_titles"].iat[0].split(OTHER_TITLES_SEPARATOR)
    assert sorted([shown, *others]) == sorted(discography.tracks["name"].iloc[YESTERDAY])
    alone = songs[~songs["row"].isin(YESTERDAY)]
    assert (alone["releases"] == 1).all() and (alone["other_titles"] == "").all()


def test_a_query_naming_a_release_gives_that_release(discography) -> None:
    assert resolve_track(discography, "yesterday mono") == MONO
    assert resolve_track(discography, "yesterday remastered") == REMASTER


def test_artist_top_songs_list_each_recording_once(discography) -> None:
    top = artist_profile(discography, "The Beatles").top_songs
    recording = discovery_index(discography).recording
    assert len(set(recording[top["row"]])) == len(top)
    assert top["name"].tolist() == [
        "Yesterday - Remastered 2009",
        "Let It Be",
        "Yesterday - Remix",
        "Yesterday - Live At The BBC",
    ]


# ---------------------------------------------------------------------------------- real data


TOPHITS_RELEASE_PAIRS = [
    # (primary artist, title, other title if not the same): every pair of rows of
    # tophits_2k.csv (exact duplicate rows left out, as ingestion merges them) with one primary
    # artist and either the same title once release qualifiers are removed or every audio
    # feature within 0.0005, found by comparing every pair of rows by hand-written rules and
    # read one by one.
    ("Alessia Cara", "Here"),
    ("Cardi B", "Bodak Yellow"),
    ("Daniel Bedingfield", "Gotta Get Thru This - D'N'D Radio Edit"),
    (
        "DJ Snake",
        "Taki Taki (with Selena Gomez, Ozuna & Cardi B)",
        "Taki Taki (feat. Selena Gomez, Ozuna & Cardi B)",
    ),  # same sound
    ("Drake", "Hotline Bling"),
    ("Drake", "Jumpman"),
    ("Eminem", "Like Toy Soldiers"),
    (
        "Fedde Le Grand",
        "Put Your Hands Up for Detroit - Radio Edit",
        "Put Your Hands Up For Detroit - Radio Edit",
    ),
    ("G-Eazy", "Him & I", "Him & I (with Halsey)"),  # same sound
    ("Jonas Blue", "Fast Car"),
    ("Kygo", "Stole the Show"),
    ("Lorde", "Team"),
    ("SAYGRACE", "You Don't Own Me (feat. G-Eazy)"),
    ("Selena Gomez", "The Heart Wants What It Wants"),
    ("Taylor Swift", "I Knew You Were Trouble."),
    ("Taylor Swift", "Bad Blood"),
    ("Taylor Swift", "Style"),
    ("Waka Flocka Flame", "No Hands (feat. Roscoe Dash & Wale)"),
]
SAME_TITLE_OTHER_ARTISTS = {
    # Songs of one title by different artists in tophits_2k.csv: never one recording.
    "Baby": ("Ashanti", "Justin Bieber"),
    "Closer": ("Ne-Yo", "Lemaitre", "The Chainsmokers"),
    "Faded": ("Tyga", "ZHU", "Alan Walker"),
    "Breathe": ("Faith Hill", "Jax Jones"),
}


def _rows(atlas, artist: str, *titles: str) -> list[int]:
    tracks = atlas.tracks
    first = tracks["artists"].map(lambda a: a[0] if len(a) else "")
    return [
        int(r) for t in titles for r in np.flatnonzero((first == artist) & (tracks["name"] == t))
    ]


@pytest.mark.realdata
def test_chart_hits_releases_merge_and_other_versions_do_not(atlas_of) -> None:
    atlas = atlas_of(TOPHITS)
    recording = discovery_index(atlas).recording
    same = [
        # Same sound, credits written two ways.
        _rows(
            atlas,
            "DJ Snake",
            *(f"Taki Taki ({w} Selena Gomez, Ozuna & Cardi B)" for w in ("with", "feat.")),
        ),
        _rows(atlas, "G-Eazy", "Him & I", "Him & I (with Halsey)"),
        # Same title, two masters: the sound differs a little.
        _rows(atlas, "Daniel Bedingfield", "Gotta Get Thru This - D'N'D Radio Edit"),
        _rows(
            atlas,
            "Fedde Le Grand",
            "Put Your Hands Up for Detroit - Radio Edit",
            "Put Your Hands Up For Detroit - Radio Edit",
        ),
    ]
    for rows in same:
        assert len(rows) == 2 and recording[rows[0]] == recording[rows[1]]
    different = [
        _rows(atlas, "Lil Nas X", "Old Town Road", "Old Town Road - Remix"),
        _rows(atlas, "Icona Pop", "I Love It", "I Love It (feat. Charli XCX)"),
    ]
    for rows in different:
        assert len(rows) == 2 and recording[rows[0]] != recording[rows[1]]
    for title, artists in SAME_TITLE_OTHER_ARTISTS.items():
        rows = [row for artist in artists for row in _rows(atlas, artist, title)]
        assert len(rows) == len(artists) and len(set(recording[rows])) == len(rows), title
    # Every recording listed more than once is one of the pairs checked by hand, and each
    # of those pairs is one recording.
    pairs = [_rows(atlas, artist, *titles) for artist, *titles in TOPHITS_RELEASE_PAIRS]
    assert all(len(rows) == 2 and recording[rows[0]] == recording[rows[1]] for rows in pairs)
    index = discovery_index(atlas)
    merged = np.flatnonzero(index.releases[recording] > 1)
    groups = {frozenset(np.flatnonzero(recording == r).tolist()) for r in recording[merged]}
    assert groups == {frozenset(rows) for rows in pairs}
    for rows in same[:2]:
        found = similar_tracks(atlas, rows[0], n=20)["row"].tolist()
        assert rows[1] not in found


def test_a_catalog_without_artists_never_answers_with_a_copy_of_the_query(atlas_of) -> None:
    """tracks_11k_genres has no artist column and lists some songs twice under new ids (the
    same title, the same audio): they are one recording, so a copy never comes back at 1.000."""
    from soundatlas.discovery import normalise_text, similar_tracks

    atlas = atlas_of(GENRES_11K)
    index = discovery_index(atlas)
    repeated = np.flatnonzero(index.releases > 1)
    assert len(repeated) >= 40
    for recording in repeated[:20]:
        rows = np.flatnonzero(index.recording == recording)
        assert len({normalise_text(index.names[r]) for r in rows}) == 1
        found = similar_tracks(atlas, int(rows[0]), n=10, similarity="sound")
        assert not set(found["row"]) & set(rows.tolist())
        assert found["similarity"].max() < 0.9999


def test_sounds_like_any_is_same_recording_against_each() -> None:
    """The array form a whole-catalog search uses, against the rule pair by pair: equal
    within rounding, just outside it, NaN, and no features at all."""
    rng = np.random.default_rng(5)
    base = rng.uniform(-60, 200, 13)
    for trial in range(300):
        others = [base + rng.choice([0.0, 4e-4, 6e-4, 1e-3], 13) * rng.choice([-1, 1], 13)
                  for _ in range(int(rng.integers(0, 5)))]  # fmt: skip
        sound = base.copy()
        if trial % 7 == 0:
            sound[3] = np.nan
        expected = any(same_recording(("a", "x", sound), ("a", "y", o)) for o in others)
        assert sounds_like_any(sound, others) == expected
    assert not sounds_like_any(np.zeros(0), [np.zeros(0)])
