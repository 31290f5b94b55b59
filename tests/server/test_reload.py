"""Reload (admin API and --watch): swap a fully loaded set in, keep the old one on a broken file."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from replayer.server.embedded import EmbeddedServer
from tests.server.conftest import INV, interaction, write_cassette

Serve = Callable[..., EmbeddedServer]


def _poll(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_reload_under_load_never_fails_a_request(serve: Serve, tmp_path: Path) -> None:
    server = serve({"a.yaml": [interaction("GET", f"{INV}/resourcePools", body=["v0"])]})
    cassette = tmp_path / "cassettes" / "a.yaml"
    stop = threading.Event()

    def client() -> list[tuple[int, str]]:
        seen: list[tuple[int, str]] = []
        with requests.Session() as s:
            for _ in range(400):  # bounded in count; and stops as soon as the reloads are done
                if stop.is_set():
                    break
                r = s.get(f"{server.url}{INV}/resourcePools", timeout=5)
                seen.append((r.status_code, r.json()[0]))
        return seen

    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(client) for _ in range(3)]
        for version in range(1, 6):
            write_cassette(cassette, [interaction("GET", f"{INV}/resourcePools", body=[f"v{version}"])])
            r = requests.post(f"{server.url}/__admin/reload", timeout=10)
            assert r.status_code == 200 and r.json()["interactions"] == 1
        stop.set()
        results = [row for f in futures for row in f.result()]
    assert results, "the clients made no request"
    assert {status for status, _ in results} == {200}
    assert {body for _, body in results} <= {f"v{i}" for i in range(6)}
    assert requests.get(f"{server.url}{INV}/resourcePools", timeout=5).json() == ["v5"]


def test_reload_with_a_broken_file_keeps_the_old_set(serve: Serve, tmp_path: Path) -> None:
    server = serve({"a.yaml": [interaction("GET", f"{INV}/resourcePools", body=["old"])]})
    (tmp_path / "cassettes" / "b.yaml").write_text("version: 1\ninteractions:\n- request: {method: GET}\n")
    r = requests.post(f"{server.url}/__admin/reload", timeout=10)
    assert r.status_code == 409
    assert "b.yaml:3: interaction 0:" in r.json()["error"]
    assert requests.get(f"{server.url}{INV}/resourcePools", timeout=5).json() == ["old"]


def test_watch_reloads_on_change_and_survives_a_half_written_file(serve: Serve, tmp_path: Path) -> None:
    server = serve({"a.yaml": [interaction("GET", f"{INV}/resourcePools", body=["old"])]},
                   watch=True, watch_interval=0.05)
    folder = tmp_path / "cassettes"
    write_cassette(folder / "new.yaml", [interaction("GET", f"{INV}/deploymentManagers", body=["dm"])])
    url = f"{server.url}{INV}/deploymentManagers"
    assert _poll(lambda: requests.get(url, timeout=5).status_code == 200)
    full = (folder / "new.yaml").read_bytes()
    (folder / "a.yaml").write_bytes(full[: len(full) // 3])  # a writer caught half-way
    assert _poll(lambda: 'o2replay_reloads_total{result="error"} 1' in
                 requests.get(f"{server.url}/metrics", timeout=5).text)
    assert requests.get(f"{server.url}{INV}/resourcePools", timeout=5).json() == ["old"]
    write_cassette(folder / "a.yaml", [interaction("GET", f"{INV}/resourcePools", body=["fixed"])])
    assert _poll(lambda: requests.get(f"{server.url}{INV}/resourcePools", timeout=5).json() == ["fixed"])
