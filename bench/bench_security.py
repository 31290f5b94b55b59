"""HTTPS and OAuth2 cost on the replay hot path, side by side in one run.

    python -m bench.bench_security                   # wrk, 64 connections, 7 paired 2 s bursts per scenario
    python -m bench.bench_security --smoke           # no wrk, a few dozen requests, no timing claims

Scenarios, each against its baseline in alternating bursts (both servers up; the ratio is the median of
the paired ratios, as in bench_serve):

- the o2replay cassette hit over plain HTTP against the bare aiohttp handler (pre-encoded bytes), for
  reference, and that handler over HTTPS against itself over plain HTTP: what TLS itself costs on keep-alive
  connections;
- the o2replay cassette hit over HTTPS (``--tls-cert``) against the bare handler over HTTPS;
- the same with ``--auth oauth2``: every request carries a JWT that is validated (signature once per token,
  then expiry, issuer and audience from the accepted-token cache) and checked against the operation's roles,
  against the bare handler over HTTPS receiving the same ``Authorization`` header.

All servers present the same ECDSA P-256 certificate; wrk keeps its connections open (one handshake per
connection), which is how consumers and CI clients talk to an O2IMS. Servers on CPU 0, wrk on CPU 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from bench.bench_serve import HIT, Options, Result, _pin, free_port, pools_body, running, write_cassettes

BARE_TLS_SERVER = """
import ssl, sys
from aiohttp import web
BODY = open(sys.argv[2], "rb").read()
async def handler(request):
    return web.Response(body=BODY, content_type="application/json")
app = web.Application()
app.router.add_get(sys.argv[3], handler)
ctx = None
if len(sys.argv) > 4:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None, ssl_context=ctx)
"""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A server, its URL scheme, the request headers, and the scenario its ratio is taken against."""

    name: str
    cmd: tuple[str, ...]
    port: int
    scheme: str
    baseline: str
    auth: bool = False  # send the OAuth2 token

    def url(self, path: str = HIT) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"


TITLES = {
    "http-ceiling": "bare aiohttp handler, plain HTTP",
    "http-hit": "o2replay: cassette hit over plain HTTP",
    "tls-ceiling": "bare aiohttp handler, HTTPS",
    "tls-hit": "o2replay: cassette hit over HTTPS",
    "tls-ceiling-auth": "bare aiohttp handler, HTTPS, same Authorization header (ignored)",
    "tls-jwt": "o2replay: cassette hit over HTTPS with --auth oauth2 (JWT validated, role checked)",
}


def scenarios(work: Path) -> list[Scenario]:
    """Every scenario; writes the body, the cassettes and the certificate."""
    from replayer.security.certs import ensure_server_cert

    tls = ensure_server_cert(work / "tls", ["127.0.0.1", "localhost"])
    body = work / "body.json"
    body.write_bytes(pools_body())
    cassettes = write_cassettes(work / "cassettes", 10)
    cert = (str(tls.server_cert), str(tls.server_key))

    def bare(name: str, scheme: str, baseline: str, auth: bool = False) -> Scenario:
        port = free_port()
        extra = cert if scheme == "https" else ()
        return Scenario(name, (sys.executable, "-c", BARE_TLS_SERVER, str(port), str(body), HIT, *extra), port,
                        scheme, baseline, auth)

    def ours(name: str, baseline: str, *extra: str, auth: bool = False, scheme: str = "https") -> Scenario:
        port = free_port()
        tls_flags = ("--tls-cert", cert[0], "--tls-key", cert[1]) if scheme == "https" else ()
        cmd = (sys.executable, "-m", "replayer", "serve", str(cassettes), "--host", "127.0.0.1", "--port", str(port),
               "--synthetic", "off", "--strict", "--no-cache", *tls_flags, *extra)
        return Scenario(name, cmd, port, scheme, baseline, auth)

    return [
        bare("http-ceiling", "http", "http-ceiling"),
        ours("http-hit", "http-ceiling", scheme="http"),
        bare("tls-ceiling", "https", "http-ceiling"),
        ours("tls-hit", "tls-ceiling"),
        bare("tls-ceiling-auth", "https", "tls-ceiling-auth", auth=True),
        ours("tls-jwt", "tls-ceiling-auth", "--auth", "oauth2", auth=True),
    ]


