"""The fast YAML reader on vcrpy-style quoted bodies: time and peak memory against libyaml, side by side.

    python -m bench.bench_fastyaml [--sizes-mb 1,10,30]

vcrpy writes a response body as one double-quoted scalar folded over many lines. Each measurement
loads one such cassette (a body of the given size) in a fresh subprocess, so the peak RSS (``VmHWM``)
is its own; ``extra`` is the peak minus the process's RSS before the load. The baseline is libyaml
(``yaml.load(text, CSafeLoader)``) on the same text in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "make_text"]

_CHILD = r"""
import json, sys, time
from pathlib import Path
import yaml
from replayer.cassettes import fastyaml

def hwm():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0

text = Path(sys.argv[1]).read_text(encoding="utf-8")
before = hwm()
t = time.perf_counter()
doc = fastyaml.load(text) if sys.argv[2] == "fast" else yaml.load(text, Loader=yaml.CSafeLoader)
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "extra": hwm() - before}))
"""


def make_text(size: int) -> str:
    """A one-interaction cassette whose response body (about ``size`` bytes of JSON) is double-quoted."""
    import yaml

    items = [{"resourceId": f"r{i}", "name": f"node-{i}", "description": "rack \"A\" slot", "extensions": {}}
             for i in range(max(1, size // 80))]
    body = json.dumps(items)
    doc = {"version": 1, "interactions": [{
        "request": {"method": "GET", "uri": "https://o2ims.example/o2ims-infrastructureInventory/v1/resources",
                    "body": None, "headers": {}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": body}}}]}
    return str(yaml.dump(doc, Dumper=yaml.CSafeDumper, default_flow_style=False))


def _measure(path: Path, kind: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), kind], capture_output=True, text=True,
                         check=True, timeout=600)
    return dict(json.loads(out.stdout))


def main(argv: Sequence[str] | None = None) -> int:
    """Print one row per size: fast reader and libyaml, seconds and extra peak memory."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_fastyaml", description=__doc__)
    parser.add_argument("--sizes-mb", default="1,10,30", help="body sizes in MB, comma-separated")
    args = parser.parse_args(argv)
    print("| body | fast reader | libyaml | fast / libyaml time | fast extra memory / body |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for mb in (float(x) for x in args.sizes_mb.split(",")):
            path = Path(tmp) / "quoted.yaml"
            path.write_text(make_text(int(mb * 1_000_000)), encoding="utf-8")
            size = path.stat().st_size
            fast, lib = _measure(path, "fast"), _measure(path, "lib")
            print(f"| {mb:g} MB | {fast['seconds']:.2f} s, +{fast['extra'] / 1e6:.0f} MB "
                  f"| {lib['seconds']:.2f} s, +{lib['extra'] / 1e6:.0f} MB "
                  f"| {fast['seconds'] / lib['seconds']:.2f}x | {fast['extra'] / size:.1f}x |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
