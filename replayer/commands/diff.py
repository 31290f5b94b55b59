"""`o2replay diff`: what a real O2IMS changed between two recordings (docs/diff.md).

Exit codes: 0 nothing at or above ``--fail-on``; 1 drift at or above it; 2 usage or input error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from replayer.cassettes.model import Interaction
from replayer.cassettes.files import atomic_write
from replayer.cassettes.load import load_cassettes
from replayer.project_file import load_config
from replayer.diff.config import DiffConfig, parse_diff_config
from replayer.diff.engine import SchemaCheck, Side, diff_sides
from replayer.diff.git import repo_root, side_at_revision, side_in_worktree, split_range
from replayer.diff.learn import render_learned
from replayer.diff.locate import resolve_lines
from replayer.diff.model import Report, Severity, parse_severity
from replayer.diff.render import FORMATS, render
from replayer.errors import UsageError

__all__ = ["register", "run", "add_output_options", "load_diff_config", "emit", "threshold", "use_colour"]

_EPILOG = """\
examples:
  o2replay diff cassettes-old/ cassettes/                  folders, files paired by relative path
  o2replay diff old.yaml new.yaml --format markdown        a pull-request comment
  o2replay diff --git origin/main cassettes/               cassettes at a revision vs the work tree
  o2replay diff --git v1.0..v1.1                           two revisions
  o2replay diff --learn run1.yaml run2.yaml                propose ignore rules for .o2replay.yaml

