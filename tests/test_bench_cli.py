"""The benchmark entry points answer --help without running anything, and name bad input in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_bench_help_and_list() -> None:
    helped = _run("bench", "--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage: python -m bench")
    assert all(name in helped.stdout for name in MODULES)
    listed = _run("bench", "--list")
    assert listed.returncode == 0 and listed.stdout.split() == MODULES


def test_unknown_benchmark_is_one_line() -> None:
    proc = _run("bench", "bench_nope")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "unknown benchmark bench_nope" in proc.stderr


@pytest.mark.parametrize("name", MODULES)
def test_every_benchmark_answers_help_without_running(name: str) -> None:
    proc = _run(f"bench.{name}", "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: python -m bench.{name}")
    assert "|" not in proc.stdout.split("options:")[-1]  # no result table: nothing was measured
