"""Provisioning API handlers (main, 1.2.0) and the provisioning request lifecycle.

A request is PENDING when created, PROGRESSING after ``progressing_after`` and FULFILLED after
``fulfilled_after`` (reads of the request in ``requests`` mode, seconds in ``seconds`` mode); a request
naming a template the profile marks failing (or an unknown template) ends FAILED instead. DELETE answers
202 and the request shows DELETING until ``deleted_after``, then 404. A FULFILLED request creates a node
cluster in the session's cluster API; each phase change notifies the cluster subscriptions.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from replayer.synthetic.context import Ctx, Handler, SynthResponse, json_response
from replayer.synthetic.inventory import api_versions, validate_body
from replayer.synthetic.model import Model
from replayer.synthetic.monitoring import etag
from replayer.synthetic.notify import CREATE, DELETE, MODIFY, change_notifications
from replayer.synthetic.profile import LifecycleMode, Site
from replayer.synthetic.state import ProvisioningRecord, SessionState

if TYPE_CHECKING:
    from replayer.synthetic.api import SyntheticO2IMS

__all__ = ["HANDLERS", "advance", "advance_all", "render"]

API = "infrastructureProvisioning"
PREFIX = "/o2ims-infrastructureProvisioning/v1/provisioningRequests"
PENDING, PROGRESSING, FULFILLED, FAILED, DELETING = "PENDING", "PROGRESSING", "FULFILLED", "FAILED", "DELETING"
_MESSAGES = {
    PENDING: "Provisioning request accepted",
    PROGRESSING: "Cluster installation is in progress",
    FULFILLED: "Provisioning request has completed successfully",
    DELETING: "Deletion is in progress",
}
# ProvisioningStatus.provisioningPhase -> ResourceProvisioningStatus.resourceProvisioningPhase
_RESOURCE_PHASE = {PENDING: "PROCESSING", PROGRESSING: "PROCESSING", FULFILLED: "PROVISIONED", FAILED: "FAILED",
                   DELETING: "PROCESSING"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
JSON = dict[str, Any]


def _site_for(ctx_model: Model, data: JSON) -> Site:
    """The site a request targets: templateParameters oCloudSiteId, site or a site name in nodeClusterName."""
    params = data.get("templateParameters") or {}
    sites = ctx_model.profile.sites
    for site in sites:
        if params.get("oCloudSiteId") == ctx_model.id("oCloudSite", site.name) or params.get("site") == site.name:
            return site
    name = str(params.get("nodeClusterName", ""))
    return next((s for s in sites if s.name in name), sites[0])


def render(owner: SyntheticO2IMS, state: SessionState, rec: ProvisioningRecord) -> JSON:
    """The ProvisioningRequestInfo of a record."""
    model = owner.model
    resource_phase = _RESOURCE_PHASE[rec.phase]
    provisioned = rec.phase == FULFILLED or (rec.phase == DELETING and rec.node_cluster_id in state.node_clusters)
    cluster_name = str((rec.data.get("templateParameters") or {}).get("nodeClusterName") or rec.data["name"])
    return {
        "provisioningRequestReference": model.id("provisioningRequestReference", state.name, rec.id),
        "provisioningRequestData": rec.data,
        "provisionedResourceSet": {
            "nodeClusterId": rec.node_cluster_id if provisioned else "",
            "infrastructureResourceIds": list(rec.resource_ids),
        },
        "status": {
            "updateTime": rec.update_time,
            "message": rec.message,
            "provisioningPhase": rec.phase,
            "nodeClusterProvisioningStatus": {
                "resourceName": cluster_name,
                "resourceId": rec.node_cluster_id,
                "resourceProvisioningPhase": resource_phase,
            },
            "infrastructureResourceProvisioningStatus": [
                {"resourceName": f"{rec.site}-node-1", "resourceId": rid, "resourceProvisioningPhase": resource_phase}
                for rid in rec.resource_ids
            ],
        },
    }


def _progress(owner: SyntheticO2IMS, reads: int, since: float) -> float:
    if owner.profile.lifecycle.mode is LifecycleMode.SECONDS:
        return owner.clock() - since
    return reads


def _target(owner: SyntheticO2IMS, rec: ProvisioningRecord) -> tuple[str, str]:
    lc = owner.profile.lifecycle
    progress = _progress(owner, rec.reads, rec.created_at)
    key = (rec.data["templateName"], rec.data["templateVersion"])
    template = owner.model.template_by_name.get(key)
    if template is None and progress >= lc.progressing_after:
        return FAILED, f"managed infrastructure template {key[0]} version {key[1]} not found"
    if progress >= lc.fulfilled_after:
        if template is not None and template.failing:
            return FAILED, template.failure_message
        return FULFILLED, _MESSAGES[FULFILLED]
    if progress >= lc.progressing_after:
        return PROGRESSING, _MESSAGES[PROGRESSING]
    return PENDING, _MESSAGES[PENDING]


def _set_phase(owner: SyntheticO2IMS, state: SessionState, rec: ProvisioningRecord, phase: str, message: str) -> None:
    prior = render(owner, state, rec)
    rec.phase, rec.message = phase, message
    rec.update_time = owner.now(state)
    if phase == FULFILLED:
        _add_cluster(owner, state, rec)
    post = render(owner, state, rec)
    owner.emit(change_notifications(state, "infrastructureCluster", MODIFY, f"{PREFIX}/{rec.id}", prior, post,
                                    f"provisioning.{phase.lower()}"))


def _add_cluster(owner: SyntheticO2IMS, state: SessionState, rec: ProvisioningRecord) -> None:
    model = owner.model
    template = next((t for t in model.templates if (t["name"], t["version"]) ==
                     (rec.data["templateName"], rec.data["templateVersion"])), None)
    params = rec.data.get("templateParameters") or {}
    cluster = {
        "nodeClusterId": rec.node_cluster_id,
        "clientNodeClusterId": rec.id,
        "name": str(params.get("nodeClusterName") or rec.data["name"]),
        "description": f"Provisioned by provisioning request {rec.data['name']}",
        "clusterDistributionDescription": f"Kubernetes {model.profile.sites[0].kubernetes_version}",
        "nodeClusterTypeId": model.node_cluster_types[0]["nodeClusterTypeId"],
        "artifactResourceId": template["artifactResourceId"] if template else model.id("template", "unknown"),
        "clusterResourceIds": [],
        "clusterResourceGroups": [],
        "extensions": {"site": rec.site, "provisioningRequestId": rec.id},
    }
    state.node_clusters[rec.node_cluster_id] = cluster
    owner.emit(change_notifications(state, "infrastructureCluster", CREATE, f"/nodeClusters/{rec.node_cluster_id}",
                                    None, cluster, "cluster.create"))


def _remove(owner: SyntheticO2IMS, state: SessionState, rec: ProvisioningRecord) -> None:
    del state.provisioning[rec.id]
    owner.now(state)
    cluster = state.node_clusters.pop(rec.node_cluster_id, None)
    if cluster is not None:
        owner.emit(change_notifications(state, "infrastructureCluster", DELETE,
                                        f"/nodeClusters/{rec.node_cluster_id}", cluster, None, "cluster.delete"))


def advance(owner: SyntheticO2IMS, state: SessionState, rec: ProvisioningRecord, *, read: bool) -> bool:
    """Move a request along its lifecycle (counting a read when ``read``); False when it is gone."""
    if rec.phase == DELETING:
        rec.deleted_reads += read
        since = rec.deleted_at if rec.deleted_at is not None else 0.0
        progress = _progress(owner, rec.deleted_reads, since)
        limit = owner.profile.lifecycle.deleted_after
        gone = progress > limit if owner.profile.lifecycle.mode is LifecycleMode.REQUESTS else progress >= limit
        if gone:
            _remove(owner, state, rec)
            return False
        return True
    if rec.phase in (FULFILLED, FAILED):
        return True
    rec.reads += read
    phase, message = _target(owner, rec)
    if phase != rec.phase:
        if rec.phase == PENDING and phase in (FULFILLED, FAILED) and owner.profile.lifecycle.progressing_after < \
                owner.profile.lifecycle.fulfilled_after:
            _set_phase(owner, state, rec, PROGRESSING, _MESSAGES[PROGRESSING])
        _set_phase(owner, state, rec, phase, message)
    return True


def advance_all(owner: SyntheticO2IMS, state: SessionState, *, read: bool) -> list[ProvisioningRecord]:
    """Advance every request of a session; the ones still there, in creation order."""
    return [rec for rec in list(state.provisioning.values()) if advance(owner, state, rec, read=read)]


# ------------------------------------------------------------------------------------------------ handlers


def _check_data(body: Any) -> str | None:
    """Why a ProvisioningRequestData body is unacceptable, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object (ProvisioningRequestData)"
    for key in ("provisioningRequestId", "name", "description", "templateName", "templateVersion"):
        if not isinstance(body.get(key), str):
            return f"{key}: required, a string"
    if not _UUID.match(body["provisioningRequestId"]):
        return f"provisioningRequestId: expected a UUID, got {body['provisioningRequestId']!r}"
    for key in ("name", "templateName", "templateVersion"):
        if not body[key]:
            return f"{key}: must not be empty"
    if not isinstance(body.get("templateParameters"), dict):
        return "templateParameters: required, an object"
    return None


