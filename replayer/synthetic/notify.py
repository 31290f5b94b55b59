"""Notifications (issue 4 §4): pure event building into an outbox, and async delivery with retries.

The model side is pure: a change produces ``Notification`` records (one per matching subscription, with a
deterministic ``notificationId`` = uuid5 of the subscription id and its sequence number) in the
``Outbox``. The IO side, ``Notifier``, runs in the server's event loop: it drains the outbox and POSTs
each notification to its callback with bounded retries and exponential backoff, keeping a bounded log
that ``GET /__admin/notifications`` shows.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import socket
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from replayer.o2ims.query import QueryError, matches
from replayer.synthetic.callbacks import CallbackPolicy, default_policy
from replayer.synthetic.context import encode
from replayer.synthetic.model import Model
from replayer.synthetic.state import SessionState, Subscription

__all__ = [
    "ALARM_EVENT_TYPES",
    "CallbackRefused",
    "DeliveryPolicy",
    "PolicyResolver",
    "Notification",
    "Notifier",
    "Outbox",
    "alarm_notifications",
    "change_notifications",
]

log = logging.getLogger(__name__)

#: AlarmEventNotification.notificationEventType (O2IMS monitoring): NEW, CHANGE, CLEAR, ACKNOWLEDGE.
ALARM_EVENT_TYPES: dict[str, int] = {"NEW": 0, "CHANGE": 1, "CLEAR": 2, "ACKNOWLEDGE": 3}

#: Inventory/ClusterChangeNotification.notificationEventType: create, modify, delete.
CREATE, MODIFY, DELETE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Notification:
    """One POST to make: which subscription, where to, and the encoded body."""

    session: str
    subscription_id: str
    api: str
    callback: str
    notification_id: str
    event: str
    payload: bytes


class Outbox:
    """Notifications waiting for delivery; bounded (the oldest are dropped and counted)."""

    def __init__(self, limit: int = 10_000) -> None:
        self._items: collections.deque[Notification] = collections.deque(maxlen=limit)
        self.dropped = 0
        self.listener: Callable[[], None] | None = None

    def put(self, items: list[Notification]) -> None:
        """Queue notifications and wake the notifier."""
        for item in items:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(item)
        if items and self.listener is not None:
            self.listener()

    def drain(self) -> list[Notification]:
        """Take everything queued, oldest first."""
        items = list(self._items)
        self._items.clear()
        return items

    def __len__(self) -> int:
        return len(self._items)


def _next_id(sub: Subscription) -> str:
    sub.sent += 1
    return str(uuid.uuid5(uuid.UUID(sub.id), f"notification/{sub.sent}"))


def _filter_hit(sub: Subscription, *objects: Mapping[str, Any] | None) -> bool:
    if not sub.filter:
        return True
    try:
        return any(obj is not None and matches(obj, sub.filter) for obj in objects)
    except QueryError:
        return False  # filters are checked at subscription time; a stale one matches nothing


def change_notifications(
    state: SessionState, api: str, event_type: int, object_ref: str,
    prior: Mapping[str, Any] | None, post: Mapping[str, Any] | None, event: str,
) -> list[Notification]:
    """Inventory or cluster change notifications for every matching subscription of ``api``.

    ``object_ref`` is the object's path below the API version (``/resourcePools/{id}/resources/{id}``), or
    an absolute ``/o2ims-...`` path (provisioning progress is reported to the cluster subscriptions).
    """
    out = []
    for sub in state.subscriptions.values():
        if sub.api != api or not _filter_hit(sub, post, prior):
            continue
        body: dict[str, Any] = {"notificationId": _next_id(sub)}
        if sub.consumer_id is not None:
            body["consumerSubscriptionId"] = sub.consumer_id
        body["notificationEventType"] = event_type
        absolute = object_ref.startswith("/o2ims-")
        body["objectRef"] = object_ref if absolute else f"/o2ims-{api}/{sub.version}{object_ref}"
        if prior is not None:
            body["priorObjectState"] = dict(prior)
        if post is not None:
            body["postObjectState"] = dict(post)
        out.append(Notification(state.name, sub.id, api, sub.callback, body["notificationId"], event, encode(body)))
    return out


def alarm_notifications(model: Model, state: SessionState, kind: str, alarm: Mapping[str, Any]) -> list[Notification]:
    """AlarmEventNotifications of ``kind`` (NEW, CHANGE, CLEAR, ACKNOWLEDGE) for the alarm subscriptions.

    An alarm subscription's ``filter`` names the event type it does *not* want (O2IMS monitoring
    AlarmSubscriptionInfo.filter: "criteria for events which do not need to be reported").
    """
    out = []
    for sub in state.subscriptions.values():
        if sub.api != "infrastructureMonitoring" or sub.filter == kind:
            continue
        nid = _next_id(sub)
        body: dict[str, Any] = {"globalCloudID": model.global_cloud_id}
        if sub.consumer_id is not None:
            body["consumerSubscriptionId"] = sub.consumer_id
        body["notificationEventType"] = ALARM_EVENT_TYPES[kind]
        body["objectRef"] = f"/o2ims-infrastructureMonitoring/v1/alarms/{alarm['alarmEventRecordId']}"
        for key in ("alarmEventRecordId", "resourceTypeID", "resourceID", "alarmDefinitionID", "probableCauseID",
                    "alarmRaisedTime"):
            body[key] = alarm[key]
        body["alarmChangedTime"] = alarm.get("alarmChangedTime", alarm["alarmRaisedTime"])
        if "alarmAcknowledgedTime" in alarm:
            body["alarmAcknowledgeTime"] = alarm["alarmAcknowledgedTime"]
        body["alarmAcknowledged"] = alarm["alarmAcknowledged"]
        body["perceivedSeverity"] = alarm["perceivedSeverity"]
        body["extensions"] = {**alarm.get("extensions", {}), "notificationId": nid}
        out.append(Notification(state.name, sub.id, sub.api, sub.callback, nid, f"alarm.{kind.lower()}", encode(body)))
    return out


# ------------------------------------------------------------------------------------------- delivery (IO)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How hard to try: attempts per notification, backoff (doubling from ``backoff``), per-POST timeout."""

    attempts: int = 5
    backoff: float = 0.2
    max_backoff: float = 5.0
    timeout: float = 5.0
    log_limit: int = 1000
    queue_limit: int = 1000
    #: Where callbacks may point (``--notify-allow``; the default honours O2REPLAY_NOTIFY_LOOPBACK_ONLY=1).
    callbacks: CallbackPolicy = field(default_factory=lambda: default_policy(os.environ))


