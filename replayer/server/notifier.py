"""Delivery of the synthetic O2IMS's notifications: POSTs to the subscribers' callbacks, with retries.

``Notifier`` runs in the server's event loop: it drains the model's ``Outbox`` and POSTs each
notification to its callback with bounded retries and exponential backoff, keeping a bounded log that
``GET /__admin/notifications`` shows. Building the notifications is the model's
(``replayer.synthetic.notify``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ipaddress
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from replayer.synthetic.notify import Notification, Outbox

__all__ = ["NOTIFIER_KEY", "DeliveryPolicy", "DeliveryRecord", "Notifier", "is_loopback_url", "notifier_ctx"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How hard to try: attempts per notification, backoff (doubling from ``backoff``), per-POST timeout."""

    attempts: int = 5
    backoff: float = 0.2
    max_backoff: float = 5.0
    timeout: float = 5.0
    log_limit: int = 1000
    queue_limit: int = 1000
    # O2REPLAY_NOTIFY_LOOPBACK_ONLY=1: deliver only to loopback callbacks (the test suite sets it, so that
    # fuzzed subscriptions never make the synthetic O2IMS connect, or resolve names, outside the machine).
    loopback_only: bool = field(default_factory=lambda: os.environ.get("O2REPLAY_NOTIFY_LOOPBACK_ONLY") == "1")


def is_loopback_url(url: str) -> bool:
    """True when a callback URL names localhost or a loopback address literally (no name is resolved)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(slots=True)
class DeliveryRecord:
    """A notification and what its callback answered, attempt by attempt."""

    notification: Notification
    attempts: list[dict[str, Any]] = field(default_factory=list)
    state: str = "pending"  # pending | delivered | failed | dropped | blocked

    def as_json(self) -> dict[str, Any]:
        """The admin view of this record."""
        n = self.notification
        return {
            "notificationId": n.notification_id,
            "session": n.session,
            "subscriptionId": n.subscription_id,
            "api": n.api,
            "event": n.event,
            "callback": n.callback,
            "state": self.state,
            "attempts": self.attempts,
            "payload": json.loads(n.payload),
        }


class Notifier:
    """Delivers the outbox: one worker per callback (keeps each consumer's order), retries with backoff."""

    def __init__(self, outbox: Outbox, policy: DeliveryPolicy | None = None,
                 tick: Callable[[], None] | None = None, tick_interval: float = 0.25) -> None:
        self.outbox = outbox
        self.policy = policy or DeliveryPolicy()
        self.log: collections.deque[DeliveryRecord] = collections.deque(maxlen=self.policy.log_limit)
        self._tick = tick
        self._tick_interval = tick_interval
        self._wake = asyncio.Event()
        self._queues: dict[str, asyncio.Queue[DeliveryRecord]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> Notifier:
        loop = asyncio.get_running_loop()
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.policy.timeout))
        def wake() -> None:
            loop.call_soon_threadsafe(self._wake.set)

        self.outbox.listener = wake
        self._tasks.append(asyncio.create_task(self._pump(), name="o2replay-notifier"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.outbox.listener = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._http is not None:
            await self._http.close()

    async def _pump(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._tick_interval)
            self._wake.clear()
            if self._tick is not None:
                self._tick()  # time-driven lifecycle changes (lifecycle mode "seconds")
            for item in self.outbox.drain():
                self._enqueue(DeliveryRecord(item))

    def _enqueue(self, record: DeliveryRecord) -> None:
        self.log.append(record)
        queue = self._queues.get(record.notification.callback)
        if queue is None:
            queue = asyncio.Queue(self.policy.queue_limit)
            self._queues[record.notification.callback] = queue
            self._tasks.append(asyncio.create_task(self._worker(queue)))
        try:
            queue.put_nowait(record)
        except asyncio.QueueFull:
            record.state = "dropped"

    async def _worker(self, queue: asyncio.Queue[DeliveryRecord]) -> None:
        while True:
            record = await queue.get()
            await self._deliver(record)
            async with self._changed:
                self._changed.notify_all()

    async def _deliver(self, record: DeliveryRecord) -> None:
        assert self._http is not None
        if self.policy.loopback_only and not is_loopback_url(record.notification.callback):
            record.attempts.append({"attempt": 0, "error": "blocked: not a loopback callback "
                                                           "(O2REPLAY_NOTIFY_LOOPBACK_ONLY=1)"})
            record.state = "blocked"
            return
        delay = self.policy.backoff
        for attempt in range(1, self.policy.attempts + 1):
            outcome: dict[str, Any] = {"attempt": attempt}
            try:
                async with self._http.post(
                    record.notification.callback, data=record.notification.payload,
                    headers={"Content-Type": "application/json"},
                ) as resp:
                    outcome["status"] = resp.status
                    outcome["body"] = (await resp.read())[:512].decode("utf-8", "replace")
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
                outcome["error"] = f"{type(e).__name__}: {e}"
            record.attempts.append(outcome)
            if 200 <= outcome.get("status", 0) < 300:
                record.state = "delivered"
                return
            if attempt < self.policy.attempts:
                await asyncio.sleep(delay)  # backoff between attempts, not synchronisation
                delay = min(delay * 2, self.policy.max_backoff)
        record.state = "failed"
        log.warning("notification %s to %s failed after %d attempts", record.notification.notification_id,
                    record.notification.callback, self.policy.attempts)

    def records(self, session: str | None = None) -> list[dict[str, Any]]:
        """The delivery log (oldest first), optionally for one session."""
        return [r.as_json() for r in self.log if session is None or r.notification.session == session]

    def clear(self) -> None:
        """Forget the delivery log."""
        self.log.clear()

    async def wait_settled(self, timeout: float, minimum: int = 0) -> bool:
        """Wait until at least ``minimum`` notifications were logged and none is queued or pending (True),
        or ``timeout`` seconds pass (False)."""
        async def settled() -> None:
            while True:
                if (len(self.log) >= minimum and not len(self.outbox)
                        and all(r.state != "pending" for r in self.log)):
                    return
                async with self._changed:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.05)
        try:
            await asyncio.wait_for(settled(), timeout)
        except asyncio.TimeoutError:
            return False
        return True


NOTIFIER_KEY = web.AppKey("o2replay_synthetic_notifier", Notifier)


def notifier_ctx(notifier: Notifier) -> Callable[[web.Application], AsyncIterator[None]]:
    """An ``app.cleanup_ctx`` entry running ``notifier`` for the app's lifetime."""
    async def run(app: web.Application) -> AsyncIterator[None]:
        async with notifier:
            yield
    return run
