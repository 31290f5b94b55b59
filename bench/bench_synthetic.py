"""Micro-benchmarks of the synthetic O2IMS model, each beside a baseline measured in the same run.

    .venv/bin/python -m bench.bench_synthetic [--quick]

Prints a Markdown table: operation, time per call, baseline, baseline time, ratio (ours / baseline).
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from collections.abc import Callable

from replayer.synthetic.api import SynthRequest, SyntheticO2IMS
from replayer.synthetic.profile import load_profile

INV = "/o2ims-infrastructureInventory/v1"


def _per_call(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Best-of-``repeat`` seconds per call."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def _quick(argv: list[str]) -> bool:
    """Parse the command line: ``--quick`` (smaller counts) or ``--help``."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_synthetic", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats (a smoke run)")
    return bool(parser.parse_args(argv).quick)


def main(argv: list[str]) -> int:
    quick = _quick(argv)
    n, repeat = (200, 3) if quick else (2000, 5)
    model = SyntheticO2IMS()
    pools = model.model.resource_pools_v1
    pool_id = pools[0]["resourcePoolId"]
    resources = model.model.resources[pool_id]
    static = SynthRequest("GET", f"{INV}/resourcePools")
    filtered = SynthRequest("GET", f"{INV}/resourcePools", (("filter", "(eq,extensions/hypervisor,KVM)"),))
    item = SynthRequest("GET", f"{INV}/resourcePools/{pool_id}/resources/{resources[0]['resourceId']}")
    legacy = SynthRequest("GET", "/o2ims_infrastructureInventory/v1/resourcePools")

    def uncached(req: SynthRequest) -> Callable[[], object]:
        def run() -> object:
            model._cache.clear()
            return model.handle(req)
        return run

    dumps_pools = lambda: json.dumps(pools, separators=(",", ":")).encode()  # noqa: E731
    rows = [
        ("GET resourcePools (12, cached)", lambda: model.handle(static), "json.dumps of the 12 pools", dumps_pools),
        ("GET resourcePools (12, uncached)", uncached(static), "json.dumps of the 12 pools", dumps_pools),
        ("GET resourcePools + filter (uncached)", uncached(filtered), "json.dumps of the 12 pools", dumps_pools),
        ("GET one resource (uncached)", uncached(item), "json.dumps of that resource",
         lambda: json.dumps(resources[0]).encode()),
        ("GET legacy resourcePools", lambda: model.handle(legacy), "json.dumps of the 12 pools", dumps_pools),
    ]
    print("| operation | ours | baseline | baseline time | ratio |")
    print("|---|---:|---|---:|---:|")
    for name, fn, base_name, base in rows:
        ours, theirs = _per_call(fn, n, repeat), _per_call(base, n, repeat)
        print(f"| {name} | {_fmt(ours)} | {base_name} | {_fmt(theirs)} | {ours / theirs:.2f}x |")
    build = _per_call(lambda: SyntheticO2IMS(), 5 if quick else 20, repeat)
    parse = _per_call(load_profile, 5 if quick else 20, repeat)
    print(f"| build the model (profile + 104 resources) | {_fmt(build)} | load_profile only | {_fmt(parse)} | "
          f"{build / parse:.2f}x |")
    body = json.dumps({"provisioningRequestId": "", "name": "intent-1", "description": "", "templateName":
                       "edge-cluster", "templateVersion": "v4-18-0", "templateParameters": {}})
    count = [0]

    def lifecycle() -> object:
        count[0] += 1
        prid = f"{count[0]:08x}-0000-4000-8000-000000000000"
        data = body.replace('"provisioningRequestId": ""', f'"provisioningRequestId": "{prid}"').encode()
        session = f"bench-{count[0] % 50}"
        model.handle(SynthRequest("POST", "/o2ims-infrastructureProvisioning/v1/provisioningRequests", (), {},
                                  data, session))
        for _ in range(3):
            model.handle(SynthRequest("GET", f"/o2ims-infrastructureProvisioning/v1/provisioningRequests/{prid}",
                                      (), {}, b"", session))
        return model.reset(session)

    life = _per_call(lifecycle, 20 if quick else 200, repeat)
    print(f"| provisioning POST + 3 GETs to FULFILLED | {_fmt(life)} | 4 x cached GET | "
          f"{_fmt(4 * _per_call(lambda: model.handle(static), n, repeat))} | - |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
