"""`o2replay validate` (not yet implemented)."""

from __future__ import annotations

import argparse
from typing import Any

from replayer.errors import UsageError


def register(subs: Any) -> None:
    """Add the `validate` subcommand."""
    p = subs.add_parser("validate", help="validate (not yet implemented)", description="not yet implemented")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run `o2replay validate`."""
    raise UsageError("'validate' is not implemented yet")
