"""`o2replay serve` (not yet implemented)."""

from __future__ import annotations

import argparse
from typing import Any

from replayer.errors import UsageError


def register(subs: Any) -> None:
    """Add the `serve` subcommand."""
    p = subs.add_parser("serve", help="serve (not yet implemented)", description="not yet implemented")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run `o2replay serve`."""
    raise UsageError("'serve' is not implemented yet")
