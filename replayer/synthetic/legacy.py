"""The earlier FastAPI mock's routes, from the same model, in its snake_case shapes (issue 4 §5).

    GET /o2ims_infrastructureInventory/v1/status
    GET /o2ims_infrastructureInventory/v1/deploymentManagers[/{dmId}]
    GET /o2ims_infrastructureInventory/v1/resourcePools[/{poolId}]
    GET /o2ims_infrastructureInventory/v1/deploymentManagers/{dmId}/o2ims_infrastructureProvisioningRequest

Lists take ``limit`` and ``offset`` (``filter`` is accepted and ignored, as the mock did); the provisioning
list also takes ``request_status``. Errors use the mock's ``{"error": {status, title, timestamp, path}}``.
Unlike the mock, ``/status`` carries ``provisioningRequests`` (the requests made through the spec API,
status READY once FULFILLED) and ids and timestamps are deterministic.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from replayer.synthetic.context import SynthRequest, SynthResponse, json_response
from replayer.synthetic.model import Model, legacy_capacity
from replayer.synthetic.profile import Site
from replayer.synthetic.provisioning import advance, advance_all
from replayer.synthetic.state import ProvisioningRecord

if TYPE_CHECKING:
    from replayer.synthetic.api import SyntheticO2IMS

__all__ = ["LEGACY_PREFIX", "LEGACY_ROUTES", "handle", "is_static"]

LEGACY_PREFIX = "/o2ims_infrastructureInventory/v1"
PR_SEGMENT = "o2ims_infrastructureProvisioningRequest"
#: Path templates served here (for /openapi.json and the coverage table).
LEGACY_ROUTES = (
    f"{LEGACY_PREFIX}/status",
    f"{LEGACY_PREFIX}/deploymentManagers",
    f"{LEGACY_PREFIX}/deploymentManagers/{{dmId}}",
    f"{LEGACY_PREFIX}/deploymentManagers/{{dmId}}/{PR_SEGMENT}",
    f"{LEGACY_PREFIX}/resourcePools",
    f"{LEGACY_PREFIX}/resourcePools/{{poolId}}",
)
#: Spec phase -> the ``status`` a pipeline polling ``/status`` expects (READY once FULFILLED).
STATUS_OF_PHASE = {"PENDING": "PENDING", "PROGRESSING": "PROGRESSING", "FULFILLED": "READY", "FAILED": "FAILED",
                   "DELETING": "DELETING"}
#: Spec phase -> the mock's ``request_status`` vocabulary.
REQUEST_STATUS_OF_PHASE = {"PENDING": "PENDING", "PROGRESSING": "IN_PROGRESS", "FULFILLED": "COMPLETED",
                           "FAILED": "FAILED", "DELETING": "DELETING"}
JSON = dict[str, Any]


def _legacy_time(model: Model, minutes: float) -> str:
    return (model.epoch + timedelta(minutes=minutes)).isoformat()  # the mock's "+00:00" spelling


def error(model: Model, req: SynthRequest, path: str, status: int, title: str,
          headers: dict[str, str] | None = None) -> SynthResponse:
    """The mock's error shape, with a fixed timestamp (the epoch) for determinism."""
    body = {"error": {"status": status, "title": title, "timestamp": _legacy_time(model, 0),
                      "path": f"{req.base_url.rstrip('/')}{path}"}}
    return json_response(status, body, headers)


def deployment_manager(model: Model, dm: JSON) -> JSON:
    """A deployment manager in the mock's shape."""
    site = model.site_of_dm[dm["deploymentManagerId"]]
    ext = dm["extensions"]
    return {
        "deployment_manager_id": dm["deploymentManagerId"],
        "name": dm["name"],
        "description": dm["description"],
        "deployment_manager_type": "KUBERNETES",
        "service_uri": dm["serviceUri"],
        "supported_locales": list(model.profile.cloud.supported_locales[:1]),
        "capabilities": dict(site.extensions["deployment_manager"].get("capabilities", {})),
        "capacity": legacy_capacity(site),
        "extensions": {k: ext[k] for k in ("kubernetes_version", "container_runtime", "cluster_cidr",
                                           "service_cidr", "pod_cidr")},
    }


def resource_pool(model: Model, pool: JSON, site_name: str) -> JSON:
    """A resource pool in the mock's shape."""
    ext = dict(pool["extensions"])
    return {
        "resource_pool_id": pool["resourcePoolId"],
        "name": pool["name"],
        "description": pool["description"],
        "location": pool["location"],
        "resource_type_list": ext.pop("resource_type_list"),
        "resource_pool_type": ext.pop("resource_pool_type"),
        "global_location_id": f"global-location-{site_name}",
        "extensions": ext,
    }


def _pools(model: Model) -> list[JSON]:
    sites = [s.name for s in model.profile.sites for _ in range(3)]
    return [resource_pool(model, p, s) for p, s in zip(model.resource_pools_v1, sites)]


def _seeded_requests(model: Model, site: Site, dm_id: str) -> list[JSON]:
    out = []
    for seed in model.profile.legacy_provisioning_requests:
        name = str(seed.get("name", "request-{site}")).format(SITE=site.title, site=site.name)
        created = float(seed.get("created_minutes", 0))
        out.append({
            "infrastructure_request_id": model.id("legacyProvisioningRequest", site.name, name),
            "name": name,
            "description": str(seed.get("description", "")).format(SITE=site.title, site=site.name),
            "request_type": seed.get("request_type", "NETWORK_FUNCTION_DEPLOYMENT"),
            "request_status": seed.get("request_status", "PENDING"),
            "created_at": model.at(created * 60),
            "updated_at": model.at(float(seed.get("updated_minutes", created)) * 60),
            "requested_capacity": seed.get("requested_capacity", {}),
            "allocated_capacity": seed.get("allocated_capacity"),
            "extensions": {
                "deployment_manager_id": dm_id,
                "edge_site": site.name,
                "priority": seed.get("priority", "medium"),
                "estimated_completion": _legacy_time(model, created + 360),
            },
        })
    return out


