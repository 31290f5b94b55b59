"""deploy/kubernetes/: every overlay renders, every object is valid against the Kubernetes schemas, the pod
security is "restricted", and the manifests use the probes, ports, variables and mount paths the server
and the recorder really use (a pod's files are laid out as the kubelet does and the real server is run
with the Deployment's environment)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import requests
import yaml

from replayer.cli import build_parser
from replayer.environment import env_options
from tests.deploy.kustomize import render, strip_markers

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
TARGETS = ("base", "overlays/ci", "overlays/lab-recorder")
#: The oldest and the newest Kubernetes the manifests are checked against.
VERSIONS = ("1.27.0", kubernetes_validate.latest_version())

Obj = dict[str, Any]


def _kubectl_kustomize() -> list[str] | None:
    """``kubectl kustomize`` when a kubectl with kustomize v4+ (Kubernetes 1.21+) is on PATH."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    try:
        out = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True,
                             timeout=30, check=True).stdout
        version = json.loads(out)["clientVersion"]
        if (int(version["major"]), int(str(version["minor"]).rstrip("+"))) < (1, 21):
            return None
    except (subprocess.SubprocessError, OSError, ValueError, KeyError):
        return None
    return [kubectl, "kustomize"]


def rendered(target: str) -> list[Obj]:
    """The objects of one kustomization: real kustomize when available, else tests/deploy/kustomize.py."""
    command = _kubectl_kustomize()
    if command is None:
        return strip_markers(render(KUBE / target))
    out = subprocess.run([*command, str(KUBE / target)], capture_output=True, text=True, timeout=60, check=True)
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def by_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[Obj], kind: str) -> Obj:
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {[o['metadata']['name'] for o in found]}"
    return found[0]


def env_of(container: Obj) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


@pytest.mark.parametrize("target", TARGETS)
def test_python_renderer_matches_kubectl(target: str) -> None:
    command = _kubectl_kustomize()
    if command is None:
        pytest.skip("no kubectl with kustomize v4+ here: the Python renderer is the one used")
    out = subprocess.run([*command, str(KUBE / target)], capture_output=True, text=True, timeout=60, check=True)
    theirs = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(out.stdout) if o}
    mine = {(o["kind"], o["metadata"]["name"]): o for o in strip_markers(render(KUBE / target))}
    assert mine == theirs


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_valid(target: str, version: str) -> None:
    objects = rendered(target)
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


