"""Review in git, in a real temporary repository: `diff --git REV`, `REV1..REV2`, and textconv for `git diff`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from replayer.cli import main

from .conftest import ALARMS, DMS, ix, pool, write

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}


def git(repo: Path, *args: str) -> str:
    """Run git in the temporary repository."""
    proc = subprocess.run(["git", *args], cwd=repo, env=_ENV, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with two commits of cassettes: v1 (tag) then v2 (HEAD)."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root / "cassettes" / "edge1.yaml", ix(body=[pool("p1"), pool("p2")]), ix(DMS, []))
    write(root / "cassettes" / "edge2.yaml", ix(ALARMS, [{"alarmEventRecordId": "a1", "alarmRaisedTime": "1"}]))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    git(root, "tag", "v1")
    write(root / "cassettes" / "edge1.yaml", ix(body=[pool("p2"), pool("p1", name="renamed")]), ix(DMS, []))
    git(root, "commit", "-q", "-am", "v2")
    monkeypatch.chdir(root)
    return root


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["diff", *argv, "--format", "json", "--no-schema", "--fail-on", "info"])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)


def _findings(doc: dict[str, object]) -> list[tuple[str, str, str]]:
    return [(f["kind"], f["file"], f["path"]) for f in doc["findings"]]  # type: ignore[attr-defined, index]


def test_revision_against_work_tree(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _json(capsys, "--git", "HEAD", "cassettes")[0] == 0  # clean work tree: no drift
    write(repo / "cassettes" / "edge2.yaml", ix(ALARMS, [{"alarmEventRecordId": "a1", "alarmRaisedTime": "2",
                                                          "perceivedSeverity": "MAJOR"}]))
    code, doc = _json(capsys, "--git", "HEAD")  # PATHS default to cassettes
    assert code == 1
    assert _findings(doc) == [("field_added", "cassettes/edge2.yaml", "body[alarmEventRecordId=a1].perceivedSeverity")]
    assert doc["old"] == "HEAD" and doc["new"] == "working tree"


def test_two_revisions(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _json(capsys, "--git", "v1..HEAD", "cassettes")
    assert code == 1
    assert _findings(doc) == [("value_changed", "cassettes/edge1.yaml", "body[resourcePoolId=p1].name")]


def test_github_lines_refer_to_the_work_tree_file_from_a_subfolder(repo: Path, capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "cassettes")
    assert main(["diff", "--git", "v1", ".", "--format", "github", "--no-schema", "--fail-on", "info"]) == 1
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("::notice file=cassettes/edge1.yaml,line=")
    number = int(line.split("line=")[1].split(",")[0])
    assert '"name": "renamed"' in (repo / "cassettes" / "edge1.yaml").read_text().splitlines()[number - 1]


def test_file_deleted_in_the_work_tree_is_endpoints_removed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "cassettes" / "edge2.yaml").unlink()
    code, doc = _json(capsys, "--git", "HEAD", "cassettes")
    assert code == 1
    assert _findings(doc) == [("endpoint_removed", "cassettes/edge2.yaml", "")]


@pytest.mark.parametrize(("argv", "needle"), [
    (["--git", "no-such-rev"], "--git: unknown revision 'no-such-rev'"),
    (["--git", "HEAD", "../outside"], "outside the git work tree"),
])
def test_git_errors_are_one_line(repo: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                 needle: str) -> None:
    assert main(["diff", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err


def test_outside_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "plain").mkdir()
    monkeypatch.chdir(tmp_path / "plain")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert main(["diff", "--git", "HEAD"]) == 2
    assert "not a git repository" in capsys.readouterr().err.lower()


def test_git_diff_uses_textconv_for_a_semantic_view(repo: Path) -> None:
    (repo / ".gitattributes").write_text("cassettes/**/*.yaml diff=o2replay\n")
    git(repo, "config", "diff.o2replay.textconv", f"{sys.executable} -m replayer textconv")
    write(repo / "cassettes" / "edge2.yaml", ix(ALARMS, [{"alarmEventRecordId": "a1", "alarmRaisedTime": "9"}]))
    out = git(repo, "diff", "v1", "--", "cassettes")
    changed = [line for line in out.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    # one semantic change; the reorder and the volatile alarmRaisedTime are invisible
    assert changed == ['-body[resourcePoolId=p1].name = "pool-p1"', '+body[resourcePoolId=p1].name = "renamed"']


def test_no_cassettes_anywhere_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--git", "HEAD", "casettes"]) == 2
    assert "no cassette files under casettes at HEAD nor in the work tree" in capsys.readouterr().err


def test_validate_dates_undated_cassettes_by_their_git_commit(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from replayer.cli import main

    repo = tmp_path / "repo"
    (repo / "cassettes").mkdir(parents=True)
    cassette = repo / "cassettes" / "a.yaml"
    cassette.write_text("version: 1\ninteractions: []\n")
    env = {"GIT_AUTHOR_DATE": "2020-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2020-01-01T00:00:00Z",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for argv in (["init", "-q"], ["add", "."], ["commit", "-qm", "old recording"]):
        subprocess.run(["git", *argv], cwd=repo, check=True, env={**__import__("os").environ, **env})
    monkeypatch.chdir(repo)
    assert main(["validate", "cassettes", "--max-age", "30", "--fail-on", "warning"]) == 1
    assert "stale: committed" in capsys.readouterr().out
    cassette.write_text("version: 1\ninteractions: []\n\n")  # uncommitted: a fresh recording
    assert main(["validate", "cassettes", "--max-age", "30", "--fail-on", "warning"]) == 0
    (repo / "cassettes" / "b.yaml").write_text("version: 1\ninteractions: []\n")  # untracked: no date at all
    assert main(["validate", "cassettes/b.yaml", "--max-age", "30", "--fail-on", "info"]) == 1
    assert "unknown age" in capsys.readouterr().out
