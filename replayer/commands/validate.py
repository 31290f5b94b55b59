"""`o2replay validate`: recorded responses checked against the O2IMS OpenAPI definitions (docs/diff.md).

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 usage or input error.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from replayer.cassettes.files import find_cassettes
from replayer.cassettes.model import Interaction
from replayer.cassettes.stream import StreamedCassette, stream_cassette
from replayer.commands.diff import add_output_options, emit, load_diff_config, threshold, use_colour
from replayer.commands.progress import Progress
from replayer.diff.git import committed_at
from replayer.diff.locate import resolve_lines
from replayer.diff.render import render
from replayer.diff.validate import CassetteLike, validate_cassettes
from replayer.errors import UsageError
from replayer.o2ims.spec import SpecSet, bundled_specs

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  o2replay validate cassettes/                              bundled O2IMS definitions
  o2replay validate cassettes/ --spec my-o2ims.yaml         your own OpenAPI file(s)
  o2replay validate cassettes/ --max-age 90 --format github stale after 90 days

exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage or input error
"""


def register(subs: Any) -> None:
    """Add the `validate` subcommand."""
    p = subs.add_parser("validate", help="check recorded responses against the O2IMS OpenAPI definitions",
                        description="Check every recorded O2IMS response against the OpenAPI definitions: "
                                    "unknown path, missing required field, wrong type, wrong error content type; "
                                    "and find stale cassettes.",
                        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="cassette files or folders")
    p.add_argument("--spec", action="append", metavar="FILE",
                   help="OpenAPI file to validate against (repeatable; default: the bundled O2IMS definitions)")
    p.add_argument("--max-age", type=float, metavar="DAYS",
                   help="report cassettes recorded more than DAYS ago (metadata recorded_at) as stale")
    add_output_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run `o2replay validate`."""
    if args.max_age is not None and args.max_age < 0:
        raise UsageError(f"--max-age must be a number of days >= 0, got {args.max_age:g}")
    cfg = load_diff_config(args)
    fail_on = threshold(args.fail_on)
    specs = _specs(args.spec)
    report = validate_cassettes(_streamed(args.paths, Progress("validate")), specs, cfg,
                                max_age_days=args.max_age, now=datetime.now(UTC), label=" ".join(args.paths),
                                recorded_at=committed_at)
    if args.format != "text" and report.findings:
        report = resolve_lines(report, _read, _read)
    emit(args, render(report, args.format, fail_on=fail_on, colour=use_colour(args)))
    return 1 if report.fails(fail_on) else 0


def _streamed(paths: list[str], progress: Progress) -> Iterator[tuple[str, CassetteLike]]:
    """Each cassette read one interaction at a time: memory stays flat however large the files."""
    for file, _ in find_cassettes(paths):
        progress.file()
        yield str(file), _Counted(stream_cassette(file), progress)


class _Counted:
    """A streamed cassette whose interactions tick the progress line."""

    def __init__(self, cassette: StreamedCassette, progress: Progress) -> None:
        self._cassette, self._progress = cassette, progress

    @property
    def metadata(self) -> Mapping[str, Any]:
        """The cassette's metadata."""
        return self._cassette.metadata

    @property
    def interactions(self) -> Iterator[Interaction]:
        """Its interactions, counted as they are read."""
        return self._progress.count(self._cassette.interactions)


def _specs(files: list[str] | None) -> SpecSet:
    if not files:
        return bundled_specs()
    for f in files:
        if not Path(f).is_file():
            raise UsageError(f"--spec {f}: no such file")
    try:
        return SpecSet.from_files(files)
    except ValueError as e:
        raise UsageError(f"--spec: {e}") from None


def _read(file: str) -> str | None:
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None