def test_overlays_have_what_they_promise() -> None:
    base = rendered("base")
    assert one(base, "Deployment")["spec"]["replicas"] > 1
    assert one(base, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == \
        one(base, "Deployment")["spec"]["selector"]["matchLabels"]
    service = one(base, "Service")
    assert service["spec"]["ports"][0]["nodePort"] == 30205  # the earlier mock's port
    ci = rendered("overlays/ci")
    deployment = one(ci, "Deployment")
    assert deployment["spec"]["replicas"] == 1 and not by_kind(ci, "PodDisruptionBudget")
    assert env_of(deployment["spec"]["template"]["spec"]["containers"][0])["O2REPLAY_SYNTHETIC"] == "on"
    lab = rendered("overlays/lab-recorder")
    recorder = one(lab, "Deployment")
    assert "o2ims-replay-record" in recorder["spec"]["template"]["spec"]["containers"][0]["image"]
    claim = recorder["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert claim == one(lab, "PersistentVolumeClaim")["metadata"]["name"]
    assert recorder["spec"]["strategy"]["type"] == "Recreate" and recorder["spec"]["replicas"] == 1


@pytest.mark.parametrize("target", TARGETS)
def test_pods_meet_restricted_pod_security(target: str) -> None:
    for deployment in by_kind(rendered(target), "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
            assert sc["readOnlyRootFilesystem"] is True
            assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
            assert "runAsUser" not in sc and "runAsUser" not in pod["securityContext"]  # OpenShift assigns one


@pytest.mark.parametrize("target, command", [("base", "serve"), ("overlays/ci", "serve"),
                                             ("overlays/lab-recorder", "record")])
def test_variables_are_real_options(target: str, command: str) -> None:
    known = {o.variable for o in env_options(build_parser(), (command,))}
    for deployment in by_kind(rendered(target), "Deployment"):
        for c in deployment["spec"]["template"]["spec"]["containers"]:
            names = {e["name"] for e in c["env"] if e["name"].startswith("O2REPLAY_")}
            assert names and names <= known, sorted(names - known)


def test_recorder_listens_where_the_manifest_says() -> None:
    lab = rendered("overlays/lab-recorder")
    c = one(lab, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = env_of(c)
    port = int(env["O2REPLAY_LISTEN"].rpartition(":")[2])
    assert env["O2REPLAY_LISTEN"].startswith("0.0.0.0:")
    assert c["ports"][0]["containerPort"] == port and c["ports"][0]["name"] == "proxy"
    assert c["readinessProbe"]["tcpSocket"]["port"] == "proxy"
    assert one(lab, "Service")["spec"]["ports"][0]["targetPort"] == "proxy"
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert Path(env["O2REPLAY_CASSETTE"]).parent == Path(mounts["cassettes"])
    assert env["HOME"] == mounts["home"]  # mitmproxy writes its CA under $HOME/.mitmproxy


# --------------------------------------------------------------------------- the serve pod, simulated


def _kubelet_volume(folder: Path, files: dict[str, bytes]) -> None:
    """A ConfigMap or Secret volume as the kubelet lays it out: the files in a ``..<timestamp>/`` folder,
    ``..data`` linking to it, and each visible name linking through ``..data``."""
    stamp = folder / "..2026_01_02_03_04_05.678901234"
    stamp.mkdir(parents=True)
    for name, data in files.items():
        (stamp / name).write_bytes(data)
    (folder / "..data").symlink_to(stamp.name)
    for name in files:
        (folder / name).symlink_to(Path("..data") / name)


@pytest.fixture
def ci_pod(tmp_path: Path) -> Iterator[tuple[str, Obj, dict[str, bytes], Path]]:
    """The ci overlay's serve container run for real: its volumes under tmp_path, its environment as given
    (paths moved under tmp_path, the port 0 so tests never collide); yields (url, container, cassettes)."""
    objects = rendered("overlays/ci")
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    volumes = {v["name"]: v for v in pod["volumes"]}
    maps = {o["metadata"]["name"]: o for o in objects if o["kind"] in ("ConfigMap", "Secret")}
    root = tmp_path / "pod"
    cassettes: dict[str, bytes] = {}
    for mount in container["volumeMounts"]:
        vol = volumes[mount["name"]]
        where = root / mount["mountPath"].lstrip("/")
        if "configMap" in vol:
            cassettes = {k: v.encode() for k, v in maps[vol["configMap"]["name"]]["data"].items()}
            _kubelet_volume(where, cassettes)
        elif "secret" in vol:
            data = maps[vol["secret"]["secretName"]]["data"]
            _kubelet_volume(where, {k: base64.b64decode(v) for k, v in data.items()})
        else:
            where.mkdir(parents=True)
    mount_paths = [m["mountPath"] for m in container["volumeMounts"]]
    env = dict(os.environ)
    env = {k: v for k, v in env.items() if not k.startswith("O2REPLAY_")}
    for name, value in env_of(container).items():
        if any(value == m or value.startswith(m + "/") for m in mount_paths):
            value = str(root / value.lstrip("/"))
        env[name] = value
    env["O2REPLAY_PORT"] = "0"
    env["O2REPLAY_HOST"] = "127.0.0.1"
    ready = Path(env["O2REPLAY_READY_FILE"])
    for m in container["volumeMounts"]:
        if m.get("readOnly"):
            os.chmod(root / m["mountPath"].lstrip("/"), 0o555)
    proc = subprocess.Popen([sys.executable, "-m", "replayer", "serve"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "no ready file within 60 s"
            time.sleep(0.05)
        url = json.loads(ready.read_text())["url"]
        yield url, container, cassettes, root
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert not ready.exists(), "the ready file outlived the server"


def test_probes_ports_and_mounts_are_what_the_server_uses(
        ci_pod: tuple[str, Obj, dict[str, bytes], Path]) -> None:
    url, container, cassettes, root = ci_pod
    env = env_of(container)
    http = next(p for p in container["ports"] if p["name"] == "http")
    assert int(env["O2REPLAY_PORT"]) == http["containerPort"] == 30205
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["port"] == "http"
        assert requests.get(url + get["path"], timeout=10).status_code == 200
    # The ConfigMap's cassettes load once each, although the kubelet's layout shows every file twice.
    token = "ci-admin-token"
    admin = requests.get(url + "/__admin/cassettes", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert admin.status_code == 200, admin.text
    loaded = admin.json()
    assert [c["name"] for c in loaded["cassettes"]] == sorted(cassettes)
    expected = sum(yaml.safe_load(v)["interactions"].__len__() for v in cassettes.values())
    assert loaded["interactions"] == expected
    # The admin token came from the Secret's file: without it the admin API refuses.
    assert requests.get(url + "/__admin/cassettes", timeout=10).status_code == 401
    recorded = yaml.safe_load(next(iter(cassettes.values())))["interactions"][1]["request"]["uri"]
    path = "/" + recorded.split("/", 3)[3]
    hit = requests.get(url + path, timeout=10)
    assert hit.status_code == 200 and hit.headers["X-Replay-Source"] == "cassette"
    # The cassette mount is read-only: the load cache went to O2REPLAY_CACHE_DIR (on the /tmp volume).
    cache = root / env["O2REPLAY_CACHE_DIR"].lstrip("/")
    assert list(cache.rglob("*.marshal")), "no load cache written"
    assert not list((root / "cassettes").rglob(".o2replay-cache"))
    synthetic = requests.get(url + "/o2ims-infrastructureInventory/v1/resourcePools", timeout=10)
    assert synthetic.status_code == 200 and synthetic.headers["X-Replay-Source"] == "synthetic"
