"""Recording against a secured O2IMS (HTTPS, mutual TLS, OAuth2) with `o2replay record`, then replaying the
cassette behind the same security: the token exchange, the client secret and the tokens never reach the
cassette (canaries), and the consumer's own token flow works against the replay server."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path

import requests

from replayer.cassettes.load import load_cassette
from replayer.security.certs import issue_client_cert
from replayer.server.config import ServeConfig
from replayer.server.embedded import EmbeddedServer

from .test_record_command import _expect, _reader

INV = "/o2ims-infrastructureInventory/v1"
CANARY_SECRET = "canary-client-secret-7f3a9d"


def _token(base: str, client: str, secret: str, **kw: object) -> str:
    r = requests.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"}, auth=(client, secret),
                      timeout=10, **kw)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_record_a_secured_o2ims_then_replay_it_with_the_consumers_token_flow(tmp_path: Path, confdir: Path) -> None:
    tls_dir = tmp_path / "lab-tls"
    clients = tmp_path / "clients.yaml"
    clients.write_text(f"clients:\n  - {{client_id: smo-client, client_secret: {CANARY_SECRET}, "
                       f"roles: [o2ims-reader]}}\n")
    upstream = EmbeddedServer(ServeConfig(paths=(), port=0, tls="auto", tls_dir=str(tls_dir), tls_client_ca="auto",
                                          oauth=True, oauth_clients=str(clients))).start()
    cert, key = issue_client_cert(tls_dir, "recorder")
    cassette = tmp_path / "cassettes" / "secured.yaml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "replayer", "record", "--upstream", upstream.url, "--cassette", str(cassette),
         "--listen", "127.0.0.1:0", "--upstream-ca", str(tls_dir / "ca.pem"), "--client-cert", str(cert),
         "--client-key", str(key), "--record-path", "/", "--set", f"confdir={confdir}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc, lines), daemon=True).start()
    seen: list[str] = []
    tokens: list[str] = []
    try:
        port = int(_expect(lines, r"listening on http://127\.0\.0\.1:(\d+)$", seen).group(1))
        proxy = f"http://127.0.0.1:{port}"
        tokens.append(_token(proxy, "smo-client", CANARY_SECRET))  # the consumer's token flow, through the proxy
        recorded = requests.get(f"{proxy}{INV}/resourcePools", headers={"Authorization": f"Bearer {tokens[0]}"},
                                timeout=10)
        assert recorded.status_code == 200
        _expect(lines, rf"^\[1\] GET {INV}/resourcePools -> 200$", seen)
        denied = requests.get(f"{proxy}{INV}/resourcePools", timeout=10)
        assert denied.status_code == 401
        _expect(lines, rf"^\[2\] GET {INV}/resourcePools -> 401$", seen)
        proc.terminate()
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        upstream.stop()
    text = cassette.read_text()
    for canary in (CANARY_SECRET, tokens[0], tokens[0].split(".")[1], "access_token", "grant_type", "/oauth/token"):
        assert canary not in text, canary
    c = load_cassette(cassette)
    assert [(i.request.method, i.request.path, i.response.status) for i in c.interactions] == [
        ("GET", f"{INV}/resourcePools", 200), ("GET", f"{INV}/resourcePools", 401)]

    # Replay behind HTTPS and OAuth2: the consumer asks the replay server's token endpoint (the default
    # clients), and the recorded answer comes back; the recorded 401 is the second of the sequence.
    replay = EmbeddedServer(ServeConfig(paths=(str(cassette),), port=0, synthetic=False, strict=True,
                                        tls="auto", tls_dir=str(tmp_path / "ci-tls"), oauth=True,
                                        use_cache=False)).start()
    try:
        ca = replay.ca_path
        token = _token(replay.url, "smo-client", "smo-client-secret", verify=ca)
        r = requests.get(f"{replay.url}{INV}/resourcePools", headers={"Authorization": f"Bearer {token}"},
                         verify=ca, timeout=10)
        assert r.status_code == 200 and r.headers["X-Replay-Source"] == "cassette"
        assert r.json() == recorded.json()
        other = _token(replay.url, "o2ims-subscriber", "o2ims-subscriber-secret", verify=ca)
        r = requests.get(f"{replay.url}{INV}/resourcePools", headers={"Authorization": f"Bearer {other}"},
                         verify=ca, timeout=10)
        assert r.status_code == 403  # the replay server checks roles before it looks at the cassette
    finally:
        replay.stop()


def test_record_flags_for_a_secured_upstream_map_to_mitmproxy_options(tmp_path: Path,
                                                                      monkeypatch: object) -> None:
    from replayer.cli import build_parser
    from replayer.commands.record import _client_pem, mitmdump_argv, validate

    cert, key = issue_client_cert(tmp_path, "rec")
    ca = tmp_path / "ca.pem"
    args = build_parser().parse_args([
        "record", "--upstream", "https://o2ims:8443", "--cassette", str(tmp_path / "c.yaml"),
        "--upstream-ca", str(ca), "--client-cert", str(cert), "--client-key", str(key)])
    private = tmp_path / "private"
    private.mkdir()
    ra = _client_pem(validate(args), private)
    joined = Path(ra.client_cert)
    assert joined.read_bytes() == cert.read_bytes().rstrip(b"\n") + b"\n" + key.read_bytes()
    assert joined.stat().st_mode & 0o077 == 0
    pairs = {a for a in mitmdump_argv(ra) if "=" in a}
    assert {f"ssl_verify_upstream_trusted_ca={ca}", f"client_certs={joined}"} <= pairs


def test_record_security_flag_errors(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "k.pem").write_text("x")
    for argv, message in (
        (["--upstream-ca", "missing.pem"], "--upstream-ca missing.pem: no such file"),
        (["--client-key", "k.pem"], "--client-key goes with --client-cert"),
        (["--upstream-ca", "ca.pem", "--insecure"], "--upstream-ca and --insecure contradict each other"),
    ):
        done = subprocess.run([sys.executable, "-m", "replayer", "record", "--upstream", "https://o2ims:443",
                               "--cassette", "c.yaml", *argv], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2 and message in done.stderr, done.stderr


def _exchange(method: str, req_type: str, req_body: bytes, resp_type: str, resp_body: bytes) -> object:
    from replayer.record.recorder import Exchange

    return Exchange(method, "https://idp.lab/realms/oran/protocol/openid-connect/token", {"Content-Type": [req_type]},
                    req_body, 200, "OK", {"Content-Type": [resp_type]}, resp_body)


def test_token_exchanges_are_recognised_by_their_form_or_their_answer() -> None:
    from replayer.record.recorder import is_token_exchange

    form = "application/x-www-form-urlencoded"
    cases = [
        (("POST", form, b"grant_type=client_credentials&client_id=a", "application/json", b"{}"), True),
        (("POST", "application/json", b'{"x":1}', "application/json", b'{"access_token":"t"}'), True),
        (("POST", form, b"name=pool", "application/json", b'{"id":"1"}'), False),
        (("GET", form, b"grant_type=x", "application/json", b'{"access_token":"t"}'), False),
        (("POST", "application/json", b"{}", "application/json", b"not json"), False),
    ]
    for args, expected in cases:
        assert is_token_exchange(_exchange(*args)) is expected, args  # type: ignore[arg-type]
