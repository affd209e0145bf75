"""Every error in Spotify's shape with the right status; hostile requests get a 400."""

from __future__ import annotations

import json

import pytest
from apiserver import TOKEN, asgi_get, error_of
from fastapi.testclient import TestClient

from soundatlas.api import RateLimit, create_app, read_tokens
from soundatlas.errors import ConfigError

pytestmark = pytest.mark.realdata


def test_unknown_ids_are_404(client) -> None:
    for path in ("/v1/tracks/nope", "/v1/audio-features/nope", "/v1/artists/nope"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "'nope'" in error_of(response)["message"]


def test_unknown_routes_and_methods(client) -> None:
    assert error_of(client.get("/v2/tracks"))["status"] == 404
    response = client.post("/v1/tracks/x")
    assert response.status_code == 405 and "use GET" in error_of(response)["message"]


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/v1/audio-features?ids=" + ",".join(["x"] * 10_000), "query string of"),
        ("/v1/audio-features?ids=" + ",".join(["x"] * 101), "ids: 101 ids given; at most 100"),
        ("/v1/search?q=love&type=track&limit=nan", "limit: Input should be a valid integer"),
        ("/v1/search?q=love&type=track&limit=inf", "limit: Input should be a valid integer"),
        ("/v1/search?q=love&type=track&limit=-1", "limit: Input should be greater than"),
        ("/v1/search?q=love&type=track&offset=1e9", "offset: Input should be a valid integer"),
        ("/v1/recommendations?seed_genres=pop&target_energy=inf", "finite number"),
        ("/v1/recommendations?seed_genres=pop&target_tempo=-1e400", "finite number"),
        ("/v1/search?q=love&type=track&color=red", "color: is not a parameter"),
        ("/v1/tracks/x?color=red", "color: is not a parameter"),
        ("/v1/search?q=%FF%FE&type=track", "query string: byte 2 is not UTF-8"),
        ("/v1/tracks/%C3%28", "path: byte 11 is not UTF-8"),
        ("/v1/search?type=track", "q: Field required"),
        ("/v1/audio-features?ids=a,,b", "an empty id"),
        ("/soundatlas/v1/clusters/kmeans/99", "cluster 99 (K-Means)"),
        ("/soundatlas/v1/clusters/ward/1", "method: Input should be"),
    ],
)
def test_hostile_requests_get_a_400(client, path, words) -> None:
    response = client.get(path)
    error = error_of(response)
    expected = 404 if "cluster 99" in words else 400
    assert response.status_code == expected
    assert words in error["message"]
    assert len(error["message"]) < 600  # a bad value is quoted, not echoed whole


def test_a_100_kb_query_string_gets_a_400(client) -> None:
    status, body = asgi_get(client.app, b"/v1/search", b"type=track&q=" + b"a" * 100_000)
    assert status == 400
    assert json.loads(body)["error"]["message"].startswith("query string of 100,013 bytes")


def test_an_unexpected_failure_is_a_500_without_traceback(atlas_dir, monkeypatch) -> None:
    import soundatlas.api.spotify as routes

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(routes, "search_page", broken)
    with TestClient(create_app(atlas_dir, poll=0), raise_server_exceptions=False) as client:
        response = client.get("/v1/search", params={"q": "love", "type": "track"})
    assert response.status_code == 500
    assert "secret" not in response.text and "internal error" in error_of(response)["message"]


@pytest.fixture(scope="module")
def guarded(atlas_dir):
    app = create_app(atlas_dir, tokens=(TOKEN,), rate_limit=RateLimit(rate=2, burst=3), poll=0)
    with TestClient(app) as client:
        yield client


def test_tokens_are_required_when_given(guarded, atlas) -> None:
    path = f"/v1/tracks/{atlas.tracks['track_id'].iat[0]}"
    missing = guarded.get(path)
    assert missing.status_code == 401 and "no token provided" in error_of(missing)["message"]
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = guarded.get(path, headers={"Authorization": "Bearer wrong-token-0123456789"})
    assert wrong.status_code == 401 and "invalid access token" in error_of(wrong)["message"]
    assert guarded.get("/openapi.json").status_code == 401


def test_each_token_is_rate_limited(guarded, atlas) -> None:
    path = f"/v1/tracks/{atlas.tracks['track_id'].iat[0]}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    statuses = [guarded.get(path, headers=headers) for _ in range(8)]
    assert statuses[0].status_code == 200
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, "a burst of 8 at 2 requests a second must be limited"
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert "rate limit exceeded" in error_of(limited[0])["message"]


def test_token_files(tmp_path) -> None:
    good = tmp_path / "tokens"
    good.write_text(f"# ours\n\n{TOKEN}\n  other-token-0123456789  \n")
    assert read_tokens(good) == (TOKEN, "other-token-0123456789")
    short = tmp_path / "short"
    short.write_text("abc\n")
    with pytest.raises(ConfigError, match=r"short, line 1: a token must be at least 16"):
        read_tokens(short)
    empty = tmp_path / "empty"
    empty.write_text("# nothing\n")
    with pytest.raises(ConfigError, match=r"holds no token"):
        read_tokens(empty)
