"""A small O2IMS-like upstream for recording tests: aiohttp on 127.0.0.1:0, in a background thread.

It requires a bearer token, has an OAuth token endpoint, gzip-compresses some answers, serves a
deployment manager whose ``extensions.profileData`` holds a kubeconfig with PEM material, and
accepts notifications on ``/consumer/notify``. Every secret it uses is a random canary, so a test
can grep a cassette for them.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["Canaries", "Upstream", "make_app", "INVENTORY", "FIXED_DATE", "NOTIFICATIONS"]

INVENTORY = "/o2ims-infrastructureInventory/v1"
#: A fixed Date header, so that the same traffic recorded twice is the same bytes.
FIXED_DATE = "Thu, 01 Jan 2026 00:00:00 GMT"
#: Notification bodies the consumer endpoint received.
NOTIFICATIONS = web.AppKey("notifications", list)


def _tok(n: int = 24) -> str:
    return "cnry" + secrets.token_hex(n // 2)


@dataclass(frozen=True)
class Canaries:
    """Unique random secrets, one per place a secret can hide."""

    access_token: str = field(default_factory=_tok)
    refresh_token: str = field(default_factory=_tok)
    client_secret: str = field(default_factory=_tok)
    password: str = field(default_factory=_tok)
    cookie: str = field(default_factory=_tok)
    auth_header: str = field(default_factory=_tok)
    query_token: str = field(default_factory=_tok)
    client_key: str = field(default_factory=_tok)
    ca_cert: str = field(default_factory=_tok)
    kube_token: str = field(default_factory=_tok)
    ssl_client: str = field(default_factory=_tok)
    api_key: str = field(default_factory=_tok)
    jwt_sig: str = field(default_factory=_tok)
    url_password: str = field(default_factory=_tok)
    pem_note: str = field(default_factory=_tok)
    ssl_chain: str = field(default_factory=_tok)
    proxy_auth: str = field(default_factory=_tok)

    @property
    def id_token(self) -> str:
        """A JWT-shaped canary (header.payload.signature)."""
        head = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').rstrip(b"=").decode()
        body = base64.urlsafe_b64encode(json.dumps({"sub": self.jwt_sig}).encode()).rstrip(b"=").decode()
        return f"{head}.{body}.{self.jwt_sig}"

    def all(self) -> dict[str, str]:
        """Every canary by name."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["id_token"] = self.id_token
        return out

    def pem(self, kind: str, secret: str) -> str:
        """A PEM block whose base64 body carries the canary."""
        b64 = base64.b64encode(secret.encode() * 3).decode()
        return f"-----BEGIN {kind}-----\n{b64}\n-----END {kind}-----\n"


def _kubeconfig(c: Canaries) -> str:
    ca = base64.b64encode(c.pem("CERTIFICATE", c.ca_cert).encode()).decode()
    key = base64.b64encode(c.pem("RSA PRIVATE KEY", c.client_key).encode()).decode()
    return (
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
        f"    certificate-authority-data: {ca}\n    server: https://edge1.example:6443\n  name: edge1\n"
        "users:\n- name: admin\n  user:\n"
        f"    client-key-data: {key}\n    token: {c.kube_token}\n"
    )


def _deployment_manager(c: Canaries) -> dict[str, Any]:
    return {
        "deploymentManagerId": "dm-edge1",
        "name": "edge1",
        "description": "Kubernetes deployment manager for edge1",
        "oCloudId": "ocloud-1",
        "serviceUri": "https://edge1.example:6443",
        "extensions": {
            "profileName": "native_k8sapi",
            "profileData": {
                "cluster_api_endpoint": "https://edge1.example:6443",
                "cluster_ca_cert": c.pem("CERTIFICATE", c.ca_cert),
                "admin_user": "kubernetes-admin",
                "admin_client_cert": c.pem("CERTIFICATE", c.ca_cert),
                "admin_client_key": c.pem("RSA PRIVATE KEY", c.client_key),
                "kubeconfig": _kubeconfig(c),
            },
        },
    }


