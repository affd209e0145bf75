"""Names of the demo catalog: artist names, song titles and base62 ids.

Names are built from small word lists by fixed patterns ("Velvet Tide", "The Wild Foxes",
"Ava J. Moreau"), so thousands of artists get distinct, readable names without any real name in
the package. Every artist name starts with :data:`DEMO_ARTIST_PREFIX` and every title ends with
:data:`DEMO_SONG_SUFFIX`, so demo data cannot be mistaken for real data. Ids look like Spotify's
(22 base62 characters) and stay unique because their last characters encode the row index.
"""

from __future__ import annotations

import functools

import numpy as np

DEMO_ARTIST_PREFIX = "Demo Artist · "
DEMO_SONG_SUFFIX = " (demo)"

_BASE62 = np.frombuffer(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
)
_ID_LENGTH = 22
_ID_UNIQUE_DIGITS = 5
#: Songs (and artists) that can get distinct ids.
ID_SPACE = 62**_ID_UNIQUE_DIGITS
_ID_MULTIPLIER = 387_420_489  # 3**18: coprime with 62**5, so i -> i * m + c is a bijection
_NAME_MULTIPLIER = 1_000_003  # prime, larger than every name space

# --------------------------------------------------------------------------------------------
# Word lists (ASCII, plus a few accented names so search can be tested with accents)
# --------------------------------------------------------------------------------------------

