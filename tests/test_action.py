"""The GitHub Action (action.yml): its steps run as the runner runs them, through scripts/action.sh, on a
throwaway repository whose pull request changes a cassette: the drift gate's annotations, job summary, outputs
and exit code, and the replay server started in the background and answering."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
SCRIPT = ROOT / "scripts" / "action.sh"
POOLS = ROOT / "cassettes" / "reference" / "inventory-v1.yaml"
_EXPR = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")


def test_action_is_composite_and_every_step_is_the_script() -> None:
    assert ACTION["runs"]["using"] == "composite"
    inputs = set(ACTION["inputs"])
    ids = {s.get("id") for s in ACTION["runs"]["steps"]}
    for step in ACTION["runs"]["steps"]:
        assert step["shell"] == "bash"
        m = re.fullmatch(r'bash "\$GITHUB_ACTION_PATH/scripts/action\.sh" (\w+)', step["run"])
        assert m and m.group(1) in {"install", "diff", "serve"}, step["run"]
        for value in step.get("env", {}).values():  # inputs reach the script as variables, never as code
            assert set(_EXPR.findall(value)) <= inputs
    for out in ACTION["outputs"].values():
        assert re.fullmatch(r"\$\{\{ steps\.(\w+)\.outputs\.\w+ \}\}", out["value"]).group(1) in ids


@dataclass
class Runner:
    """Runs the composite steps as GitHub's runner does: `if`, env from inputs, GITHUB_OUTPUT/ENV/PATH files."""

    workspace: Path
    temp: Path
    env: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    def _file(self, name: str) -> Path:
        path = self.temp / name
        path.touch()
        return path

    def run(self, inputs: dict[str, str]) -> dict[str, subprocess.CompletedProcess[str]]:
        values = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()} | inputs
        done = {}
        for step in ACTION["runs"]["steps"]:
            cond = step.get("if")
            if cond and values[re.fullmatch(r"inputs\.([\w-]+) == 'true'", cond).group(1)] != "true":
                continue
            files = {n: self._file(f"{n.lower()}-{len(done)}") for n in ("GITHUB_OUTPUT", "GITHUB_ENV",
                                                                          "GITHUB_PATH")}
            env = {**os.environ, **self.env, **{k: str(v) for k, v in files.items()},
                   "GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": str(ROOT), "RUNNER_TEMP": str(self.temp),
                   "GITHUB_STEP_SUMMARY": str(self.temp / "summary.md")}
            env |= {k: _EXPR.sub(lambda m: values[m.group(1)], v) for k, v in step.get("env", {}).items()}
            proc = subprocess.run(["bash", "-c", step["run"]], cwd=self.workspace, env=env, capture_output=True,
                                  text=True, timeout=300)
            done[step.get("id") or "install"] = proc
            self.outputs[step.get("id", "")] = dict(line.split("=", 1) for line in
                                                   files["GITHUB_OUTPUT"].read_text().splitlines())
            for line in files["GITHUB_ENV"].read_text().splitlines():
                self.env.__setitem__(*line.split("=", 1))
            for line in files["GITHUB_PATH"].read_text().splitlines():
                self.env["PATH"] = f"{line}{os.pathsep}{self.env.get('PATH', os.environ['PATH'])}"
            if proc.returncode != 0:
                break
        return done


