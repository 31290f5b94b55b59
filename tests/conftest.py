"""Suite-wide set-up."""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from replayer.cli import COMMANDS, command_module

ROOT = Path(__file__).resolve().parents[1]

# Tests talk to loopback only: the synthetic O2IMS delivers notifications to loopback callbacks alone, so a
# fuzzed subscription (schemathesis) never makes it resolve or connect to a host outside this machine.
os.environ["O2REPLAY_NOTIFY_LOOPBACK_ONLY"] = "1"

# Import every subcommand once at collection time. CPython 3.11.7 can raise "AST constructor recursion depth
# mismatch" (gh-106905) when a module is first compiled deep inside a running test; importing here avoids it.
for _name in COMMANDS:
    importlib.import_module(command_module(_name))


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``serve`` run in-process (``main(["serve", ...])``) points the server's loggers at that test's stderr and
    turns their propagation off: put them back after every test, so a later test's ``caplog`` still sees them."""
    names = ("replayer", "aiohttp.server", "aiohttp.web", "aiohttp.access")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate)
             for n in names}
    yield
    for n, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(n)
        logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


def _run(*argv: str | Path, cwd: Path) -> None:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{argv}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="session")
def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheel and sdist of this checkout, built as `make dist` builds them (the wheel from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=ROOT)
    return out


@pytest.fixture(scope="session")
def installed_venv(built_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv, outside the checkout, with only the wheel and its dependencies installed."""
    where = tmp_path_factory.mktemp("fresh") / "venv"
    _run(sys.executable, "-m", "venv", where, cwd=where.parent)
    [wheel] = built_dist.glob("*.whl")
    _run(where / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel,
         cwd=where.parent)
    return where


# A real pti-o2 (O-RAN SC INF O2 service) for the tests that ask for it: tests/ptio2/fixtures.py.
pytest_plugins = ["tests.ptio2.fixtures"]
