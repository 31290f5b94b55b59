"""`o2replay export har CASSETTE [-o FILE]`: a cassette as a HAR file, for browser devtools or Postman."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from replayer import __version__
from replayer.cassettes.files import atomic_write
from replayer.cassettes.load import load_cassette
from replayer.errors import UsageError
from replayer.har import dump_har, har_from_cassette

__all__ = ["register", "run"]

_HELP = """\
Write a cassette as a HAR file (HTTP Archive 1.2) to open a recording in browser devtools (Network
tab, "Import HAR"), Postman or mitmweb. Bodies are written as recorded (already redacted); the same
cassette always gives the same HAR.

exit codes: 0 written, 2 bad input (missing or malformed cassette)

examples:
  o2replay export har cassettes/reference/inventory-v1.yaml -o inventory.har
  o2replay export har cassettes/lab.yaml | jq '.log.entries | length'
"""


def register(subs: Any) -> None:
    """Add the `export` subcommand."""
    p = subs.add_parser("export", help="export a cassette as a HAR file (devtools, Postman)",
                        description=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("format", choices=("har",), metavar="har", help="the output format (HAR 1.2)")
    p.add_argument("cassette", metavar="CASSETTE", help="a cassette file")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run `o2replay export har`."""
    if Path(args.cassette).is_dir():
        raise UsageError(f"{args.cassette} is a directory; export takes one cassette file")
    text = dump_har(har_from_cassette(load_cassette(args.cassette), version=__version__))
    if args.output:
        try:
            atomic_write(args.output, text)
        except OSError as e:
            raise UsageError(f"-o {args.output}: cannot write: {e.strerror}") from None
    else:
        sys.stdout.write(text)
    return 0