POOLS = [
    {"resourcePoolId": f"pool-edge{i}", "name": f"edge{i}-compute", "oCloudId": "ocloud-1",
     "globalLocationId": f"edge{i}", "description": f"compute pool of edge{i}"}
    for i in range(1, 5)
]


def _json(doc: Any, *, status: int = 200, gzipped: bool = False, headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps(doc).encode()
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    if gzipped:
        body = gzip.compress(body, mtime=0)
        hdrs["Content-Encoding"] = "gzip"
    return web.Response(body=body, status=status, headers=hdrs)


def make_app(c: Canaries) -> web.Application:
    """The upstream app; state (subscriptions, notifications received) lives on the app."""
    notifications: list[Any] = []

    @web.middleware
    async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith(INVENTORY) and request.headers.get("Authorization") != f"Bearer {c.access_token}":
            return _json({"status": 401, "title": "Unauthorized"}, status=401)
        resp: web.StreamResponse = await handler(request)
        return resp

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["Date"] = FIXED_DATE

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_secret") != c.client_secret or form.get("password") != c.password:
            return _json({"error": "invalid_client"}, status=401)
        return _json({"access_token": c.access_token, "refresh_token": c.refresh_token, "id_token": c.id_token,
                      "token_type": "Bearer", "expires_in": 300},
                     headers={"Set-Cookie": f"session={c.cookie}; Path=/; HttpOnly"})

    async def ocloud(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        if peer:  # mTLS: say who the client certificate names
            return _json({"oCloudId": "ocloud-1", "clientCertificate": dict(x[0] for x in peer["subject"])})
        return _json({"oCloudId": "ocloud-1", "globalcloudId": "gc-1", "name": "edge-cloud",
                      "serviceUri": "http://o2ims.example"})

    async def pools(request: web.Request) -> web.Response:
        return _json(POOLS, gzipped=True)

    async def pool(request: web.Request) -> web.Response:
        found = [p for p in POOLS if p["resourcePoolId"] == request.match_info["id"]]
        if not found:
            return _json({"status": 404, "title": "Not Found"}, status=404)
        return _json(found[0], gzipped=True)

    async def dms(request: web.Request) -> web.Response:
        return _json([_deployment_manager(c)])

    async def subscribe(request: web.Request) -> web.Response:
        doc = await request.json()
        return _json({**doc, "subscriptionId": "sub-1"}, status=201)

    async def notify(request: web.Request) -> web.Response:
        notifications.append(await request.json())
        return web.Response(status=204)

    async def other(request: web.Request) -> web.Response:
        return web.Response(text="not an O2IMS path\n")

    app = web.Application(middlewares=[auth])
    app.on_response_prepare.append(on_prepare)
    app[NOTIFICATIONS] = notifications
    app.add_routes([
        web.post("/oauth/token", token),
        web.get(INVENTORY, ocloud),
        web.get(f"{INVENTORY}/resourcePools", pools),
        web.get(f"{INVENTORY}/resourcePools/{{id}}", pool),
        web.get(f"{INVENTORY}/deploymentManagers", dms),
        web.post(f"{INVENTORY}/subscriptions", subscribe),
        web.post("/consumer/notify", notify),
        web.get("/health", other),
    ])
    return app


class Upstream:
    """Runs ``make_app`` on 127.0.0.1 (ephemeral port) in a thread; use as a context manager."""

    def __init__(self, canaries: Canaries | None = None, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.canaries = canaries or Canaries()
        self._ssl = ssl_context
        self.app = make_app(self.canaries)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="upstream", daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"{'https' if self._ssl else 'http'}://127.0.0.1:{self.port}"

    @property
    def notifications(self) -> list[Any]:
        """Notification bodies the consumer endpoint received."""
        return list(self.app[NOTIFICATIONS])

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._stop())
        self._loop.close()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> Upstream:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("upstream did not start within 10 s")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
