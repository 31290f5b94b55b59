"""Replay server throughput and latency, side by side in one run.

    python -m bench.bench_serve                      # wrk, 64 connections, 7 paired 2 s bursts per scenario
    python -m bench.bench_serve --duration 5 --rounds 5 --connections 32
    python -m bench.bench_serve --smoke              # no wrk, a few hundred requests, no timing claims

Scenarios: the ceiling (a bare aiohttp handler returning pre-encoded bytes), our cassette hit with 10
and with 100k interactions loaded, our derived answer (filter on a recorded collection), mitmproxy's
own server replay (``mitmdump --server-replay``) of the same exchange, one worker vs ``--workers 2``.

Each scenario runs next to its baseline (ceiling, 10 loaded, or 1 worker): both servers are up, and
wrk alternates between them, one burst each, ``--rounds`` times. The reported ratio is the median of
those paired ratios, so slow drifts of background load on a shared machine cancel out.

Pinning (2 cores here): the servers run on CPU 0 and wrk on CPU 1 (``taskset``), so a server never
shares its core with the load generator. The workers comparison cannot be pinned that way (two
workers need both cores), so both of its rows run unpinned, wrk included.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from replayer.cassettes.model import Cassette, Interaction, Request, Response
from replayer.cassettes.yaml import dump_cassette

INV = "/o2ims-infrastructureInventory/v1"
HIT = f"{INV}/resourcePools"
DERIVED = f"{INV}/resourcePools?filter=(eq,location,edge2)"
MISS = f"{INV}/deploymentManagers?filter=(eq,name,edge9)"
SITES = ("edge1", "edge2", "edge3", "edge4")

BARE_SERVER = """
import sys
from aiohttp import web
BODY = open(sys.argv[2], "rb").read()
async def handler(request):
    return web.Response(body=BODY, content_type="application/json")
app = web.Application()
app.router.add_get(sys.argv[3], handler)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


@dataclass(frozen=True, slots=True)
class Result:
    """One measured scenario."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    note: str = ""
    ratio: float = 1.0
    ready_s: float = 0.0


def pools_body() -> bytes:
    """The recorded ``resourcePools`` answer: 12 pools over four sites, pretty-printed like a cassette."""
    pools = [{"resourcePoolId": f"{site}-{kind}", "name": f"{site.upper()}-{kind.upper()}", "location": site,
              "globalLocationId": f"global-location-{site}", "description": f"{kind} resource pool for {site}",
              "extensions": {"nodes": 4 + i, "architecture": "x86_64", "acceleration": ["SR-IOV", "DPDK"]}}
             for i, site in enumerate(SITES) for kind in ("compute", "storage", "network")]
    return json.dumps(pools, indent=2).encode()


def _inter(path: str, body: bytes) -> Interaction:
    return Interaction(Request("GET", f"https://o2ims.example:443{path}", {"Accept": ["application/json"]}, b""),
                       Response(200, "OK", {"Content-Type": ["application/json"]}, body))


def write_cassettes(folder: Path, total: int) -> Path:
    """``total`` interactions: the measured ``resourcePools`` plus distinct fillers, 1000 per file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pools.yaml").write_text(dump_cassette(Cassette((_inter(HIT, pools_body()),))))
    filler = json.dumps({"resourceId": "r", "description": "filler " * 20}, indent=2).encode()
    remaining, n = total - 1, 0
    while remaining > 0:
        count = min(1000, remaining)
        items = tuple(_inter(f"{INV}/resourcePools/p{n}/resources/r{i}", filler) for i in range(count))
        (folder / f"filler-{n:04d}.yaml").write_text(dump_cassette(Cassette(items)))
        remaining -= count
        n += 1
    return folder


def write_flows(path: Path, port: int) -> Path:
    """The same exchange as a mitmproxy flow file, for ``mitmdump --server-replay``."""
    from mitmproxy import http, io
    from mitmproxy.test import tflow

    flow = tflow.tflow(req=http.Request.make("GET", f"http://127.0.0.1:{port}{HIT}"),
                       resp=http.Response.make(200, pools_body(), {"Content-Type": "application/json"}))
    with path.open("wb") as f:
        io.FlowWriter(f).add(flow)  # type: ignore[no-untyped-call]
    return path


def free_port() -> int:
    """A port free right now on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pin(cpu: str | None) -> list[str]:
    return ["taskset", "-c", cpu] if cpu is not None and shutil.which("taskset") else []


def wait_ready(url: str, timeout: float = 120.0, context: ssl.SSLContext | None = None) -> None:
    """Poll ``url`` until it answers (any status), bounded by ``timeout``; ``context`` for HTTPS."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2, context=context).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextmanager
