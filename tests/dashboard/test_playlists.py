"""Smart playlist generator: a ranked playlist with scores, CSV download, clear shortfalls."""

from __future__ import annotations

from dashboard.hostile import FILTERS, outside_filters

SUBMIT = "FormSubmitter:pl_form-Generate playlist"


def test_generate_a_playlist_from_a_cluster(app, text_of):
    at = app("playlists")
    at.slider(key="pl_size").set_value(15)
    at.slider(key="pl_threshold").set_value(0.75)
    at.selectbox(key="pl_order").set_value("smooth")
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    tracks = at.dataframe[0].value
    assert len(tracks) == 15
    assert (tracks["similarity"] >= 0.75).all()
    assert [b.label for b in at.get("download_button")] == ["Download playlist (CSV)"]
    csv_text = at.session_state["pl_result"][2]
    assert csv_text.count("\n") >= 16


def test_every_playlist_song_is_inside_the_sidebar_filters(app, hostile_atlas):
    at = app("playlists", **FILTERS)
    at.slider(key="pl_size").set_value(30)
    at.slider(key="pl_threshold").set_value(0.0)
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    tracks = at.dataframe[0].value
    assert len(tracks) == 30
    assert outside_filters(hostile_atlas, tracks) == []


def test_too_strict_a_playlist_says_how_many_qualified(app, text_of):
    at = app("playlists")
    at.slider(key="pl_size").set_value(50)
    at.slider(key="pl_threshold").set_value(1.0)
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    assert at.warning, "a shorter playlist must be explained"
    assert at.session_state["pl_result"][1].passed < 50


def test_seed_song_and_artist_cap_and_targets(app, hostile_atlas):
    at = app("playlists")
    at.selectbox(key="pl_cluster").select_index(0)
    at.text_area(key="pl_seeds").input(str(hostile_atlas.tracks["track_id"].iloc[10]))
    at.number_input(key="pl_cap").set_value(1)
    at.checkbox(key="pl_on_energy").check()
    at.slider(key="pl_target_energy").set_value(0.9)
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    playlist = at.session_state["pl_result"][1]
    assert len(playlist.tracks) > 0
    assert playlist.request.target == {"energy": 0.9}
    assert "target_distance" in playlist.tracks
    assert playlist.tracks["artists"].map(str).is_unique


def test_unknown_seed_shows_the_error_without_a_traceback(app, text_of):
    at = app("playlists")
    at.selectbox(key="pl_cluster").select_index(0)
    at.text_area(key="pl_seeds").input("zzzz no such song qqq")
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    assert at.error


def test_every_sidebar_filter_applies_to_the_playlist(app, text_of, hostile_atlas):
    """A genre, an artist or 'explicit: yes' in the sidebar restricts the playlist too."""
    tracks = hostile_atlas.tracks
    genre = tracks["genres"].explode().value_counts().index[0]
    artist = tracks["artists"].explode().value_counts().index[0]
    for params, wanted in (
        ({"genre": genre}, tracks["genres"].map(lambda g: genre in list(g))),
        ({"artist": artist}, tracks["artists"].map(lambda a: artist in list(a))),
        ({"explicit": "yes"}, tracks["explicit"].fillna(False).astype(bool)),
    ):
        at = app("playlists", **params)
        if "artist" in params:
            at.text_area(key="pl_seed_artists").input(str(artist))
        at.slider(key="pl_size").set_value(5)
        at.slider(key="pl_threshold").set_value(0.7)
        at.button(key=SUBMIT).click().run()
        assert not at.exception
        playlist = at.session_state["pl_result"][1]
        rows = playlist.tracks["row"].to_numpy()
        assert len(rows) > 0, (params, playlist.message)
        assert wanted.to_numpy()[rows].all(), params
        assert "only songs that pass every sidebar filter" in text_of(at)


def test_an_ambiguous_seed_is_picked_from_a_list(app, text_of, hostile_atlas):
    at = app("playlists")
    at.selectbox(key="pl_cluster").select_index(0)
    at.text_area(key="pl_seeds").input("radio")
    at.slider(key="pl_threshold").set_value(0.7)
    at.button(key=SUBMIT).click().run()
    assert not at.exception and at.error
    assert "pick the one you mean" in text_of(at)
    picker = at.selectbox(key="pl_pick_song")
    assert len(picker.options) > 1
    picker.select_index(1).run()
    at.button(key="pl_pick_use").click().run()
    assert not at.exception
    track_id = at.text_area(key="pl_seeds").value
    assert track_id in set(hostile_atlas.tracks["track_id"].astype(str))
    at.button(key=SUBMIT).click().run()
    assert not at.exception and not at.error
    playlist = at.session_state["pl_result"][1]
    assert len(playlist.tracks) > 0 and playlist.request.seeds == (track_id,)
