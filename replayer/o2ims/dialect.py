"""The two O2IMS implementations a stand-in can behave like, and every rule in which they differ.

- ``openshift-kni``: github openshift-kni/oran-o2ims (Go, oapi-codegen servers under ``internal/service/``).
- ``o-ran-sc``: the O-RAN SC INF O2 service, github o-ran-sc/pti-o2 (Flask + flask-restx, ``o2ims/views/``,
  ``o2common/views/``).

Pure data and small functions; ``docs/dialects.md`` lists each difference with the source file and function it
mirrors. The selector, paging and ProblemDetails rules themselves live in ``query`` and ``problem``; this module
says which variant a dialect takes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from replayer.o2ims.routes import API_NAMES, Route, RouteKind

__all__ = [
    "DEFAULT_DIALECT",
    "Dialect",
    "DialectRules",
    "Inference",
    "Paging",
    "RULES",
    "default_attributes",
    "has_default_set",
    "infer_dialect",
    "model_attributes",
    "parse_dialect",
    "rules",
    "serves",
]


class Dialect(StrEnum):
    """Which real O2IMS the server behaves like."""

    OPENSHIFT_KNI = "openshift-kni"
    O_RAN_SC = "o-ran-sc"


#: The default: the openshift-kni definitions are the ones vendored in full (every API, both inventory versions).
DEFAULT_DIALECT = Dialect.OPENSHIFT_KNI


def parse_dialect(text: str) -> Dialect:
    """``openshift-kni`` or ``o-ran-sc``; ValueError listing both otherwise."""
    try:
        return Dialect(str(text).strip().lower())
    except ValueError:
        valid = ", ".join(d.value for d in Dialect)
        raise ValueError(f"dialect must be one of {valid}, got {text!r}") from None


class Paging(StrEnum):
    """How lists are paged."""

    MARKER = "marker"  # opaque nextpage_opaque_marker, Link rel="next" (SOL013 5.4)
    PAGE_NUMBER = "page-number"  # pti-o2: the marker is a page number; first/prev/next/last links, X-Total-Count


@dataclass(frozen=True, slots=True)
class DialectRules:
    """Everything observable that differs between the two implementations."""

    dialect: Dialect
    paging: Paging
    default_page_size: int | None  # None: one page unless --page-size or the profile says otherwise
    #: ``fields`` keeps only what is named (plus the identity key), vs SOL013: the default set plus what is named.
    fields_project: bool
    problem_content_type: str
    allow_header_on_405: bool
    #: Status of a POST repeating an existing subscription, per API name.
    duplicate_status: dict[str, int]
    subscription_location: bool  # a Location header on 201
    delete_body: bytes  # body of a 200 DELETE
    absolute_uri_prefix: bool  # api_versions ``uriPrefix``: absolute URL vs path
    api_versions: dict[str, dict[str, str]]  # api -> major -> full version served
    reason_upper: bool  # status line reason upper case (werkzeug: "404 NOT FOUND")
    pool_per_site: bool  # the default profile's inventory: one pool per site holding every resource
    sort_lists: bool  # lists sorted by their identity key


_KNI_VERSIONS: dict[str, dict[str, str]] = {
    "infrastructureInventory": {"v1": "1.0.0", "v2": "2.0.0"},
    "infrastructureMonitoring": {"v1": "1.0.0"},
    "infrastructureProvisioning": {"v1": "1.2.0"},
    "infrastructureCluster": {"v1": "1.0.0"},
    "infrastructureArtifacts": {"v1": "1.0.0"},
}

RULES: dict[Dialect, DialectRules] = {
    Dialect.OPENSHIFT_KNI: DialectRules(
        dialect=Dialect.OPENSHIFT_KNI,
        paging=Paging.MARKER,
        default_page_size=None,
        fields_project=True,
        problem_content_type="application/problem+json",
        allow_header_on_405=True,
        # internal/service/resources/api/server.go CreateSubscription: "409 is a more common choice for a
        # duplicate entry, but the conformance tests expect a 400"; the alarms definitions document 409.
        duplicate_status={"infrastructureInventory": 400, "infrastructureCluster": 400,
                          "infrastructureMonitoring": 409},
        subscription_location=True,
        delete_body=b"",
        absolute_uri_prefix=False,
        api_versions=_KNI_VERSIONS,
        reason_upper=False,
        pool_per_site=False,
        sort_lists=False,
    ),
    Dialect.O_RAN_SC: DialectRules(
        dialect=Dialect.O_RAN_SC,
        paging=Paging.PAGE_NUMBER,
        default_page_size=30,  # o2common/views/pagination_view.py Pagination: per_page 30
        fields_project=False,
        problem_content_type="application/json",  # flask-restx serialises ProblemDetails as plain JSON
        allow_header_on_405=False,
        duplicate_status={"infrastructureInventory": 409, "infrastructureMonitoring": 409},
        subscription_location=False,
        delete_body=b"true",
        absolute_uri_prefix=True,
        api_versions={"infrastructureInventory": {"v1": "1.0.0"}, "infrastructureMonitoring": {"v1": "1.1.0"}},
        reason_upper=True,
        pool_per_site=True,
        sort_lists=True,
    ),
}


def rules(dialect: Dialect) -> DialectRules:
    """The rules of ``dialect``."""
    return RULES[dialect]


_INV = "/o2ims-infrastructureInventory"
_MON = "/o2ims-infrastructureMonitoring"

#: Every route pti-o2 serves (o2ims/views/ocloud_route.py, alarm_route.py, api_ns.py), as templates of the
#: route table. It has no inventory v2, no alarm dictionaries and no provisioning, cluster or artifacts API.
_ORAN_SC_TEMPLATES = frozenset({
    f"{_INV}/api_versions",
    f"{_INV}/v1",
    f"{_INV}/v1/api_versions",
    f"{_INV}/v1/resourceTypes",
    f"{_INV}/v1/resourceTypes/{{resourceTypeId}}",
    f"{_INV}/v1/resourcePools",
    f"{_INV}/v1/resourcePools/{{resourcePoolId}}",
    f"{_INV}/v1/resourcePools/{{resourcePoolId}}/resources",
    f"{_INV}/v1/resourcePools/{{resourcePoolId}}/resources/{{resourceId}}",
    f"{_INV}/v1/deploymentManagers",
    f"{_INV}/v1/deploymentManagers/{{deploymentManagerId}}",
    f"{_INV}/v1/subscriptions",
    f"{_INV}/v1/subscriptions/{{subscriptionId}}",
    f"{_MON}/api_versions",
    f"{_MON}/v1/api_versions",
    f"{_MON}/v1/alarms",
    f"{_MON}/v1/alarms/{{alarmEventRecordId}}",
    f"{_MON}/v1/alarmSubscriptions",
    f"{_MON}/v1/alarmSubscriptions/{{alarmSubscriptionId}}",
    f"{_MON}/v1/alarmServiceConfiguration",
})

assert all(t.split("/")[1].removeprefix("o2ims-") in API_NAMES for t in _ORAN_SC_TEMPLATES)


def serves(dialect: Dialect, route: Route) -> bool:
    """Whether an implementation of ``dialect`` has ``route`` at all (else: 404)."""
    return dialect is Dialect.OPENSHIFT_KNI or route.template in _ORAN_SC_TEMPLATES


#: pti-o2's default attribute sets: the ``mask=`` of each flask-restx model (o2ims/views/ocloud_dto.py,
#: alarm_dto.py), by the route's last literal segment. A listed route answers only these attributes unless a
#: selector asks for more; ``None`` marks a model without a mask (alarms), where every attribute is shown
#: and ``fields``/``exclude_fields`` fail (o2common/views/route.py ``__set_default_mask`` reads ``str(None)``).
_ORAN_SC_DEFAULTS: dict[str, tuple[str, ...] | None] = {
    "v1": ("oCloudId", "globalCloudId", "globalcloudId", "name", "description", "serviceUri"),
    "resourceTypes": ("resourceTypeId", "name", "description", "model", "vendor", "version"),
    "resourcePools": ("resourcePoolId", "oCloudId", "globalLocationId", "name", "description"),
    "resources": ("resourceId", "resourcePoolId", "resourceTypeId", "description", "parentId"),
    "deploymentManagers": ("deploymentManagerId", "name", "description", "oCloudId", "serviceUri",
                           "supportedLocations", "capabilities", "capacity", "profileSupportList"),
    "subscriptions": ("subscriptionId", "callback"),
    "alarmSubscriptions": ("alarmSubscriptionId", "callback"),
    "api_versions": ("uriPrefix", "apiVersions"),
    "alarms": None,
    "alarmServiceConfiguration": None,
}


#: Every attribute of pti-o2's flask-restx models (o2ims/views/ocloud_dto.py, alarm_dto.py), by the route's last
#: literal segment: ``marshal`` writes these and nothing else, whatever the stored record holds.
_ORAN_SC_FIELDS: dict[str, tuple[str, ...]] = {
    "v1": ("oCloudId", "globalCloudId", "globalcloudId", "name", "description", "serviceUri", "extensions"),
    "resourceTypes": ("resourceTypeId", "name", "description", "vendor", "model", "version", "alarmDictionary",
                      "extensions"),
    "resourcePools": ("resourcePoolId", "globalLocationId", "name", "description", "oCloudId", "location",
                      "extensions"),
    "resources": ("resourceId", "resourceTypeId", "resourcePoolId", "globalAssetId", "parentId", "description",
                  "elements"),
    "deploymentManagers": ("deploymentManagerId", "name", "description", "oCloudId", "serviceUri",
                           "supportedLocations", "capabilities", "capacity", "profileSupportList", "extensions"),
    "subscriptions": ("subscriptionId", "callback", "consumerSubscriptionId", "filter"),
    "alarmSubscriptions": ("alarmSubscriptionId", "callback", "consumerSubscriptionId", "filter"),
    "alarms": ("alarmEventRecordId", "resourceTypeId", "resourceTypeID", "resourceId", "resourceID",
               "alarmDefinitionId", "alarmDefinitionID", "probableCauseId", "probableCauseID", "alarmRaisedTime",
               "alarmChangedTime", "alarmAcknowledgeTime", "alarmAcknowledged", "perceivedSeverity"),
}


def _last_literal(route: Route) -> str:
    segs = route.template.split("/")
    return segs[-2] if route.kind is RouteKind.ITEM else segs[-1]


def model_attributes(dialect: Dialect, route: Route | None) -> tuple[str, ...] | None:
    """Every attribute an o-ran-sc answer of ``route`` can hold, or None (no such limit; openshift-kni)."""
    if dialect is Dialect.OPENSHIFT_KNI or route is None:
        return None
    return _ORAN_SC_FIELDS.get(_last_literal(route))


def default_attributes(dialect: Dialect, route: Route | None) -> tuple[str, ...] | None:
    """The attributes an o-ran-sc answer shows by default, or None (every attribute; openshift-kni always)."""
    if dialect is Dialect.OPENSHIFT_KNI or route is None:
        return None
    return _ORAN_SC_DEFAULTS.get(_last_literal(route))


def has_default_set(dialect: Dialect, route: Route | None) -> bool:
    """Whether selectors of an o-ran-sc answer work on this route (pti-o2 fails them where no mask is set)."""
    if dialect is Dialect.OPENSHIFT_KNI or route is None:
        return True
    return default_attributes(dialect, route) is not None


@dataclass(frozen=True, slots=True)
class Inference:
    """The dialect recorded traffic points at, with the evidence, or None when it says nothing."""

    dialect: Dialect | None
    evidence: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the log."""
        if self.dialect is None:
            return "the cassettes show no dialect-specific answer"
        return f"{self.dialect.value} ({'; '.join(self.evidence[:3])})"


