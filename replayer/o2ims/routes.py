"""O2IMS routes: every path of the vendored OpenAPI definitions, path normalisation and matching.

The table below is written out by hand (import stays well under a millisecond, no YAML parsing) and
``tests/o2ims/test_routes.py`` checks it against ``replayer/data/specs/``: every path, its methods, whether
its ``GET`` answers an array, and that each identity key is a property of the element schema.

Sources: inventory v1 from ``oran-o2ims-release-4.21``; inventory v2, monitoring, provisioning, cluster and
artifacts v1 from ``oran-o2ims-main``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

__all__ = [
    "API_NAMES",
    "API_VERSIONS_PATHS",
    "SINGLETON_KEYS",
    "always_kept",
    "collection_identity_key",
    "default_excluded_at",
    "is_item_path",
    "kept_with_fields",
    "ARRAY_IDENTITY_KEYS",
    "DEFAULT_EXCLUDED",
    "IDENTITY_KEYS",
    "LEGACY_IDENTITY_KEYS",
    "O2IMS_PATH_PREFIXES",
    "ROUTES",
    "ROUTES_BY_TEMPLATE",
    "Route",
    "RouteKind",
    "TemplateIndex",
    "default_excluded",
    "identity_key_for",
    "identity_value",
    "is_legacy_path",
    "match_route",
    "normalise_path",
    "template_of",
]

#: The O2IMS API names, as they appear in the first path segment.
API_NAMES = (
    "infrastructureInventory",
    "infrastructureMonitoring",
    "infrastructureProvisioning",
    "infrastructureCluster",
    "infrastructureArtifacts",
)

#: Path prefixes recorded by default: the spec's ``/o2ims-...`` and the older ``/o2ims_...``, ``/O2ims_...``.
O2IMS_PATH_PREFIXES: tuple[str, ...] = tuple(
    f"/{stem}{sep}{name}" for stem, sep in (("o2ims", "-"), ("o2ims", "_"), ("O2ims", "_")) for name in API_NAMES
)

_LEGACY_PREFIXES: tuple[str, ...] = tuple(p for p in O2IMS_PATH_PREFIXES if not p.startswith("/o2ims-"))


class RouteKind(StrEnum):
    """What a path serves."""

    COLLECTION = "collection"  # a list endpoint: GET answers a JSON array of elements
    ITEM = "item"  # one element of a collection: the collection path plus ``/{xxxId}``
    SINGLETON = "singleton"  # one object that is not a collection element (OCloudInfo, api_versions, ...)
    OTHER = "other"


#: Collection path segment -> the element attribute holding the id used in the item path.
#: A ``/`` in a key is an attribute path (see ``identity_value``): a provisioning request is addressed by the
#: SMO-assigned ``provisioningRequestData/provisioningRequestId``; a managed infrastructure template by its
#: ``artifactResourceId``.
IDENTITY_KEYS: dict[str, str] = {
    "deploymentManagers": "deploymentManagerId",
    "subscriptions": "subscriptionId",
    "resourceTypes": "resourceTypeId",
    "resourcePools": "resourcePoolId",
    "resources": "resourceId",
    "alarmDictionaries": "alarmDictionaryId",
    "locations": "globalLocationId",
    "oCloudSites": "oCloudSiteId",
    "alarms": "alarmEventRecordId",
    "alarmSubscriptions": "alarmSubscriptionId",
    "provisioningRequests": "provisioningRequestData/provisioningRequestId",
    "nodeClusterTypes": "nodeClusterTypeId",
    "nodeClusters": "nodeClusterId",
    "clusterResourceTypes": "clusterResourceTypeId",
    "clusterResources": "clusterResourceId",
    "managedInfrastructureTemplates": "artifactResourceId",
}

#: Attribute name of an array of objects nested inside an O2IMS object -> the id attribute of its elements.
ARRAY_IDENTITY_KEYS: dict[str, str] = {
    "alarmDefinition": "alarmDefinitionId",
    "elements": "resourceId",
    "apiVersions": "version",
    "infrastructureResourceProvisioningStatus": "resourceId",
}

#: The earlier mock's snake_case shapes (``/o2ims_infrastructureInventory/v1/...``): segment -> id field.
LEGACY_IDENTITY_KEYS: dict[str, str] = {
    "deploymentManagers": "deployment_manager_id",
    "resourcePools": "resource_pool_id",
    "o2ims_infrastructureProvisioningRequest": "infrastructure_request_id",
}

#: Attributes dropped by ``exclude_default`` (ETSI GS NFV-SOL 013 5.3.2: "a default set of complex
#: attributes"), keyed by the collection segment or the singleton's last segment. The openshift-kni
#: definitions do not declare ``exclude_default``; the set here is each schema's free-form complex
#: attributes (objects with ``additionalProperties`` and arrays of objects), ``extensions`` first of all.
DEFAULT_EXCLUDED: dict[str, tuple[str, ...]] = {
    "deploymentManagers": ("capabilities", "capacity", "extensions"),
    "resources": ("elements", "extensions"),
    "resourceTypes": ("extensions",),
    "resourcePools": ("extensions",),
    "locations": ("coordinate", "civicAddress", "extensions"),
    "oCloudSites": ("extensions",),
    "alarmDictionaries": ("alarmDefinition",),
    "alarmDictionary": ("alarmDefinition",),
    "alarms": ("extensions",),
    "alarmServiceConfiguration": ("extensions",),
    "provisioningRequests": ("provisioningRequestData/templateParameters",),
    "nodeClusterTypes": ("extensions",),
    "nodeClusters": ("extensions",),
    "clusterResourceTypes": ("extensions",),
    "clusterResources": ("extensions",),
    "managedInfrastructureTemplates": ("parameterSchema", "characteristics", "extensions"),
    "v1": ("extensions",),  # OCloudInfo at /o2ims-infrastructureInventory/v1
    "v2": ("extensions",),  # OCloudInfo at /o2ims-infrastructureInventory/v2
}


@dataclass(frozen=True, slots=True)
class Route:
    """One path template of the O2IMS definitions."""

    template: str
    methods: tuple[str, ...]
    api: str  # e.g. "infrastructureInventory"
    version: str | None  # "v1", "v2"; None for the unversioned ``/{prefix}/api_versions``
    kind: RouteKind
    id_param: str | None = None  # the last path parameter of an item route
    identity_key: str | None = None  # element attribute holding the id (collection and item routes)
    collection_template: str | None = None  # for an item: the template of its collection
    params: tuple[str, ...] = ()  # every path parameter name, in order

    def allows(self, method: str) -> bool:
        """Whether the definitions document ``method`` (upper case) for this path."""
        return method in self.methods


_INV = "/o2ims-infrastructureInventory"
_MON = "/o2ims-infrastructureMonitoring/v1"
_PROV = "/o2ims-infrastructureProvisioning/v1"
_CLU = "/o2ims-infrastructureCluster/v1"
_ART = "/o2ims-infrastructureArtifacts/v1"
_C, _I, _S = RouteKind.COLLECTION, RouteKind.ITEM, RouteKind.SINGLETON


def _inventory(v: str) -> list[tuple[str, str, RouteKind]]:
    base = f"{_INV}/{v}"
    rows = [
        (base, "GET", _S),
        (f"{base}/api_versions", "GET", _S),
        (f"{base}/deploymentManagers", "GET", _C),
        (f"{base}/deploymentManagers/{{deploymentManagerId}}", "GET", _I),
        (f"{base}/subscriptions", "GET POST", _C),
        (f"{base}/subscriptions/{{subscriptionId}}", "GET DELETE", _I),
        (f"{base}/resourceTypes", "GET", _C),
        (f"{base}/resourceTypes/{{resourceTypeId}}", "GET", _I),
        (f"{base}/resourceTypes/{{resourceTypeId}}/alarmDictionary", "GET", _S),
        (f"{base}/resourcePools", "GET", _C),
        (f"{base}/resourcePools/{{resourcePoolId}}", "GET", _I),
        (f"{base}/resourcePools/{{resourcePoolId}}/resources", "GET", _C),
        (f"{base}/resourcePools/{{resourcePoolId}}/resources/{{resourceId}}", "GET", _I),
        (f"{base}/alarmDictionaries", "GET", _C),
        (f"{base}/alarmDictionaries/{{alarmDictionaryId}}", "GET", _I),
    ]
    if v == "v2":
        rows += [
            (f"{base}/locations", "GET", _C),
            (f"{base}/locations/{{globalLocationId}}", "GET", _I),
            (f"{base}/oCloudSites", "GET", _C),
            (f"{base}/oCloudSites/{{oCloudSiteId}}", "GET", _I),
        ]
    return rows


_TABLE: list[tuple[str, str, RouteKind]] = [
    *[(f"/o2ims-{api}/api_versions", "GET", _S) for api in API_NAMES],
    *_inventory("v1"),
    *_inventory("v2"),
    (f"{_MON}/api_versions", "GET", _S),
    (f"{_MON}/alarms", "GET", _C),
    (f"{_MON}/alarms/{{alarmEventRecordId}}", "GET PATCH", _I),
    (f"{_MON}/alarmServiceConfiguration", "GET PUT PATCH", _S),
    (f"{_MON}/alarmSubscriptions", "GET POST", _C),
    (f"{_MON}/alarmSubscriptions/{{alarmSubscriptionId}}", "GET DELETE", _I),
    (f"{_PROV}/api_versions", "GET", _S),
    (f"{_PROV}/provisioningRequests", "GET POST", _C),
    (f"{_PROV}/provisioningRequests/{{provisioningRequestId}}", "GET PUT DELETE", _I),
    (f"{_CLU}/api_versions", "GET", _S),
    (f"{_CLU}/nodeClusterTypes", "GET", _C),
    (f"{_CLU}/nodeClusterTypes/{{nodeClusterTypeId}}", "GET", _I),
    (f"{_CLU}/nodeClusterTypes/{{nodeClusterTypeId}}/alarmDictionary", "GET", _S),
    (f"{_CLU}/nodeClusters", "GET", _C),
    (f"{_CLU}/nodeClusters/{{nodeClusterId}}", "GET", _I),
    (f"{_CLU}/clusterResourceTypes", "GET", _C),
    (f"{_CLU}/clusterResourceTypes/{{clusterResourceTypeId}}", "GET", _I),
    (f"{_CLU}/clusterResources", "GET", _C),
    (f"{_CLU}/clusterResources/{{clusterResourceId}}", "GET", _I),
    (f"{_CLU}/subscriptions", "GET POST", _C),
    (f"{_CLU}/subscriptions/{{subscriptionId}}", "GET DELETE", _I),
    (f"{_CLU}/alarmDictionaries", "GET", _C),
    (f"{_CLU}/alarmDictionaries/{{alarmDictionaryId}}", "GET", _I),
    (f"{_ART}/api_versions", "GET", _S),
    (f"{_ART}/managedInfrastructureTemplates", "GET", _C),
    (f"{_ART}/managedInfrastructureTemplates/{{managedInfrastructureTemplateId}}", "GET", _I),
    (f"{_ART}/managedInfrastructureTemplates/{{managedInfrastructureTemplateId}}/defaults", "GET", _S),
]


def _is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def _build_route(template: str, methods: str, kind: RouteKind) -> Route:
    segs = template.split("/")[1:]
    api = segs[0].removeprefix("o2ims-")
    version = segs[1] if len(segs) > 1 and re.fullmatch(r"v\d+", segs[1]) else None
    params = tuple(s[1:-1] for s in segs if _is_param(s))
    id_param = collection = key = None
    if kind is RouteKind.ITEM:
        id_param = params[-1]
        collection = template.rsplit("/", 1)[0]
        key = IDENTITY_KEYS[segs[-2]]
    elif kind is RouteKind.COLLECTION:
        key = IDENTITY_KEYS[segs[-1]]
    return Route(template, tuple(methods.split()), api, version, kind, id_param, key, collection, params)


#: Every route of the vendored definitions, in the order above.
ROUTES: tuple[Route, ...] = tuple(_build_route(*row) for row in _TABLE)

#: Template -> route.
ROUTES_BY_TEMPLATE: dict[str, Route] = {r.template: r for r in ROUTES}

#: The ``api_versions`` paths (unversioned and per major version).
API_VERSIONS_PATHS: tuple[str, ...] = tuple(r.template for r in ROUTES if r.template.endswith("/api_versions"))

T = TypeVar("T")


class TemplateIndex(Generic[T]):
    """OpenAPI path templates (``/a/{id}/b``) and their values, for matching normalised request paths.

    A ``{name}`` segment takes exactly one non-empty path segment. Literal paths are one dict lookup; the
    others are tried by segment count, the most literal templates first, so ``.../alarmDictionary`` beats a
    parameter in the same position should the definitions ever grow one.
    """

    __slots__ = ("_literal", "_by_length")

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        """Index ``(template, value)`` pairs; the first of two equal templates wins."""
        self._literal: dict[str, T] = {}
        self._by_length: dict[int, list[tuple[T, tuple[str, ...]]]] = {}
        templated: list[tuple[str, T]] = []
        for template, value in entries:
            if "{" in template:
                templated.append((template, value))
            else:
                self._literal.setdefault(template, value)
        for template, value in sorted(templated, key=lambda e: e[0].count("{")):
            segs = tuple(template.split("/")[1:])
            self._by_length.setdefault(len(segs), []).append((value, segs))

    def match(self, path: str) -> tuple[T, dict[str, str]] | None:
        """The value of the template matching ``path`` and its path parameters (not decoded), or None."""
        if path in self._literal:
            return self._literal[path], {}
        segs = path.split("/")[1:]
        for value, tsegs in self._by_length.get(len(segs), ()):
            params: dict[str, str] = {}
            for seg, tseg in zip(segs, tsegs):
                if _is_param(tseg):
                    if not seg:
                        break
                    params[tseg[1:-1]] = seg
                elif seg != tseg:
                    break
            else:
                return value, params
        return None


_INDEX: TemplateIndex[Route] = TemplateIndex((r.template, r) for r in ROUTES)

# RFC 3986 2.3 unreserved characters: percent-encodings of these are equivalent to the characters.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")


def _pct_normalise(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 5.2.4, on a path that is already absolute and slash-collapsed.
    out: list[str] = []
    for seg in path.split("/")[1:]:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    return "/" + "/".join(out)


@functools.lru_cache(maxsize=4096)
def _normalise_slow(path: str) -> str:
    path = path.split("?", 1)[0].split("#", 1)[0]
    if "%" in path:
        path = _PCT.sub(_pct_normalise, path)  # RFC 3986 6.2.2.2
    if not path.startswith("/"):
        path = "/" + path
    path = re.sub(r"/{2,}", "/", path)
    if "/." in path:
        path = _remove_dot_segments(path)
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


def normalise_path(path: str) -> str:
    """Canonical form of a request path: unreserved ``%XX`` decoded, ``//`` collapsed, no trailing slash."""
    if (
        path.startswith("/")
        and "%" not in path
        and "//" not in path
        and "/." not in path
        and "?" not in path
        and "#" not in path
        and (len(path) == 1 or not path.endswith("/"))
    ):
        return path  # already canonical: the common case on the replay hot path
    return _normalise_slow(path)


