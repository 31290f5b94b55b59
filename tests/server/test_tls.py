"""HTTPS and mutual TLS over real sockets: requests, aiohttp and curl verify the local CA; client certificates
are required and named in the journal and the access log."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
import requests

from replayer.security.certs import ensure_server_cert, issue_client_cert
from replayer.server.embedded import EmbeddedServer
from tests.server.conftest import INV, POOLS, interaction

Serve = Callable[..., EmbeddedServer]
RECORDED = {"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]}


def _curl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True, text=True, timeout=30)


def test_https_with_the_auto_ca_verified_by_requests_aiohttp_and_curl(serve: Serve, tmp_path: Path) -> None:
    server = serve(RECORDED, tls="auto", tls_dir=str(tmp_path / "tls"))
    assert server.url.startswith("https://127.0.0.1:")
    assert server.ca_path == str(tmp_path / "tls" / "ca.pem")
    url = f"{server.url}{INV}/resourcePools"
    assert requests.get(url, verify=server.ca_path, timeout=5).json() == POOLS
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, timeout=5)  # the system trust store does not know the local CA

    async def fetch() -> object:
        ctx = ssl.create_default_context(cafile=server.ca_path)
        async with aiohttp.ClientSession() as session, session.get(url, ssl=ctx) as resp:
            return await resp.json()

    assert asyncio.run(fetch()) == POOLS
    done = _curl("--cacert", str(server.ca_path), url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == POOLS
    assert _curl(url).returncode == 60  # curl: peer certificate cannot be authenticated with known CA certificates


def test_given_certificate_and_key(serve: Serve, tmp_path: Path) -> None:
    own = ensure_server_cert(tmp_path / "own-ca", ["localhost", "127.0.0.1"])
    server = serve(RECORDED, tls_cert=str(own.server_cert), tls_key=str(own.server_key))
    assert server.url.startswith("https://") and server.ca_path is None
    r = requests.get(f"{server.url}{INV}/resourcePools", verify=str(own.ca_cert), timeout=5)
    assert r.status_code == 200


def test_mutual_tls_accepts_a_certificate_of_the_ca_and_names_the_client(serve: Serve, tmp_path: Path) -> None:
    tls_dir = tmp_path / "tls"
    server = serve(RECORDED, tls="auto", tls_dir=str(tls_dir), tls_client_ca="auto")
    cert, key = issue_client_cert(tls_dir, "smo")
    url = f"{server.url}{INV}/resourcePools"
    r = requests.get(url, verify=server.ca_path, cert=(str(cert), str(key)), timeout=5)
    assert r.json() == POOLS
    done = _curl("--cacert", str(server.ca_path), "--cert", str(cert), "--key", str(key), url)
    assert done.returncode == 0 and json.loads(done.stdout) == POOLS
    rows = requests.get(f"{server.url}/__admin/requests", verify=server.ca_path, cert=(str(cert), str(key)),
                        timeout=5).json()
    assert [row["client"] for row in rows] == ["O=o2ims-replay clients,CN=smo"] * 2


def test_mutual_tls_refuses_a_missing_or_untrusted_certificate(serve: Serve, tmp_path: Path) -> None:
    tls_dir = tmp_path / "tls"
    server = serve(RECORDED, tls="auto", tls_dir=str(tls_dir), tls_client_ca="auto")
    url = f"{server.url}{INV}/resourcePools"
    stranger_cert, stranger_key = issue_client_cert(tmp_path / "another-ca", "stranger")
    for cert in (None, (str(stranger_cert), str(stranger_key))):
        with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
            requests.get(url, verify=server.ca_path, cert=cert, timeout=5)
    missing = _curl("--cacert", str(server.ca_path), url)
    untrusted = _curl("--cacert", str(server.ca_path), "--cert", str(stranger_cert), "--key", str(stranger_key), url)
    for done in (missing, untrusted):
        assert done.returncode != 0 and done.stdout == ""  # the handshake fails: no HTTP answer at all
    assert server.call(lambda: len(server.runtime.journal.requests)) == 0


def test_a_given_client_ca_file(serve: Serve, tmp_path: Path) -> None:
    clients = tmp_path / "client-ca"
    cert, key = issue_client_cert(clients, "ci")
    server = serve(RECORDED, tls="auto", tls_dir=str(tmp_path / "tls"), tls_client_ca=str(clients / "ca.pem"))
    r = requests.get(f"{server.url}{INV}/resourcePools", verify=server.ca_path, cert=(str(cert), str(key)), timeout=5)
    assert r.status_code == 200


def _serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "replayer", "serve", "--port", "0", "--no-cache", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, **(env or {})})
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "| workers:" in line:
            return proc, "".join(lines)
    proc.kill()
    raise AssertionError(f"no banner: {''.join(lines)} {proc.stderr.read() if proc.stderr else ''}")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    _, err = proc.communicate(timeout=20)
    return err


def test_serve_tls_auto_prints_the_ca_reuses_it_and_logs_the_client_subject(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc, out = _serve(tmp_path, "--tls", "auto", "--tls-client-ca", "auto", "--access-log",
                       env={"HOME": str(home)})
    ca = home / ".o2replay" / "tls" / "ca.pem"  # the default folder
    try:
        assert f"HTTPS with the local CA {ca}" in out and "mutual TLS" in out
        url = out.split("o2replay serve: ")[-1].split(" |")[0]
        assert url.startswith("https://127.0.0.1:")
        first_ca = ca.read_bytes()
        listed = subprocess.run([sys.executable, "-m", "replayer", "tls", "client-cert", "smo-lab"], text=True,
                                capture_output=True, env={**os.environ, "HOME": str(home)}, timeout=30)
        assert listed.returncode == 0 and f"CA:          {ca}" in listed.stdout
        cert = home / ".o2replay/tls/clients/smo-lab.pem"
        key = home / ".o2replay/tls/clients/smo-lab-key.pem"
        r = requests.get(f"{url}/health", verify=str(ca), cert=(str(cert), str(key)), timeout=5)
        assert r.status_code == 200
    finally:
        err = _stop(proc)
    assert 'client="O=o2ims-replay clients,CN=smo-lab"' in err and '"GET /health HTTP/1.1" 200' in err
    proc, out = _serve(tmp_path, "--tls", "auto", env={"HOME": str(home)})
    _stop(proc)
    assert ca.read_bytes() == first_ca  # reused, consumers keep trusting it


@pytest.mark.parametrize(("args", "message"), [
    (["--tls-cert", "missing.pem", "--tls-key", "k.pem"], "--tls-cert: no such file"),
    (["--tls-client-ca", "auto"], "--tls-client-ca needs HTTPS: add --tls auto or --tls-cert/--tls-key"),
    (["--tls", "maybe"], "argument --tls: invalid choice"),
    (["--oauth-jwks", "http://idp/jwks"], "--oauth-jwks needs --auth oauth2"),
    (["--auth", "oauth2", "--oauth-jwks", "http://idp/jwks"], "--oauth-jwks needs --oauth-issuer"),
    (["--auth", "oauth2", "--oauth-jwks", "idp/jwks"], "--oauth-jwks must be an http:// or https:// URL"),
])
def test_bad_tls_and_oauth_flags_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "replayer", "serve", "--port", "0", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_tls_cert_needs_its_key(tmp_path: Path) -> None:
    own = ensure_server_cert(tmp_path / "own", ["localhost"])
    done = subprocess.run([sys.executable, "-m", "replayer", "serve", "--tls-cert", str(own.server_cert)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--tls-cert and --tls-key go together" in done.stderr


def test_a_bad_clients_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "clients.yaml").write_text("clients: [{client_id: a, roles: [o2ims-reader]}]\n")
    done = subprocess.run([sys.executable, "-m", "replayer", "serve", "--port", "0", "--auth", "oauth2",
                           "--oauth-clients", "clients.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "--oauth-clients: clients.yaml: clients[0].client_secret must be a non-empty string" in done.stderr