def _context(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def fetch_token(base: str, ca: Path) -> str:
    """An o2ims-reader token from the server's embedded token endpoint."""
    req = urllib.request.Request(f"{base}/oauth/token", method="POST", data=(
        b"grant_type=client_credentials&client_id=o2ims-reader&client_secret=o2ims-reader-secret"))
    with urllib.request.urlopen(req, timeout=10, context=_context(ca)) as resp:
        return str(json.loads(resp.read())["access_token"])


_LAT = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def wrk(url: str, opts: Options, headers: dict[str, str], cpu: str | None) -> tuple[float, float, float, int]:
    """(req/s, p50 ms, p99 ms, non-2xx and timeouts) from one wrk run."""
    cmd = [*_pin(cpu), "wrk", "-t1", f"-c{opts.connections}", f"-d{opts.duration:g}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=opts.duration + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    lat = {m.group(1): float(m.group(2)) * scale[m.group(3)] for m in _LAT.finditer(out)}
    errors = sum(int(m.group(1) or m.group(2) or 0) for m in re.finditer(
        r"Non-2xx or 3xx responses:\s+(\d+)|Socket errors:.*?(\d+) timeout", out))
    return rps, lat.get("50", 0.0), lat.get("99", 0.0), errors


def python_load(url: str, count: int, headers: dict[str, str], ca: Path) -> tuple[float, float, float, int]:
    """Smoke mode: ``count`` sequential requests; errors are non-2xx answers."""
    ctx = _context(ca) if url.startswith("https") else None
    errors = 0
    t0 = time.perf_counter()
    for _ in range(count):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10, context=ctx) as r:
                r.read()
        except urllib.error.HTTPError as e:
            e.read()
            errors += 1
    return count / (time.perf_counter() - t0), 0.0, 0.0, errors


def run(opts: Options, work: Path) -> list[Result]:
    """Measure every scenario against its baseline in alternating bursts, both servers up at once."""
    server_cpu, client_cpu = ("0", "1") if (os.cpu_count() or 1) >= 2 else (None, None)
    todo = scenarios(work)
    ca = work / "tls" / "ca.pem"
    by_name = {sc.name: sc for sc in todo}
    bursts: dict[str, list[tuple[float, float, float, int]]] = {sc.name: [] for sc in todo}
    ratios: dict[str, list[float]] = {sc.name: [] for sc in todo}
    for sc in todo:
        if sc.baseline == sc.name:
            continue
        base = by_name[sc.baseline]
        with ExitStack() as stack:
            for one in (base, sc):
                probe = one.url("/health") if one.name.startswith("tls-jwt") else one.url()
                stack.enter_context(running([*_pin(server_cpu), *one.cmd], probe, work, context=_context(ca)))
            token = fetch_token(sc.url(""), ca) if sc.auth else ""
            headers = {"Authorization": f"Bearer {token}"} if token else {}

            def measure(one: Scenario, o: Options) -> tuple[float, float, float, int]:
                if o.smoke:
                    return python_load(one.url(), o.smoke_requests, headers, ca)
                return wrk(one.url(), o, headers, client_cpu)

            for one in (base, sc):  # warm-up, not counted
                measure(one, replace(opts, duration=1.0))
            for _ in range(opts.rounds):
                pair = [measure(one, opts) for one in (base, sc)]
                bursts[base.name].append(pair[0])
                bursts[sc.name].append(pair[1])
                ratios[sc.name].append(pair[1][0] / (pair[0][0] or 1.0))
    results = []
    for sc in todo:
        rows = bursts[sc.name]
        ratio = statistics.median(ratios[sc.name]) if ratios[sc.name] else 1.0
        results.append(Result(sc.name, statistics.median(x[0] for x in rows), statistics.median(x[1] for x in rows),
                              statistics.median(x[2] for x in rows), sum(x[3] for x in rows),
                              f"{ratio:.2f}x {sc.baseline}", ratio))
    return results


def table(results: list[Result], opts: Options) -> str:
    """The Markdown table of a run."""
    lines = ["| scenario | req/s | p50 ms | p99 ms | non-2xx/errors | ratio (median of paired bursts) |",
             "|---|---:|---:|---:|---:|---|"]
    for r in results:
        base = r.note.split("x ", 1)[1]
        ratio = "1.00 (baseline)" if base == r.name else f"{r.ratio:.2f}x {TITLES[base]}"
        lat = ("-", "-") if opts.smoke else (f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}")
        lines.append(f"| {TITLES[r.name]} | {r.rps:,.0f} | {lat[0]} | {lat[1]} | {r.errors} | {ratio} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench.bench_security``."""
    ap = argparse.ArgumentParser(prog="python -m bench.bench_security", description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=2.0, help="seconds per wrk burst (default 2)")
    ap.add_argument("--rounds", type=int, default=7, help="paired bursts per scenario (default 7)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    ap.add_argument("--smoke", action="store_true", help="no wrk: a few dozen requests, for tests")
    args = ap.parse_args(argv)
    if not args.smoke and not shutil.which("wrk"):
        print("wrk not found: run `make system-deps` (Debian package wrk)", file=sys.stderr)
        return 2
    opts = Options(args.duration, args.connections, smoke=args.smoke, rounds=1 if args.smoke else args.rounds)
    with tempfile.TemporaryDirectory(prefix="o2replay-bench-security-") as tmp:
        results = run(opts, Path(tmp))
    print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}; per scenario {opts.rounds} bursts "
          f"of wrk -t1 -c{opts.connections} -d{opts.duration:g}s (keep-alive), each right after a burst on its "
          "baseline; servers on CPU 0, wrk on CPU 1" if not opts.smoke
          else f"smoke: {opts.smoke_requests} sequential requests per scenario")
    print(table(results, opts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
