"""Send the same generated queries to pti-o2 and to o2ims-replay; collect where the answers differ.

    collections = oracle_collections(ref.base_url, ref.auth())
    report = run(generate(collections, 300), Side(ref.base_url, ref.tokens), Side(ours_url, ref.tokens))
    unexplained = [d for d in report.differences if explain(d) is None]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import requests

from tests.ptio2.compare import Answer, Difference, differences, send
from tests.ptio2.queries import INV, MON, Collection, Query
from tests.ptio2.walk import Consumer, get_pages

#: (path, id attribute) of the collections pti-o2 serves; resources are added per pool.
COLLECTIONS = ((f"{INV}/v1/resourceTypes", "resourceTypeId"), (f"{INV}/v1/resourcePools", "resourcePoolId"),
               (f"{INV}/v1/deploymentManagers", "deploymentManagerId"), (f"{INV}/v1/subscriptions", "subscriptionId"),
               (f"{MON}/v1/alarms", "alarmEventRecordId"), (f"{MON}/v1/alarmSubscriptions", "alarmSubscriptionId"))


@dataclass(frozen=True, slots=True)
class Side:
    """One server under comparison: its base URL and the tokens to send."""

    base_url: str
    tokens: Mapping[str, str]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Report:
    """What a differential run found."""

    tried: int = 0
    equal: int = 0
    differences: list[Difference] = field(default_factory=list)
    by_family: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """One line: queries tried, equal, differing."""
        return f"{self.tried} queries, {self.equal} equal, {self.tried - self.equal} differing"


def _all_items(c: Consumer, path: str, all_fields: bool) -> tuple[list[dict[str, object]], int]:
    pages = get_pages(c, f"{path}?all_fields" if all_fields else path)
    items = [item for page in pages if page.status == 200 for item in page.json()]
    return items, len(pages)


def oracle_collections(base_url: str, auth: Mapping[str, str], all_fields: bool = True) -> list[Collection]:
    """The collections of the server at ``base_url`` with every element (every page; every attribute with
    ``all_fields``, else the attributes a plain list shows), the resources of every pool included."""
    c = Consumer(base_url, auth)
    try:
        out = []
        for path, key in COLLECTIONS:
            items, pages = _all_items(c, path, all_fields)
            out.append(Collection(path, key, tuple(items), pages))
        for pool in sorted(str(p["resourcePoolId"]) for p in out[1].items):
            path = f"{INV}/v1/resourcePools/{pool}/resources"
            items, pages = _all_items(c, path, all_fields)
            out.append(Collection(path, "resourceId", tuple(items), pages))
        return out
    finally:
        c.close()


def run(queries: Sequence[Query], real: Side, ours: Side,
        after_each: Callable[[Query], None] | None = None) -> Report:
    """Send every query to both sides, in order; ``after_each`` runs after a query (e.g. to undo a write)."""
    report = Report()
    with requests.Session() as http:
        http.trust_env = False
        for query in queries:
            a = Answer.of(send(http, real.base_url, query, real.tokens, real.headers), real.base_url)
            b = Answer.of(send(http, ours.base_url, query, ours.tokens, ours.headers), ours.base_url)
            found = differences(query, a, b)
            report.tried += 1
            report.by_family[query.family] += 1
            if found:
                report.differences += found
            else:
                report.equal += 1
            if after_each is not None:
                after_each(query)
    return report
