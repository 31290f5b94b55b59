"""End to end: a real mitmdump with the addon between a real client and a real O2IMS-like upstream."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests
import vcr

from replayer.cassettes.model import InteractionKind
from replayer.cassettes.load import load_cassette
from replayer.record.scan import scan_text

from .conftest import Mitmdump, client
from .tls import make_pki
from .upstream import FIXED_DATE, INVENTORY, Upstream

#: The O2IMS inventory API and the OAuth token endpoint (named explicitly: token exchanges are still never
#: recorded, whatever the paths).
PATHS = ("record_paths=/o2ims-infrastructureInventory", "record_paths=/oauth")


def drive(base: str, up: Upstream) -> None:
    """The scripted session: OAuth token exchange, O2IMS calls (some gzip), a notification, a non-O2IMS call."""
    c = up.canaries
    with client() as s:
        r = s.post(f"{base}/oauth/token", data={
            "grant_type": "password", "username": "operator", "password": c.password,
            "client_id": "smo", "client_secret": c.client_secret,
        })
        assert r.status_code == 200 and r.json()["access_token"] == c.access_token
        auth = {"Authorization": f"Bearer {r.json()['access_token']}", "X-Auth-Token": c.auth_header,
                "X-Ssl-Client-Der": c.ssl_client, "X-Ssl-Client-Chain": c.ssl_chain, "X-Api-Key": c.api_key,
                "X-Ssl-Client-Verify": "SUCCESS", "Proxy-Authorization": f"Basic {c.proxy_auth}"}
        assert s.get(f"{base}{INVENTORY}", headers=auth).json()["oCloudId"] == "ocloud-1"
        assert len(s.get(f"{base}{INVENTORY}/resourcePools", headers=auth).json()) == 4
        assert s.get(f"{base}{INVENTORY}/resourcePools/pool-edge2?access_token={c.query_token}",
                     headers=auth).status_code == 200
        dms = s.get(f"{base}{INVENTORY}/deploymentManagers", headers=auth).json()
        assert dms[0]["extensions"]["profileData"]["admin_client_key"].startswith("-----BEGIN")
        sub = {"callback": f"http://smo:{c.url_password}@consumer.example/consumer/notify",
               "consumerSubscriptionId": "c-1", "filter": "(eq,resourcePoolId,pool-edge1)",
               "extensions": {"note": "trust this: " + c.pem("PRIVATE KEY", c.pem_note)}}
        assert s.post(f"{base}{INVENTORY}/subscriptions", json=sub, headers=auth).status_code == 201
        assert s.get(f"{base}/health").status_code == 200  # not an O2IMS path: passes, not recorded
        note = {"notificationId": "n-1", "consumerSubscriptionId": "c-1", "notificationEventType": 0,
                "objectRef": f"{INVENTORY}/resourcePools/pool-edge1"}
        assert s.post(f"{base}/consumer/notify", json=note).status_code == 204
    assert up.notifications[-1] == note


RECORDED = 6  # every call above except the token exchange and /health


def record_session(up: Upstream, cassette: Path, confdir: Path, *sets: str) -> Mitmdump:
    """Run ``drive`` through a fresh mitmdump and stop it with SIGINT."""
    proxy = Mitmdump(f"reverse:{up.url}", cassette, confdir, *PATHS, *sets)
    try:
        drive(proxy.url, up)
        proxy.recorded(RECORDED)
    finally:
        assert proxy.stop() == 0
    return proxy


@pytest.fixture(scope="module")
def session(upstream: Upstream, confdir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The cassette of one recorded session."""
    cassette = tmp_path_factory.mktemp("rec") / "cassettes" / "lab.yaml"
    record_session(upstream, cassette, confdir)
    yield cassette


def test_cassette_holds_every_o2ims_exchange_in_order(session: Path, upstream: Upstream) -> None:
    c = load_cassette(session)
    paths = [i.request.path for i in c.interactions]
    assert paths == [INVENTORY, f"{INVENTORY}/resourcePools", f"{INVENTORY}/resourcePools/pool-edge2",
                     f"{INVENTORY}/deploymentManagers", f"{INVENTORY}/subscriptions", "/consumer/notify"]
    assert all(i.request.uri.startswith(upstream.url) for i in c.interactions)
    assert c.metadata["upstream"] == upstream.url
    assert c.metadata["api_versions"] == {"infrastructureInventory": ["v1"]}
    assert c.metadata["tool"].startswith("o2ims-replay ")
    assert "recorded_at" not in c.metadata and all(i.meta.recorded_at is None for i in c.interactions)


