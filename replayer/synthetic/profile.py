"""Synthetic O-Cloud profiles: YAML -> frozen dataclasses, validated with ``file:line: field: problem`` errors.

A profile describes the sites (sizes, CIDRs, location), the managed infrastructure templates (one may be
marked failing), seeded alarms, the provisioning lifecycle and extension blocks carried into the model.
The default is ``replayer/data/profiles/edge1-4.yaml`` (issue 4 §1). Format: docs/synthetic.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from replayer.errors import UsageError
from replayer.o2ims.dialect import Dialect, parse_dialect
from replayer.security.clients import OAuthClient, parse_clients

__all__ = [
    "DEFAULT_PROFILE",
    "AlarmSeed",
    "Cloud",
    "Lifecycle",
    "LifecycleMode",
    "Profile",
    "Site",
    "Template",
    "load_profile",
    "parse_profile",
]

DEFAULT_PROFILE = Path(__file__).resolve().parent.parent / "data" / "profiles" / "edge1-4.yaml"

_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
_RESOURCE_REF = re.compile(r"^(node|nic|accelerator|volume)-\d+$")


class LifecycleMode(StrEnum):
    """What drives a provisioning request through its phases (issue 4 §2)."""

    REQUESTS = "requests"  # deterministic: counted reads of the request
    SECONDS = "seconds"  # wall time from the injected clock


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Provisioning lifecycle thresholds, in reads (``requests``) or seconds (``seconds``)."""

    mode: LifecycleMode = LifecycleMode.REQUESTS
    progressing_after: float = 1
    fulfilled_after: float = 3
    deleted_after: float = 1


@dataclass(frozen=True, slots=True)
class Cloud:
    """The O-Cloud itself: OCloudInfo and the earlier mock's ``/status``."""

    name: str
    description: str
    global_cloud_id: str | None
    epoch: str
    supported_locales: tuple[str, ...]
    supported_time_zones: tuple[str, ...]
    legacy_service_uri: str | None  # None: the served base URL + /o2ims_infrastructureInventory/v1
    extensions: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Site:
    """One edge site: its deployment manager, three pools, their resources and a node cluster."""

    name: str
    title: str
    nodes: int
    cpu_cores: int
    cpu_cores_free: int
    memory_gb: int
    memory_gb_free: int
    storage_gb: int
    storage_gb_free: int
    kubernetes_version: str
    container_runtime: str
    cluster_cidr: str
    service_cidr: str
    pod_cidr: str
    storage_tb: int
    storage_tb_free: int
    iops: int
    bandwidth_gbps: int
    latency_ms: float
    nics_per_node: int
    accelerators_per_node: int
    volumes: int
    node_cpu_cores: int
    node_memory_gb: int
    node_storage_gb: int
    location_name: str
    address: str
    coordinates: tuple[float, float]
    extensions: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Template:
    """A managed infrastructure template; provisioning requests naming a failing one end FAILED."""

    name: str
    version: str
    description: str
    failing: bool = False
    failure_message: str = ""
    parameter_schema: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlarmSeed:
    """An alarm present at start: on ``resource`` (``node-1``, ``nic-2``...) of ``site``."""

    site: str
    resource: str
    definition: str
    severity: int
    raised_minutes: int


@dataclass(frozen=True, slots=True)
class Profile:
    """A whole synthetic O-Cloud description."""

    source: str
    cloud: Cloud
    lifecycle: Lifecycle
    page_size: int | None
    sites: tuple[Site, ...]
    templates: tuple[Template, ...]
    alarms: tuple[AlarmSeed, ...]
    legacy_provisioning_requests: tuple[Mapping[str, Any], ...]
    dialect: Dialect | None = None  # which O2IMS implementation to behave like (None: the server's choice)
    #: Clients of the embedded OAuth2 server (``serve --auth oauth2`` without ``--oauth-clients``).
    oauth_clients: tuple[OAuthClient, ...] = ()


class _MarkedDict(dict[str, Any]):
    """A mapping that remembers the line of each key, for error messages."""

    lines: dict[str, int]
    line: int


