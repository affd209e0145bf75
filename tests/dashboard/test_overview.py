"""Overview: counts, the three methods compared, persona cards, what was dropped; method switch."""

from __future__ import annotations

from soundatlas.dashboard.text import plain


def test_overview_shows_counts_methods_personas_and_drops(app, text_of, hostile_atlas, songs):
    at = app()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Songs"] == f"{songs:,}"
    artists = hostile_atlas.tracks["artists"].explode().nunique()
    assert metrics["Unique artists"] == f"{artists:,}"
    assert int(metrics["Active clusters"]) >= 2
    methods = at.dataframe[0].value
    assert set(methods["method"]) == {"K-Means", "DBSCAN", "Hierarchical (Ward)"}
    assert {
        "verdict",
        "silhouette",
        "silhouette_with_noise",
        "davies_bouldin",
        "noise_share",
        "agreement_ari",
        "stability_ari",
    } <= set(methods.columns)
    shown = text_of(at)
    assert "Why: " in shown and "Genres: " in shown
    assert f"{songs:,} of {songs:,} songs" in shown
    assert "duplicate row" in at.dataframe[-1].value["rule"].tolist()


def test_overview_recommends_a_method_opens_on_it_and_warns_of_degenerate_ones(
    app, text_of, hostile_atlas
):
    at = app()
    assessment = hostile_atlas.assessment
    recommended = hostile_atlas.methods[assessment.recommended].title
    assert at.selectbox(key="method").value == assessment.recommended
    assert f"Recommended: {recommended}." in at.info[0].value
    methods = at.dataframe[0].value
    assert methods["verdict"].iloc[0] == "recommended"
    assert methods["method"].iloc[0] == recommended
    degenerate = [m for m in hostile_atlas.methods if assessment.degenerate(m)]
    assert list(methods["verdict"].iloc[len(methods) - len(degenerate) :]) == ["degenerate"] * len(
        degenerate
    )
    from soundatlas.dashboard.text import plain

    warnings = [w.value for w in at.warning]
    for method in degenerate:
        assert plain(assessment.warnings[method][0]) in warnings
    if degenerate:
        assert plain("The rule: a result is degenerate when") in text_of(at)


def _cards(at) -> set[str]:
    """The persona names on the cards (each card's bold first line, as Markdown)."""
    return {m.value for m in at.markdown if m.value.startswith("**")}


def _personas(atlas, method: str) -> set[str]:
    """An atlas's persona names for ``method``, as the cards write them."""
    return {f"**{plain(name)}**" for name in atlas.personas_of(method)["persona"]}


def test_switching_method_changes_active_clusters_and_personas(app, text_of, hostile_atlas):
    tracks = hostile_atlas.tracks
    at = app()
    assert at.metric[3].value == str(tracks["cluster"].nunique())
    assert _personas(hostile_atlas, "kmeans") <= _cards(at)
    at.selectbox(key="method").set_value("hierarchical").run()
    assert not at.exception
    assert "Personas · Hierarchical (Ward)" in text_of(at)
    assert tracks["cluster_hc"].nunique() != tracks["cluster"].nunique(), "the test needs both"
    assert at.metric[3].value == str(tracks["cluster_hc"].nunique())
    hierarchical = _personas(hostile_atlas, "hierarchical")
    assert hierarchical <= _cards(at)
    only_kmeans = _personas(hostile_atlas, "kmeans") - hierarchical
    assert only_kmeans and not only_kmeans & _cards(at)


def test_filters_from_the_url_apply_on_load(app, text_of, songs):
    at = app(pop=["70", "100"], explicit="no")
    assert at.slider(key="pop").value == (70, 100)
    assert at.radio(key="explicit").value == "no"
    shown = int(at.metric[0].value.replace(",", ""))
    assert 0 < shown < songs
    assert f"{shown:,} of {songs:,} songs" in text_of(at)


def test_the_url_follows_the_widgets_and_stays_clean_at_defaults(app):
    at = app()
    assert not {"pop", "explicit", "energy"} & set(at.query_params)
    at.radio(key="explicit").set_value("yes")
    at.slider(key="energy").set_value((0.25, 0.75)).run()
    assert at.query_params["explicit"] == "yes"
    assert at.query_params["energy"] == ["0.25", "0.75"]
    at.switch_page("app_pages/features.py").run()
    assert at.query_params["explicit"] == "yes"


def test_invalid_url_values_are_ignored(app, songs):
    at = app(pop=["abc", "90"], method="nope", genre=["no such genre"], energy=["0.9", "0.1"])
    assert at.slider(key="pop").value == (0, 100)
    assert at.selectbox(key="method").value == "kmeans"
    assert at.multiselect(key="genre").value == []
    assert at.metric[0].value == f"{songs:,}"


def test_no_match_shows_message_and_reset_brings_songs_back(app, text_of, songs):
    at = app(pop=["99", "100"], energy=["0.0", "0.05"])
    assert "No songs match these filters" in text_of(at)
    at.button(key="empty_reset").click().run()
    assert not at.exception
    assert at.metric[0].value == f"{songs:,}"
    assert at.slider(key="pop").value == (0, 100)
