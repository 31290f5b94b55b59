"""`o2replay record` (not yet implemented)."""

from __future__ import annotations

import argparse
from typing import Any

from replayer.errors import UsageError


def register(subs: Any) -> None:
    """Add the `record` subcommand."""
    p = subs.add_parser("record", help="record (not yet implemented)", description="not yet implemented")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run `o2replay record`."""
    raise UsageError("'record' is not implemented yet")
