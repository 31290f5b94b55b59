"""Cassette load benchmark: vcrpy, plain libyaml, our cold load and our warm (cached) load.

    python -m bench.bench_load [--sizes 10000,100000] [--single 10000] [--repeat 3] [--workdir DIR] [--write-doc]

Generates realistic O2IMS cassettes (``make_interactions`` below): each size split into files of
1000 interactions under ``edge1..edge4/`` as a user records them, plus one single 10k-interaction
file and the same 10k written by vcrpy's serializer with compact JSON bodies (as vcrpy records them).
Every measurement runs in a fresh subprocess, so peak RSS (``VmHWM``) is its own; the
time is the load call alone (imports excluded), the median of ``--repeat`` runs. Ratios are against
vcrpy's ``FilesystemPersister.load_cassette`` on the same files in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from replayer.cassettes.model import Cassette, Interaction, InteractionMeta, Request, Response, normalise_message
from replayer.cassettes.files import CassetteWriter
from replayer.cassettes.yaml import dump_cassette

__all__ = ["main", "measure", "Result", "make_interactions", "write_single", "write_split", "write_vcrpy"]

KINDS = ("vcrpy", "libyaml", "libyaml-gc", "cold", "warm")
DOC = Path(__file__).resolve().parent.parent / "docs" / "performance" / "cassette.md"


# --------------------------------------------------------------------------- realistic cassettes

_BASE = "https://o2ims.example:443/o2ims-infrastructureInventory/v1"
_SITES = ("edge1", "edge2", "edge3", "edge4")


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _pool(rng: random.Random, site: str, n: int) -> dict[str, object]:
    return {
        "resourcePoolId": _uid(rng),
        "globalLocationId": f"global-location-{site}",
        "name": f"{site.upper()}-POOL-{n}",
        "description": f"Compute resource pool {n} for {site} edge site: 'rack' #{n}",
        "location": f"Edge Site {site[-1]} - Rack {chr(65 + n % 26)}",
        "oCloudId": _uid(rng),
        "extensions": {
            "cpuArchitecture": rng.choice(["x86_64", "aarch64"]),
            "hypervisor": "KVM",
            "numaTopology": rng.random() < 0.5,
            "hardwareAcceleration": ["SR-IOV", "DPDK"][: rng.randint(0, 2)],
            "totalNodes": rng.randint(1, 64),
            "nodeSpecifications": {"cpuCoresPerNode": 32, "memoryGbPerNode": 128,
                                   "utilisation": round(rng.random(), 3)},
        },
    }


def _resource(rng: random.Random, pool_id: str, n: int) -> dict[str, object]:
    return {
        "resourceId": _uid(rng),
        "resourceTypeId": _uid(rng),
        "resourcePoolId": pool_id,
        "globalAssetId": f"asset-{n:06d}",
        "description": f"Server {n} — Dell R750, 2x Xeon",
        "elements": [],
        "tags": ["compute", f"n{n}"],
        "extensions": {"serial": f"SN{rng.getrandbits(40):010X}", "powerState": rng.choice(["on", "off"]),
                       "bios": "2.19.1", "memoryGb": rng.choice([128, 256, 512])},
    }


def _json_response(status: int, reason: str, doc: object, ctype: str = "application/json") -> Response:
    headers = {"Content-Type": [ctype], "Content-Length": ["0"], "Date": ["Wed, 26 Nov 2025 01:00:00 GMT"],
               "Server": ["o2ims/4.21"], "X-Request-Id": ["r-0"]}
    h, b = normalise_message(headers, json.dumps(doc).encode())
    return Response(status, reason, h, b)


def _interaction(rng: random.Random, n: int) -> Interaction:
    site = _SITES[n % 4]
    pool = _pool(rng, site, n)
    kind = n % 5
    if kind == 0:
        path, resp = "/resourcePools", _json_response(200, "OK", [pool, _pool(rng, site, n + 1)])
    elif kind == 1:
        path, resp = f"/resourcePools/{pool['resourcePoolId']}", _json_response(200, "OK", pool)
    elif kind == 2:
        pid = str(pool["resourcePoolId"])
        path = f"/resourcePools/{pid}/resources?filter=(eq,extensions/powerState,on)"
        resp = _json_response(200, "OK", [_resource(rng, pid, n + k) for k in range(3)])
    elif kind == 3:
        pid = str(pool["resourcePoolId"])
        res = _resource(rng, pid, n)
        path, resp = f"/resourcePools/{pid}/resources/{res['resourceId']}", _json_response(200, "OK", res)
    else:
        path = f"/resourcePools/{_uid(rng)}"
        resp = _json_response(404, "Not Found", {"status": 404, "title": "Not Found",
                                                  "detail": f"resource pool {path.rsplit('/', 1)[1]} not found"},
                              "application/problem+json")
    req = Request("GET", _BASE + path, {"Accept": ["application/json"], "Authorization": ["Bearer <redacted>"],
                                        "User-Agent": ["o2ims-consumer/1.0"]}, b"")
    return Interaction(req, resp, InteractionMeta())


def make_interactions(count: int, seed: int = 2) -> list[Interaction]:
    """``count`` deterministic O2IMS interactions (lists, items, filtered lists, 404s)."""
    rng = random.Random(seed)
    return [_interaction(rng, n) for n in range(count)]


def write_single(path: Path, count: int) -> Path:
    """One cassette file holding ``count`` interactions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"recorded_at": "2025-11-26T01:00:00Z", "upstream": "https://o2ims.example:443", "tool": "bench"}
    path.write_text(dump_cassette(Cassette(tuple(make_interactions(count)), meta)), encoding="utf-8")
    return path