# fmt: off
_ADJECTIVES = (
    "Velvet", "Golden", "Silver", "Midnight", "Electric", "Quiet", "Broken", "Neon",
    "Crimson", "Hollow", "Wild", "Gentle", "Restless", "Paper", "Crystal", "Faded",
    "Burning", "Lonely", "Summer", "Winter", "Northern", "Southern", "Secret", "Distant",
    "Sweet", "Bitter", "Blue", "Scarlet", "Amber", "Silent", "Endless", "Little",
    "Lucky", "Heavy", "Brave", "Static", "Cosmic", "Rusty", "Frozen", "Shining",
    "Open", "Empty", "Tender", "Savage", "Honey", "Copper", "Violet", "Wandering",
    "Sleepy", "Dusty", "Gilded", "Lunar", "Solar", "Radiant", "Painted", "Sacred",
    "Tiny", "Giant", "Marble", "Emerald", "Ivory", "Hidden", "Fragile", "Rising",
)
_NOUNS = (
    "Tide", "River", "Heart", "Morning", "Highway", "Garden", "Ocean", "Mirror",
    "Signal", "Harbor", "Window", "Thunder", "Echo", "Lantern", "Horizon", "Shadow",
    "Fire", "Rain", "Daydream", "Compass", "Satellite", "Orchard", "Valley", "Canyon",
    "Meadow", "Skyline", "Feather", "Wave", "Letter", "Promise", "Parade", "Carousel",
    "Lullaby", "Serenade", "Avenue", "Island", "Comet", "Ember", "Storm", "Moon",
    "Sun", "City", "Dream", "Road", "Night", "Café", "Soirée", "Melody",
    "Bridge", "Forest", "Desert", "Station", "Engine", "Kingdom", "Ribbon", "Candle",
    "Circle", "Season", "Fever", "Glass", "Silence", "Radio", "Sparrow", "Lighthouse",
)
_PLURALS = (
    "Foxes", "Lanterns", "Rivers", "Comets", "Sparrows", "Wolves", "Strangers", "Dreamers",
    "Satellites", "Tides", "Echoes", "Ravens", "Pilots", "Heartbeats", "Drifters", "Machines",
    "Sailors", "Painters", "Poets", "Shadows", "Giants", "Saints", "Rebels", "Rangers",
    "Owls", "Tigers", "Thieves", "Kings", "Queens", "Ghosts", "Hearts", "Horses",
    "Lovers", "Sisters", "Brothers", "Wanderers", "Mariners", "Orbits", "Signals", "Flames",
    "Keys", "Birds", "Bells", "Waves", "Stars", "Cowboys", "Pirates", "Dancers",
)
_FIRST_NAMES = (
    "Ava", "Leo", "Mia", "Noah", "Maya", "Eli", "Nora", "Theo",
    "Ruby", "Jonah", "Iris", "Felix", "Clara", "Milo", "Hazel", "Oscar",
    "Lena", "Hugo", "Stella", "Owen", "Ivy", "Jasper", "June", "Silas",
    "Rosa", "Emil", "Vera", "Caleb", "Elsa", "Rafael", "Lucia", "Marcus",
    "Nina", "Tobias", "Greta", "Dario", "Kai", "Amara", "Sam", "Otis",
    "Freya", "Arlo", "Mabel", "Ezra", "Luna", "Finn", "Daisy", "Levi",
    "Cora", "Miles", "Alma", "Roman", "Tessa", "Abel", "Wren", "Dexter",
    "Pearl", "Gus", "Olive", "Ray", "Léa", "Chloé", "François", "José",
)
_LAST_NAMES = (
    "Moreau", "Hart", "Lane", "Rivers", "Stone", "Vale", "Brooks", "Quinn",
    "Mercer", "Hale", "Frost", "Sloane", "Reyes", "Novak", "Lindqvist", "Okafor",
    "Tanaka", "Ferreira", "Kowalski", "Marsh", "Bishop", "Calloway", "Dumont", "Ashby",
    "Winter", "Sterling", "Holloway", "Baptiste", "Castillo", "Fontaine", "Rossi", "Moretti",
    "Keller", "Haas", "Adair", "Ellery", "Garnier", "Park", "Nakamura", "Silva",
    "Byrne", "Dalton", "Everett", "Fischer", "Grant", "Hughes", "Ibarra", "Jensen",
    "Kaplan", "Larsen", "Monroe", "Nash", "Ortega", "Price", "Rowe", "Sato",
    "Thorne", "Underwood", "Vance", "Wilder", "Young", "Zeller", "Lefèvre", "Gonçalves",
)
_VERBS = (
    "Dancing", "Running", "Waiting", "Falling", "Dreaming", "Driving", "Singing", "Walking",
    "Floating", "Chasing", "Burning", "Drifting", "Shining", "Calling", "Holding", "Fading",
    "Flying", "Sleeping", "Wandering", "Howling", "Rolling", "Swimming", "Whispering", "Rising",
)
_PREPOSITIONS = ("Under", "Over", "Beyond", "Across", "Through", "Into", "Beside", "Above")
_VERSIONS = ("Live", "Acoustic", "Remix", "Radio Edit", "Remastered")
_INITIALS = tuple("ABCDEFGHIJKLMNOPRSTVWZ")
# fmt: on

#: Artist-name patterns cycle through this fixed sequence (4 bands "Adj Noun", 3 "The Adj Xs",
#: 4 "First Last", 8 "First X. Last", 1 "First & The Xs" in every 20 artists), so each
#: pattern's names are used in order and stay unique: 17,662 artists need no numbering.
_ARTIST_PATTERN_CYCLE = np.array([0, 3, 2, 1, 3, 0, 2, 3, 1, 4, 3, 0, 2, 3, 1, 3, 0, 2, 3, 3])
#: Title patterns and their probabilities: "Adj Noun", "Verb Prep the Noun", "Noun",
#: "Adj Noun - Version", "Noun of the Adj Noun". Short patterns make titles shared between
#: artists, as in real catalogs ("Home", "Summer Rain").
_TITLE_PATTERN_PROBS = np.array([0.15, 0.25, 0.02, 0.08, 0.50])


def _combine(*parts: tuple[str, ...] | list[str], sep: str = " ") -> list[str]:
    """Every combination of one item from each part, joined (first part varies slowest)."""
    combos = [""]
    for index, part in enumerate(parts):
        glue = "" if index == 0 else sep
        combos = [f"{head}{glue}{item}" for head in combos for item in part]
    return combos


