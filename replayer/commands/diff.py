"""`o2replay diff` (not yet implemented)."""

from __future__ import annotations

import argparse
from typing import Any

from replayer.errors import UsageError


def register(subs: Any) -> None:
    """Add the `diff` subcommand."""
    p = subs.add_parser("diff", help="diff (not yet implemented)", description="not yet implemented")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run `o2replay diff`."""
    raise UsageError("'diff' is not implemented yet")