def test_gzip_bodies_are_stored_decoded_and_pretty(session: Path) -> None:
    c = load_cassette(session)
    pools = next(i for i in c.interactions if i.request.path.endswith("/resourcePools"))
    assert "Content-Encoding" not in {k.title() for k in pools.response.headers}
    assert pools.response.headers["Content-Length"] == [str(len(pools.response.body))]
    assert pools.response.body.startswith(b'[\n  {\n    "resourcePoolId": "pool-edge1"')
    assert b'    "resourcePoolId": "pool-edge1",\n' in session.read_bytes()  # a literal block, one field per line


def test_notifications_are_marked(session: Path) -> None:
    kinds = {i.request.path: i.meta.kind for i in load_cassette(session).interactions}
    assert kinds["/consumer/notify"] is InteractionKind.NOTIFICATION
    assert kinds[f"{INVENTORY}/subscriptions"] is InteractionKind.API
    assert "kind: notification" in session.read_text()


def _forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), base64.b64encode(secret.encode()).decode(),
            base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="), json.dumps(secret)[1:-1]}


def test_no_canary_secret_reaches_the_cassette(session: Path, upstream: Upstream) -> None:
    raw = session.read_bytes().decode()
    for name, secret in upstream.canaries.all().items():
        for form in _forms(secret):
            assert form not in raw, f"canary {name} leaked as {form!r}"
    # and the places they were in are still there, as placeholders
    assert "Bearer <redacted>" in raw
    assert "<redacted:x-ssl-client-chain>" in raw and "<redacted:x-ssl-client-verify>" in raw
    assert "session=<redacted:cookie>" in raw
    assert "access_token=%3Credacted%3Aaccess_token%3E" in raw
    assert "/oauth/token" not in raw and "grant_type" not in raw  # the token exchange is never recorded
    assert '"admin_client_key": "<redacted:admin_client_key>"' in raw
    assert '"admin_user": "kubernetes-admin"' in raw
    assert '"callback": "http://<redacted:userinfo>@consumer.example/consumer/notify"' in raw
    assert '"note": "trust this: <redacted:pem>\\n"' in raw


def test_recorded_cassette_scans_clean(session: Path) -> None:
    assert scan_text(session.read_text()) == []


def test_same_traffic_twice_gives_identical_bytes(session: Path, upstream: Upstream, confdir: Path,
                                                   tmp_path: Path) -> None:
    again = tmp_path / "again.yaml"
    record_session(upstream, again, confdir)
    assert again.read_bytes() == session.read_bytes()


def test_vcrpy_replays_the_cassette(session: Path, upstream: Upstream, tmp_path: Path) -> None:
    copy = tmp_path / "lab.yaml"
    copy.write_bytes(session.read_bytes())
    with vcr.use_cassette(str(copy), record_mode="none"):
        with client() as s:
            r = s.get(f"{upstream.url}{INVENTORY}/resourcePools")
            note = s.post(f"{upstream.url}/consumer/notify", json={"notificationId": "n-1"})
    assert r.status_code == 200 and [p["resourcePoolId"] for p in r.json()][:2] == ["pool-edge1", "pool-edge2"]
    assert r.headers["Date"] == FIXED_DATE
    assert note.status_code == 204


def test_sigkill_leaves_every_completed_exchange(upstream: Upstream, confdir: Path, tmp_path: Path) -> None:
    cassette = tmp_path / "killed.yaml"
    proxy = Mitmdump(f"reverse:{upstream.url}", cassette, confdir)
    auth = {"Authorization": f"Bearer {upstream.canaries.access_token}"}
    try:
        with client() as s:
            for n in range(1, 6):
                assert s.get(f"{proxy.url}{INVENTORY}/resourcePools/pool-edge{n % 4 + 1}", headers=auth).ok
                proxy.recorded(n)
    finally:
        proxy.stop(signal.SIGKILL)
    c = load_cassette(cassette)
    assert [i.request.path.rsplit("/", 1)[1] for i in c.interactions] == \
        ["pool-edge2", "pool-edge3", "pool-edge4", "pool-edge1", "pool-edge2"]


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_upstream_down_gives_502_and_writes_nothing(confdir: Path, tmp_path: Path) -> None:
    cassette = tmp_path / "down.yaml"
    proxy = Mitmdump(f"reverse:http://127.0.0.1:{_dead_port()}", cassette, confdir)
    try:
        with client() as s:
            r = s.get(f"{proxy.url}{INVENTORY}/resourcePools")
        assert r.status_code == 502
        line = proxy.wait_for(r"o2ims-recorder: not recorded: GET .*resourcePools: (.*)").group(0)
        assert "refused" in line.lower() or "connect" in line.lower()
    finally:
        assert proxy.stop() == 0
    assert not cassette.exists()