class CallbackRefused(OSError):
    """A callback's name resolved only to addresses the policy refuses (raised by ``PolicyResolver``)."""


class PolicyResolver(AbstractResolver):
    """Resolves callback host names, then keeps only the addresses the policy allows: the connection is made
    to a checked address, so a name that resolves differently later (DNS rebinding) cannot slip through."""

    def __init__(self, policy: CallbackPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        """The allowed addresses of ``host``; CallbackRefused when there is none."""
        refused = self.policy.refuse_name(host)
        if refused:
            raise CallbackRefused(refused)
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self.policy.refuse_resolved_one(host, r["host"]) is None]
        if not allowed:
            raise CallbackRefused(self.policy.refuse_resolved(host, [r["host"] for r in results]) or host)
        return allowed

    async def close(self) -> None:
        """Close the inner resolver."""
        await self._inner.close()


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
                 tick: Callable[[], None] | None = None, tick_interval: float = 0.25,
                 resolver: AbstractResolver | None = None) -> None:
        self.outbox = outbox
        self._resolver = resolver
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
        # No proxy from the environment (trust_env False) and no redirects (see _deliver): every connection
        # goes to an address the callback policy checked.
        connector = aiohttp.TCPConnector(resolver=PolicyResolver(self.policy.callbacks, self._resolver))
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.policy.timeout),
                                           connector=connector, trust_env=False)
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
        callback = record.notification.callback
        refused = self.policy.callbacks.refuse_url(callback)
        if refused:
            self._block(record, 0, refused)
            return
        delay = self.policy.backoff
        for attempt in range(1, self.policy.attempts + 1):
            outcome: dict[str, Any] = {"attempt": attempt}
            location = ""
            try:
                async with self._http.post(
                    callback, data=record.notification.payload, headers={"Content-Type": "application/json"},
                    allow_redirects=False,
                ) as resp:
                    outcome["status"] = resp.status
                    outcome["body"] = (await resp.read())[:512].decode("utf-8", "replace")
                    location = resp.headers.get("Location", "")
            except aiohttp.ClientConnectorError as e:
                if isinstance(e.os_error, CallbackRefused):
                    self._block(record, attempt, str(e.os_error))
                    return
                outcome["error"] = f"{type(e).__name__}: {e}"
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
                outcome["error"] = f"{type(e).__name__}: {e}"
            record.attempts.append(outcome)
            status = outcome.get("status", 0)
            if 200 <= status < 300:
                record.state = "delivered"
                return
            if 300 <= status < 400:  # never followed: the target would escape the callback policy
                outcome["error"] = f"redirect not followed (Location: {location[:200]})"
                record.state = "failed"
                log.warning("notification %s to %s failed: the callback answered %d (a redirect is not followed)",
                            record.notification.notification_id, callback, status)
                return
            if attempt < self.policy.attempts:
                await asyncio.sleep(delay)  # backoff between attempts, not synchronisation
                delay = min(delay * 2, self.policy.max_backoff)
        record.state = "failed"
        log.warning("notification %s to %s failed after %d attempts", record.notification.notification_id,
                    record.notification.callback, self.policy.attempts)

    def _block(self, record: DeliveryRecord, attempt: int, reason: str) -> None:
        record.attempts.append({"attempt": attempt, "error": f"blocked: {reason}"})
        record.state = "blocked"
        log.warning("notification %s to %s blocked: %s", record.notification.notification_id,
                    record.notification.callback, reason)

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
