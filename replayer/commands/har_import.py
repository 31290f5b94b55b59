"""`o2replay import har FILE.har --cassette OUT`: a HAR file (browser devtools, Postman, mitmweb) as a cassette.

Every entry goes through the recorder exactly as a proxied exchange would (``replayer.recorder``):
the same path filter, notification detection, normalisation and redaction, the same record modes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from replayer.errors import UsageError
from replayer.har import exchanges_from_har
from replayer.o2ims.routes import O2IMS_PATH_PREFIXES
from replayer.record.recorder import RecordMode, Recorder, parse_config

__all__ = ["register", "run"]

_HELP = """\
Import the exchanges of a HAR file (HTTP Archive 1.2, as exported by browser devtools, Postman,
mitmweb or mitmdump's hardump option) into a cassette. Entries go through the same path filter,
normalisation and secret redaction as a recording: only O2IMS paths are kept unless --record-path
says otherwise, and no credential reaches the cassette.

exit codes: 0 imported, 2 bad input (unreadable or malformed HAR, cassette not writable)

examples:
  o2replay import har session.har --cassette cassettes/lab.yaml
  o2replay import har session.har --cassette cassettes/lab.yaml --record-mode new_episodes
  o2replay import har portal.har --cassette cassettes/portal.yaml --record-path / --redact-rules redact.yaml
"""


def register(subs: Any) -> None:
    """Add the `import` subcommand."""
    p = subs.add_parser("import", help="import a HAR file (browser, Postman, mitmproxy) into a cassette",
                        description=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("format", choices=("har",), metavar="har", help="the input format (HAR 1.2)")
    p.add_argument("file", metavar="FILE", help="the HAR file ('-' reads standard input)")
    p.add_argument("--cassette", required=True, metavar="PATH", help="cassette file to write, e.g. cassettes/lab.yaml")
    p.add_argument("--record-mode", choices=[m.value for m in RecordMode if m is not RecordMode.NONE],
                   default=RecordMode.ONCE.value,
                   help="once (default): refuse a cassette that already has interactions; new_episodes: add "
                   "requests not yet recorded; all: replace it, the old one kept as .bak")
    p.add_argument("--record-path", dest="record_paths", action="append", metavar="PREFIX",
                   help="path prefix to import (repeatable; default: the O2IMS API prefixes; '/' = everything)")
    p.add_argument("--redact-rules", metavar="FILE", help="YAML file extending the default redaction rules")
    p.add_argument("--timing", action="store_true",
                   help="keep each entry's startedDateTime and time as recorded_at/duration")
    p.add_argument("--no-notifications", dest="notifications", action="store_false",
                   help="do not import O2IMS notifications")
    p.add_argument("--notification-path", dest="notification_paths", action="append", metavar="PREFIX",
                   help="path prefix of a notification callback (repeatable)")
    p.set_defaults(func=run)


def _read_har(file: str) -> Any:
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{file}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{file}:{e.lineno}: not a HAR file: invalid JSON: {e.msg}") from None


def _plural(n: int, noun: str, plural: str = "") -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def run(args: argparse.Namespace) -> int:
    """Run `o2replay import har`."""
    from replayer.record.addon import _redact_key  # the same key a recording uses (O2REPLAY_REDACT_KEY...)

    if args.redact_rules and not Path(args.redact_rules).is_file():
        raise UsageError(f"--redact-rules {args.redact_rules}: no such file")
    try:
        entries = exchanges_from_har(_read_har(args.file))
    except ValueError as e:
        raise UsageError(f"{args.file}: not a HAR file: {e}") from None
    try:
        config = parse_config(
            cassette=args.cassette, record_mode=args.record_mode,
            record_paths=args.record_paths or O2IMS_PATH_PREFIXES, redact_rules=args.redact_rules or "",
            redact_key=_redact_key(), cassette_flush="86400s", record_timing=args.timing,
            record_notifications=args.notifications, notification_paths=args.notification_paths or (),
        )
        recorder = Recorder(config)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if not recorder.active:
        raise UsageError(recorder.note.replace("record_mode", "--record-mode"))
    skipped: dict[str, int] = {}
    for entry in entries:
        if entry.exchange is None:
            skipped[entry.skipped] = skipped.get(entry.skipped, 0) + 1
            continue
        outcome = recorder.record(entry.exchange)
        if not outcome.recorded:
            reason = outcome.reason.replace("record_paths", "--record-path")
            skipped[reason] = skipped.get(reason, 0) + 1
    recorder.close()
    for reason, n in sorted(skipped.items()):
        print(f"o2replay import: skipped {_plural(n, 'entry', 'entries')}: {reason}", file=sys.stderr)
    print(f"o2replay import: {_plural(recorder.recorded, 'interaction')} from "
          f"{_plural(len(entries), 'entry', 'entries')} imported into {args.cassette}", file=sys.stderr)
    return 0
