"""Suite-wide set-up."""

from __future__ import annotations

import importlib

from replayer.cli import COMMANDS

# Import every subcommand once at collection time. CPython 3.11.7 can raise "AST constructor recursion depth
# mismatch" (gh-106905) when a module is first compiled deep inside a running test; importing here avoids it.
for _name in COMMANDS:
    importlib.import_module(f"replayer.commands.{_name}")
