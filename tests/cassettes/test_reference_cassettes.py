"""The bundled reference cassettes (issue 4 §7): replayed with synthetic off and strict on, every recorded
request gets exactly its recorded answer, in order, and they were recorded through the real addon."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from replayer.cassettes.model import Interaction, InteractionKind
from replayer.cassettes.load import load_cassette
from replayer.server.config import ServeConfig
from replayer.server.embedded import EmbeddedServer
from replayer.server.rewrite import base_of, rewrite_body

REFERENCE = Path(__file__).resolve().parents[2] / "cassettes" / "reference"
FILES = sorted(REFERENCE.glob("*.yaml"))
GROUPS = {"inventory-v1", "inventory-v2", "monitoring", "cluster", "artifacts", "provisioning", "notifications"}


def test_every_endpoint_group_has_a_reference_cassette() -> None:
    assert {f.stem for f in FILES} == GROUPS


def test_reference_cassettes_cover_every_get_route() -> None:
    from replayer.o2ims.routes import ROUTES, match_route

    seen = {
        found[0].template
        for f in FILES
        for i in load_cassette(f).interactions
        if (found := match_route(i.request.path)) is not None and i.request.method == "GET"
    }
    missing = [r.template for r in ROUTES if "GET" in r.methods and r.template not in seen]
    assert missing == []


def test_provisioning_lifecycle_and_a_notification_are_recorded() -> None:
    prov = load_cassette(REFERENCE / "provisioning.yaml").interactions
    phases = [json.loads(i.response.body).get("status", {}).get("provisioningPhase")
              for i in prov if i.request.method == "GET" and i.response.status == 200
              and i.request.path.count("/") == 4]
    assert phases[0] == "PROGRESSING" or "PENDING" in phases
    assert "FULFILLED" in phases and "DELETING" in phases
    assert any(i.response.status == 404 for i in prov)
    notes = load_cassette(REFERENCE / "notifications.yaml").interactions
    assert [i.meta.kind for i in notes] == [InteractionKind.NOTIFICATION]
    assert json.loads(notes[0].request.body)["notificationEventType"] == 0


@pytest.fixture(scope="module")
def strict_server() -> Iterator[str]:
    # The top-level files only: cassettes/reference/o-ran-sc/ is another O2IMS (tests/ptio2/test_cassettes.py).
    config = ServeConfig(paths=tuple(str(f) for f in FILES), port=0, strict=True, synthetic=False, use_cache=False)
    server = EmbeddedServer(config).start()
    try:
        yield server.url
    finally:
        server.stop()


def _replay(base: str, session: str, interaction: Interaction) -> requests.Response:
    req = interaction.request
    path = req.uri.split("://", 1)[-1]
    path = path[path.index("/"):] if "/" in path else "/"
    headers = {"X-Replay-Session": session}
    ctype = next((v[0] for k, v in req.headers.items() if k.lower() == "content-type"), None)
    if ctype:
        headers["Content-Type"] = ctype
    return requests.request(req.method, base + path, data=req.body or None, headers=headers, timeout=10)


@pytest.mark.parametrize("cassette", [f for f in FILES if f.stem != "notifications"], ids=lambda f: f.stem)
def test_strict_replay_gives_every_recorded_answer(strict_server: str, cassette: Path) -> None:
    session = uuid.uuid4().hex
    for index, interaction in enumerate(load_cassette(cassette).interactions):
        resp = _replay(strict_server, session, interaction)
        where = f"{cassette.name}#{index} {interaction.request.method} {interaction.request.uri}"
        assert resp.status_code == interaction.response.status, where
        assert resp.headers["X-Replay-Source"] == "cassette", where
        # Recorded at 127.0.0.1:38600: the addresses in the answers name the replay server instead.
        expected = rewrite_body(interaction.response.body, base_of(interaction.request.uri), strict_server)
        assert resp.content == expected, where


COMMITTED_PORT_BASE = 38600


def _four_free_ports() -> int:
    """A base port B in 40000-59999 with B..B+3 free on 127.0.0.1 (the script needs four)."""
    for base in range(40000 + os.getpid() % 1000 * 20, 60000, 20):
        socks = []
        try:
            for port in range(base, base + 4):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no four consecutive free ports on 127.0.0.1")


def _with_ports(data: bytes, base: int, target: int) -> bytes:
    for i in range(4):
        data = data.replace(f"127.0.0.1:{base + i}".encode(), f"127.0.0.1:{target + i}".encode())
    return data


@pytest.mark.slow
def test_make_cassettes_regenerates_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    """`make cassettes` is deterministic, and the committed cassettes match the current synthetic model."""
    import subprocess
    import sys

    script = REFERENCE.parent.parent / "scripts" / "make_reference_cassettes.py"
    base = _four_free_ports()
    env = {**os.environ, "O2REPLAY_REF_PORT_BASE": str(base)}
    proc = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True,
                          timeout=180, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The committed files were recorded on ports 38600-38603; five digits either way, so lengths agree.
    fresh = {f.name: _with_ports(f.read_bytes(), base, COMMITTED_PORT_BASE) for f in tmp_path.glob("*.yaml")}
    committed = {f.name: f.read_bytes() for f in FILES}
    stale = sorted(name for name in committed if fresh.get(name) != committed[name])
    assert stale == [], f"run `make cassettes` and commit: {stale} differ from what the synthetic model records now"
