"""Notifications, pure: a change produces ``Notification`` records in the ``Outbox``.

One record per matching subscription, with a deterministic ``notificationId`` (uuid5 of the subscription
id and its sequence number). Delivery (POSTs with retries) is the server's: ``replayer.server.notifier``.
"""

from __future__ import annotations

import collections
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from replayer.o2ims.query import QueryError, matches
from replayer.synthetic.answers import encode
from replayer.synthetic.model import Model
from replayer.synthetic.state import SessionState, Subscription

__all__ = [
    "ALARM_EVENT_TYPES",
    "CREATE",
    "DELETE",
    "MODIFY",
    "Notification",
    "Outbox",
    "alarm_notifications",
    "change_notifications",
]

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