def _read_body(ctx: Ctx) -> tuple[JSON | None, SynthResponse | None]:
    try:
        body = ctx.body_json()
    except ValueError as e:
        return None, ctx.problem(400, str(e))
    reason = _check_data(body) or validate_body(ctx)
    return (None, ctx.problem(400, reason)) if reason else (body, None)


def list_requests(ctx: Ctx) -> SynthResponse:
    """Every provisioning request of the session (each counts as read)."""
    ctx.cacheable = False
    records = advance_all(ctx.owner, ctx.state, read=True)
    return ctx.collection([render(ctx.owner, ctx.state, r) for r in records])


def create_request(ctx: Ctx) -> SynthResponse:
    """POST: 201 PENDING with Location; 409 when the provisioningRequestId exists."""
    ctx.cacheable = False
    body, error = _read_body(ctx)
    if error is not None or body is None:
        return error or ctx.problem(400, "invalid body")
    prid = body["provisioningRequestId"]
    if prid in ctx.state.provisioning:
        return ctx.problem(409, f"provisioning request {prid} already exists")
    site = _site_for(ctx.model, body)
    rec = ProvisioningRecord(
        id=prid, data=body, phase=PENDING, message=_MESSAGES[PENDING], update_time=ctx.owner.now(ctx.state),
        site=site.name, created_at=ctx.owner.clock(),
        node_cluster_id=ctx.model.id("provisionedNodeCluster", ctx.state.name, prid),
        resource_ids=[ctx.model.id("resource", site.name, "node-1")],
    )
    ctx.state.provisioning[prid] = rec
    info = render(ctx.owner, ctx.state, rec)
    return json_response(201, info, {"Location": f"{PREFIX}/{prid}", "ETag": etag(info)})