class _Loader(yaml.SafeLoader):
    """SafeLoader whose mappings remember their key lines."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _MarkedDict:
    out = _MarkedDict()
    out.lines = {}
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        out[str(key)] = loader.construct_object(value_node, deep=True)
        out.lines[str(key)] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Reader:
    """Reads typed fields out of marked mappings, raising UsageError naming file, line and field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, doc: Any, where: str, key: str | None, message: str) -> UsageError:
        line = getattr(doc, "lines", {}).get(key) if key is not None else getattr(doc, "line", None)
        line = line or getattr(doc, "line", None)
        at = f"{self.source}:{line}" if line else self.source
        name = f"{where}.{key}" if key and where else (key or where or "profile")
        return UsageError(f"{at}: {name}: {message}")

    def mapping(self, doc: Any, where: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if doc is None:
            return _MarkedDict()
        if not isinstance(doc, dict):
            raise self.fail(doc, where, None, f"expected a mapping, got {type(doc).__name__}")
        for key in doc:
            if key not in allowed:
                raise self.fail(doc, where, key, f"unknown field; valid fields: {', '.join(allowed)}")
        return doc

    def get(self, doc: Mapping[str, Any], where: str, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        if key not in doc or doc[key] is None:
            if default is _REQUIRED:
                raise self.fail(doc, where, key, "missing (required)")
            return default
        value = doc[key]
        if isinstance(value, bool) and kind is not bool:
            raise self.fail(doc, where, key, f"expected {_kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(doc, where, key, f"expected {_kind_name(kind)}, got {value!r}")
        return value

    def count(self, doc: Mapping[str, Any], where: str, key: str, default: Any = None, minimum: int = 0) -> int:
        value = self.get(doc, where, key, int, _REQUIRED if default is None else default)
        if value < minimum:
            raise self.fail(doc, where, key, f"expected an integer >= {minimum}, got {value!r}")
        return int(value)

    def text(self, doc: Mapping[str, Any], where: str, key: str, default: Any = None) -> str:
        return str(self.get(doc, where, key, str, _REQUIRED if default is None else default))

    def strings(self, doc: Mapping[str, Any], where: str, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.get(doc, where, key, list, list(default))
        if not all(isinstance(v, str) for v in value):
            raise self.fail(doc, where, key, f"expected a list of strings, got {value!r}")
        return tuple(value)


_REQUIRED = object()


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {int: "an integer", str: "a string", float: "a number", bool: "true or false", list: "a list", dict: "a mapping"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _plain(value: Any) -> Any:
    """Marked mappings -> plain dicts (deep), so the model holds ordinary JSON values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


_TOP = ("version", "dialect", "cloud", "lifecycle", "paging", "defaults", "sites", "templates", "alarms", "legacy",
        "oauth")
_CLOUD = (
    "name", "description", "global_cloud_id", "epoch", "supported_locales", "supported_time_zones",
    "legacy_service_uri", "extensions",
)
_SITE_NUMBERS = (
    "nodes", "cpu_cores", "cpu_cores_free", "memory_gb", "memory_gb_free", "storage_gb", "storage_gb_free",
    "storage_tb", "storage_tb_free", "iops", "bandwidth_gbps", "nics_per_node", "accelerators_per_node",
    "volumes", "node_cpu_cores", "node_memory_gb", "node_storage_gb",
)
_SITE_TEXT = ("kubernetes_version", "container_runtime", "cluster_cidr", "service_cidr", "pod_cidr")
_EXTENSION_BLOCKS = ("deployment_manager", "compute_pool", "storage_pool", "network_pool", "node_cluster")
_SITE = ("name", "title", *_SITE_NUMBERS, *_SITE_TEXT, "latency_ms", "location", "extensions")
_DEFAULTS = tuple(k for k in _SITE if k not in ("name", "title", "location"))


def parse_profile(text: str, source: str = "<profile>") -> Profile:
    """Parse profile YAML; raise UsageError naming ``source``, line and field on bad input."""
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else 0
        raise UsageError(f"{source}:{line}: invalid YAML: {e.problem}") from None
    r = _Reader(source)
    top = r.mapping(doc, "", _TOP)
    version = r.get(top, "", "version", int, 1)
    if version != 1:
        raise r.fail(top, "", "version", f"unsupported profile version {version!r}; valid: 1")
    cloud = _cloud(r, r.mapping(top.get("cloud"), "cloud", _CLOUD))
    lifecycle = _lifecycle(r, top.get("lifecycle"))
    defaults = r.mapping(top.get("defaults"), "defaults", _DEFAULTS)
    sites_doc = r.get(top, "", "sites", list, _REQUIRED)
    if not sites_doc:
        raise r.fail(top, "", "sites", "at least one site is required")
    sites = tuple(_site(r, s, f"sites[{i}]", defaults) for i, s in enumerate(sites_doc))
    names = [s.name for s in sites]
    if len(set(names)) != len(names):
        raise r.fail(top, "", "sites", f"site names must be unique, got {names}")
    paging = r.mapping(top.get("paging"), "paging", ("page_size",))
    page_size = r.get(paging, "paging", "page_size", int, None)
    if page_size is not None and page_size < 1:
        raise r.fail(paging, "paging", "page_size", f"expected an integer >= 1 or null, got {page_size}")
    dialect_text = r.get(top, "", "dialect", str, None)
    try:
        dialect = parse_dialect(dialect_text) if dialect_text is not None else None
    except ValueError as e:
        raise r.fail(top, "", "dialect", str(e)) from None
    legacy = r.mapping(top.get("legacy"), "legacy", ("provisioning_requests",))
    legacy_prs = r.get(legacy, "legacy", "provisioning_requests", list, [])
    return Profile(
        source=source,
        cloud=cloud,
        lifecycle=lifecycle,
        page_size=page_size,
        sites=sites,
        templates=_templates(r, top.get("templates")),
        alarms=tuple(_alarm(r, a, f"alarms[{i}]", sites) for i, a in enumerate(r.get(top, "", "alarms", list, []))),
        legacy_provisioning_requests=tuple(_plain(x) for x in legacy_prs),
        dialect=dialect,
        oauth_clients=_oauth_clients(r, top.get("oauth")),
    )


def _oauth_clients(r: _Reader, raw: Any) -> tuple[OAuthClient, ...]:
    oauth = r.mapping(raw, "oauth", ("clients",))
    if "clients" not in oauth:
        return ()
    try:
        return parse_clients(_plain(oauth["clients"]), "oauth.clients")
    except ValueError as e:
        line = getattr(oauth, "lines", {}).get("clients")
        raise UsageError(f"{r.source}:{line}: {e}" if line else f"{r.source}: {e}") from None


def load_profile(path: str | Path | None = None) -> Profile:
    """Read a profile file (default: the bundled edge1-4 profile); UsageError names file, line and field."""
    target = Path(path) if path is not None else DEFAULT_PROFILE
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{target}: cannot read profile: {e.strerror}") from None
    return parse_profile(text, str(target))


def _cloud(r: _Reader, doc: Mapping[str, Any]) -> Cloud:
    epoch = r.text(doc, "cloud", "epoch", "2026-01-01T00:00:00Z")
    if not _TIMESTAMP.match(epoch):
        raise r.fail(doc, "cloud", "epoch", f"expected an RFC 3339 UTC time like 2026-01-01T00:00:00Z, got {epoch!r}")
    gid = r.get(doc, "cloud", "global_cloud_id", str, None)
    if gid is not None and not re.fullmatch(r"[0-9a-fA-F-]{36}", gid):
        raise r.fail(doc, "cloud", "global_cloud_id", f"expected a UUID, got {gid!r}")
    return Cloud(
        name=r.text(doc, "cloud", "name", "synthetic-o-cloud"),
        description=r.text(doc, "cloud", "description", "Synthetic O-Cloud served by o2ims-replay"),
        global_cloud_id=gid,
        epoch=epoch,
        supported_locales=r.strings(doc, "cloud", "supported_locales", ("en-US",)),
        supported_time_zones=r.strings(doc, "cloud", "supported_time_zones", ("UTC",)),
        legacy_service_uri=r.get(doc, "cloud", "legacy_service_uri", str, None),
        extensions=_plain(r.get(doc, "cloud", "extensions", dict, {})),
    )


def _lifecycle(r: _Reader, raw: Any) -> Lifecycle:
    doc = r.mapping(raw, "lifecycle", ("mode", "progressing_after", "fulfilled_after", "deleted_after"))
    mode_text = r.text(doc, "lifecycle", "mode", "requests")
    try:
        mode = LifecycleMode(mode_text)
    except ValueError:
        raise r.fail(doc, "lifecycle", "mode", f"expected one of requests, seconds, got {mode_text!r}") from None
    values = {}
    for key, default in (("progressing_after", 1), ("fulfilled_after", 3), ("deleted_after", 1)):
        value = r.get(doc, "lifecycle", key, (int, float), default)
        if value < 0:
            raise r.fail(doc, "lifecycle", key, f"expected a number >= 0, got {value!r}")
        values[key] = value
    if values["fulfilled_after"] < values["progressing_after"]:
        raise r.fail(doc, "lifecycle", "fulfilled_after", "must be >= progressing_after")
    return Lifecycle(mode, **values)


def _site(r: _Reader, raw: Any, where: str, defaults: Mapping[str, Any]) -> Site:
    doc = r.mapping(raw, where, _SITE)
    merged = _MarkedDict({**defaults, **doc})
    merged.lines = {**getattr(defaults, "lines", {}), **getattr(doc, "lines", {})}
    merged.line = getattr(doc, "line", 0)
    name = r.text(doc, where, "name")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise r.fail(doc, where, "name", f"expected lower-case letters, digits and '-', got {name!r}")
    numbers = {k: r.count(merged, where, k, minimum=1 if k == "nodes" else 0) for k in _SITE_NUMBERS}
    for total, free in (("cpu_cores", "cpu_cores_free"), ("memory_gb", "memory_gb_free"),
                        ("storage_gb", "storage_gb_free"), ("storage_tb", "storage_tb_free")):
        if numbers[free] > numbers[total]:
            raise r.fail(merged, where, free, f"{numbers[free]} exceeds {total} {numbers[total]}")
    location = r.mapping(doc.get("location"), f"{where}.location", ("name", "address", "coordinates"))
    coords = r.get(location, f"{where}.location", "coordinates", list, [0.0, 0.0])
    if len(coords) != 2 or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords):
        raise r.fail(location, f"{where}.location", "coordinates", f"expected [longitude, latitude], got {coords!r}")
    base_ext = r.mapping(defaults.get("extensions"), "defaults.extensions", _EXTENSION_BLOCKS)
    own_ext = r.mapping(doc.get("extensions"), f"{where}.extensions", _EXTENSION_BLOCKS)
    extensions = {k: {**_block(r, base_ext, "defaults.extensions", k), **_block(r, own_ext, f"{where}.extensions", k)}
                  for k in _EXTENSION_BLOCKS}
    texts = {k: r.text(merged, where, k) for k in _SITE_TEXT}
    fields: dict[str, Any] = {**numbers, **texts}
    return Site(
        name=name,
        title=r.text(doc, where, "title", name.upper()),
        **fields,
        latency_ms=float(r.get(merged, where, "latency_ms", (int, float), _REQUIRED)),
        location_name=r.text(location, f"{where}.location", "name", f"Site {name}"),
        address=r.text(location, f"{where}.location", "address", ""),
        coordinates=(float(coords[0]), float(coords[1])),
        extensions=extensions,
    )


def _block(r: _Reader, doc: Mapping[str, Any], where: str, key: str) -> dict[str, Any]:
    return dict(_plain(r.get(doc, where, key, dict, {})))


def _templates(r: _Reader, raw: Any) -> tuple[Template, ...]:
    if raw is None:
        return (Template("edge-cluster", "v1", "A single-node edge cluster"),)
    if not isinstance(raw, list) or not raw:
        raise r.fail(raw, "", "templates", "expected a non-empty list")
    out = []
    keys = ("name", "version", "description", "failing", "failure_message", "parameter_schema", "defaults")
    for i, item in enumerate(raw):
        where = f"templates[{i}]"
        doc = r.mapping(item, where, keys)
        out.append(Template(
            name=r.text(doc, where, "name"),
            version=r.text(doc, where, "version"),
            description=r.text(doc, where, "description", ""),
            failing=bool(r.get(doc, where, "failing", bool, False)),
            failure_message=r.text(doc, where, "failure_message", "template rendering failed"),
            parameter_schema=_plain(r.get(doc, where, "parameter_schema", dict, {"type": "object"})),
            defaults=_plain(r.get(doc, where, "defaults", dict, {})),
        ))
    seen = [(t.name, t.version) for t in out]
    if len(set(seen)) != len(seen):
        raise r.fail(raw, "", "templates", f"template name+version pairs must be unique, got {seen}")
    return tuple(out)


def _alarm(r: _Reader, raw: Any, where: str, sites: tuple[Site, ...]) -> AlarmSeed:
    doc = r.mapping(raw, where, ("site", "resource", "definition", "severity", "raised_minutes"))
    site = r.text(doc, where, "site")
    if site not in {s.name for s in sites}:
        raise r.fail(doc, where, "site", f"unknown site {site!r}; valid: {', '.join(s.name for s in sites)}")
    resource = r.text(doc, where, "resource")
    if not _RESOURCE_REF.match(resource):
        raise r.fail(doc, where, "resource", f"expected node-N, nic-N, accelerator-N or volume-N, got {resource!r}")
    severity = r.count(doc, where, "severity", 2)
    if severity > 4:
        raise r.fail(doc, where, "severity", f"expected 0 (CRITICAL) .. 4 (INDETERMINATE), got {severity}")
    return AlarmSeed(site, resource, r.text(doc, where, "definition"), severity, r.count(doc, where, "raised_minutes", 0))