def test_regular_proxy_mode(upstream: Upstream, confdir: Path, tmp_path: Path) -> None:
    cassette = tmp_path / "regular.yaml"
    proxy = Mitmdump("regular", cassette, confdir)
    auth = {"Authorization": f"Bearer {upstream.canaries.access_token}"}
    try:
        with client() as s:
            s.proxies = {"http": proxy.url}
            assert s.get(f"{upstream.url}{INVENTORY}/resourcePools", headers=auth).status_code == 200
            assert s.get(f"{upstream.url}/health").status_code == 200
        proxy.recorded(1)
    finally:
        assert proxy.stop() == 0
    c = load_cassette(cassette)
    assert [i.request.uri for i in c.interactions] == [f"{upstream.url}{INVENTORY}/resourcePools"]
    assert upstream.canaries.access_token not in cassette.read_text()


def test_python_dash_m_scan_exits_0_on_the_recording(session: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "replayer", "scan", str(session.parent)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 file clean" in proc.stderr


def test_replayer_requests_through_the_proxy_match_the_recording(session: Path) -> None:
    # The recorded request headers are the client's, minus secrets: replay can match on them.
    c = load_cassette(session)
    first = next(i for i in c.interactions if i.request.path == INVENTORY)
    assert first.request.headers["Authorization"] == ["Bearer <redacted>"]
    assert first.request.headers["User-Agent"][0].startswith("python-requests/")
    assert requests.__version__ in first.request.headers["User-Agent"][0]


def test_upstream_proxy_mode(upstream: Upstream, confdir: Path, tmp_path: Path) -> None:
    cassette = tmp_path / "chained.yaml"
    corporate = Mitmdump("regular", tmp_path / "unused.yaml", confdir, "record_mode=none")
    try:
        proxy = Mitmdump(f"upstream:{corporate.url}", cassette, confdir)
        try:
            with client() as s:
                s.proxies = {"http": proxy.url}
                auth = {"Authorization": f"Bearer {upstream.canaries.access_token}"}
                assert s.get(f"{upstream.url}{INVENTORY}", headers=auth).status_code == 200
            proxy.recorded(1)
        finally:
            assert proxy.stop() == 0
    finally:
        corporate.stop()
    assert [i.request.uri for i in load_cassette(cassette).interactions] == [f"{upstream.url}{INVENTORY}"]
    corporate.wait_for(r"client connect")  # the exchange really went through the next proxy


def test_mtls_upstream_with_client_certificate(confdir: Path, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    cassette = tmp_path / "mtls.yaml"
    with Upstream(ssl_context=pki.server_context()) as up:
        proxy = Mitmdump(f"reverse:{up.url}", cassette, confdir, "ssl_insecure=true", f"client_certs={pki.client}")
        try:
            with client() as s:
                r = s.get(f"{proxy.url}{INVENTORY}", headers={"Authorization": f"Bearer {up.canaries.access_token}"})
            assert r.status_code == 200 and r.json()["clientCertificate"] == {"commonName": "o2ims-consumer"}
            proxy.recorded(1)
        finally:
            assert proxy.stop() == 0
    c = load_cassette(cassette)
    assert c.interactions[0].request.uri == f"{up.url}{INVENTORY}" and up.url.startswith("https://")
    assert "PRIVATE KEY" not in cassette.read_text()


def test_each_record_mode_through_a_real_mitmdump(upstream: Upstream, confdir: Path, tmp_path: Path) -> None:
    """once writes a new cassette; new_episodes appends only unrecorded requests; all replaces (old kept as .bak);
    none writes nothing."""
    cassette = tmp_path / "modes.yaml"
    auth = {"Authorization": f"Bearer {upstream.canaries.access_token}"}

    def run(mode: str, pools: list[str], expect_recorded: int) -> None:
        proxy = Mitmdump(f"reverse:{upstream.url}", cassette, confdir, f"record_mode={mode}")
        try:
            with client() as s:
                for pool in pools:
                    assert s.get(f"{proxy.url}{INVENTORY}/resourcePools/{pool}", headers=auth).ok
            if expect_recorded:
                proxy.recorded(expect_recorded)
        finally:
            assert proxy.stop() == 0

    def pools_in(path: Path) -> list[str]:
        return [i.request.path.rsplit("/", 1)[1] for i in load_cassette(path).interactions]

    run("once", ["pool-edge1", "pool-edge2"], 2)
    assert pools_in(cassette) == ["pool-edge1", "pool-edge2"]
    run("new_episodes", ["pool-edge2", "pool-edge3"], 1)  # pool-edge2 is already recorded
    assert pools_in(cassette) == ["pool-edge1", "pool-edge2", "pool-edge3"]
    before = cassette.read_bytes()
    run("none", ["pool-edge4"], 0)
    assert cassette.read_bytes() == before
    run("all", ["pool-edge4"], 1)
    assert pools_in(cassette) == ["pool-edge4"]
    assert pools_in(cassette.with_name("modes.yaml.bak")) == ["pool-edge1", "pool-edge2", "pool-edge3"]
