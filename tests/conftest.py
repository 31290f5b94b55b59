"""Suite-wide set-up."""

from __future__ import annotations

import importlib
import os

from replayer.cli import COMMANDS

# Tests talk to loopback only: the synthetic O2IMS delivers notifications to loopback callbacks alone, so a
# fuzzed subscription (schemathesis) never makes it resolve or connect to a host outside this machine.
os.environ["O2REPLAY_NOTIFY_LOOPBACK_ONLY"] = "1"

# Import every subcommand once at collection time. CPython 3.11.7 can raise "AST constructor recursion depth
# mismatch" (gh-106905) when a module is first compiled deep inside a running test; importing here avoids it.
for _name in COMMANDS:
    importlib.import_module(f"replayer.commands.{_name}")

# A real pti-o2 (O-RAN SC INF O2 service) for the tests that ask for it: tests/ptio2/fixtures.py.
pytest_plugins = ["tests.ptio2.fixtures"]
