"""A scripted O2IMS consumer session against pti-o2: every route it serves, paging, errors and writes.

Used to record pti-o2 (the record-then-replay and drift tests, ``make cassettes``). Requests go in a fixed
order with fixed bodies, so the same inventory gives the same session; ids come from the answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

INV = "/o2ims-infrastructureInventory"
MON = "/o2ims-infrastructureMonitoring"
NO_SUCH_ID = "00000000-0000-4000-8000-00000000dead"


@dataclass(frozen=True, slots=True)
class Seen:
    """One exchange as the consumer saw it."""

    method: str
    path: str  # path and query, as sent
    status: int
    content_type: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Consumer:
    """Sends requests to ``base`` with ``auth`` headers and keeps what it saw, in order."""

    def __init__(self, base: str, auth: Mapping[str, str]) -> None:
        self.base, self.auth = base, dict(auth)
        self.http = requests.Session()
        self.http.trust_env = False  # never through a proxy from the environment
        self.seen: list[Seen] = []

    def send(self, method: str, path: str, body: Any = None, *, auth: bool = True,
             headers: Mapping[str, str] | None = None) -> Seen:
        """One request; a non-None ``body`` is sent as JSON."""
        hdrs = {"Accept": "application/json", **(self.auth if auth else {}), **(headers or {})}
        resp = self.http.request(method, self.base + path, json=body, headers=hdrs, timeout=30)
        seen = Seen(method, path, resp.status_code, resp.headers.get("Content-Type", ""),
                    {k: v for k, v in resp.headers.items()}, resp.content)
        self.seen.append(seen)
        return seen

    def get(self, path: str, **kw: Any) -> Seen:
        """``send("GET", path)``."""
        return self.send("GET", path, **kw)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


def _ids(seen: Seen, key: str) -> list[str]:
    return [str(item[key]) for item in seen.json()] if seen.status == 200 else []


def _next_link(seen: Seen) -> str | None:
    """The path and query of the ``rel="next"`` link, when there is one."""
    for part in seen.headers.get("Link", "").split(","):
        if 'rel="next"' in part:
            url = part.split(";")[0].strip().strip("<>")
            parts = urlsplit(url)
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return None


def get_pages(c: Consumer, path: str) -> list[Seen]:
    """GET a collection and every following page by its ``Link: rel="next"``; at most 20 pages."""
    pages = [c.get(path)]
    for _ in range(20):
        nxt = _next_link(pages[-1])
        if nxt is None:
            break
        pages.append(c.get(nxt))
    return pages


def inventory(c: Consumer) -> None:
    """Every inventory GET route, every page of every resource list, one resource of each pool."""
    c.get(f"{INV}/api_versions")
    c.get(f"{INV}/v1/api_versions")
    c.get(f"{INV}/v1")
    for rt in _ids(c.get(f"{INV}/v1/resourceTypes"), "resourceTypeId"):
        c.get(f"{INV}/v1/resourceTypes/{rt}")
    for pool in _ids(c.get(f"{INV}/v1/resourcePools"), "resourcePoolId"):
        c.get(f"{INV}/v1/resourcePools/{pool}")
        pages = get_pages(c, f"{INV}/v1/resourcePools/{pool}/resources")
        first = _ids(pages[0], "resourceId")
        if first:
            c.get(f"{INV}/v1/resourcePools/{pool}/resources/{first[0]}")
    for dm in _ids(c.get(f"{INV}/v1/deploymentManagers"), "deploymentManagerId"):
        c.get(f"{INV}/v1/deploymentManagers/{dm}")
    c.get(f"{INV}/v1/subscriptions")


def monitoring(c: Consumer) -> None:
    """Every monitoring GET route."""
    c.get(f"{MON}/api_versions")
    c.get(f"{MON}/v1/api_versions")
    for alarm in _ids(c.get(f"{MON}/v1/alarms"), "alarmEventRecordId"):
        c.get(f"{MON}/v1/alarms/{alarm}")
    c.get(f"{MON}/v1/alarmSubscriptions")
    c.get(f"{MON}/v1/alarmServiceConfiguration")


def queries(c: Consumer) -> None:
    """A few queries a consumer makes: filter, selectors, a page by number."""
    pools = f"{INV}/v1/resourcePools"
    c.get(f"{pools}?filter=(eq,name,edge1)")
    c.get(f"{pools}?filter=(cont,description,EDGE)")
    c.get(f"{pools}?fields=location")
    c.get(f"{pools}?exclude_default=true")
    c.get(f"{INV}/v1/resourceTypes?all_fields")
    c.get(f"{MON}/v1/alarms?filter=(eq,perceivedSeverity,1)")


def errors(c: Consumer) -> None:
    """What pti-o2 answers when asked wrongly: unknown ids, pages, filters, selectors, methods, tokens."""
    c.get(f"{INV}/v1/resourceTypes/{NO_SUCH_ID}")
    c.get(f"{INV}/v1/resourcePools/{NO_SUCH_ID}")
    c.get(f"{INV}/v1/resourcePools/{NO_SUCH_ID}/resources")
    c.get(f"{INV}/v1/deploymentManagers/{NO_SUCH_ID}")
    c.get(f"{MON}/v1/alarms/{NO_SUCH_ID}")
    c.get(f"{INV}/v1/resourcePools?nextpage_opaque_marker=9")
    c.get(f"{INV}/v1/resourcePools?filter=(eq,nosuch,x)")
    c.get(f"{INV}/v1/resourcePools?filter=(like,name,x)")
    c.get(f"{INV}/v1/resourcePools?filter=name")
    c.get(f"{INV}/v1/resourcePools?fields=nosuch")
    c.send("DELETE", f"{INV}/v1/resourcePools")
    c.get(f"{INV}/v1/resourcePools", auth=False)


def subscriptions(c: Consumer) -> None:
    """Create, duplicate (409), list, read and delete (twice) an inventory and an alarm subscription."""
    for path, key, n in ((f"{INV}/v1/subscriptions", "subscriptionId", 1),
                         (f"{MON}/v1/alarmSubscriptions", "alarmSubscriptionId", 2)):
        body = {"callback": f"http://127.0.0.1:9/consumer/{n}",
                "consumerSubscriptionId": f"3f1e0c6a-000{n}-4b7e-9d7c-00000000000{n}", "filter": ""}
        created = c.send("POST", path, body)
        c.send("POST", path, body)
        c.get(path)
        if created.status == 201:
            sub = str(created.json()[key])
            c.get(f"{path}/{sub}")
            c.send("DELETE", f"{path}/{sub}")
            c.send("DELETE", f"{path}/{sub}")


def acknowledge(c: Consumer) -> None:
    """Acknowledge the first alarm and read it back."""
    alarms = _ids(c.get(f"{MON}/v1/alarms"), "alarmEventRecordId")
    if alarms:
        c.send("PATCH", f"{MON}/v1/alarms/{alarms[0]}", {"alarmAcknowledged": True},
               headers={"Content-Type": "application/merge-patch+json"})
        c.get(f"{MON}/v1/alarms/{alarms[0]}")


READS: tuple[Callable[[Consumer], None], ...] = (inventory, monitoring, queries, errors)
WRITES: tuple[Callable[[Consumer], None], ...] = (subscriptions, acknowledge)


def session(base: str, auth: Mapping[str, str], steps: tuple[Callable[[Consumer], None], ...] = READS + WRITES
            ) -> list[Seen]:
    """Run ``steps`` against ``base``; everything the consumer saw, in order."""
    c = Consumer(base, auth)
    try:
        for step in steps:
            step(c)
    finally:
        c.close()
    return c.seen
