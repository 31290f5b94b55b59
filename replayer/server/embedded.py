"""The replay server in a background thread with its own event loop: for the pytest plugin and tests.

    with EmbeddedServer(ServeConfig(paths=("cassettes",), port=0)) as server:
        requests.get(server.url + "/health")

With ``tls="auto"`` the URL is ``https://`` and ``ca_path`` names the CA to verify it with; with
``oauth=True``, ``token(client_id, secret)`` fetches an access token from the embedded token endpoint.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from replayer.server.app import create_app
from replayer.server.config import ServeConfig
from replayer.server.inbound import INBOUND, KEEPALIVE_TIMEOUT, GuardedSite
from replayer.server.keys import RUNTIME
from replayer.server.logs import AccessLogger
from replayer.server.runtime import Runtime, log
from replayer.server.state import LoadedSet
from replayer.server.tls import resolve_tls, ssl_context

__all__ = ["EmbeddedServer"]

R = TypeVar("R")


class EmbeddedServer:
    """A real replay server on ``config.host``, port from config (0: ephemeral), in a daemon thread."""

    def __init__(self, config: ServeConfig, *, live: LoadedSet | None = None, start_timeout: float = 30.0) -> None:
        self.config = config
        self._live = live
        self._timeout = start_timeout
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.app: web.Application | None = None
        #: The CA consumers trust under ``tls: auto`` (None: plain HTTP or a certificate of your own).
        self.ca_path: str | None = None

    @property
    def runtime(self) -> Runtime:
        """The server's runtime (touch it only through ``call``)."""
        assert self.app is not None, "server not started"
        return self.app[RUNTIME]

    def start(self) -> EmbeddedServer:
        """Start serving; returns once the port is bound (raises what start-up raised, e.g. CassetteError)."""
        self._thread = threading.Thread(target=self._run, name="o2replay-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(self._timeout):
            raise TimeoutError(f"replay server did not start within {self._timeout:g} s")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as e:  # noqa: BLE001 - handed to the starting thread
            self._error = e
        finally:
            self._ready.set()
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self.app = create_app(self.config, live=self._live)
        tls = resolve_tls(self.config)
        self.ca_path = str(tls.consumer_ca) if tls is not None and tls.consumer_ca else None
        access = log.getChild("access") if self.config.access_log else None
        runner = web.AppRunner(self.app, access_log=access, access_log_class=AccessLogger, shutdown_timeout=5.0,
                               keepalive_timeout=KEEPALIVE_TIMEOUT)
        await runner.setup()
        try:
            site = GuardedSite(runner, self.config.host, self.config.port, self.app[INBOUND],
                               ssl_context=ssl_context(tls) if tls is not None else None)
            await site.start()
            host, port = runner.addresses[0][:2]
            self.url = f"{self.config.scheme}://{host}:{port}"
            guard = self.app[RUNTIME].guard
            if guard is not None:
                guard.bind(self.url)
            self._ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()

    @property
    def token_url(self) -> str:
        """The embedded token endpoint (``--auth oauth2``)."""
        return self.url + "/oauth/token"

    def token(self, client_id: str = "o2ims-admin", secret: str | None = None, scope: str | None = None,
              cert: tuple[str, str] | None = None) -> str:
        """An access token from the embedded token endpoint (client credentials; default clients' secrets
        are ``<client_id>-secret``); ``cert``: a client certificate and key for mutual TLS."""
        import json
        import ssl
        import urllib.parse
        import urllib.request

        form = {"grant_type": "client_credentials", "client_id": client_id,
                "client_secret": secret if secret is not None else f"{client_id}-secret"}
        if scope:
            form["scope"] = scope
        req = urllib.request.Request(self.token_url, data=urllib.parse.urlencode(form).encode(), method="POST")
        ctx = ssl.create_default_context(cafile=self.ca_path) if self.url.startswith("https") else None
        if ctx is not None and cert is not None:
            ctx.load_cert_chain(*cert)
        with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:  # noqa: S310 - our own server
            return str(json.loads(resp.read())["access_token"])

    def client_cert(self, name: str) -> tuple[str, str]:
        """A client certificate and key (files) for mutual TLS, issued by the local CA of ``tls_dir``
        (``tls_client_ca="auto"``), for ``requests``' ``cert=`` or ``token(cert=...)``."""
        from replayer.security.certs import issue_client_cert

        cert, key = issue_client_cert(self.config.tls_dir, name)
        return str(cert), str(key)

    def call(self, fn: Callable[[], R], timeout: float = 10.0) -> R:
        """Run ``fn`` on the server's loop (where the runtime lives) and return its result."""
        assert self._loop is not None

        async def wrapper() -> R:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop gracefully and join the thread."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:
                pass  # the loop already finished
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> Any:
        self.stop()
        return None
