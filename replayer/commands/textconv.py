"""`o2replay textconv FILE`: a cassette's stable semantic view, for `git diff` (docs/diff.md).

Set up once per clone::

    echo 'cassettes/**/*.yaml diff=o2replay' >> .gitattributes
    git config diff.o2replay.textconv "o2replay textconv"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from replayer.cassettes.load import load_cassette
from replayer.commands.diff import load_diff_config
from replayer.diff.textview import semantic_view
from replayer.errors import CassetteError

__all__ = ["register", "run"]


def register(subs: Any) -> None:
    """Add the `textconv` subcommand."""
    p = subs.add_parser("textconv", help="print a cassette's semantic view, for `git diff`",
                        description="Print a stable, line-per-fact view of a cassette: requests sorted, "
                                    "volatile values masked, JSON bodies flattened with arrays keyed by "
                                    "identity. Used by git as a textconv driver (see docs/diff.md).")
    p.add_argument("file", metavar="FILE", help="a cassette file (git passes a temporary copy)")
    p.add_argument("--config", metavar="FILE", help="config file (default: the nearest .o2replay.yaml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run `o2replay textconv`; a file that is not a readable cassette is printed as it is."""
    cfg = load_diff_config(args)
    try:
        cassette = load_cassette(args.file)
    except CassetteError as e:
        # git runs textconv on every file the attribute matches (notes, half-edited cassettes): failing would
        # abort the whole `git diff`, so show the raw text, and say why on stderr.
        try:
            raw = Path(args.file).read_bytes()
        except OSError:
            raise e from None
        print(f"o2replay textconv: note: {e}; showing the file as it is", file=sys.stderr)
        sys.stdout.buffer.write(raw)
        return 0
    sys.stdout.write(semantic_view(cassette, cfg))
    return 0
