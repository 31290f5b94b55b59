"""OAuth2 like openshift-kni, over real sockets: the embedded token endpoint, discovery and JWKS, validation
of every O2IMS request, roles per operation, and an external identity provider (a second server of ours)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from replayer.security.certs import issue_client_cert
from replayer.security.tokens import SigningKey, issue_token
from replayer.server.embedded import EmbeddedServer
from tests.server.conftest import INV, POOLS, interaction

Serve = Callable[..., EmbeddedServer]
MON = "/o2ims-infrastructureMonitoring/v1"
PROV = "/o2ims-infrastructureProvisioning/v1"
CLU = "/o2ims-infrastructureCluster/v1"
ART = "/o2ims-infrastructureArtifacts/v1"
RECORDED = {"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]}
KEY = SigningKey.generate()


def _oauth(serve: Serve, **settings: Any) -> EmbeddedServer:
    settings.setdefault("synthetic", True)
    settings.setdefault("strict", False)
    return serve(RECORDED, oauth=True, oauth_signing_key=KEY.pem(), **settings)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ----------------------------------------------------------------------------------------- token endpoint


def test_client_credentials_with_basic_or_form_authentication(serve: Serve) -> None:
    server = _oauth(serve)
    basic = requests.post(server.token_url, data={"grant_type": "client_credentials"},
                          auth=("o2ims-reader", "o2ims-reader-secret"), timeout=5)
    form = requests.post(server.token_url, data={"grant_type": "client_credentials", "client_id": "smo-client",
                                                 "client_secret": "smo-client-secret"}, timeout=5)
    for r in (basic, form):
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
        body = r.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert basic.json()["scope"] == "openid role:o2ims-reader"
    assert form.json()["scope"] == ("openid role:o2ims-reader role:o2ims-subscriber role:o2ims-maintainer "
                                    "role:o2ims-provisioner")


def test_a_consumer_validates_our_tokens_from_discovery_and_jwks(serve: Serve) -> None:
    server = _oauth(serve)
    meta = requests.get(f"{server.url}/.well-known/openid-configuration", timeout=5).json()
    assert meta["issuer"] == server.url and meta["token_endpoint"] == server.token_url
    assert meta["grant_types_supported"] == ["client_credentials"] and "role:o2ims-admin" in meta["scopes_supported"]
    assert requests.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=5).json() == meta
    token = requests.post(meta["token_endpoint"], data={"grant_type": "client_credentials"},
                          auth=("o2ims-admin", "o2ims-admin-secret"), timeout=5).json()["access_token"]
    signing_key = jwt.PyJWKClient(meta["jwks_uri"]).get_signing_key_from_jwt(token)  # a stock JWKS client
    claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], audience="o2ims-client", issuer=meta["issuer"])
    assert claims["roles"] == ["o2ims-admin"] and claims["client_id"] == "o2ims-admin"


@pytest.mark.parametrize(("data", "auth", "status", "error"), [
    ({"grant_type": "client_credentials"}, ("o2ims-reader", "wrong"), 401, "invalid_client"),
    ({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"}, None, 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
    ({"grant_type": "password", "username": "u", "password": "p"}, ("o2ims-reader", "o2ims-reader-secret"), 400,
     "unsupported_grant_type"),
    ({}, ("o2ims-reader", "o2ims-reader-secret"), 400, "invalid_request"),
    ({"grant_type": "client_credentials", "scope": "role:o2ims-admin"}, ("o2ims-reader", "o2ims-reader-secret"), 400,
     "invalid_scope"),
])
def test_token_endpoint_errors_follow_rfc6749(serve: Serve, data: dict[str, str], auth: tuple[str, str] | None,
                                              status: int, error: str) -> None:
    server = _oauth(serve)
    r = requests.post(server.token_url, data=data, auth=auth, timeout=5)
    assert r.status_code == status and r.json()["error"] == error and r.json()["error_description"]
    if status == 401 and auth is not None:
        assert r.headers["WWW-Authenticate"] == 'Basic realm="o2ims-replay"'


def test_token_endpoint_wants_a_form_body(serve: Serve) -> None:
    server = _oauth(serve)
    r = requests.post(server.token_url, json={"grant_type": "client_credentials"}, timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_a_narrower_scope_gets_a_token_with_fewer_roles(serve: Serve) -> None:
    server = _oauth(serve)
    token = server.token("smo-client", scope="openid role:o2ims-subscriber")
    assert jwt.decode(token, options={"verify_signature": False})["roles"] == ["o2ims-subscriber"]
    assert requests.get(f"{server.url}{INV}/resourcePools", headers=_bearer(token), timeout=5).status_code == 403


# ------------------------------------------------------------------------------------ validation and roles


def test_valid_token_is_served_and_named_in_the_journal(serve: Serve) -> None:
    server = _oauth(serve)
    r = requests.get(f"{server.url}{INV}/resourcePools", headers=_bearer(server.token("o2ims-reader")), timeout=5)
    assert r.json() == POOLS
    rows = requests.get(f"{server.url}/__admin/requests", timeout=5).json()
    assert rows[-1]["user"] == "service-account-o2ims-reader" and "client" not in rows[-1]


def _forged(server: EmbeddedServer, **over: Any) -> str:
    args: dict[str, Any] = {"issuer": server.url, "audience": "o2ims-client", "client_id": "o2ims-admin",
                            "roles": ("o2ims-admin",), "roles_claim": "roles", "ttl": 300}
    args.update(over)
    key = args.pop("key", KEY)
    return issue_token(key, **args)


@pytest.mark.parametrize(("over", "reason"), [
    ({"now": time.time() - 3600}, "the token has expired"),
    ({"audience": "another-service"}, "not meant for this server"),
    ({"issuer": "https://keycloak.example.com/realms/oran"}, "issued by another issuer"),
    ({"key": SigningKey(SigningKey.generate().private, KEY.kid)}, "signature does not verify"),
])
def test_expired_wrong_audience_issuer_or_signature_is_401_invalid_token(serve: Serve, over: dict[str, Any],
                                                                        reason: str) -> None:
    server = _oauth(serve)
    assert requests.get(f"{server.url}{INV}/resourcePools", headers=_bearer(_forged(server)),
                        timeout=5).status_code == 200  # the same token, unspoiled, is fine
    r = requests.get(f"{server.url}{INV}/resourcePools", headers=_bearer(_forged(server, **over)), timeout=5)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith('Bearer realm="o2ims", error="invalid_token", error_description=')
    assert reason in r.headers["WWW-Authenticate"] and reason in r.json()["detail"]
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_no_token_is_401_and_health_stays_open(serve: Serve) -> None:
    server = _oauth(serve)
    r = requests.get(f"{server.url}{INV}", timeout=5)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="o2ims"'
    assert r.json()["status"] == 401
    assert requests.get(f"{server.url}/health", timeout=5).status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "denied", "allowed"), [
    ("GET", f"{INV}/resourcePools", None, "o2ims-subscriber", "o2ims-reader"),
    ("POST", f"{INV}/subscriptions", {"callback": "http://127.0.0.1:9/cb"}, "o2ims-reader", "o2ims-subscriber"),
    ("GET", f"{MON}/alarms", None, "o2ims-provisioner", "o2ims-reader"),
    ("GET", f"{PROV}/provisioningRequests", None, "o2ims-subscriber", "o2ims-provisioner"),
    ("GET", f"{CLU}/nodeClusters", None, "o2ims-provisioner", "o2ims-reader"),
    ("GET", f"{ART}/managedInfrastructureTemplates", None, "o2ims-subscriber", "o2ims-provisioner"),
])
def test_a_missing_role_is_403_per_api_group(serve: Serve, method: str, path: str, body: Any, denied: str,
                                             allowed: str) -> None:
    server = _oauth(serve)
    r = requests.request(method, server.url + path, json=body, headers=_bearer(server.token(denied)), timeout=5)
    assert r.status_code == 403
    problem = r.json()
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert problem["status"] == 403 and allowed in problem["requiredRoles"] and problem["grantedRoles"] == [denied]
    assert f"needs one of the roles" in problem["detail"] and allowed in problem["detail"]
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    ok = requests.request(method, server.url + path, json=body, headers=_bearer(server.token(allowed)), timeout=5)
    assert ok.status_code not in (401, 403), ok.text
    admin = requests.request(method, server.url + path, json=body, headers=_bearer(server.token("o2ims-admin")),
                             timeout=5)
    assert admin.status_code not in (401, 403)


def test_bearer_mode_and_the_admin_guard_are_unchanged(serve: Serve) -> None:
    server = _oauth(serve, admin_token="adm1n")
    token = server.token("o2ims-admin")
    # an O2IMS token is not the admin token; the admin token is not an O2IMS token
    assert requests.get(f"{server.url}/__admin/cassettes", headers=_bearer(token), timeout=5).status_code == 401
    assert requests.get(f"{server.url}/__admin/cassettes", headers=_bearer("adm1n"), timeout=5).status_code == 200
    assert requests.get(f"{server.url}{INV}", headers=_bearer("adm1n"), timeout=5).status_code == 401


def test_an_expired_token_is_refreshed_by_the_consumer(serve: Serve) -> None:
    # Three seconds: long enough that a loaded machine still uses the token before it expires.
    server = _oauth(serve, oauth_token_ttl=3)
    token = server.token("o2ims-reader")
    url = f"{server.url}{INV}/resourcePools"
    assert requests.get(url, headers=_bearer(token), timeout=5).status_code == 200
    deadline = time.monotonic() + 15
    while (r := requests.get(url, headers=_bearer(token), timeout=5)).status_code == 200:
        assert time.monotonic() < deadline, "the token never expired"
        time.sleep(0.2)  # poll until the token's exp has passed
    assert r.status_code == 401 and "expired" in r.headers["WWW-Authenticate"]
    assert requests.get(url, headers=_bearer(server.token("o2ims-reader")), timeout=5).status_code == 200


def test_a_clients_file(serve: Serve, tmp_path: Path) -> None:
    clients = tmp_path / "clients.yaml"
    clients.write_text("clients:\n  - {client_id: ci, client_secret: ci-pass, roles: [o2ims-reader]}\n")
    server = _oauth(serve, oauth_clients=str(clients))
    assert requests.get(f"{server.url}{INV}", headers=_bearer(server.token("ci", "ci-pass")), timeout=5).ok
    r = requests.post(server.token_url, data={"grant_type": "client_credentials"},
                      auth=("o2ims-admin", "o2ims-admin-secret"), timeout=5)
    assert r.status_code == 401  # the profile's clients are not used when a file is given


# ------------------------------------------------------------------------- certificate-bound tokens (mTLS)


def test_a_token_fetched_over_mutual_tls_is_bound_to_that_certificate(serve: Serve, tmp_path: Path) -> None:
    tls_dir = tmp_path / "tls"
    server = _oauth(serve, tls="auto", tls_dir=str(tls_dir), tls_client_ca="auto")
    smo = tuple(str(p) for p in issue_client_cert(tls_dir, "smo"))
    other = tuple(str(p) for p in issue_client_cert(tls_dir, "other"))
    token = server.token("o2ims-reader", cert=smo)  # type: ignore[arg-type]
    assert "cnf" in jwt.decode(token, options={"verify_signature": False})
    url = f"{server.url}{INV}/resourcePools"
    assert requests.get(url, headers=_bearer(token), verify=server.ca_path, cert=smo, timeout=5).json() == POOLS
    r = requests.get(url, headers=_bearer(token), verify=server.ca_path, cert=other, timeout=5)
    assert r.status_code == 401 and "bound to another client certificate" in r.json()["detail"]
    rows = requests.get(f"{server.url}/__admin/requests", verify=server.ca_path, cert=smo, timeout=5).json()
    assert rows[0]["client"] == "O=o2ims-replay clients,CN=smo" and rows[0]["user"] == "service-account-o2ims-reader"


# --------------------------------------------------------------------------------- external identity provider


def test_external_jwks_mode_validates_tokens_of_another_server(serve: Serve) -> None:
    idp = serve(None, oauth=True, synthetic=True, strict=False)  # our own embedded server acting as the IdP
    server = serve(RECORDED, oauth=True, oauth_jwks=f"{idp.url}/oauth/jwks", oauth_issuer=idp.url)
    url = f"{server.url}{INV}/resourcePools"
    assert requests.get(url, headers=_bearer(idp.token("o2ims-reader")), timeout=5).json() == POOLS
    r = requests.get(url, headers=_bearer(idp.token("o2ims-subscriber")), timeout=5)
    assert r.status_code == 403
    assert requests.post(f"{server.url}/oauth/token", data={"grant_type": "client_credentials"},
                         auth=("o2ims-reader", "o2ims-reader-secret"), timeout=5).status_code != 200
    stranger = _forged(server, issuer=idp.url, key=SigningKey.generate())  # a key the IdP never published
    r = requests.get(url, headers=_bearer(stranger), timeout=5)
    assert r.status_code == 401 and "unknown key" in r.json()["detail"]


def test_external_jwks_down_at_start_is_fetched_later(serve: Serve, tmp_path: Path) -> None:
    from replayer.server.oauth import RemoteKeys

    idp = serve(None, oauth=True, synthetic=False)
    server = serve(RECORDED, oauth=True, oauth_jwks=f"{idp.url}/nothing-here", oauth_issuer=idp.url)
    token = idp.token("o2ims-reader")
    r = requests.get(f"{server.url}{INV}/resourcePools", headers=_bearer(token), timeout=5)
    assert r.status_code == 401 and "unknown key" in r.json()["detail"]
    guard = server.runtime.guard
    assert guard is not None and isinstance(guard.remote, RemoteKeys)

    def repoint() -> None:
        assert guard.remote is not None
        guard.remote.url = f"{idp.url}/oauth/jwks"
        guard.remote.tried_at = -RemoteKeys.MIN_INTERVAL  # as if the retry interval had passed

    server.call(repoint)
    assert requests.get(f"{server.url}{INV}/resourcePools", headers=_bearer(token), timeout=5).json() == POOLS


# ----------------------------------------------------------------------------------------- the command line


def test_workers_share_one_signing_key_and_the_tls_files(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "replayer", "serve", "--port", "0", "--no-cache", "--workers", "2",
                             "--auth", "oauth2", "--tls", "auto", "--tls-dir", "tls"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)})
    try:
        assert proc.stdout is not None
        assert "HTTPS with the local CA tls/ca.pem" in proc.stdout.readline()
        banner = proc.stdout.readline()
        assert "auth: oauth2, tokens at https://" in banner, banner
        url = banner.split("o2replay serve: ")[1].split(" |")[0]
        ca = str(tmp_path / "tls" / "ca.pem")
        token = requests.post(f"{url}/oauth/token", data={"grant_type": "client_credentials"}, verify=ca,
                              auth=("o2ims-reader", "o2ims-reader-secret"), timeout=5).json()["access_token"]
        # New connections spread over both workers (SO_REUSEPORT): a worker with a key of its own would
        # refuse the token (401); all 40 landing on one worker has a probability of 2**-39.
        for _ in range(40):
            r = requests.get(f"{url}{INV}", headers={**_bearer(token), "Connection": "close"}, verify=ca, timeout=5)
            assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_basic_credentials_are_url_decoded(serve: Serve, tmp_path: Path) -> None:
    clients = tmp_path / "clients.yaml"
    clients.write_text("clients:\n  - {client_id: 'a:b', client_secret: 'p&ss w', roles: [o2ims-reader]}\n")
    server = _oauth(serve, oauth_clients=str(clients))
    raw = base64.b64encode(b"a%3Ab:p%26ss+w").decode()
    r = requests.post(server.token_url, data={"grant_type": "client_credentials"},
                      headers={"Authorization": f"Basic {raw}"}, timeout=5)
    assert r.status_code == 200, r.text
