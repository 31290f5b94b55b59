"""Per-session state of the synthetic O2IMS: subscriptions, provisioning requests, alarms, configuration.

A replay session (``X-Replay-Session``) gets its own ``SessionState`` on first use; ``reset`` drops it.
Static inventory lives in the shared ``Model``; a session only holds what it changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from replayer.synthetic.model import Model

__all__ = ["ProvisioningRecord", "SessionState", "Subscription"]

JSON = dict[str, Any]

#: The alarm service configuration a new session starts with (O2IMS monitoring AlarmServiceConfiguration).
DEFAULT_SERVICE_CONFIGURATION: JSON = {"retentionPeriod": 14, "extensions": {}}


@dataclass(slots=True)
class Subscription:
    """A subscription of the inventory, cluster or monitoring API."""

    id: str
    api: str  # "infrastructureInventory" | "infrastructureCluster" | "infrastructureMonitoring"
    version: str  # the API version it was created through: objectRefs use it
    callback: str
    consumer_id: str | None
    filter: str | None
    sent: int = 0  # notifications generated so far: the sequence of the next notificationId

    def body(self) -> JSON:
        """The subscription as the API shows it (Subscription / AlarmSubscriptionInfo)."""
        key = "alarmSubscriptionId" if self.api == "infrastructureMonitoring" else "subscriptionId"
        out: JSON = {key: self.id, "callback": self.callback}
        if self.consumer_id is not None:
            out["consumerSubscriptionId"] = self.consumer_id
        if self.filter is not None:
            out["filter"] = self.filter
        return out


@dataclass(slots=True)
class ProvisioningRecord:
    """One provisioning request and where it is in its lifecycle (PENDING -> ... -> FULFILLED)."""

    id: str
    data: JSON
    phase: str
    message: str
    update_time: str
    site: str
    created_at: float  # injected clock at creation or last update (seconds mode)
    reads: int = 0  # reads since creation or last update (requests mode)
    deleted_at: float | None = None
    deleted_reads: int = 0
    node_cluster_id: str = ""
    resource_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SessionState:
    """Everything one replay session changed."""

    name: str
    started: float  # injected clock when the session was first seen
    changes: int = 0  # state changes so far: the logical clock of requests mode
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    subscription_count: int = 0
    alarms: dict[str, JSON] = field(default_factory=dict)  # id -> AlarmEventRecord (copy on write)
    alarm_count: int = 0
    service_configuration: JSON = field(default_factory=lambda: dict(DEFAULT_SERVICE_CONFIGURATION))
    provisioning: dict[str, ProvisioningRecord] = field(default_factory=dict)
    extra_resources: dict[str, list[JSON]] = field(default_factory=dict)  # pool id -> added resources
    resource_count: int = 0
    node_clusters: dict[str, JSON] = field(default_factory=dict)  # provisioned clusters, by id
    cluster_resources: dict[str, JSON] = field(default_factory=dict)

    @classmethod
    def fresh(cls, name: str, model: Model, now: float) -> SessionState:
        """A session that sees the model as built."""
        return cls(name=name, started=now, alarms={a["alarmEventRecordId"]: a for a in model.alarms})

    def next_subscription_number(self) -> int:
        """1, 2, 3... per session: subscription ids are uuid5 of the session and this number."""
        self.subscription_count += 1
        return self.subscription_count

    def has_callback(self, api: str, callback: str) -> bool:
        """Whether ``api`` already has a subscription with this callback."""
        return any(s.api == api and s.callback == callback for s in self.subscriptions.values())