@functools.lru_cache(maxsize=8192)
def _match_cached(path: str) -> tuple[Route, tuple[tuple[str, str], ...]] | None:
    found = _INDEX.match(path)
    if found is None:
        canonical = normalise_path(path)
        if canonical != path:
            found = _INDEX.match(canonical)
    if found is None:
        return None
    route, params = found
    if any("%" in v for v in params.values()):
        params = {k: unquote(v) for k, v in params.items()}
    return route, tuple(params.items())


def match_route(path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving ``path`` (best passed through ``normalise_path``) and its path parameters, or None."""
    found = _match_cached(path)
    return None if found is None else (found[0], dict(found[1]))


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LONG_HEX = re.compile(r"(?=.*\d)[0-9a-fA-F]{16,}")


def _looks_like_id(segment: str) -> bool:
    return bool(segment.isdigit() or _UUID.fullmatch(segment) or _LONG_HEX.fullmatch(segment))


@functools.lru_cache(maxsize=8192)
def template_of(path: str) -> str:
    """Route template of ``path``; for an unknown path, segments that look like ids become ``{id}``."""
    found = match_route(path)
    if found is not None:
        return found[0].template
    canonical = normalise_path(path)
    return "/".join("{id}" if _looks_like_id(s) else s for s in canonical.split("/"))


def is_legacy_path(path: str) -> bool:
    """Whether ``path`` is under the earlier mock's ``/o2ims_...`` or ``/O2ims_...`` prefixes."""
    return path.startswith(_LEGACY_PREFIXES)


def identity_key_for(path: str) -> str | None:
    """Id attribute of the objects served at ``path`` (a collection or an item), or None when unknown."""
    found = match_route(path)
    if found is not None:
        return found[0].identity_key
    segs = [s for s in template_of(path).split("/") if s]
    if segs and segs[-1].startswith("{"):
        segs.pop()
    if not segs:
        return None
    keys = LEGACY_IDENTITY_KEYS if is_legacy_path(path) else IDENTITY_KEYS
    return keys.get(segs[-1])


def identity_value(obj: Mapping[str, Any], key: str) -> Any:
    """The value of ``key`` (an attribute path with ``/``, as in ``IDENTITY_KEYS``) in ``obj``, or None."""
    value: Any = obj
    for part in key.split("/"):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def kept_with_fields(identity_key: str | None) -> tuple[str, ...]:
    """Attributes that ``fields`` never drops: the identity key, when it is a top-level attribute."""
    return (identity_key,) if identity_key and "/" not in identity_key else ()


#: Singletons whose objects carry an identity all the same: OCloudInfo keeps ``oCloudId`` under ``fields``, as
#: the elements of a collection keep theirs (openshift-kni filtering.go ``EnforceRequiredFields``).
SINGLETON_KEYS: dict[str, str] = {"v1": "oCloudId", "v2": "oCloudId"}


def always_kept(route: Route | None) -> tuple[str, ...]:
    """Attributes that ``fields`` never drops from the route's objects: its top-level identity key."""
    if route is not None and route.kind is RouteKind.SINGLETON:
        return kept_with_fields(SINGLETON_KEYS.get(route.template.rsplit("/", 1)[-1]))
    return kept_with_fields(route.identity_key if route is not None else None)


def collection_identity_key(collection_path: str, items: Iterable[Mapping[str, Any]]) -> str | None:
    """The attribute (path) identifying the elements of a recorded collection, if every element has a unique one."""
    key = identity_key_for(collection_path)
    if key is None:
        return None
    values = [identity_value(it, key) for it in items]
    if all(isinstance(v, (str, int)) for v in values) and len(set(values)) == len(values):
        return key
    return None


def is_item_path(path: str) -> bool:
    """True unless the route table knows ``path`` as something other than one element of a collection."""
    found = match_route(path)
    return found is None or found[0].kind is RouteKind.ITEM


def default_excluded_at(path: str) -> tuple[str, ...]:
    """Attributes ``exclude_default`` drops from the elements of the collection at ``path``."""
    found = match_route(path)
    return default_excluded(found[0] if found else None)


def default_excluded(route: Route | None) -> tuple[str, ...]:
    """Attribute paths that ``exclude_default`` drops from the objects served by ``route``."""
    if route is None:
        return ()
    segs = route.template.split("/")
    last = segs[-2] if route.kind is RouteKind.ITEM else segs[-1]
    return DEFAULT_EXCLUDED.get(last, ())
