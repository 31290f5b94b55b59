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

__all__ = ["main", "build_parser", "command_module", "COMMANDS"]

#: Subcommands in the order ``o2replay --help`` lists them.
COMMANDS = ("record", "serve", "show", "scan", "diff", "validate", "textconv", "import", "export", "tls")
#: The module of a subcommand whose name is not a valid module name (``import`` is a Python keyword).
_MODULES = {"import": "har_import", "export": "har_export"}


def command_module(name: str) -> str:
    """The module that implements subcommand ``name``."""
    return f"replayer.commands.{_MODULES.get(name, name)}"

_DESCRIPTION = "Record, replay and diff O-RAN O2IMS traffic."
_EPILOG = """\
Run `o2replay COMMAND --help` for the options of one command; the docs/ folder of the project
explains each in full.

exit codes: 0 success, 1 a finding (drift, secrets, spec violations), 2 usage or input error
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
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"o2replay {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(command_module(name))
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
