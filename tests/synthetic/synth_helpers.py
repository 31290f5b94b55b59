"""Helpers of the synthetic O2IMS tests: the model mounted in a tiny real aiohttp app on 127.0.0.1:0."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from aiohttp import web

from replayer.synthetic.api import SynthRequest, SyntheticO2IMS, setup_docs, setup_synthetic


def make_app(model: SyntheticO2IMS) -> web.Application:
    """The model behind a catch-all route, with its admin routes, notifier and docs (what the server does)."""
    app = web.Application()
    setup_synthetic(app, model)
    setup_docs(app, model)

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        resp = model.handle(SynthRequest(
            method=request.method, path=request.path, query=tuple(request.query.items()),
            headers={k.lower(): v for k, v in request.headers.items()}, body=body,
            session=request.headers.get("X-Replay-Session", "default"),
            base_url=f"{request.scheme}://{request.host}",
        ))
        return web.Response(status=resp.status, headers=resp.headers, body=resp.body)

    app.router.add_route("*", r"/{tail:[\s\S]*}", handle)  # [\s\S]: a decoded %0A in the path
    return app


class ServerThread:
    """Runs an aiohttp app on 127.0.0.1 with an ephemeral port in a background event loop."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def start(self) -> ServerThread:
        self.thread.start()
        assert self.ready.wait(10), "server did not start"
        return self

    def call(self, coro: Any, timeout: float = 10) -> Any:
        """Run a coroutine in the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        assert self._runner is not None
        self.call(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


