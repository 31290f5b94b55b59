"""Cassettes at a git revision (issue 5, section 5): listed with ``git ls-tree``, read with one
``git cat-file --batch`` process (the batch form of ``git show REV:path``), parsed by ``parse_cassette``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from replayer.cassettes.files import CACHE_DIR, CASSETTE_SUFFIXES, find_cassettes
from replayer.cassettes.load import load_cassette
from replayer.cassettes.yaml import parse_cassette
from replayer.diff.engine import Side
from replayer.errors import CassetteError, UsageError

__all__ = ["repo_root", "side_at_revision", "side_in_worktree", "split_range"]

_TIMEOUT = 120


def _git(args: Sequence[str], cwd: Path, *, stdin: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=_TIMEOUT,
                              check=False)
    except FileNotFoundError:
        raise UsageError("--git needs the git command, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"git {args[0]} took longer than {_TIMEOUT} s") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]}: {err[0] if err else f'exit {proc.returncode}'}")
    return proc.stdout


def committed_at(path: str | Path) -> datetime | None:
    """When git last committed ``path`` unchanged: its commit time; now when the file has uncommitted
    changes (a fresh recording); None outside a repository or for a file git does not track."""
    p = Path(path).resolve()
    try:
        status = _git(["status", "--porcelain", "--", p.name], p.parent).decode()
        stamp = _git(["log", "-1", "--format=%cI", "--", p.name], p.parent).decode().strip()
    except UsageError:
        return None
    if status.startswith("??") or not stamp:
        return None
    if status.strip():
        return datetime.now(UTC)
    return datetime.fromisoformat(stamp)


def repo_root(cwd: Path) -> Path:
    """The top folder of the work tree holding ``cwd``; UsageError outside a repository."""
    return Path(_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())


def split_range(spec: str) -> tuple[str, str | None]:
    """``REV`` -> (REV, None: the work tree); ``A..B`` -> (A, B)."""
    if "..." in spec:
        raise UsageError(f"--git {spec!r}: use REV or REV1..REV2 (three dots are not supported)")
    old, sep, new = spec.partition("..")
    if not old or (sep and not new):
        raise UsageError(f"--git {spec!r}: expected REV or REV1..REV2")
    if old.startswith("-") or new.startswith("-"):
        raise UsageError(f"--git {spec!r}: a revision cannot start with '-'")
    return old, (new if sep else None)


def _rel(root: Path, cwd: Path, paths: Sequence[str]) -> list[str]:
    out = []
    for p in paths:
        full = (cwd / p).resolve()
        if not full.is_relative_to(root.resolve()):
            raise UsageError(f"{p}: outside the git work tree {root}")
        out.append(full.relative_to(root.resolve()).as_posix() or ".")
    return out


def _is_cassette(name: str) -> bool:
    parts = name.split("/")
    return name.endswith(CASSETTE_SUFFIXES) and CACHE_DIR not in parts and not parts[-1].startswith(".")


def side_at_revision(rev: str, paths: Sequence[str], cwd: Path) -> Side:
    """The cassettes under ``paths`` as they were at ``rev``, named by their path in the repository."""
    root = repo_root(cwd)
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)
    except UsageError:
        raise UsageError(f"--git: unknown revision {rev!r} (a commit, branch or tag of {root})") from None
    listing = _git(["ls-tree", "-r", "-z", "--name-only", "--full-tree", rev, "--", *_rel(root, cwd, paths)], root)
    names = sorted(n for n in listing.decode("utf-8").split("\0") if n and _is_cassette(n))
    texts = _cat_files(root, rev, names)
    cassettes = {n: (n, parse_cassette(texts[n], f"{rev}:{n}")) for n in names}
    return Side(rev, cassettes, texts)


def _cat_files(root: Path, rev: str, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    out = _git(["cat-file", "--batch"], root, stdin="".join(f"{rev}:{n}\n" for n in names).encode())
    texts: dict[str, str] = {}
    pos = 0
    for name in names:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        if len(header) != 3:
            raise UsageError(f"git cat-file: {rev}:{name}: {out[pos:header_end].decode(errors='replace')}")
        size = int(header[2])
        data = out[header_end + 1: header_end + 1 + size]
        pos = header_end + 1 + size + 1
        try:
            texts[name] = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CassetteError(f"{rev}:{name}", f"not UTF-8 text: {e.reason} at byte {e.start}") from None
    return texts


def side_in_worktree(paths: Sequence[str], cwd: Path) -> Side:
    """The cassettes under ``paths`` in the work tree, named by their path in the repository."""
    root = repo_root(cwd).resolve()
    cassettes = {}
    for rel in _rel(root, cwd, paths):
        target = root / rel
        if not target.exists():
            continue  # deleted in the work tree: every endpoint in it is removed
        for f, _ in find_cassettes([target]):
            name = f.resolve().relative_to(root).as_posix()
            cassettes[name] = (name, load_cassette(f))
    return Side("working tree", cassettes)
