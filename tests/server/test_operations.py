"""Running the server as a service: --ready-file, the JSON banner, access-log fields, /metrics summed
over --workers, and serving without mitmproxy installed (the serve image has none)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.server.conftest import INV, POOLS, interaction, write_cassette

ROOT = Path(__file__).resolve().parents[2]

#: Runs the CLI with every import of mitmproxy refused and reported on stderr.
_NO_MITMPROXY = """\
import sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name == "mitmproxy" or name.startswith("mitmproxy."):
            print("IMPORTED mitmproxy from", name, file=sys.stderr, flush=True)
            raise ModuleNotFoundError("No module named 'mitmproxy'")
        return None
sys.meta_path.insert(0, Refuse())
from replayer.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def cassettes(tmp_path: Path) -> Path:
    write_cassette(tmp_path / "c" / "inv.yaml", [interaction("GET", f"{INV}/resourcePools", body=POOLS)])
    return tmp_path / "c"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[str], dict[str, object]]]]:
    """``o2replay serve ARGS --port 0 --ready-file F``; yields (process, the ready file's content)."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str, argv0: list[str] | None = None) -> tuple[subprocess.Popen[str], dict[str, object]]:
        ready = tmp_path / f"ready-{len(procs)}.json"
        proc = subprocess.Popen([*(argv0 or [sys.executable, "-m", "replayer"]), "serve", *args, "--port", "0",
                                 "--ready-file", str(ready)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        procs.append(proc)
        deadline = time.monotonic() + 60
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"no ready file: {proc.communicate()[1]}")
            time.sleep(0.02)
        return proc, json.loads(ready.read_text())

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=20)


def stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    return out, err


def test_ready_file_names_the_port_and_goes_away(server: Callable[..., tuple[subprocess.Popen[str], dict[str, object]]],
                                                 cassettes: Path, tmp_path: Path) -> None:
    proc, ready = server(str(cassettes))
    assert set(ready) == {"url", "host", "port", "pid", "workers"}
    assert ready["pid"] == proc.pid and ready["host"] == "127.0.0.1" and ready["workers"] == 1
    assert ready["url"] == f"http://127.0.0.1:{ready['port']}" and int(str(ready["port"])) > 0
    assert requests.get(f"{ready['url']}/health", timeout=10).status_code == 200
    out, _ = stop(proc)
    assert f"127.0.0.1:{ready['port']}" in out
    assert not (tmp_path / "ready-0.json").exists()


def test_json_banner_and_access_log_fields(server: Callable[..., tuple[subprocess.Popen[str], dict[str, object]]],
                                           cassettes: Path) -> None:
    proc, ready = server(str(cassettes), "--log-format", "json", "--access-log")
    url = str(ready["url"])
    assert requests.get(f"{url}{INV}/resourcePools", headers={"X-Replay-Session": "s1"}, timeout=10).ok
    assert requests.get(f"{url}{INV}/resourcePools/p2", timeout=10).ok  # derived from the collection
    assert requests.get(f"{url}/health", timeout=10).ok
    out, err = stop(proc)
    [line] = out.splitlines()
    banner = json.loads(line)
    assert banner["event"] == "listening" and banner["port"] == ready["port"] and banner["cassettes"] == 1
    assert banner["interactions"] == 1 and banner["admin"] == f"{url}/__admin/cassettes"
    access = [json.loads(x) for x in err.splitlines() if '"replayer.server.access"' in x]
    assert len(access) == 3, err
    hit, derived, health = access
    assert {k: hit[k] for k in ("method", "path", "route", "status", "source", "session", "interaction")} == {
        "method": "GET", "path": f"{INV}/resourcePools", "route": f"{INV}/resourcePools", "status": 200,
        "source": "cassette", "session": "s1", "interaction": "inv.yaml#0"}
    assert hit["duration_ms"] >= 0 and hit["remote"] == "127.0.0.1"
    assert derived["route"] == f"{INV}/resourcePools/{{resourcePoolId}}" and derived["source"] == "derived"
    assert derived["session"] == "default"
    assert health["route"] == "/health" and health["source"] == "server" and health["interaction"] is None


def test_text_access_log_line(server: Callable[..., tuple[subprocess.Popen[str], dict[str, object]]],
                              cassettes: Path) -> None:
    proc, ready = server(str(cassettes), "--access-log")
    assert requests.get(f"{ready['url']}{INV}/resourcePools", timeout=10).ok
    _, err = stop(proc)
    assert re.search(rf'127\.0\.0\.1 "GET {INV}/resourcePools HTTP/1\.1" 200 cassette route={INV}/resourcePools '
                     r"session=default interaction=inv\.yaml#0 \d+\.\dms", err), err


def _count(metrics: str, source: str) -> int:
    return sum(int(float(m.group(1))) for m in re.finditer(
        rf'^o2replay_requests_total{{source="{source}",[^}}]*}} (\S+)$', metrics, re.M))


def test_metrics_add_up_over_two_workers(server: Callable[..., tuple[subprocess.Popen[str], dict[str, object]]],
                                         cassettes: Path) -> None:
    proc, ready = server(str(cassettes), "--workers", "2", "--log-format", "json", "--access-log")
    url = str(ready["url"])
    sent = 0
    # New connections spread over the workers (SO_REUSEPORT hashes each one); bounded count.
    for _ in range(60):
        with requests.Session() as s:
            assert s.get(f"{url}{INV}/resourcePools", headers={"Connection": "close"}, timeout=10).ok
        sent += 1
    scrapes = []
    for _ in range(8):  # several scrapes, on new connections: each worker answers some, all say the same
        with requests.Session() as s:
            scrapes.append(s.get(f"{url}/metrics", headers={"Connection": "close"}, timeout=10).text)
    _, err = stop(proc)
    pids = {json.loads(x)["pid"] for x in err.splitlines()
            if '"replayer.server.access"' in x and '"source": "cassette"' in x}
    assert len(pids) == 2, "the requests did not reach both workers"
    for text in scrapes:
        assert _count(text, "cassette") == sent
        assert "o2replay_workers_reporting 2" in text and "o2replay_workers_unreachable 0" in text
        assert f'o2replay_request_duration_seconds_count{{source="cassette"}} {sent}' in text


def test_serving_never_imports_mitmproxy(server: Callable[..., tuple[subprocess.Popen[str], dict[str, object]]],
                                         cassettes: Path) -> None:
    argv0 = [sys.executable, "-c", _NO_MITMPROXY]
    help_run = subprocess.run([*argv0, "serve", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert help_run.returncode == 0 and "IMPORTED" not in help_run.stderr
    proc, ready = server(str(cassettes), "--workers", "2", "--access-log", "--log-format", "json", argv0=argv0)
    url = str(ready["url"])
    for path in (f"{INV}/resourcePools", f"{INV}/resourcePools/p1", "/o2ims-infrastructureMonitoring/v1/alarms",
                 "/metrics", "/health", "/docs", "/__admin/cassettes"):
        assert requests.get(url + path, timeout=10).status_code == 200, path
    _, err = stop(proc)
    assert "IMPORTED" not in err, err
    refused = subprocess.run([*argv0, "record", "--upstream", "http://127.0.0.1:9", "--cassette", "x.yaml"],
                             capture_output=True, text=True, timeout=60, cwd=cassettes.parent)
    assert refused.returncode == 2 and "recording needs mitmproxy" in refused.stderr, refused.stderr


def test_serve_image_requirements_are_the_dependencies_without_recording() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (ROOT / "deploy" / "container" / "serve-requirements.txt").read_text().splitlines()
    serve = [x for x in lines if x.strip() and not x.startswith("#")]
    assert sorted(serve) == sorted(d for d in declared if not d.startswith(("mitmproxy", "vcrpy")))
