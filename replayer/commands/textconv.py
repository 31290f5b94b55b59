"""`o2replay textconv` (not yet implemented)."""

from __future__ import annotations

import argparse
from typing import Any

from replayer.errors import UsageError


def register(subs: Any) -> None:
    """Add the `textconv` subcommand."""
    p = subs.add_parser("textconv", help="textconv (not yet implemented)", description="not yet implemented")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run `o2replay textconv`."""
    raise UsageError("'textconv' is not implemented yet")