exit codes: 0 no drift at or above --fail-on, 1 drift at or above it, 2 usage or input error
"""


def add_output_options(p: argparse.ArgumentParser) -> None:
    """Options shared by diff and validate: format, threshold, config, output file, colour."""
    p.add_argument("--format", "-f", choices=FORMATS, default="text", help="output format (default: text)")
    p.add_argument("--fail-on", choices=("breaking", "warning", "info", "never"), default="breaking",
                   help="exit 1 when a finding is at or above this severity (default: breaking)")
    p.add_argument("--config", metavar="FILE", help="config file (default: the nearest .o2replay.yaml)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour in text output (auto: on a terminal, unless NO_COLOR is set)")


def register(subs: Any) -> None:
    """Add the `diff` subcommand."""
    p = subs.add_parser("diff", help="show what a real O2IMS changed between two recordings",
                        description="Semantic diff of two cassettes or folders of cassettes: endpoints, "
                                    "status, headers and JSON bodies, with O2IMS noise ignored.",
                        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="OLD NEW (files or folders); with --git: the paths to compare (default: cassettes)")
    p.add_argument("--git", metavar="REV[..REV2]", help="compare cassettes at REV with the work tree (or REV2)")
    p.add_argument("--learn", action="store_true",
                   help="OLD and NEW are two recordings of one unchanged O2IMS: print the ignore rules "
                        "that silence their differences")
    p.add_argument("--baseline", metavar="FILE",
                   help="accepted drift: a previous `--format json` report; its findings are not reported")
    p.add_argument("--no-builtin-ignores", action="store_true", help="report volatile O2IMS values too")
    p.add_argument("--no-schema", action="store_true",
                   help="skip checking changed bodies against the bundled O2IMS definitions")
    add_output_options(p)
    p.set_defaults(func=run)


def threshold(value: str) -> Severity | None:
    """The --fail-on value as a Severity (None: never)."""
    return None if value == "never" else parse_severity(value, "--fail-on")


def load_diff_config(args: argparse.Namespace) -> DiffConfig:
    """The ``diff:`` section of the config file, with command-line flags applied over it."""
    project = load_config(args.config)
    base = project.path.parent if project.path else None
    cfg = parse_diff_config(project.section("diff"), source=str(project.path or ".o2replay.yaml"), base_dir=base)
    if getattr(args, "no_builtin_ignores", False):
        from replayer.diff.rules import BUILTIN_IGNORES

        cfg = DiffConfig(tuple(r for r in cfg.ignores if r not in BUILTIN_IGNORES), cfg.identity_keys,
                         cfg.severity_rules, cfg.headers, cfg.baseline, False)
    return cfg


def run(args: argparse.Namespace) -> int:
    """Run `o2replay diff`."""
    cfg = load_diff_config(args)
    fail_on = threshold(args.fail_on)
    old, new, single, root = _sides(args)
    schema = None if args.no_schema or args.learn else _schema_check()
    report = diff_sides(old, new, cfg, schema_check=schema, single_pair=single)
    if args.learn:
        return emit(args, render_learned(report))
    report = _apply_baseline(report, Path(args.baseline) if args.baseline else cfg.baseline)
    if args.format in ("github", "json", "junit", "markdown") and report.findings:
        report = resolve_lines(report, _reader(old, root), _reader(new, root))
    emit(args, render(report, args.format, fail_on=fail_on, colour=use_colour(args)))
    return 1 if report.fails(fail_on) else 0


def _sides(args: argparse.Namespace) -> tuple[Side, Side, bool, Path | None]:
    cwd = Path.cwd()
    if args.git:
        if args.learn:
            raise UsageError("--learn compares two recordings given as OLD NEW, not --git")
        rev_old, rev_new = split_range(args.git)
        # Without PATHS: the repository's cassettes/ folder, wherever in the work tree the command runs.
        paths = args.paths or [str(repo_root(cwd) / "cassettes")]
        old = side_at_revision(rev_old, paths, cwd)
        new = side_at_revision(rev_new, paths, cwd) if rev_new else side_in_worktree(paths, cwd)
        if not old.cassettes and not new.cassettes:
            raise UsageError(f"no cassette files under {' '.join(paths)} at {rev_old} nor in "
                             f"{rev_new or 'the work tree'}")
        return old, new, False, repo_root(cwd)
    if len(args.paths) != 2:
        raise UsageError(f"expected OLD NEW (two files or two folders), got {len(args.paths)} path(s); "
                         "or use --git REV [PATHS]")
    a, b = (Path(p) for p in args.paths)
    for p in (a, b):
        if not p.exists():
            raise UsageError(f"{p}: no such file or directory")
    if a.is_dir() != b.is_dir():
        raise UsageError(f"{a} and {b}: compare two files or two folders, not one of each")
    return _side(a), _side(b), not a.is_dir(), None


def _side(path: Path) -> Side:
    loaded = load_cassettes([path])
    return Side(str(path), {lc.name: (str(lc.path), lc.cassette) for lc in loaded})


def _reader(side: Side, root: Path | None) -> Callable[[str], str | None]:
    def read(file: str) -> str | None:
        if file in side.texts:
            return side.texts[file]
        try:
            return ((root / file) if root else Path(file)).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    return read


def _schema_check() -> SchemaCheck:
    from replayer.diff.validate import violation_keys
    from replayer.o2ims.spec import bundled_specs

    specs = bundled_specs()

    def check(interaction: Interaction) -> list[tuple[str, str]]:
        return violation_keys(specs, interaction)

    return check


def _apply_baseline(report: Report, path: Path | None) -> Report:
    if path is None:
        return report
    if not path.exists():
        # The documented bootstrap: `baseline:` is configured first, the first report written with -o creates it.
        print(f"o2replay diff: note: baseline {path} does not exist yet; no drift is accepted", file=sys.stderr)
        return report
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        accepted = {f["id"] for f in doc["findings"]}
    except OSError as e:
        raise UsageError(f"{path}: cannot read baseline: {e.strerror}") from None
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"{path}: not a baseline (expected a `o2replay diff --format json` report)") from None
    kept = tuple(f for f in report.findings if f.fingerprint() not in accepted)
    return Report(report.command, kept, report.files, report.interactions, report.ignored,
                  report.accepted + len(report.findings) - len(kept), report.sources, report.extra)


def use_colour(args: argparse.Namespace) -> bool:
    """Colour for text output: --color, else only on a terminal without NO_COLOR (https://no-color.org)."""
    if args.color != "auto":
        return bool(args.color == "always")
    return bool(sys.stdout.isatty() and not os.environ.get("NO_COLOR") and not args.output)


def emit(args: argparse.Namespace, text: str) -> int:
    """Write the rendered report to --output or stdout."""
    if args.output:
        atomic_write(args.output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0
