"""A headless Chromium driven over the Chrome DevTools Protocol (CDP) with aiohttp's websocket client.

Only what the browser tests need: launch (Debian's ``chromium``), one page, commands, events, JavaScript
evaluation and polling with a deadline, screenshots. The browser is a real one: it runs Swagger UI's
JavaScript, fetches its assets and sends "Try it out" requests itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

__all__ = ["chromium_binary", "Chromium", "Page"]


def chromium_binary() -> str | None:
    """Debian's Chromium (``make browser-test`` installs it), or ``$CHROMIUM``."""
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    return None


class Chromium:
    """A headless Chromium child process with remote debugging on an ephemeral port."""

    def __init__(self, binary: str, profile: Path, *, timeout: float = 60.0) -> None:
        argv = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", "--metrics-recording-only",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                f"--user-data-dir={profile}", "--window-size=1400,2200", "about:blank"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str | None] = queue.Queue()
        self.log: list[str] = []

        def read() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.close()
                raise RuntimeError("chromium did not start:\n" + "".join(self.log[-20:]))
            self.log.append(line)
            m = re.search(r"DevTools listening on ws://([\d.]+:\d+)/", line)
            if m:
                self.endpoint = f"http://{m.group(1)}"
                return

    def close(self) -> None:
        """Stop the browser."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Page:
    """One page target: ``await send(method, **params)``, events in ``events``."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.events: list[dict[str, Any]] = []
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next = 0

    async def __aenter__(self) -> Page:
        self._http = aiohttp.ClientSession()
        async with self._http.get(f"{self.endpoint}/json/list") as r:
            targets = await r.json(content_type=None)
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        self._ws = await self._http.ws_connect(ws_url, max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._reader.cancel()
        await self._ws.close()
        await self._http.close()

    async def _read(self) -> None:
        async for msg in self._ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self._pending:
                self._pending.pop(data["id"]).set_result(data)
            elif "method" in data:
                self.events.append(data)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Run one CDP command; raises on a protocol error."""
        self._next += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next] = future
        await self._ws.send_str(json.dumps({"id": self._next, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    async def js(self, expression: str) -> Any:
        """Evaluate JavaScript in the page; its (JSON-able) value."""
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def until(self, expression: str, what: str, timeout: float = 60.0) -> Any:
        """Poll ``expression`` until it is truthy; fails naming ``what`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")

    async def screenshot(self, path: Path) -> None:
        """A PNG of the whole page."""
        shot = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
