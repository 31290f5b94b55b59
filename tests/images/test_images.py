"""The container images, run for real with podman (``make image-test`` builds them first; ``make test``
skips this folder). The serve image answers a recorded and a synthetic request from a mounted read-only
folder, the record image records through to a mounted folder, both as an arbitrary UID in group 0 (as
OpenShift runs them), and both stop cleanly on SIGTERM within 10 s."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
PREFIX = os.environ.get("O2REPLAY_IMAGE_PREFIX", "")
PODMAN = shlex.split(os.environ.get("PODMAN", "podman --runtime runc"))
UID = "54321:0"  # no such user in the image: any UID must work, group 0 as on OpenShift
INV = "/o2ims-infrastructureInventory/v1"

pytestmark = pytest.mark.skipif(not PREFIX or shutil.which(PODMAN[0]) is None,
                                reason="container images are tested by `make image-test`")


def podman(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTAINERS_CONF": os.environ.get(
        "CONTAINERS_CONF", str(ROOT / "deploy" / "container" / "containers.conf"))}
    return subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=check, env=env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def poll(what: str, ok: Callable[[], bool], cid: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        state = podman("inspect", "-f", "{{.State.Running}}", cid, check=False).stdout.strip()
        if state == "false" or time.monotonic() > deadline:
            logs = podman("logs", cid, check=False)
            raise AssertionError(f"{what}: not within {timeout} s (running: {state})\n{logs.stdout}{logs.stderr}")
        time.sleep(0.2)


def answers(url: str, **kw: object) -> bool:
    try:
        return requests.get(url, timeout=5, **kw).status_code < 500  # type: ignore[arg-type]
    except requests.RequestException:
        return False


@pytest.fixture
def run() -> Iterator[Callable[..., str]]:
    """Start a detached container (host network, arbitrary UID); removed after the test."""
    started: list[str] = []

    def start(image: str, *args: str, env: dict[str, str], volume: str) -> str:
        flags = [f"--env={k}={v}" for k, v in env.items()]
        cid = podman("run", "-d", "--network", "host", "--user", UID, "--health-interval", "disable",
                     "-v", volume, *flags, f"{PREFIX}-{image}:latest", *args).stdout.strip()
        started.append(cid)
        return cid

    yield start
    for cid in started:
        podman("rm", "-f", "-t", "0", cid, check=False)


def stop_within_10s(cid: str) -> str:
    """SIGTERM to PID 1 (the exec-form entrypoint), then the exit code within 10 s; returns the logs."""
    podman("kill", "--signal", "TERM", cid)
    code = podman("wait", cid, timeout=10).stdout.strip()
    logs = podman("logs", cid)
    assert code == "0", f"exit code {code}\n{logs.stdout}{logs.stderr}"
    return logs.stdout + logs.stderr


def test_serve_image_answers_recorded_and_synthetic_and_stops_on_sigterm(
        run: Callable[..., str], tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    shutil.copy(ROOT / "cassettes" / "reference" / "inventory-v1.yaml", folder / "inventory-v1.yaml")
    folder.chmod(0o755)
    port = free_port()
    cid = run("serve", env={"O2REPLAY_PORT": str(port), "O2REPLAY_LOG_FORMAT": "json"},
              volume=f"{folder}:/cassettes:ro")
    url = f"http://127.0.0.1:{port}"
    poll("serve /health", lambda: answers(url + "/health"), cid)

    recorded = requests.get(url + f"{INV}/resourcePools", timeout=10)
    assert recorded.status_code == 200 and recorded.headers["X-Replay-Source"] == "cassette"
    synthetic = requests.get(url + "/o2ims-infrastructureMonitoring/v1/alarms", timeout=10)
    assert synthetic.status_code == 200 and synthetic.headers["X-Replay-Source"] == "synthetic"

    ready = json.loads(podman("exec", cid, "cat", "/tmp/o2replay-ready.json").stdout)
    assert ready["port"] == port and ready["host"] == "0.0.0.0"  # 0.0.0.0 inside the image
    assert podman("healthcheck", "run", cid, check=False).returncode == 0
    pid1 = podman("exec", cid, "cat", "/proc/1/cmdline").stdout.split("\0")
    assert any(part.endswith("o2replay") for part in pid1), pid1  # exec form: Python is PID 1, no shell
    no_mitmproxy = podman("exec", cid, "python3", "-c", "import mitmproxy", check=False)
    assert no_mitmproxy.returncode != 0 and "No module named 'mitmproxy'" in no_mitmproxy.stderr
    # The mount is read-only and the UID arbitrary: the load cache went to /tmp.
    assert podman("exec", cid, "sh", "-c", "ls /tmp/o2replay-cache/*/*.marshal").returncode == 0

    logs = stop_within_10s(cid)
    banner = next(json.loads(line) for line in logs.splitlines() if '"event": "listening"' in line)
    assert banner["cassettes"] == 1 and banner["port"] == port


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[str]:
    """A real O2IMS stand-in on the host: ``o2replay serve`` with the synthetic O-Cloud only."""
    ready = tmp_path / "upstream.json"
    proc = subprocess.Popen([sys.executable, "-m", "replayer", "serve", "--port", "0", "--ready-file", str(ready),
                             "--no-cache"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "upstream did not start"
            time.sleep(0.05)
        yield str(json.loads(ready.read_text())["url"])
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_record_image_records_to_a_mounted_folder_and_stops_on_sigterm(
        run: Callable[..., str], tmp_path: Path, upstream: str) -> None:
    folder = tmp_path / "recorded"
    folder.mkdir()
    folder.chmod(0o775)  # group 0 may write: the arbitrary UID runs in group 0
    port = free_port()
    cid = run("record", env={"O2REPLAY_UPSTREAM": upstream, "O2REPLAY_LISTEN": f"127.0.0.1:{port}",
                             "O2REPLAY_CASSETTE": "/cassettes/lab.yaml"}, volume=f"{folder}:/cassettes")
    proxy = f"http://127.0.0.1:{port}"
    poll("record proxy", lambda: answers(proxy + f"{INV}/resourcePools"), cid)
    answer = requests.get(proxy + f"{INV}/resourcePools", timeout=10)
    assert answer.status_code == 200 and answer.json()
    assert podman("healthcheck", "run", cid, check=False).returncode == 0

    logs = stop_within_10s(cid)
    assert "recorded into /cassettes/lab.yaml" in logs, logs
    cassette = yaml.safe_load((folder / "lab.yaml").read_text())
    uris = [i["request"]["uri"] for i in cassette["interactions"]]
    assert uris and all(u.endswith(f"{INV}/resourcePools") for u in uris)