def write_vcrpy(path: Path, count: int) -> Path:
    """One cassette as vcrpy writes it: its serializer, bodies as they came on the wire (compact JSON)."""
    from vcr.serializers import yamlserializer

    from replayer.cassettes.model import interaction_to_dict

    dicts = []
    for i in make_interactions(count):
        d = interaction_to_dict(i)
        d["response"]["body"]["string"] = json.dumps(json.loads(i.response.body))
        dicts.append(d)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yamlserializer.serialize({"interactions": dicts, "version": 1}), encoding="utf-8")
    return path


def write_split(root: Path, count: int, per_file: int = 1000) -> Path:
    """``count`` interactions split into files of ``per_file`` under ``root/edgeN/`` (as a user records)."""
    made = 0
    for k, start in enumerate(range(0, count, per_file)):
        n = min(per_file, count - start)
        w = CassetteWriter(root / _SITES[k % 4] / f"session-{k:03d}.yaml", metadata={"upstream": _BASE})
        for i in make_interactions(n, seed=k):
            w.append(i)
        w.flush()
        made += n
    return root


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True, slots=True)
class Result:
    """One measurement: what was loaded, how, in how many seconds, with what peak RSS.

    ``seconds`` is the load call; ``process_seconds`` the whole subprocess, from start to exit,
    interpreter start-up and imports included (what a user waits for on a warm start).
    """

    label: str
    kind: str
    interactions: int
    seconds: float
    peak_rss_mb: float
    process_seconds: float


def _files(target: Path) -> list[Path]:
    if target.is_file():
        return [target]
    return sorted(p for p in target.rglob("*.yaml") if ".o2replay-cache" not in p.parts)


def _load(kind: str, target: Path) -> int:
    """Load ``target`` the ``kind`` way; returns the number of interactions (checked by the caller)."""
    if kind == "vcrpy":
        from vcr.persisters.filesystem import FilesystemPersister
        from vcr.serializers import yamlserializer

        return sum(len(FilesystemPersister.load_cassette(str(f), yamlserializer)[0]) for f in _files(target))
    if kind in ("libyaml", "libyaml-gc"):
        import yaml

        from replayer.cassettes.yaml import gc_paused

        # libyaml-gc: with the cyclic GC paused, as our loader runs, so the two compare parse work alone
        with gc_paused() if kind == "libyaml-gc" else contextlib.nullcontext():
            return sum(len(yaml.load(f.read_bytes(), Loader=yaml.CSafeLoader)["interactions"]) for f in _files(target))
    from replayer.cassettes.load import load_cassettes

    return sum(len(lc.cassette) for lc in load_cassettes([target], use_cache=(kind == "warm")))


def measure(kind: str, target: Path) -> dict[str, float]:
    """Run one load in this process; the child side of ``_run``."""
    import replayer.cassettes.load  # noqa: F401 - imports are not part of the load time
    import vcr  # noqa: F401
    import yaml  # noqa: F401

    start = time.perf_counter()
    count = _load(kind, target)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "interactions": count, "peak_rss_mb": _peak_rss_kb() / 1024}


def _peak_rss_kb() -> int:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over ``exec`` from the
    parent that forked us, which would report the benchmark driver's memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _run(kind: str, target: Path) -> dict[str, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_load", "--measure", kind, str(target)],
        capture_output=True, text=True, timeout=900, check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} on {target} failed:\n{proc.stderr}")
    return {**json.loads(proc.stdout), "process_seconds": time.perf_counter() - start}