def running(cmd: Sequence[str], probe: str, cwd: Path,
            context: ssl.SSLContext | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process, wait until ``probe`` answers, stop it (SIGTERM, then kill) afterwards."""
    log = (cwd / "servers.log").open("ab")  # never a pipe nobody reads: a logging server would block on it
    proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_ready(probe, context=context)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


_LAT = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def wrk(url: str, duration: float, connections: int, cpu: str | None) -> tuple[float, float, float, int]:
    """(req/s, p50 ms, p99 ms, errors) from one wrk run."""
    cmd = [*_pin(cpu), "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    lat = {m.group(1): float(m.group(2)) * scale[m.group(3)] for m in _LAT.finditer(out)}
    errors = 0
    for m in re.finditer(r"Non-2xx or 3xx responses:\s+(\d+)|Socket errors:.*?(\d+) timeout", out):
        errors += int(m.group(1) or m.group(2) or 0)
    return rps, lat.get("50", 0.0), lat.get("99", 0.0), errors


def python_load(url: str, count: int) -> tuple[float, float, float, int]:
    """Smoke mode: ``count`` sequential requests with urllib; errors are non-2xx answers."""
    errors = 0
    t0 = time.perf_counter()
    for _ in range(count):
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                r.read()
                errors += r.status != 200
        except urllib.error.HTTPError as e:  # counted like wrk's "Non-2xx or 3xx responses"
            e.read()
            errors += 1
    elapsed = time.perf_counter() - t0
    return count / elapsed, 0.0, 0.0, errors


@dataclass(frozen=True, slots=True)
class Options:
    """What one run measures."""

    duration: float = 2.0
    connections: int = 64
    interactions: int = 100_000
    smoke: bool = False
    smoke_requests: int = 100
    mitmproxy: bool = True
    rounds: int = 7


def _serve_cmd(folder: Path, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "replayer", "serve", str(folder), "--host", "127.0.0.1", "--port", str(port),
            "--synthetic", "off", "--strict", *extra]


def _measure(opts: Options, url: str, cpu: str | None) -> tuple[float, float, float, int]:
    if opts.smoke:
        return python_load(url, opts.smoke_requests)
    return wrk(url, opts.duration, opts.connections, cpu)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A server to start and the path to load."""

    name: str
    cmd: tuple[str, ...]
    port: int
    path: str
    pinned: bool = True
    baseline: str = "ceiling"  # the scenario its ratio is taken against, in the same round


def scenarios(opts: Options, work: Path) -> list[Scenario]:
    """Every scenario of a run, ceiling first; writes the cassettes and the flow file."""
    body = work / "body.json"
    body.write_bytes(pools_body())
    small = write_cassettes(work / "small", 10)
    big = write_cassettes(work / "big", opts.interactions)
    out: list[Scenario] = []

    def ours(name: str, folder: Path, path: str, *extra: str, pinned: bool = True, baseline: str = "ceiling") -> None:
        port = free_port()
        out.append(Scenario(name, tuple(_serve_cmd(folder, port, *extra)), port, path, pinned, baseline))

    port = free_port()
    out.append(Scenario("ceiling", (sys.executable, "-c", BARE_SERVER, str(port), str(body), HIT), port, HIT))
    ours("hit10", small, HIT)
    ours("hit-big", big, HIT, baseline="hit10")
    ours("derived", small, DERIVED)
    mitm = shutil.which("mitmdump", path=str(Path(sys.executable).parent)) or shutil.which("mitmdump")
    if opts.mitmproxy and mitm:
        port = free_port()
        flows = write_flows(work / "flows.mitm", port)
        out.append(Scenario("mitmproxy", (
            mitm, "-q", "--mode", "reverse:http://127.0.0.1:9", "--listen-host", "127.0.0.1",
            "--listen-port", str(port), "--server-replay", str(flows), "--set", "server_replay_reuse=true",
            "--set", "server_replay_ignore_host=true", "--set", "server_replay_ignore_port=true",
            "--set", "connection_strategy=lazy"), port, HIT))
    ours("one-worker", small, HIT, pinned=False)
    ours("two-workers", small, HIT, "--workers", "2", pinned=False, baseline="one-worker")
    # The same pair on a path where the server, not wrk, is the bottleneck: a strict miss (nearest recorded
    # requests ranked, ProblemDetails built, a log line written): 404 by design.
    ours("one-worker-miss", small, MISS, pinned=False)
    ours("two-workers-miss", small, MISS, "--workers", "2", pinned=False, baseline="one-worker-miss")
    return out


TITLES = {
    "ceiling": "ceiling: bare aiohttp handler, pre-encoded bytes",
    "hit10": "o2replay: cassette hit, 10 interactions loaded",
    "hit-big": "o2replay: cassette hit, {n:,} interactions loaded",
    "derived": "o2replay: derived answer (filter on a recorded collection)",
    "mitmproxy": "mitmproxy 11: mitmdump --server-replay",
    "one-worker": "o2replay: 1 worker (unpinned)",
    "two-workers": "o2replay: --workers 2 (unpinned)",
    "one-worker-miss": "o2replay: strict miss (404 by design), 1 worker (unpinned)",
    "two-workers-miss": "o2replay: strict miss (404 by design), --workers 2 (unpinned)",
}
TARGETS = {"hit10": ">= 0.80x ceiling", "hit-big": ">= 0.95x 10 loaded", "derived": ">= 0.50x ceiling",
           "two-workers": ">= 1.6x 1 worker", "two-workers-miss": ">= 1.6x 1 worker"}


def _start(sc: Scenario, cpu: str | None, work: Path, stack: ExitStack) -> float:
    """Start a scenario's server inside ``stack``; returns seconds until it answered."""
    t0 = time.monotonic()
    stack.enter_context(running([*_pin(cpu), *sc.cmd], f"http://127.0.0.1:{sc.port}{sc.path}", work))
    return time.monotonic() - t0


def run(opts: Options, work: Path) -> list[Result]:
    """Measure every scenario against its baseline in alternating bursts, both servers up at once.

    This machine is shared, so background load drifts: each candidate burst is paired with a baseline burst
    right before it, and the ratio reported is the median of those paired ratios.
    """
    server_cpu, client_cpu = ("0", "1") if (os.cpu_count() or 1) >= 2 else (None, None)
    todo = scenarios(opts, work)
    by_name = {sc.name: sc for sc in todo}
    bursts: dict[str, list[tuple[float, float, float, int]]] = {sc.name: [] for sc in todo}
    ratios: dict[str, list[float]] = {sc.name: [] for sc in todo}
    ready: dict[str, float] = {}
    for sc in todo[1:]:
        base = by_name[sc.baseline]
        with ExitStack() as stack:
            for one in (base, sc):
                ready[one.name] = max(ready.get(one.name, 0.0), _start(one, server_cpu if one.pinned else None,
                                                                        work, stack))
            for one in (base, sc):  # warm-up, not counted
                _measure(replace(opts, duration=1.0), f"http://127.0.0.1:{one.port}{one.path}",
                         client_cpu if one.pinned else None)
            for _ in range(opts.rounds):
                pair = [_measure(opts, f"http://127.0.0.1:{one.port}{one.path}", client_cpu if one.pinned else None)
                        for one in (base, sc)]
                bursts[base.name].append(pair[0])
                bursts[sc.name].append(pair[1])
                ratios[sc.name].append(pair[1][0] / (pair[0][0] or 1.0))
    results = []
    for sc in todo:
        rows = bursts[sc.name]
        ratio = statistics.median(ratios[sc.name]) if ratios[sc.name] else 1.0
        results.append(Result(
            sc.name, statistics.median(x[0] for x in rows), statistics.median(x[1] for x in rows),
            statistics.median(x[2] for x in rows), sum(x[3] for x in rows), f"{ratio:.2f}x {sc.baseline}",
            ratio, ready.get(sc.name, 0.0)))
    return results


def table(results: list[Result], opts: Options) -> str:
    """The Markdown table of a run."""
    lines = ["| scenario | req/s | p50 ms | p99 ms | non-2xx/errors | ratio (median of paired bursts) | target |",
             "|---|---:|---:|---:|---:|---|---|"]
    names = {"ceiling": "ceiling", "hit10": "10 loaded", "one-worker": "1 worker", "one-worker-miss": "1 worker"}
    for r in results:
        title = TITLES[r.name].format(n=opts.interactions)
        base = r.note.split("x ", 1)[1]
        ratio = "1.00" if r.name == "ceiling" else f"{r.ratio:.2f}x {names.get(base, base)}"
        if r.name == "mitmproxy":
            hit = next(x.rps for x in results if x.name == "hit10")
            ratio += f" (cassette hit = {hit / (r.rps or 1):.1f}x this)"
        lat = ("-", "-") if opts.smoke else (f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}")
        lines.append(f"| {title} | {r.rps:,.0f} | {lat[0]} | {lat[1]} | {r.errors} | {ratio} | "
                     f"{TARGETS.get(r.name, '')} |")
    lines.append("")
    lines.append("Start-up, process start to first answer (slowest start): " +
                 ", ".join(f"{r.name} {r.ready_s:.1f} s" for r in results))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench.bench_serve``."""
    ap = argparse.ArgumentParser(prog="python -m bench.bench_serve", description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=2.0, help="seconds per wrk burst (default 2)")
    ap.add_argument("--rounds", type=int, default=7, help="paired bursts per scenario (default 7)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    ap.add_argument("--interactions", type=int, default=100_000, help="size of the large set (default 100000)")
    ap.add_argument("--smoke", action="store_true", help="no wrk: a few hundred requests, for tests")
    ap.add_argument("--no-mitmproxy", action="store_true", help="skip the mitmdump scenario")
    args = ap.parse_args(argv)
    if not args.smoke and not shutil.which("wrk"):
        print("wrk not found: run `make system-deps` (Debian package wrk)", file=sys.stderr)
        return 2
    opts = Options(args.duration, args.connections, args.interactions, args.smoke, mitmproxy=not args.no_mitmproxy,
                   rounds=1 if args.smoke else args.rounds)
    with tempfile.TemporaryDirectory(prefix="o2replay-bench-") as tmp:
        results = run(opts, Path(tmp))
    print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}; per scenario {opts.rounds} bursts "
          f"of wrk -t1 -c{opts.connections} -d{opts.duration:g}s, each right after a burst on its baseline; "
          "pinned rows: servers on CPU 0, wrk on CPU 1"
          if not opts.smoke else f"smoke: {opts.smoke_requests} sequential requests per scenario")
    print(table(results, opts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
