"""The pre-commit hooks (.pre-commit-hooks.yaml) run by the real `pre-commit` tool in a throwaway repository.

The hook repository is a snapshot of this checkout committed into a temporary git repository (tracked and
new files, as they are now), used from the throwaway repository's .pre-commit-config.yaml by its local
path: pre-commit clones it, pip-installs it into its own virtualenv (from the package index, as for users)
and runs `o2replay scan` and `o2replay validate` on the cassettes a commit changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "cassettes" / "reference" / "inventory-v1.yaml"
LEAK = """\
version: 1
interactions:
- request:
    method: GET
    uri: http://o2ims.example/o2ims-infrastructureInventory/v1
    headers:
      Authorization:
      - Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcGVyYXRvciJ9.c2lnbmF0dXJlLWNhbmFyeQ
    body: null
  response:
    status:
      code: 200
      message: OK
    headers: {}
    body:
      string: ''
"""

pytestmark = pytest.mark.slow


def _git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.invalid")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True,
                          timeout=120).stdout


def _snapshot(dest: Path) -> str:
    """This checkout's files (tracked and untracked, not ignored) committed in a new repository; its commit."""
    files = _git(ROOT, "ls-files", "-co", "--exclude-standard", "-z").split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-qm", "snapshot")
    return _git(dest, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway repository whose .pre-commit-config.yaml uses both hooks from a local path."""
    hooks = tmp_path_factory.mktemp("hook-repo")
    rev = _snapshot(hooks)
    repo = tmp_path_factory.mktemp("user-repo")
    _git(repo, "init", "-q")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n      - id: o2replay-scan\n"
        "      - id: o2replay-validate\n")
    (repo / "cassettes").mkdir()
    shutil.copy(REFERENCE, repo / "cassettes" / "inventory.yaml")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "start")
    return repo


def _pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's cache (its hook virtualenv), shared by the runs of this module."""
    return tmp_path_factory.mktemp("pre-commit-home")


def test_clean_cassettes_pass_both_hooks(user_repo: Path, home: Path) -> None:
    proc = _pre_commit(user_repo, home, "run", "--all-files")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no secrets in cassettes (o2replay scan)" in proc.stdout
    assert proc.stdout.count("Passed") == 2
    assert not (user_repo / "cassettes" / ".o2replay-cache").exists()


def test_a_staged_secret_fails_the_scan_hook(user_repo: Path, home: Path) -> None:
    leak = user_repo / "cassettes" / "leak.yaml"
    leak.write_text(LEAK)
    _git(user_repo, "add", "cassettes/leak.yaml")
    try:
        proc = _pre_commit(user_repo, home, "run", "o2replay-scan")  # the staged files, as on `git commit`
        assert proc.returncode == 1
        assert "cassettes/leak.yaml:8: bearer token" in proc.stdout
        assert "o2replay scan: 2 secret-looking values in 1 file" in proc.stdout  # the JWT and the bearer
        assert "inventory.yaml" not in proc.stdout  # unchanged cassettes are not scanned again
    finally:
        _git(user_repo, "rm", "-qf", "cassettes/leak.yaml")


def test_a_malformed_cassette_fails_the_validate_hook(user_repo: Path, home: Path) -> None:
    broken = user_repo / "cassettes" / "broken.yaml"
    broken.write_text("version: 1\ninteractions:\n- request: {method: GET}\n")
    _git(user_repo, "add", "cassettes/broken.yaml")
    try:
        proc = _pre_commit(user_repo, home, "run", "o2replay-validate")
        assert proc.returncode != 0
        assert "cassettes/broken.yaml:3" in proc.stdout
    finally:
        _git(user_repo, "rm", "-qf", "cassettes/broken.yaml")


def test_files_outside_cassettes_are_not_checked(user_repo: Path, home: Path) -> None:
    other = user_repo / "deploy.yaml"
    other.write_text(LEAK)
    _git(user_repo, "add", "deploy.yaml")
    try:
        proc = _pre_commit(user_repo, home, "run")
        assert proc.returncode == 0, proc.stdout
        assert "(no files to check)Skipped" in proc.stdout
    finally:
        _git(user_repo, "rm", "-qf", "deploy.yaml")
