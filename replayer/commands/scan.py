"""`o2replay scan PATHS`: list anything secret-looking left in cassettes; exit 1 when found.

Fit for pre-commit and CI (docs/recording.md#scan): exit 0 clean, 1 findings (``file:line: what``
on stdout), 2 bad input (a missing or unreadable path).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from replayer.cassettes.files import CACHE_DIR, CASSETTE_SUFFIXES
from replayer.cassettes.yaml import parse_cassette
from replayer.errors import CassetteError, UsageError
from replayer.record.redact import default_rules, rules_from_yaml
from replayer.record.scan import scan_cassette, scan_text

__all__ = ["register", "run", "SCANNED_SUFFIXES"]

#: Files scanned inside folders; files named on the command line are scanned whatever their name.
SCANNED_SUFFIXES = (".yaml", ".yml", ".json")

_HELP = """\
Scan cassettes (files or folders) for secrets that redaction missed: bearer and basic credentials,
JWTs, PEM blocks and private keys, base64-encoded PEM, AWS keys, user:password@ in URLs, and values
of secret headers and credential-like fields. Redaction placeholders (<redacted...>) are fine.

Exit codes: 0 clean, 1 something found (listed as file:line: what), 2 bad input.

examples:
  o2replay scan cassettes/
  o2replay scan cassettes/lab.yaml --redact-rules redact.yaml
"""


def register(subs: Any) -> None:
    """Add the `scan` subcommand."""
    p = subs.add_parser("scan", help="find secrets left in cassettes (exit 1 when found)", description=_HELP,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="cassette files or folders (searched for "
                   f"{', '.join(SCANNED_SUFFIXES)} files)")
    p.add_argument("--redact-rules", metavar="FILE",
                   help="the rules file used when recording, so its extra names count as credential-like")
    p.set_defaults(func=run)


def _files(paths: list[str]) -> Iterator[Path]:
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                parts = f.relative_to(p).parts
                if f.is_file() and f.suffix in SCANNED_SUFFIXES and CACHE_DIR not in parts \
                        and not any(x.startswith(".") for x in parts[:-1]):
                    yield f
        elif p.is_file():
            yield p
        else:
            raise UsageError(f"{raw}: no such file or directory")


def run(args: argparse.Namespace) -> int:
    """Run `o2replay scan`."""
    rules = default_rules()
    if args.redact_rules:
        try:
            rules = rules_from_yaml(Path(args.redact_rules).read_text(encoding="utf-8"), rules)
        except OSError as e:
            raise UsageError(f"--redact-rules {args.redact_rules}: cannot read: {e.strerror}") from None
        except ValueError as e:
            raise UsageError(f"--redact-rules {args.redact_rules}: {e}") from None
    files = list(_files(args.paths))
    found = 0
    for f in files:
        try:
            text = f.read_bytes().decode("utf-8", errors="replace")
        except OSError as e:
            raise UsageError(f"{f}: cannot read: {e.strerror}") from None
        try:
            cassette = parse_cassette(text, f) if f.suffix in CASSETTE_SUFFIXES else None
        except CassetteError:
            cassette = None  # not a cassette (or a broken one): its text is still scanned line by line
        findings = scan_cassette(text, cassette, rules) if cassette is not None else scan_text(text, rules)
        for finding in findings:
            print(finding.render(str(f)))
            found += 1
    if found:
        print(f"o2replay scan: {found} secret-looking values in {len(files)} files", file=sys.stderr)
        return 1
    print(f"o2replay scan: {len(files)} {'file' if len(files) == 1 else 'files'} clean", file=sys.stderr)
    return 0
