"""Micro-benchmarks of the O2IMS core (routes, query, spec validation), each beside a baseline in the same run.

    .venv/bin/python -m bench.bench_o2ims_core [--quick]

Prints a Markdown table: operation, time per call, baseline, baseline time, ratio (ours / baseline).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from typing import Any

from replayer.o2ims.query import parse_query, select
from replayer.o2ims.routes import match_route, normalise_path, template_of
from replayer.o2ims.spec import bundled_specs

INV = "/o2ims-infrastructureInventory/v1"
UUID = "38dcb63b-b1f0-4d2c-88bf-56446670ef01"


def _pools(n: int) -> list[dict[str, Any]]:
    return [
        {"resourcePoolId": f"{i:08d}-b1f0-4d2c-88bf-56446670ef01", "name": f"edge{i % 4 + 1}-pool-{i}",
         "description": "pool", "globalLocationId": f"loc-{i % 4}", "oCloudId": UUID,
         "extensions": {"site": f"edge{i % 4 + 1}", "cores": 32 * (i % 8), "tags": ["a", "b"]}}
        for i in range(n)
    ]


def _per_call(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Best-of-``repeat`` seconds per call."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def _import_time(module: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}" if module else "pass"], check=True, timeout=60)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _fmt(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} µs"


def _quick(argv: list[str]) -> bool:
    """Parse the command line: ``--quick`` (smaller counts) or ``--help``."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_o2ims_core", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats (a smoke run)")
    return bool(parser.parse_args(argv).quick)


def main(argv: list[str]) -> int:
    """Run every benchmark and print the table."""
    quick = _quick(argv)
    n, r = (2_000, 3) if quick else (20_000, 5)
    pools_1k, pools_10k = _pools(1_000), _pools(10_000)
    literal = {f"{INV}/resourcePools": 1}
    item_path = f"{INV}/resourcePools/{UUID}/resources/{UUID}"
    aiohttp_like = [("limit", "10"), ("offset", "0")]
    filt = parse_query([("filter", "(eq,extensions/site,edge2);(gte,extensions/cores,64)")])
    page_query = parse_query([])
    body = json.dumps(pools_1k[:100]).encode()
    specs = bundled_specs()
    specs.validate_response("GET", f"{INV}/resourcePools", 200, "application/json", body)  # warm the validator

    rows: list[tuple[str, float, str, float]] = [
        ("match_route (item, 2 params)", _per_call(lambda: match_route(item_path), n, r),
         "dict.get of a literal path", _per_call(lambda: literal.get(f"{INV}/resourcePools"), n, r)),
        ("normalise_path (canonical)", _per_call(lambda: normalise_path(item_path), n, r),
         "str.endswith", _per_call(lambda: item_path.endswith("/"), n, r)),
        ("template_of (cached)", _per_call(lambda: template_of(item_path), n, r),
         "dict.get of a literal path", _per_call(lambda: literal.get(f"{INV}/resourcePools"), n, r)),
        ("parse_query, no O2IMS params", _per_call(lambda: parse_query(aiohttp_like), n, r),
         "list(params)", _per_call(lambda: list(aiohttp_like), n, r)),
        ("parse_query with a filter (cached parse)", _per_call(
            lambda: parse_query([("filter", "(eq,extensions/site,edge2);(gte,extensions/cores,64)")]), n, r),
         "list(params)", _per_call(lambda: list(aiohttp_like), n, r)),
        ("select: 2-term filter over 1k items", _per_call(lambda: select(pools_1k, filt), 20, r),
         "hand-written list comprehension", _per_call(
             lambda: [p for p in pools_1k if p["extensions"]["site"] == "edge2" and p["extensions"]["cores"] >= 64],
             20, r)),
        ("select: page of 100 from 10k items", _per_call(lambda: select(pools_10k, page_query, page_size=100), 200, r),
         "list slice [0:100]", _per_call(lambda: pools_10k[0:100], 200, r)),
        ("validate_response: 100 pools (bytes)", _per_call(
            lambda: specs.validate_response("GET", f"{INV}/resourcePools", 200, "application/json", body), 20, r),
         "json.loads of the body", _per_call(lambda: json.loads(body), 20, r)),
    ]
    spec_load = min(timeit.repeat("SpecSet.from_files(BUNDLED_SPEC_FILES)", number=1, repeat=r,
                                  setup="from replayer.o2ims.spec import SpecSet, BUNDLED_SPEC_FILES"))
    rows.append(("load bundled specs (6 files + common)", spec_load, "-", float("nan")))
    imp = _import_time("replayer.o2ims.routes, replayer.o2ims.query", r)
    rows.append(("python -c 'import routes, query'", imp, "python -c pass", _import_time("", r)))

    print("| operation | ours | baseline | baseline time | ratio |")
    print("|---|---:|---|---:|---:|")
    for name, ours, base_name, base in rows:
        ratio = "-" if base != base else f"{ours / base:.1f}x"
        print(f"| {name} | {_fmt(ours)} | {base_name} | {'-' if base != base else _fmt(base)} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