def _record(ctx: Ctx) -> ProvisioningRecord | None:
    ctx.cacheable = False
    return ctx.state.provisioning.get(ctx.params["provisioningRequestId"])


def get_request(ctx: Ctx) -> SynthResponse:
    """One provisioning request (a read: it may move on, or be gone after DELETING)."""
    rec = _record(ctx)
    if rec is None or not advance(ctx.owner, ctx.state, rec, read=True):
        return ctx.not_found("provisioning request", ctx.params["provisioningRequestId"])
    info = render(ctx.owner, ctx.state, rec)
    return ctx.item(info, headers={"ETag": etag(info)})


def put_request(ctx: Ctx) -> SynthResponse:
    """PUT: replace the request data and restart the lifecycle; 412 stale If-Match, 422 id mismatch/deleting."""
    rec = _record(ctx)
    if rec is None:
        return ctx.not_found("provisioning request", ctx.params["provisioningRequestId"])
    body, error = _read_body(ctx)
    if error is not None or body is None:
        return error or ctx.problem(400, "invalid body")
    wanted = ctx.req.headers.get("if-match")
    current = etag(render(ctx.owner, ctx.state, rec))
    if wanted is not None and wanted.strip() != "*" and current not in {t.strip() for t in wanted.split(",")}:
        return ctx.problem(412, f"If-Match {wanted} does not match the current version {current}")
    if body["provisioningRequestId"] != rec.id:
        return ctx.problem(422, f"provisioningRequestId {body['provisioningRequestId']} does not match the path id "
                           f"{rec.id}")
    if rec.phase == DELETING:
        return ctx.problem(422, f"provisioning request {rec.id} is being deleted")
    rec.data, rec.reads, rec.created_at = body, 0, ctx.owner.clock()
    _set_phase(ctx.owner, ctx.state, rec, PENDING, "Provisioning request updated")
    info = render(ctx.owner, ctx.state, rec)
    return json_response(200, info, {"ETag": etag(info)})


def delete_request(ctx: Ctx) -> SynthResponse:
    """DELETE: 202 with Location; the request shows DELETING, then is gone."""
    rec = _record(ctx)
    if rec is None:
        return ctx.not_found("provisioning request", ctx.params["provisioningRequestId"])
    if rec.phase != DELETING:
        rec.deleted_at, rec.deleted_reads = ctx.owner.clock(), 0
        _set_phase(ctx.owner, ctx.state, rec, DELETING, _MESSAGES[DELETING])
    return SynthResponse(202, {"Location": f"{PREFIX}/{rec.id}"}, b"")


HANDLERS: dict[tuple[str, str], dict[str, Handler]] = {
    (API, "/api_versions"): {"GET": api_versions},
    (API, "/provisioningRequests"): {"GET": list_requests, "POST": create_request},
    (API, "/provisioningRequests/{provisioningRequestId}"): {
        "GET": get_request, "PUT": put_request, "DELETE": delete_request},
}