def _bench(label: str, target: Path, kinds: Sequence[str], repeat: int) -> list[Result]:
    cache = (target if target.is_dir() else target.parent) / ".o2replay-cache"
    shutil.rmtree(cache, ignore_errors=True)
    results = []
    for kind in kinds:
        if kind == "warm":
            _run("cold-prime", target)  # writes the cache; not measured
        runs = [_run(kind, target) for _ in range(repeat)]
        counts = {int(r["interactions"]) for r in runs}
        seconds = statistics.median(r["seconds"] for r in runs)
        results.append(Result(label, kind, counts.pop(), seconds, max(r["peak_rss_mb"] for r in runs),
                              statistics.median(r["process_seconds"] for r in runs)))
        print(f"  {label:24} {kind:8} {seconds:8.3f} s", file=sys.stderr, flush=True)
    return results


def table(results: Sequence[Result]) -> str:
    """The results as a markdown table, with speed-ups against vcrpy measured in the same run."""
    rows = ["| cassettes | loader | interactions | load s | speed-up vs vcrpy | whole process s | peak RSS (MB) |",
            "|---|---|---:|---:|---:|---:|---:|"]
    base = {r.label: r.seconds for r in results if r.kind == "vcrpy"}
    names = {"vcrpy": "vcrpy FilesystemPersister", "libyaml": "yaml.load CSafeLoader",
             "libyaml-gc": "yaml.load CSafeLoader, GC paused",
             "cold": "ours, cold (no cache)", "warm": "ours, warm (cache hit)"}
    for r in results:
        ratio = f"{base[r.label] / r.seconds:.1f}x" if r.label in base else "n/a"
        rows.append(f"| {r.label} | {names[r.kind]} | {r.interactions} | {r.seconds:.3f} | {ratio} | "
                    f"{r.process_seconds:.2f} | {r.peak_rss_mb:.0f} |")
    return "\n".join(rows)


def _prepare(workdir: Path, single: int, sizes: Sequence[int]) -> list[tuple[str, Path, int]]:
    sets = []
    if single:
        path = workdir / f"single-{single}" / "cassette.yaml"
        if not path.exists():
            write_single(path, single)
        sets.append((f"1 file, {_n(single)}", path, single))
        by_vcrpy = workdir / f"vcrpy-{single}" / "cassette.yaml"
        if not by_vcrpy.exists():
            write_vcrpy(by_vcrpy, single)
        sets.append((f"1 file written by vcrpy, {_n(single)}", by_vcrpy, single))
    for size in sizes:
        root = workdir / f"split-{size}"
        if not root.exists():
            write_split(root, size)
        files = -(-size // 1000)
        sets.append((f"{files} files, {_n(size)}" if files > 1 else f"1 split file, {_n(size)}", root, size))
    return sets


def _n(count: int) -> str:
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="interactions per split set (comma-separated)")
    parser.add_argument("--single", type=int, default=10_000, help="interactions in the one-file set (0: none)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--workdir", type=Path, help="where cassettes are generated (default: a temp folder)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"loaders to run (comma-separated; {', '.join(KINDS)})")
    parser.add_argument("--write-doc", action="store_true", help=f"write the table into {DOC}")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        kind, target = args.measure
        print(json.dumps(measure("cold" if kind == "cold-prime" else kind, Path(target)) if kind != "cold-prime"
                         else _prime(Path(target))))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    kinds = [k for k in args.kinds.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"--kinds: unknown loader {unknown[0]!r} (expected {', '.join(KINDS)})")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="o2replay-bench-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for label, target, size in _prepare(workdir, args.single, sizes):
        repeat = args.repeat if size <= 10_000 else 1
        results += _bench(label, target, kinds, repeat)
        if any(r.interactions != size for r in results if r.label == label):
            raise SystemExit(f"{label}: a loader returned the wrong number of interactions")
    text = table(results)
    print(text)
    if args.write_doc:
        _write_doc(text, argv)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _prime(target: Path) -> dict[str, float]:
    from replayer.cassettes.load import load_cassettes

    return {"interactions": sum(len(lc.cassette) for lc in load_cassettes([target]))}


def _write_doc(text: str, argv: Sequence[str] | None) -> None:
    command = "python -m bench.bench_load " + " ".join(argv if argv is not None else sys.argv[1:])
    machine = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    old = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    marker = "<!-- bench_load results -->"
    block = f"{marker}\nCommand: `{command.strip()}` ({machine}, {time.strftime('%Y-%m-%d')})\n\n{text}\n{marker}"
    if old.count(marker) == 2:
        head, _, rest = old.partition(marker)
        _, _, tail = rest.partition(marker)
        DOC.write_text(head + block + tail, encoding="utf-8")
    else:
        DOC.write_text(old + ("\n" if old else "") + block + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