@functools.cache
def _artist_name_patterns() -> tuple[np.ndarray, ...]:
    """Artist names of each pattern (see ``_ARTIST_PATTERN_CYCLE``), demo prefix included."""
    patterns = (
        _combine(_ADJECTIVES, _NOUNS),
        _combine(["The"], _ADJECTIVES, _PLURALS),
        _combine(_FIRST_NAMES, _LAST_NAMES),
        _combine(_FIRST_NAMES, [f"{i}." for i in _INITIALS], _LAST_NAMES),
        _combine(_FIRST_NAMES, ["& The"], _PLURALS),
    )
    return tuple(np.array([DEMO_ARTIST_PREFIX + n for n in p], dtype=object) for p in patterns)


@functools.cache
def _title_vocabulary() -> tuple[np.ndarray, np.ndarray]:
    """All song titles, demo suffix included, and where each title pattern starts."""
    patterns = (
        _combine(_ADJECTIVES, _NOUNS),
        _combine(_VERBS, _PREPOSITIONS, ["the"], _NOUNS),
        list(_NOUNS),
        _combine(_combine(_ADJECTIVES, _NOUNS), _VERSIONS, sep=" - "),
        _combine(_NOUNS, ["of the"], _ADJECTIVES, _NOUNS),
    )
    titles = np.array([t + DEMO_SONG_SUFFIX for p in patterns for t in p], dtype=object)
    starts = np.cumsum([0, *[len(p) for p in patterns]])
    return titles, starts


def artist_names(artist_index: np.ndarray, salt: int) -> np.ndarray:
    """Unique demo artist names for global artist indices (numbered only past ~20k artists)."""
    cycle = len(_ARTIST_PATTERN_CYCLE)
    position = artist_index % cycle
    pattern = _ARTIST_PATTERN_CYCLE[position]
    # Rank of each artist among the artists of its pattern: full cycles, then earlier slots.
    per_cycle = np.bincount(_ARTIST_PATTERN_CYCLE)
    earlier = np.cumsum(_ARTIST_PATTERN_CYCLE[:, None] == np.arange(len(per_cycle)), axis=0)
    rank = (artist_index // cycle) * per_cycle[pattern] + earlier[position, pattern] - 1
    names = np.empty(len(artist_index), dtype=object)
    for p, vocab in enumerate(_artist_name_patterns()):
        mask = pattern == p
        space = len(vocab)
        lap, slot = np.divmod(rank[mask], space)
        picked = vocab[(slot * _NAME_MULTIPLIER + salt) % space]
        if lap.any():
            numbered = [f"{n} No. {k + 1}" if k else n for n, k in zip(picked, lap, strict=True)]
            picked = np.array(numbered, dtype=object)
        names[mask] = picked
    return names


def song_titles(rng: np.random.Generator, size: int) -> np.ndarray:
    """Titles drawn from the title patterns; short patterns repeat across artists."""
    titles, starts = _title_vocabulary()
    pattern = rng.choice(len(_TITLE_PATTERN_PROBS), size=size, p=_TITLE_PATTERN_PROBS)
    lengths = np.diff(starts)
    offset = (rng.random(size) * lengths[pattern]).astype(np.int64)
    return titles[starts[pattern] + offset]


def base62_ids(rng: np.random.Generator, index: np.ndarray, salt: int) -> np.ndarray:
    """22-character base62 ids; the last 5 characters encode ``index`` bijectively (unique)."""
    codes = rng.integers(0, 62, size=(len(index), _ID_LENGTH), dtype=np.uint8)
    scrambled = (index.astype(np.int64) * _ID_MULTIPLIER + salt) % ID_SPACE
    for position in range(_ID_UNIQUE_DIGITS):
        scrambled, digit = np.divmod(scrambled, 62)
        codes[:, _ID_LENGTH - 1 - position] = digit
    chars = np.ascontiguousarray(_BASE62[codes])
    return chars.view(f"S{_ID_LENGTH}").ravel().astype(str)
