"""`o2replay scan PATHS`: list anything secret-looking left in cassettes; exit 1 when found.

Fit for pre-commit and CI (docs/recording.md#scan): exit 0 clean, 1 findings (``file:line: what``
on stdout), 2 bad input (a missing or unreadable path).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from replayer.cassettes.files import CACHE_DIR, CASSETTE_SUFFIXES
from replayer.cassettes.model import Cassette
from replayer.cassettes.stream import StreamedCassette, stream_cassette
from replayer.cassettes.yaml import parse_cassette
from replayer.commands.progress import Progress
from replayer.errors import CassetteError, UsageError
from replayer.record.redact import RedactRules, default_rules, rules_from_yaml
from replayer.record.scan import Finding, scan_cassette, scan_text

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


def _scan_file(f: Path, rules: RedactRules, progress: Progress) -> list[Finding]:
    """A cassette one interaction at a time (memory stays flat), anything else as text."""
    if f.suffix in CASSETTE_SUFFIXES:
        try:
            streamed = stream_cassette(f)
            if streamed.split:
                return _scan_streamed(streamed, rules, progress)
        except CassetteError as e:  # a broken cassette can leak too: its text is still scanned line by line
            print(f"o2replay scan: note: {e} (scanned as text)", file=sys.stderr)
    try:
        raw = f.read_bytes()
    except OSError as e:
        raise UsageError(f"{f}: cannot read: {e.strerror}") from None
    text = raw.decode("utf-8", errors="replace")
    if f.suffix in CASSETTE_SUFFIXES:
        try:
            return scan_cassette(text, parse_cassette(raw, f), rules)
        except CassetteError:
            pass  # noted above
    return scan_text(text, rules)


def _scan_streamed(streamed: StreamedCassette, rules: RedactRules, progress: Progress) -> list[Finding]:
    findings = [replace(x, line=x.line + first - 1) for first, part in streamed.outside_items()
                for x in scan_text(part, rules)]
    for piece in progress.count(streamed.pieces()):
        one = Cassette((piece.interaction,), {})
        findings += [replace(x, line=x.line + piece.offset) for x in scan_cassette(piece.text, one, rules)]
    return sorted(findings, key=lambda x: x.line)


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
    progress = Progress("scan")
    for f in files:
        progress.file()
        for finding in _scan_file(f, rules, progress):
            print(finding.render(str(f)))
            found += 1
    if found:
        print(f"o2replay scan: {found} secret-looking values in {len(files)} files", file=sys.stderr)
        return 1
    print(f"o2replay scan: {len(files)} {'file' if len(files) == 1 else 'files'} clean", file=sys.stderr)
    return 0