def _git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.invalid")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True,
                          timeout=60).stdout


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A clone of 'origin' checked out as actions/checkout does (one commit) on a branch that renames a field."""
    origin = tmp_path / "origin"
    (origin / "cassettes").mkdir(parents=True)
    shutil.copy(POOLS, origin / "cassettes" / "inventory.yaml")
    _git(origin, "init", "-q", "-b", "main")
    _git(origin, "add", "-A")
    _git(origin, "commit", "-qm", "base")
    _git(origin, "checkout", "-qb", "feature")
    text = (origin / "cassettes" / "inventory.yaml").read_text()
    (origin / "cassettes" / "inventory.yaml").write_text(text.replace('"globalLocationId":', '"globalLocationID":'))
    _git(origin, "commit", "-qam", "a field renamed")
    work = tmp_path / "work"
    _git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{origin}", str(work))
    return work


@pytest.fixture
def runner(pull_request: Path, tmp_path: Path, installed_venv: Path) -> Iterator[Runner]:
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    r = Runner(pull_request, temp, {"GITHUB_BASE_REF": "main", "O2REPLAY_VENV": str(installed_venv)})
    yield r
    subprocess.run(["bash", str(SCRIPT), "stop"], env={**os.environ, "RUNNER_TEMP": str(temp)}, timeout=60,
                   capture_output=True)


@pytest.fixture
def wheel(built_dist: Path) -> str:
    return str(next(built_dist.glob("*.whl")))


pytestmark = pytest.mark.slow


def test_drift_gate_fails_with_annotations_and_a_summary(runner: Runner, wheel: str) -> None:
    steps = runner.run({"diff": "true", "install": wheel})
    assert steps["install"].returncode == 0, steps["install"].stderr
    assert "o2replay action: installed o2replay" in steps["install"].stdout
    gate = steps["diff"]
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert re.search(r"^::error file=cassettes/inventory\.yaml,line=\d+", gate.stdout, re.M), gate.stdout
    summary = (runner.temp / "summary.md").read_text()
    assert "globalLocationId" in summary and "breaking" in summary.lower()
    assert runner.outputs["diff"]["drift"] == "1"
    assert "drift at or above breaking since origin/main" in gate.stdout


def test_drift_below_the_threshold_passes(runner: Runner, wheel: str) -> None:
    steps = runner.run({"diff": "true", "install": wheel, "fail-on": "never"})
    assert steps["diff"].returncode == 0, steps["diff"].stderr
    assert runner.outputs["diff"]["drift"] == "0"


def test_outside_github_the_gate_is_plain_text(pull_request: Path, tmp_path: Path, installed_venv: Path) -> None:
    """The GitLab CI use: no GITHUB_* files, the base given, text findings and the exit code."""
    _git(pull_request, "fetch", "-q", "--depth=1", "origin", "main:refs/remotes/origin/main")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env |= {"O2REPLAY_VENV": str(installed_venv), "O2REPLAY_BASE": "origin/main", "RUNNER_TEMP": str(tmp_path)}
    proc = subprocess.run(["bash", str(SCRIPT), "diff"], cwd=pull_request, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "::error" not in proc.stdout and "globalLocationId" in proc.stdout
    assert (tmp_path / "o2replay-drift.md").is_file()


def test_a_base_that_is_not_there_is_one_error(runner: Runner, wheel: str) -> None:
    steps = runner.run({"diff": "true", "install": wheel, "base": "v9.9"})
    assert steps["diff"].returncode == 2
    assert steps["diff"].stderr.strip() == "::error title=o2ims-replay::base revision v9.9 is not in this clone"


def test_server_starts_in_the_background_and_answers(runner: Runner, wheel: str) -> None:
    steps = runner.run({"serve": "true", "install": wheel, "port": _free_port()})
    assert steps["serve"].returncode == 0, steps["serve"].stdout + steps["serve"].stderr
    url = runner.outputs["serve"]["url"]
    assert runner.env["O2REPLAY_URL"] == url
    r = requests.get(f"{url}/o2ims-infrastructureInventory/v1/resourcePools", timeout=10)
    assert r.status_code == 200 and r.headers["X-Replay-Source"] in ("cassette", "derived")
    assert "o2replay serve: http://127.0.0.1:" in steps["serve"].stdout


def test_a_server_that_cannot_start_fails_the_step(runner: Runner, wheel: str) -> None:
    steps = runner.run({"serve": "true", "install": wheel, "serve-args": "no-such-folder --strict",
                        "port": _free_port()})
    assert steps["serve"].returncode == 2
    assert "o2replay serve did not become ready" in steps["serve"].stderr


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])
