"""`o2replay scan` (not yet implemented)."""

from __future__ import annotations

import argparse
from typing import Any

from replayer.errors import UsageError


def register(subs: Any) -> None:
    """Add the `scan` subcommand."""
    p = subs.add_parser("scan", help="scan (not yet implemented)", description="not yet implemented")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run `o2replay scan`."""
    raise UsageError("'scan' is not implemented yet")
