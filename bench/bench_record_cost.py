"""Recording cost per exchange (decode, redact, scan after redaction, serialise), this tree against a baseline
revision, side by side in the same run.

    .venv/bin/python -m bench.bench_record_cost                      # this tree only
    .venv/bin/python -m bench.bench_record_cost --baseline REV       # this tree and REV, taking turns

The baseline is ``git archive REV`` unpacked into a temporary folder and run with the same Python; each
round runs both trees one after the other (alternating which goes first), so load from other processes on the
machine hits them alike. Each number is the best of the rounds. Results in docs/performance/recorder.md.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Run inside a tree (``sys.path[0]`` = the tree): build_interaction + dump per exchange, in microseconds, per
#: scenario; only APIs both trees have (the modules moved into packages: either layout is found).
CHILD = r'''
import base64, gzip, json, sys, time
try:
    from replayer.cassettes.model import InteractionKind
    from replayer.cassettes.yaml import dump_interaction
    from replayer.record.recorder import Exchange, build_interaction, parse_config
except ImportError:
    from replayer.cassette import InteractionKind
    from replayer.cassette_io import dump_interaction
    from replayer.recorder import Exchange, build_interaction, parse_config

n = int(sys.argv[1])
INV = "/o2ims-infrastructureInventory/v1"
pools = json.dumps([{"resourcePoolId": f"pool-{i}", "name": f"edge{i % 4 + 1}-compute", "oCloudId": "ocloud-1",
                     "globalLocationId": f"edge{i % 4 + 1}", "description": "compute pool " * 4,
                     "extensions": {"rack": i, "zone": "a"}} for i in range(20)]).encode()
gz = gzip.compress(pools, mtime=0)
dm = json.dumps({"deploymentManagerId": "dm-1", "name": "edge1", "serviceUri": "https://edge1:6443",
                 "extensions": {"profileName": "native_k8sapi", "profileData": {
                     "cluster_api_endpoint": "https://edge1:6443", "admin_user": "admin",
                     "cluster_ca_cert": base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMII" + b"A" * 600).decode(),
                     "admin_client_key": "c2VjcmV0" * 40}}}).encode()
form = b"grant_type=client_credentials&client_id=o2ims-consumer&client_secret=s3cr3t-value&scope=o2ims"
scenarios = {
    "resourcePools page (4 KB JSON, gzip, bearer)": Exchange(
        "GET", f"https://o2ims.example{INV}/resourcePools?page=1",
        {"Authorization": ["Bearer abc.def.ghi"], "Accept": ["application/json"]}, b"", 200, "OK",
        {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"], "Content-Length": [str(len(gz))]},
        gz, 0.0, 0.01),
    "deploymentManager with profileData": Exchange(
        "GET", f"https://o2ims.example{INV}/deploymentManagers/dm-1?fields=extensions",
        {"Authorization": ["Bearer abc.def.ghi"]}, b"", 200, "OK", {"Content-Type": ["application/json"]},
        dm, 0.0, 0.01),
    "OAuth token request (form)": Exchange(
        "POST", "https://o2ims.example/o2ims-infrastructureInventory/v1/oauth/token",
        {"Content-Type": ["application/x-www-form-urlencoded"]}, form, 200, "OK",
        {"Content-Type": ["application/json"]}, b'{"access_token":"eyJhbGciOi.eyJzdWIiOi.sig","token_type":"Bearer"}',
        0.0, 0.01),
}
cfg = parse_config(cassette="/nonexistent/c.yaml", record_paths=["/"])
for name, e in scenarios.items():
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(n):
            dump_interaction(build_interaction(e, InteractionKind.API, cfg))
        best = min(best, (time.perf_counter() - t0) / n)
    print(f"{name}\t{best * 1e6:.1f}")
'''


def _measure(tree: Path, n: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tree)!r})\n{CHILD}", str(n)],
                         capture_output=True, text=True, check=True, cwd=tree)
    return {name: float(us) for name, us in (line.split("\t") for line in out.stdout.splitlines())}


def _export(rev: str, into: Path) -> None:
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "replayer"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")


def run(baseline: str | None, n: int, rounds: int) -> list[tuple[str, float, float | None]]:
    """(scenario, µs per exchange here, µs per exchange at the baseline or None)."""
    ours: dict[str, float] = {}
    base: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if baseline:
            _export(baseline, Path(tmp))
        for r in range(rounds):
            order = [(ROOT, ours), (Path(tmp), base)] if baseline else [(ROOT, ours)]
            for tree, into in order if r % 2 == 0 else reversed(order):
                for name, us in _measure(tree, n).items():
                    into[name] = min(into.get(name, float("inf")), us)
    return [(name, us, base.get(name)) for name, us in ours.items()]


def main(argv: Sequence[str] | None = None) -> int:
    """Print a Markdown table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", metavar="REV", help="git revision to compare with (e.g. main)")
    p.add_argument("-n", type=int, default=500, help="exchanges per timing (default 500)")
    p.add_argument("--rounds", type=int, default=5, help="rounds, each running every tree (default 5)")
    args = p.parse_args(argv)
    rows = run(args.baseline, args.n, args.rounds)
    label = args.baseline or "-"
    print(f"| exchange | this tree per exchange | {label} per exchange | ratio |\n|---|---:|---:|---:|")
    for name, ours, base in rows:
        ratio = f"{ours / base:.2f}x" if base else "-"
        print(f"| {name} | {ours:.0f} µs | {f'{base:.0f} µs' if base else '-'} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
