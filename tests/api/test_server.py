"""``soundatlas serve`` as a real server on a free loopback port: a Spotify client library
from PyPI (spotipy) changed only in its base URL, draining on SIGTERM, an atlas rebuilt in
place, and the address and token rules."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pandas as pd
import psutil
import pytest
import spotipy
from apiserver import TOKEN, error_of
from realdata import TOPHITS, shared_file
from test_native_endpoints import NEW_SONG

from soundatlas.atlas.build import build_atlas
from soundatlas.discovery.save import save_atlas

pytestmark = [pytest.mark.realdata, pytest.mark.server]


@pytest.fixture
def spotify(atlas_dir, start_server, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN}\n")
    server = start_server(
        atlas_dir, "--token-file", tokens, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    client = spotipy.Spotify(auth=TOKEN, retries=0, status_retries=0)
    client.prefix = f"{server.url}/v1/"
    return client


def test_spotipy_works_by_changing_only_its_base_url(spotify, atlas) -> None:
    ids = atlas.tracks["track_id"].iloc[[0, 4]].tolist()
    with pytest.warns(DeprecationWarning):  # spotipy warns: Spotify closed these endpoints
        found = spotify.recommendations(
            seed_tracks=ids, limit=5, target_energy=0.8, min_tempo=90, country="US"
        )
    assert 0 < len(found["tracks"]) <= 5 and [s["id"] for s in found["seeds"]] == ids
    with pytest.warns(DeprecationWarning):
        features = spotify.audio_features([*ids, "nope"])
    assert [f and f["id"] for f in features] == [*ids, None]
    track = spotify.track(ids[0])
    assert track["name"] == atlas.tracks["name"].iat[0]
    assert [t["id"] for t in spotify.tracks(ids)["tracks"]] == ids
    artist = spotify.artist(track["artists"][0]["id"])
    assert artist["name"] == "Britney Spears"
    with pytest.warns(DeprecationWarning):
        genres = spotify.recommendation_genre_seeds()["genres"]
    with pytest.warns(DeprecationWarning):
        by_genre = spotify.recommendations(seed_genres=genres[:1], seed_artists=[artist["id"]])
    assert by_genre["seeds"][0]["type"] == "ARTIST"


def test_spotipy_pages_search_results(spotify) -> None:
    first = spotify.search("love", limit=5, type="track")["tracks"]
    second = spotify.next(first)["tracks"]
    assert second["offset"] == 5 and len(second["items"]) == 5
    assert not {t["id"] for t in first["items"]} & {t["id"] for t in second["items"]}
    artists = spotify.search("britney", type="artist")["artists"]["items"]
    assert artists[0]["name"] == "Britney Spears"


def test_spotipy_raises_404_for_an_unknown_id(spotify) -> None:
    with pytest.raises(spotipy.SpotifyException) as raised:
        spotify.track("0000000000000000000000")
    assert raised.value.http_status == 404
    assert "no song of this atlas has it" in raised.value.msg


def _requests(url: str, count: int, results: list) -> None:
    """``count`` recommendations one after another; a failure is recorded, not raised."""
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            try:
                response = client.get(
                    f"{url}/v1/recommendations", params={"seed_genres": "pop", "limit": 100}
                )
                results.append(response.status_code)
            except httpx.HTTPError as exc:
                results.append(repr(exc))


def _assign(url: str, results: list) -> None:
    """Place 100 new songs with 50 nearest songs each (about two seconds of work)."""
    songs = [{**NEW_SONG, "tempo": 80.0 + i} for i in range(100)]
    response = httpx.post(
        f"{url}/soundatlas/v1/assign", json={"tracks": songs, "nearest": 50}, timeout=60
    )
    results.append(response.status_code)


def test_sigterm_drains_requests_in_flight_and_exits_0(atlas_dir, start_server) -> None:
    server = start_server(atlas_dir)
    results: list[int] = []
    worker = threading.Thread(target=_assign, args=(server.url, results))
    worker.start()
    time.sleep(0.5)
    server.process.send_signal(signal.SIGTERM)
    worker.join(60)
    assert server.process.wait(30) == 0
    assert results == [200]


def test_an_atlas_rebuilt_in_place_is_picked_up(atlas_dir, start_server, tmp_path) -> None:
    folder = tmp_path / "atlas"
    shutil.copytree(atlas_dir, folder)
    server = start_server(folder)
    before = httpx.get(f"{server.url}/v1/recommendations/available-genre-seeds").json()
    chart = pd.read_csv(shared_file(TOPHITS))
    # A catalog in which "pop" is some songs, not all: a genre that is every song sits at the
    # catalog's average sound, and a seed there is refused (400) whatever the swap does.
    smaller = tmp_path / "first300.csv"
    chart.head(300).to_csv(smaller, index=False)
    rebuilt = build_atlas(smaller)
    results: list[int | str] = []
    traffic = threading.Thread(target=_requests, args=(server.url, 40, results))
    traffic.start()
    save_atlas(rebuilt, folder)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = httpx.get(f"{server.url}/v1/recommendations/available-genre-seeds").json()
        if after != before:
            break
        time.sleep(0.2)
    traffic.join(120)
    assert after != before and "pop" in after["genres"]
    assert results and set(results) == {200}, "no request may fail during the swap"


def test_other_addresses_need_tokens_or_insecure(atlas_dir, start_server) -> None:
    refused = start_server(atlas_dir, "--host", "0.0.0.0", ready=False)
    _, err = refused.process.communicate(timeout=60)
    assert refused.process.returncode == 2
    assert b"--token-file" in err and b"--insecure" in err
    allowed = start_server(atlas_dir, "--host", "0.0.0.0", "--insecure")
    assert httpx.get(f"{allowed.url}/v1/recommendations/available-genre-seeds").status_code == 200
    allowed.process.send_signal(signal.SIGTERM)
    _, err = allowed.process.communicate(timeout=30)
    assert allowed.process.returncode == 0 and b"without tokens (--insecure)" in err


def test_forked_workers_share_the_load_and_stop_on_sigterm(atlas_dir, start_server) -> None:
    server = start_server(atlas_dir, "--workers", "2")
    parent = psutil.Process(server.process.pid)
    workers = parent.children()
    assert len(workers) == 2
    # The parent has become the bare supervisor (its copy of the atlas freed); its workers
    # are still its children.
    deadline = time.monotonic() + 10
    while "supervisor.py" not in " ".join(parent.cmdline()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert parent.cmdline()[-3:-2][0].endswith("supervisor.py")
    assert parent.memory_info().rss < 64 * 2**20
    assert sorted(w.pid for w in parent.children()) == sorted(w.pid for w in workers)
    statuses, seconds = set(), []
    with httpx.Client() as client:
        for _ in range(20):
            clock = time.perf_counter()
            response = client.get(f"{server.url}/v1/recommendations/available-genre-seeds")
            seconds.append(time.perf_counter() - clock)
            statuses.add(response.status_code)
    assert statuses == {200}
    # A socket without TCP_NODELAY made every response wait 40 ms for a delayed ACK.
    assert sorted(seconds)[10] < 0.035
    assert sum(w.cpu_times().user + w.cpu_times().system for w in workers) > 0
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(30) == 0
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)


def test_the_rate_limit_is_per_token_across_workers(atlas_dir, start_server, tmp_path) -> None:
    """Two workers together let a token through at the rate limit, not twice it: the buckets
    live in memory shared by the forked workers."""
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKEN + "\n")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    rate, burst = 2, 4  # --rate-limit 2: bursts of twice that
    server = start_server(
        atlas_dir,
        "--workers",
        "2",
        "--token-file",
        tokens,
        "--rate-limit",
        rate,
        headers=headers,
    )
    workers = psutil.Process(server.process.pid).children()
    before = [w.cpu_times().user + w.cpu_times().system for w in workers]
    time.sleep(burst / rate)  # the bucket refills after the readiness checks
    url = f"{server.url}/v1/recommendations/available-genre-seeds"

    def one(_: int) -> httpx.Response:
        with httpx.Client(headers=headers) as client:  # a connection each: both workers serve
            return client.get(url)

    clock = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(48)))
    elapsed = time.monotonic() - clock
    after = [w.cpu_times().user + w.cpu_times().system for w in workers]
    assert all(a > b for a, b in zip(after, before, strict=True)), "one worker served all"
    passed = sum(r.status_code == 200 for r in answers)
    limited = [r for r in answers if r.status_code == 429]
    assert passed + len(limited) == len(answers)
    assert 1 <= passed <= burst + rate * elapsed + 1, (passed, elapsed)
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert "rate limit exceeded" in error_of(limited[0])["message"]
    server.process.send_signal(signal.SIGTERM)  # the workers stop with it (a kill orphans them)
    assert server.process.wait(30) == 0


def _raw_get(port: int, target: bytes) -> tuple[bytes, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], json.loads(body)


def test_huge_requests_get_spotifys_400_over_the_wire(atlas_dir, start_server) -> None:
    server = start_server(atlas_dir)
    status, body = _raw_get(server.port, b"/v1/search?type=track&q=" + b"a" * 100_000)
    assert status == b"HTTP/1.1 400 Bad Request"
    assert body["error"]["message"].startswith("query string of 100,013 bytes")
    ids = b",".join([b"0000000000000000000000"] * 10_000)
    status, body = _raw_get(server.port, b"/v1/audio-features?ids=" + ids)
    assert status == b"HTTP/1.1 400 Bad Request" and body["error"]["status"] == 400
    status, body = _raw_get(server.port, b"/v1/search?type=track&q=%FF")
    assert "not UTF-8" in body["error"]["message"]
