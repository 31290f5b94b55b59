"""Two recordings made through the recording addon (a real mitmdump) from a reference aiohttp O2IMS whose data
changed between the runs: the diff reports exactly the changes, none of the run-to-run noise."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web

from replayer.cassettes.load import load_cassette
from replayer.cli import main
from replayer.errors import CassetteError

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addons" / "o2ims_recorder.py"
INV = "/o2ims-infrastructureInventory/v1"
MON = "/o2ims-infrastructureMonitoring/v1"
TIMEOUT = 30.0

pytestmark = pytest.mark.skipif(not ADDON.exists(), reason=f"the recording addon {ADDON} is not there yet")


def _pool(pid: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"resourcePoolId": pid, "name": name, "oCloudId": "c1", "globalLocationId": "edge1",
            "description": "compute pool", "extensions": {}, **extra}


DATA_V1: dict[str, Any] = {
    "pools": [_pool("p1", "EDGE1-COMPUTE", location="rack A"), _pool("p2", "EDGE1-STORAGE", location="rack B")],
    "alarms": [{"alarmEventRecordId": "a1", "perceivedSeverity": "MAJOR", "resourceId": "r1"}],
}
# What the upstream changed: p1 renamed and lost `location`, p3 added, list order reversed, a new severity.
DATA_V2: dict[str, Any] = {
    "pools": [_pool("p3", "EDGE1-GPU"), _pool("p2", "EDGE1-STORAGE", location="rack B"),
              _pool("p1", "EDGE1-CPU")],
    "alarms": [{"alarmEventRecordId": "a1", "perceivedSeverity": "CRITICAL", "resourceId": "r1"}],
}


class ReferenceO2IMS:
    """A small O2IMS on 127.0.0.1:0 in a thread; alarm times and headers change on every answer."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def _app(self) -> web.Application:
        async def pools(request: web.Request) -> web.Response:
            return self._json(self.data["pools"])

        async def pool(request: web.Request) -> web.Response:
            found = [p for p in self.data["pools"] if p["resourcePoolId"] == request.match_info["id"]]
            return self._json(found[0]) if found else self._json(
                {"status": 404, "title": "Not Found", "detail": "no such pool"}, 404, "application/problem+json")

        async def alarms(request: web.Request) -> web.Response:
            now = datetime.now(UTC).isoformat()
            return self._json([{**a, "alarmRaisedTime": now, "alarmChangedTime": now} for a in self.data["alarms"]])

        app = web.Application()
        app.router.add_get(f"{INV}/resourcePools", pools)
        app.router.add_get(f"{INV}/resourcePools/{{id}}", pool)
        app.router.add_get(f"{MON}/alarms", alarms)
        return app

    @staticmethod
    def _json(doc: Any, status: int = 200, ctype: str = "application/json") -> web.Response:
        headers = {"X-Request-Id": str(time.monotonic_ns()), "ETag": f'"{time.monotonic_ns()}"'}
        return web.Response(body=json.dumps(doc).encode(), status=status, content_type=ctype, headers=headers)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(self._app())
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def __enter__(self) -> ReferenceO2IMS:
        self._thread.start()
        assert self._ready.wait(TIMEOUT)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(TIMEOUT)


def _wait_port(proc: subprocess.Popen[str], lines: list[str], done: threading.Event) -> int:
    assert done.wait(TIMEOUT) or lines, "mitmdump printed nothing"
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for line in list(lines):
            if "listening at" in line:
                return int(line.rsplit(":", 1)[1].strip().rstrip("."))
        if proc.poll() is not None:
            raise AssertionError("mitmdump exited:\n" + "\n".join(lines))
        done.clear()
        done.wait(0.5)
    raise AssertionError("mitmdump did not start:\n" + "\n".join(lines))


def _wait_recorded(cassette: Path, count: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            if cassette.exists() and len(load_cassette(cassette)) >= count:
                return
        except CassetteError:
            pass  # never expected (atomic writes), but do not fail on a read race
        time.sleep(0.05)  # polling a file for a condition, bounded by the deadline
    raise AssertionError(f"{cassette} did not reach {count} interactions")


def record(upstream: ReferenceO2IMS, cassette: Path, confdir: Path) -> None:
    """One session through ``mitmdump -s addons/o2ims_recorder.py --mode reverse:...``."""
    argv = [sys.executable, "-c", "from mitmproxy.tools.main import mitmdump; mitmdump()", "-s", str(ADDON),
            "--mode", f"reverse:http://127.0.0.1:{upstream.port}", "--listen-host", "127.0.0.1",
            "--listen-port", "0", "--set", f"confdir={confdir}", "--set", "connection_strategy=lazy",
            "--set", f"cassette={cassette}"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    event = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            event.set()
        event.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        base = f"http://127.0.0.1:{_wait_port(proc, lines, event)}"
        s = requests.Session()
        s.trust_env = False
        for path in (f"{INV}/resourcePools", f"{INV}/resourcePools/p1", f"{MON}/alarms"):
            s.get(base + path, timeout=TIMEOUT)
        _wait_recorded(cassette, 3)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
        reader.join(5)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """Two cassettes of the same three requests: before and after the upstream changed."""
    root = tmp_path_factory.mktemp("recorded")
    confdir = root / "mitmproxy"
    with ReferenceO2IMS(DATA_V1) as up:
        record(up, root / "v1" / "lab.yaml", confdir)
        up.data = DATA_V2
        record(up, root / "v2" / "lab.yaml", confdir)
    yield root / "v1" / "lab.yaml", root / "v2" / "lab.yaml"


def test_recorded_drift_is_exactly_what_changed(recordings: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = recordings
    monkeypatch.chdir(old.parent.parent)
    code = main(["diff", str(old), str(new), "--format", "json", "--fail-on", "warning"])
    out, err = capsys.readouterr()
    assert code == 1, err
    found = sorted((f["severity"], f["kind"], f["path"]) for f in json.loads(out)["findings"])
    assert found == [
        ("breaking", "field_removed", "body.location"),
        ("breaking", "field_removed", "body[resourcePoolId=p1].location"),
        ("info", "value_changed", "body.name"),
        ("info", "value_changed", "body[resourcePoolId=p1].name"),
        ("warning", "enum_value_added", "body[alarmEventRecordId=a1].perceivedSeverity"),
        ("warning", "item_added", "body[resourcePoolId=p3]"),
    ]


def test_same_upstream_twice_gives_no_drift(recordings: tuple[Path, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    old, _ = recordings
    again = tmp_path / "again.yaml"
    with ReferenceO2IMS(DATA_V1) as up:
        record(up, again, old.parent.parent / "mitmproxy")
    assert main(["diff", str(old), str(again), "--fail-on", "info"]) == 0, capsys.readouterr().out
