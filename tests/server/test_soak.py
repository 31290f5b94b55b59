"""A bounded soak of the replay server: many sessions, many misses, hostile requests; memory must level off.

A real ``o2replay serve`` process on the reference cassettes (synthetic fallback on) gets three rounds of
the same mix from 8 keep-alive clients: recorded hits, misses on ids never recorded (each one new, so
nearest-miss search and the journal work every time), synthetic lists with filters, bad bodies and
malformed filters, each request in one of 5000 sessions. Every per-session and per-request structure is
bounded (cursors, synthetic sessions, journal, key cache, metric series), so the resident size after
the third round must stay close to the size after the first. The numbers are printed (``-s``) and
recorded in docs/performance.md. Bounded in requests (3 x 3000) and in time (each round stops at 120 s).
"""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "cassettes" / "reference"
ROUNDS, PER_ROUND, CLIENTS, SESSIONS = 3, 3000, 8, 5000
INV = "/o2ims-infrastructureInventory/v1"


def _recorded_paths() -> list[str]:
    paths = set()
    for f in REFERENCE.glob("*.yaml"):
        for m in re.finditer(r"uri: https?://[^/]+(/o2ims-infrastructureInventory/v1[^\s'\"?]*)", f.read_text()):
            paths.add(m.group(1))
    return sorted(paths)


def _status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def _request(n: int, hits: list[str]) -> tuple[str, str, bytes]:
    kind = n % 10
    if kind < 4:
        return "GET", hits[n % len(hits)], b""
    if kind < 7:
        return "GET", f"{INV}/resourcePools/never-recorded-{n}", b""
    if kind == 7:
        return "GET", f"{INV}/resourcePools?filter=(eq,name,pool-{n % 97})&fields=name", b""
    if kind == 8:
        return "POST", f"{INV}/subscriptions", b"[" * 5000 + b"]" * 5000
    return "GET", f"{INV}/resourcePools?filter=(zz,name", b""


def _client(port: int, start: int, stop: int, step: int, hits: list[str], deadline: float,
            statuses: dict[int, int], lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    seen: dict[int, int] = {}
    try:
        for n in range(start, stop, step):
            if time.monotonic() > deadline:
                break
            method, path, body = _request(n, hits)
            headers = {"X-Replay-Session": f"s{n % SESSIONS}", "Content-Type": "application/json"}
            try:
                conn.request(method, path, body=body or None, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.will_close:
                    conn.close()
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                seen[0] = seen.get(0, 0) + 1
                continue
            seen[resp.status] = seen.get(resp.status, 0) + 1
    finally:
        conn.close()
        with lock:
            for k, v in seen.items():
                statuses[k] = statuses.get(k, 0) + v


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's RSS from /proc")
def test_memory_levels_off_under_many_sessions_and_misses(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "replayer", "serve", str(REFERENCE), "--port", "0",
                             "--no-cache"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=tmp_path)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)", banner).group(1))  # type: ignore[union-attr]
        hits = _recorded_paths()
        assert hits
        rss: list[dict[str, int]] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        for r in range(ROUNDS):
            deadline = time.monotonic() + 120
            base = r * PER_ROUND
            threads = [threading.Thread(target=_client, args=(port, base + c, base + PER_ROUND, CLIENTS, hits,
                                                               deadline, statuses, lock)) for c in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(180)
            rss.append(_status(proc.pid))
        assert proc.poll() is None, "the server died"
    finally:
        proc.terminate()
        proc.wait(20)
    growth = rss[-1]["VmRSS"] - rss[0]["VmRSS"]
    print(f"\nsoak: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}; "
          f"RSS after round 1 {rss[0]['VmRSS'] / 1e6:.1f} MB, after round {ROUNDS} {rss[-1]['VmRSS'] / 1e6:.1f} MB, "
          f"peak {rss[-1]['VmHWM'] / 1e6:.1f} MB")
    assert 500 not in statuses and 0 not in statuses, statuses
    assert statuses.get(400, 0) > 0 and statuses.get(404, 0) > 0 and statuses.get(200, 0) > 0
    assert growth < 20_000_000, f"RSS grew {growth / 1e6:.1f} MB between round 1 and round {ROUNDS}"