_KNI_ONLY_PREFIXES = (
    f"{_INV}/v2", "/o2ims-infrastructureProvisioning", "/o2ims-infrastructureCluster",
    "/o2ims-infrastructureArtifacts",
)


def _clues(path: str, query: str, status: int, headers: dict[str, str], body: bytes) -> list[tuple[Dialect, str]]:
    """What one recorded exchange says about the implementation that answered it (header names lower case)."""
    out: list[tuple[Dialect, str]] = []
    if status == 200 and path.startswith(_KNI_ONLY_PREFIXES):
        out.append((Dialect.OPENSHIFT_KNI, f"answers {path.split('/v', 1)[0]}/..."))
    if "x-total-count" in headers or 'rel="last"' in headers.get("link", ""):
        out.append((Dialect.O_RAN_SC, "lists carry X-Total-Count or first/last links"))
    marker = next((v for k, _, v in (p.partition("=") for p in query.split("&")) if k == "nextpage_opaque_marker"), None)
    if marker:
        out.append((Dialect.O_RAN_SC, "page-number markers") if marker.isdigit()
                   else (Dialect.OPENSHIFT_KNI, "opaque paging markers"))
    if status >= 400 and body[:1] == b"{":
        if b'"additionalAttributes"' in body or headers.get("content-type", "").startswith("application/problem+json"):
            out.append((Dialect.OPENSHIFT_KNI, "problem+json errors"))
        elif b'"instance": []' in body or b'"instance":[]' in body:
            out.append((Dialect.O_RAN_SC, "errors with an empty instance list"))
    return out


def infer_dialect(exchanges: Iterable[tuple[str, int, dict[str, str], bytes]]) -> Inference:
    """The dialect most recorded exchanges point at: (request URI, status, response headers with
    lower-case names, response body) each. A tie or no clue at all says nothing."""
    votes: dict[Dialect, list[str]] = {d: [] for d in Dialect}
    for uri, status, headers, body in exchanges:
        if "://" in uri:
            uri = "/" + uri.split("://", 1)[1].partition("/")[2]
        path, _, query = uri.partition("?")
        for dialect, why in _clues(path, query, status, headers, body):
            if why not in votes[dialect]:
                votes[dialect].append(why)
            votes[dialect].append("")  # one vote per clue; the reason is listed once
    score = {d: len(v) for d, v in votes.items()}
    best = max(score, key=lambda d: score[d])
    if score[best] == 0 or list(score.values()).count(score[best]) > 1:
        return Inference(None)
    return Inference(best, tuple(w for w in votes[best] if w))
