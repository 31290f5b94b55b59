"""The ``o2replay`` command line: the only place that prints errors and chooses exit codes.

Each subcommand lives in ``replayer/commands/<name>.py`` with ``register(subparsers)`` (adds its
parser and sets ``func``) and ``run(args) -> int``. Exit codes: 0 success, 1 a finding (drift,
secrets, spec violations), 2 usage or input error (one line, no traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from replayer import __version__
from replayer.environment import apply_environment
from replayer.errors import ReplayerError

__all__ = ["main", "build_parser", "COMMANDS"]

#: Subcommands in the order ``o2replay --help`` lists them.
COMMANDS = ("record", "serve", "scan", "diff", "validate", "textconv", "tls")

_DESCRIPTION = """\
Record, replay and diff O-RAN O2IMS traffic.

  record    put a recording proxy (mitmproxy) in front of a real O2IMS and write a cassette
  serve     answer O2IMS requests from cassettes, with a synthetic edge1-4 O-Cloud as fallback
  scan      find anything secret-looking left in cassettes (exit 1 when found)
  diff      show what a real O2IMS changed between two recordings (exit 1 on drift)
  validate  check recorded responses against the O2IMS OpenAPI definitions
  textconv  print a cassette's semantic view, for `git diff` (see docs/diff.md)
  tls       the local CA of `serve --tls auto`; client certificates for mutual TLS

Run `o2replay COMMAND --help` for the options of one command. Docs: docs/ in the project.
"""


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (it already does) and names the command."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every subcommand registered."""
    parser = _Parser(
        prog="o2replay",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"o2replay {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"replayer.commands.{name}")
        module.register(subs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``o2replay`` with the given arguments; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        # flag > O2REPLAY_* variable > .o2replay.yaml > default: the variables only fill what no flag gave.
        args.env_origins = apply_environment(parser, args, os.environ)
        return int(args.func(args))
    except ReplayerError as e:
        print(f"o2replay {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
