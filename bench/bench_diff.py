"""Benchmark of `o2replay diff`: two cassette sets of N interactions, 1% of them drifted (issue 5, section 7).

    python -m bench.bench_diff                      # 1k, 10k, 50k (also run by `python -m bench`)
    python -m bench.bench_diff --sizes 1000 10000   # a quicker run

For each size it writes OLD and NEW folders (files of 500 interactions: item reads, list reads with
ten objects, alarm lists with volatile times), then times, in the same process:

- ``load``: reading and parsing both sets from YAML (no derived cache): the baseline;
- ``diff``: pairing and comparing (``diff_sides``, with the O2IMS schema check on drifted bodies);
- ``cli``: the whole ``o2replay diff OLD NEW --format json`` as a user runs it, cold (cache cleared);
- ``cli warm``: the same again, with the derived cache written by the cold run.

Each measurement is the fastest of ``--repeat`` runs (default 3).

It prints a Markdown table (times in seconds, cost per 1k interactions, and ratios to the load baseline)
and checks that the number of findings matches the drift it injected.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from replayer.cassettes.model import Cassette, Interaction, InteractionMeta, Request, Response
from replayer.cassettes.files import CACHE_DIR
from replayer.cassettes.load import load_cassettes
from replayer.cassettes.yaml import dump_cassette
from replayer.cli import main as o2replay
from replayer.diff.config import DiffConfig
from replayer.diff.engine import Side, diff_sides

INV = "/o2ims-infrastructureInventory/v1"
MON = "/o2ims-infrastructureMonitoring/v1"
PER_FILE = 500
DRIFT_EVERY = 100  # 1%


def _pool(n: int, drift: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourcePoolId": f"pool-{n:06d}", "name": f"EDGE{n % 4 + 1}-POOL-{n}", "oCloudId": "ocloud-1",
        "globalLocationId": f"edge{n % 4 + 1}", "description": "Compute resource pool",
        "extensions": {"cpu_architecture": "x86_64", "total_nodes": n % 16, "hardware": ["SR-IOV", "DPDK"]},
    }
    if drift:
        body["description"] = "Compute resource pool (renamed)"
        del body["extensions"]["total_nodes"]
        body["extensions"]["numa"] = True
    return body


def _interaction(n: int, drift: bool) -> Interaction:
    kind = n % 10
    body: Any
    if kind < 7:
        path, body = f"{INV}/resourcePools/pool-{n:06d}", _pool(n, drift)
    elif kind < 9:
        path = f"{INV}/resourcePools"
        items = [_pool(n * 10 + i, drift and i == 3) for i in range(10)]
        body = list(reversed(items)) if drift else items
        path += f"?filter=(eq,globalLocationId,edge{n})"
    else:
        stamp = f"2026-11-{1 + drift:02d}T00:00:{n % 60:02d}Z"
        path = f"{MON}/alarms?marker={n}"
        alarms: list[dict[str, Any]] = [
            {"alarmEventRecordId": f"alarm-{n}-{i}", "resourceId": f"r{i}", "perceivedSeverity": 2,
             "alarmRaisedTime": stamp, "alarmChangedTime": stamp} for i in range(3)]
        if drift:
            alarms[0]["perceivedSeverity"] = 1
        body = alarms
    data = json.dumps(body, indent=2).encode()
    headers = {"Content-Type": ["application/json"], "Content-Length": [str(len(data))],
               "Date": [f"Thu, 26 Nov 2026 00:00:{n % 60:02d} GMT" if not drift else "Fri, 27 Nov 2026 00:00:00 GMT"]}
    return Interaction(Request("GET", f"http://o2ims.example{path}", {"Accept": ["application/json"]}),
                       Response(200, "OK", headers, data), InteractionMeta())


def write_sets(root: Path, size: int) -> tuple[Path, Path, int]:
    """OLD and NEW folders of ``size`` interactions; returns them and the number of drifted interactions."""
    drifted = 0
    for side in ("old", "new"):
        for start in range(0, size, PER_FILE):
            items = []
            for n in range(start, min(size, start + PER_FILE)):
                drift = side == "new" and n % DRIFT_EVERY == DRIFT_EVERY // 2
                drifted += drift
                items.append(_interaction(n, drift))
            target = root / side / f"edge{start // PER_FILE % 4 + 1}" / f"part-{start // PER_FILE:04d}.yaml"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dump_cassette(Cassette(tuple(items), {"recorded_with": "bench"})), encoding="utf-8")
    return root / "old", root / "new", drifted


def _clear_cache(*folders: Path) -> None:
    for folder in folders:
        shutil.rmtree(folder / CACHE_DIR, ignore_errors=True)


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def _cli(old: Path, new: Path) -> tuple[int, dict[str, Any]]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = o2replay(["diff", str(old), str(new), "--format", "json", "--fail-on", "never"])
    return code, json.loads(buf.getvalue())


def _best(repeat: int, fn: Any) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs (the machine is shared: the minimum is the least disturbed)."""
    runs = [_timed(fn) for _ in range(repeat)]
    return min(t for t, _ in runs), runs[-1][1]


def measure(size: int, workdir: Path, repeat: int) -> dict[str, float]:
    """Time one size; every number comes from this process, same machine, same run."""
    old, new, drifted = write_sets(workdir / str(size), size)
    load, (a, b) = _best(repeat, lambda: (load_cassettes([old], use_cache=False),
                                          load_cassettes([new], use_cache=False)))
    side_a = Side("old", {lc.name: (str(lc.path), lc.cassette) for lc in a})
    side_b = Side("new", {lc.name: (str(lc.path), lc.cassette) for lc in b})
    from replayer.commands.diff import _schema_check

    check = _schema_check()
    diff, report = _best(repeat, lambda: diff_sides(side_a, side_b, DiffConfig(), schema_check=check))

    def cold_run() -> tuple[int, dict[str, Any]]:
        _clear_cache(old, new)
        return _cli(old, new)

    cold, (code, doc) = _best(repeat, cold_run)
    warm, _ = _best(repeat, lambda: _cli(old, new))
    assert code == 0 and doc["summary"]["total"] == len(report.findings)
    assert len({(f.file, f.new_at.interaction if f.new_at else None) for f in report.findings}) == drifted, \
        "every drifted interaction is found, and only those"
    return {"size": size, "drifted": drifted, "findings": len(report.findings), "load": load, "diff": diff,
            "cold": cold, "warm": warm}


def table(rows: list[dict[str, float]]) -> str:
    """The Markdown table of the results."""
    out = ["| interactions per side | drifted | findings | load (baseline) s | diff s | cli cold s | cli warm s "
           "| cold s per 1k | cold / load |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['size']:,} | {r['drifted']:,} | {r['findings']:,} | {r['load']:.2f} | {r['diff']:.2f} "
                   f"| {r['cold']:.2f} | {r['warm']:.2f} | {r['cold'] / r['size'] * 1000:.3f} "
                   f"| {r['cold'] / r['load']:.2f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_diff", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest is kept")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-diff-") as tmp:
        for size in args.sizes:
            rows.append(measure(size, Path(tmp), args.repeat))
            print(f"{size}: done", file=sys.stderr)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