def _spec_request(rec: ProvisioningRecord, dm_id: str) -> JSON:
    return {
        "infrastructure_request_id": rec.id,
        "name": rec.data["name"],
        "description": rec.data["description"],
        "request_type": "CLUSTER_PROVISIONING",
        "request_status": REQUEST_STATUS_OF_PHASE[rec.phase],
        "created_at": rec.update_time,
        "updated_at": rec.update_time,
        "requested_capacity": {},
        "allocated_capacity": None,
        "extensions": {
            "deployment_manager_id": dm_id,
            "edge_site": rec.site,
            "priority": "medium",
            "template": f"{rec.data['templateName']}.{rec.data['templateVersion']}",
        },
    }


def _page(model: Model, req: SynthRequest, path: str, items: list[JSON]) -> SynthResponse:
    params = dict(req.query)
    bounds = {"limit": (100, 1, 1000), "offset": (0, 0, None)}
    values = {}
    for name, (default, low, high) in bounds.items():
        raw = params.get(name)
        try:
            value = default if raw is None else int(raw)
        except ValueError:
            return error(model, req, path, 422, f"Query parameter {name} must be an integer, got {raw!r}")
        if value < low or (high is not None and value > high):
            limit = f"between {low} and {high}" if high else f">= {low}"
            return error(model, req, path, 422, f"Query parameter {name} must be {limit}, got {value}")
        values[name] = value
    return json_response(200, items[values["offset"]: values["offset"] + values["limit"]])


def _status(owner: SyntheticO2IMS, req: SynthRequest) -> SynthResponse:
    cloud = owner.profile.cloud
    state = owner.session(req.session)
    requests = {}
    for rec in advance_all(owner, state, read=True):  # polling /status moves requests along, like a GET
        requests[rec.data["name"]] = {
            "status": STATUS_OF_PHASE[rec.phase],
            "phase": rec.phase,
            "provisioningRequestId": rec.id,
            "message": rec.message,
            "updateTime": rec.update_time,
        }
    return json_response(200, {
        "global_cloud_id": {"value": cloud.name},
        "description": cloud.description,
        "service_uri": cloud.legacy_service_uri or f"{req.base_url.rstrip('/')}/o2ims_infrastructureInventory/v1",
        "supported_locales": list(cloud.supported_locales),
        "supported_time_zones": list(cloud.supported_time_zones),
        "provisioningRequests": requests,
    })


def _dm_requests(owner: SyntheticO2IMS, req: SynthRequest, path: str, dm_id: str) -> SynthResponse:
    model = owner.model
    site = model.site_of_dm[dm_id]
    state = owner.session(req.session)
    items = _seeded_requests(model, site, dm_id)
    items += [_spec_request(r, dm_id) for r in list(state.provisioning.values())
              if r.site == site.name and advance(owner, state, r, read=False)]
    wanted = dict(req.query).get("request_status")
    if wanted:
        items = [i for i in items if i["request_status"] == wanted]
    return _page(model, req, path, items)


def is_static(path: str) -> bool:
    """Whether the answer at ``path`` depends only on the model (not on a session): cacheable."""
    return not path.endswith(("/status", PR_SEGMENT))


def handle(owner: SyntheticO2IMS, req: SynthRequest, path: str) -> SynthResponse:
    """Answer a request under the mock's ``/o2ims_...`` prefixes."""
    model = owner.model
    if not path.startswith(LEGACY_PREFIX + "/"):
        return error(model, req, path, 404, f"Path {path} not found")
    segs = path[len(LEGACY_PREFIX) + 1:].split("/")
    known = segs in (["status"], ["deploymentManagers"], ["resourcePools"]) or (
        len(segs) == 2 and segs[0] in ("deploymentManagers", "resourcePools")) or (
        len(segs) == 3 and segs[0] == "deploymentManagers" and segs[2] == PR_SEGMENT)
    if not known:
        return error(model, req, path, 404, f"Path {path} not found")
    if req.method not in ("GET", "HEAD"):
        return error(model, req, path, 405, f"Method {req.method} not allowed", {"Allow": "GET"})
    if segs == ["status"]:
        return _status(owner, req)
    if segs == ["deploymentManagers"]:
        return _page(model, req, path, [deployment_manager(model, d) for d in model.deployment_managers])
    if segs == ["resourcePools"]:
        return _page(model, req, path, _pools(model))
    ident = segs[1]
    if segs[0] == "resourcePools":
        pool = next((p for p in _pools(model) if p["resource_pool_id"] == ident), None)
        return json_response(200, pool) if pool else error(model, req, path, 404, f"Resource pool {ident} not found")
    dm = next((d for d in model.deployment_managers if d["deploymentManagerId"] == ident), None)
    if dm is None:
        return error(model, req, path, 404, f"Deployment manager {ident} not found")
    if len(segs) == 3:
        return _dm_requests(owner, req, path, ident)
    return json_response(200, deployment_manager(model, dm))
