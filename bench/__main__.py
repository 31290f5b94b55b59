"""``python -m bench [NAME ...]``: run every ``bench/bench_*.py`` module's ``main()`` in turn (or the named ones)."""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent


def modules() -> list[str]:
    """The benchmark modules, sorted: every ``bench_*.py`` beside this file."""
    return sorted(p.stem for p in HERE.glob("bench_*.py"))


def run(name: str) -> int:
    """Import ``bench.<name>`` and call its ``main`` with default arguments; its exit code."""
    module = importlib.import_module(f"bench.{name}")
    main = getattr(module, "main", None)
    if main is None:
        print(f"bench.{name}: no main(); skipped", file=sys.stderr)
        return 1
    takes_argv = bool(inspect.signature(main).parameters)
    result = main([]) if takes_argv else main()
    return int(result or 0)


def cli(argv: Sequence[str]) -> int:
    """Run the named benchmarks (default: all); non-zero when any failed."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run the benchmarks (all, or the named ones) with their default "
        "settings; results go to bench/results/ and docs/performance.md. Each also runs alone: "
        "python -m bench.NAME --help.", epilog=f"benchmarks: {', '.join(modules())}")
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(modules()))
        return 0
    names = list(args.names) or modules()
    unknown = [n for n in names if n not in modules()]
    if unknown:
        print(f"python -m bench: error: unknown benchmark {', '.join(unknown)} (known: {', '.join(modules())})",
              file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"== bench.{name}", file=sys.stderr, flush=True)
        start = time.monotonic()
        try:
            code = run(name)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            code = 1
        print(f"== bench.{name}: exit {code} after {time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(cli(sys.argv[1:]))
