"""Recording cost: per-exchange work of the recorder, and end-to-end latency through mitmdump.

    .venv/bin/python -m bench.bench_recorder            # full run
    .venv/bin/python -m bench.bench_recorder --quick    # fewer exchanges
    .venv/bin/python -m bench.bench_recorder --growth 10,500,5000   # flush each as the cassette grows

In process, each row is beside a baseline measured in the same run; end to end, the baseline is the
same mitmdump without the addon (and a direct connection for scale). Results in docs/performance/recorder.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from replayer.cassettes.model import Interaction, Request, Response, normalise_message
from replayer.cassettes.yaml import dump_interaction
from replayer.o2ims.routes import O2IMS_PATH_PREFIXES
from replayer.record.recorder import Exchange, Recorder, parse_config
from replayer.record.redact import default_rules, redact_interaction

ROOT = Path(__file__).resolve().parents[1]
INV = "/o2ims-infrastructureInventory/v1"


def _pools(n: int) -> bytes:
    return json.dumps([{"resourcePoolId": f"pool-{i}", "name": f"edge{i % 4 + 1}-compute", "oCloudId": "ocloud-1",
                        "globalLocationId": f"edge{i % 4 + 1}", "description": "compute pool " * 4,
                        "extensions": {"rack": i, "zone": "a"}} for i in range(n)]).encode()


def _exchange(i: int, body: bytes) -> Exchange:
    gz = gzip.compress(body, mtime=0)
    return Exchange("GET", f"https://o2ims.example{INV}/resourcePools?page={i}",
                    {"Authorization": ["Bearer abc.def.ghi"], "Accept": ["application/json"]}, b"", 200, "OK",
                    {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"],
                     "Content-Length": [str(len(gz))]}, gz, 0.0, 0.01)


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def in_process(n: int) -> list[tuple[str, float, str, float]]:
    """(operation, seconds per exchange, baseline, baseline seconds per exchange)."""
    body = _pools(20)  # ~4 KB of JSON, a typical list page
    exchanges = [_exchange(i, body) for i in range(n)]
    rules = default_rules()
    rows = []

    def normalise_only() -> None:
        for e in exchanges:
            normalise_message(e.response_headers, e.response_body)

    def normalise_redact_dump() -> None:
        for e in exchanges:
            h, b = normalise_message(e.response_headers, e.response_body)
            i = Interaction(Request(e.method, e.url, e.request_headers, b""), Response(200, "OK", h, b))
            dump_interaction(redact_interaction(i, rules))

    def normalise_dump() -> None:
        for e in exchanges:
            h, b = normalise_message(e.response_headers, e.response_body)
            dump_interaction(Interaction(Request(e.method, e.url, e.request_headers, b""), Response(200, "OK", h, b)))

    base = _best(normalise_dump, 3) / n
    rows.append(("normalise + redact + dump", _best(normalise_redact_dump, 3) / n, "normalise + dump", base))
    rows.append(("normalise + dump", base, "normalise only", _best(normalise_only, 3) / n))
    for flush in ("each", "3600s"):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = parse_config(cassette=f"{tmp}/c.yaml", record_paths=O2IMS_PATH_PREFIXES, cassette_flush=flush)
            rec = Recorder(cfg)
            t0 = time.perf_counter()
            for e in exchanges:
                rec.record(e)
            rec.close()
            per = (time.perf_counter() - t0) / n
        rows.append((f"Recorder.record, flush {flush}, {n} exchanges", per, "normalise + redact + dump",
                     rows[0][1]))
    return rows


def growth(sizes: list[int]) -> list[tuple[int, float, float]]:
    """(interactions, µs per flush appending, µs per flush rewriting the whole file) as a cassette grows.

    Both write the same interactions with ``flush`` after each; the rewrite is what the writer did before
    it appended (an atomic rewrite of the whole text per exchange), measured in the same run.
    """
    from replayer.cassettes.files import CassetteWriter, atomic_write

    body = _pools(20)
    out = []
    for n in sizes:
        interactions = []
        for i in range(n):
            h, b = normalise_message(_exchange(i, body).response_headers, _exchange(i, body).response_body)
            interactions.append(Interaction(Request("GET", f"https://o2ims.example{INV}/resourcePools?page={i}"),
                                            Response(200, "OK", h, b)))
        with tempfile.TemporaryDirectory() as tmp:
            w = CassetteWriter(f"{tmp}/a.yaml", metadata={"upstream": "u"})
            t0 = time.perf_counter()
            for i in interactions:
                w.append(i)
                w.flush()
            append = (time.perf_counter() - t0) / n
            w.close()
            r = CassetteWriter(f"{tmp}/r.yaml", metadata={"upstream": "u"})
            t0 = time.perf_counter()
            for i in interactions:
                r.append(i)
                atomic_write(r.path, r.text())
            rewrite = (time.perf_counter() - t0) / n
        out.append((n, append * 1e6, rewrite * 1e6))
    return out


def _start(argv: list[str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    for line in proc.stdout:
        m = re.search(r"listening at \S*:(\d+)", line)
        if m:  # keep reading its log, or a full pipe would stall the proxy
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
            return proc, int(m.group(1))
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError("mitmdump did not start")


def _latencies(url: str, n: int) -> list[float]:
    out = []
    with requests.Session() as s:
        s.trust_env = False
        s.get(url)  # warm the connection
        for _ in range(n):
            t0 = time.perf_counter()
            r = s.get(url)
            out.append(time.perf_counter() - t0)
            assert r.status_code == 200
    return out


def end_to_end(n: int, rounds: int = 5, *, timed: bool = True) -> list[tuple[str, float, float]]:
    """(path, median ms, p95 ms) for mitmdump alone and mitmdump + addon (flush each, flush timed).

    The three proxies run side by side and take turns (``rounds`` rounds of n/rounds requests), so
    load from other processes on the machine hits them alike.
    """
    sys.path.insert(0, str(ROOT))
    from tests.record.upstream import Upstream

    target = f"{INV}/resourcePools"
    addon = ["-s", str(ROOT / "addons" / "o2ims_recorder.py")]
    with Upstream() as up, tempfile.TemporaryDirectory() as tmp:
        # the upstream wants a bearer token: every mitmdump injects it (modify_headers)
        mitm = [sys.executable, "-c", "from mitmproxy.tools.main import mitmdump; mitmdump()", "--mode",
                f"reverse:{up.url}", "--listen-host", "127.0.0.1", "--listen-port", "0", "--set", f"confdir={tmp}",
                "--set", "flow_detail=0", "--set", "connection_strategy=lazy",
                "--set", "modify_headers=|~q|Authorization|Bearer " + up.canaries.access_token]
        configs = {
            "mitmdump, no addon": mitm,
            "mitmdump + recorder (flush each)": [*mitm, *addon, "--set", f"cassette={tmp}/c.yaml"],
        }
        if timed:
            configs["mitmdump + recorder (flush 3600s)"] = [*mitm, *addon, "--set", f"cassette={tmp}/d.yaml",
                                                          "--set", "cassette_flush=3600s"]
        procs = {label: _start(argv) for label, argv in configs.items()}
        lat: dict[str, list[float]] = {label: [] for label in configs}
        try:
            for _ in range(rounds):
                for label, (_proc, port) in procs.items():
                    lat[label] += _latencies(f"http://127.0.0.1:{port}{target}", n // rounds)
        finally:
            for proc, _port in procs.values():
                proc.send_signal(signal.SIGINT)
                proc.wait(20)
    return [(label, statistics.median(v) * 1e3, sorted(v)[int(0.95 * len(v))] * 1e3) for label, v in lat.items()]


def main(argv: list[str] | None = None) -> None:
    """Run and print Markdown tables."""
    p = argparse.ArgumentParser(prog="python -m bench.bench_recorder", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer exchanges (a smoke run)")
    p.add_argument("--growth", help="interaction counts (e.g. 10,500,5000): flush-each cost as the cassette grows")
    args = p.parse_args(argv)
    if args.growth:
        sizes = [int(s) for s in args.growth.split(",")]
        print("| interactions | append, per flush | whole-file rewrite, per flush (previous writer) | rewrite / append |\n"
              "|---:|---:|---:|---:|")
        for n, append, rewrite in growth(sizes):
            print(f"| {n} | {append:.0f} µs | {rewrite:.0f} µs | {rewrite / append:.1f}x |")
        print()
        print("| interactions (sequential GETs through each proxy, interleaved) | mitmdump, no addon: median | "
              "+ recorder, flush each: median | p95 | vs. no addon |\n|---:|---:|---:|---:|---:|")
        for n in sizes:
            rows = end_to_end(n, rounds=min(5, n), timed=False)
            (_, base, _), (_, med, p95) = rows
            print(f"| {n} | {base:.2f} ms | {med:.2f} ms | {p95:.2f} ms | {med / base:.2f}x |", flush=True)
        return
    n_in, n_e2e = (200, 100) if args.quick else (1000, 500)
    print("| operation | ours per exchange | baseline | baseline per exchange | ratio |\n|---|---:|---|---:|---:|")
    for name, ours, base_name, base in in_process(n_in):
        print(f"| {name} | {ours * 1e6:.0f} µs | {base_name} | {base * 1e6:.0f} µs | {ours / base:.1f}x |")
    print()
    rows = end_to_end(n_e2e)
    base = rows[0][1]
    print(f"| path ({n_e2e} sequential GETs each, keep-alive, interleaved) | median | p95 | median vs. no addon |\n"
          "|---|---:|---:|---:|")
    for label, med, p95 in rows:
        print(f"| {label} | {med:.2f} ms | {p95:.2f} ms | {med / base:.2f}x |")


if __name__ == "__main__":
    main()
