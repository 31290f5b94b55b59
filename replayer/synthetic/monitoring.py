"""Monitoring API handlers: alarms (GET, PATCH merge-patch), alarmServiceConfiguration, alarmSubscriptions.

Acknowledging sets ``alarmAcknowledged`` and ``alarmAcknowledgedTime``; clearing sets ``perceivedSeverity``
5 (CLEARED) and ``alarmClearedTime``. Both are per session and notify the alarm subscriptions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from replayer.o2ims.dialect import Dialect
from replayer.synthetic.context import Ctx, Handler, SynthResponse, encode, json_response
from replayer.synthetic.inventory import api_versions, subscription_handlers, subscription_item_handlers, validate_body
from replayer.synthetic.model import ALARM_DEFINITIONS
from replayer.synthetic.notify import alarm_notifications
from replayer.synthetic.state import SessionState

if TYPE_CHECKING:
    from replayer.synthetic.api import SyntheticO2IMS

__all__ = ["HANDLERS", "CLEARED", "etag", "raise_alarm", "update_alarm"]

API = "infrastructureMonitoring"
CLEARED = 5  # PerceivedSeverity x-enum-varnames: CRITICAL MAJOR MINOR WARNING INDETERMINATE CLEARED
JSON = dict[str, Any]


def etag(obj: Any) -> str:
    """A strong ETag of a JSON value (deterministic: a hash of its encoding)."""
    return '"' + hashlib.sha256(encode(obj)).hexdigest()[:20] + '"'


def _precondition(ctx: Ctx, current: Any) -> SynthResponse | None:
    """412 when ``If-Match`` names another version (RFC 9110 13.1.1), else None."""
    wanted = ctx.req.headers.get("if-match")
    if wanted is None or wanted.strip() == "*":
        return None
    tags = {t.strip() for t in wanted.split(",")}
    if etag(current) in tags:
        return None
    return ctx.problem(412, f"If-Match {wanted} does not match the current version {etag(current)}")


def present_alarm(alarm: Mapping[str, Any], dialect: Dialect) -> JSON:
    """An AlarmEventRecord as the implementation shows it. pti-o2 (o2ims/views/alarm_dto.py
    ``alarm_event_record_get``) carries each id in both ``...Id`` and ``...ID`` spellings, the severity as a
    string, ``alarmAcknowledgeTime`` (sic), null where unset, and no extensions."""
    if dialect is not Dialect.O_RAN_SC:
        return dict(alarm)
    out: JSON = {"alarmEventRecordId": alarm["alarmEventRecordId"]}
    for stem in ("resourceType", "resource", "alarmDefinition", "probableCause"):
        out[f"{stem}Id"] = out[f"{stem}ID"] = alarm.get(f"{stem}ID")
    out["alarmRaisedTime"] = alarm.get("alarmRaisedTime")
    out["alarmChangedTime"] = alarm.get("alarmChangedTime")
    out["alarmAcknowledgeTime"] = alarm.get("alarmAcknowledgedTime") or ""  # an empty column until acknowledged
    out["alarmAcknowledged"] = alarm.get("alarmAcknowledged")
    out["perceivedSeverity"] = str(alarm.get("perceivedSeverity"))
    return out


def list_alarms(ctx: Ctx) -> SynthResponse:
    """Every alarm of the session, cleared ones included (the alarm history)."""
    return ctx.collection([present_alarm(a, ctx.dialect) for a in ctx.state.alarms.values()])


def get_alarm(ctx: Ctx) -> SynthResponse:
    """One alarm, with its ETag."""
    ident = ctx.params["alarmEventRecordId"]
    alarm = ctx.state.alarms.get(ident)
    if alarm is None:
        return ctx.not_found("alarm", ident, f"Alarm Event Record {ident} doesn't exist")
    return ctx.item(present_alarm(alarm, ctx.dialect), headers={"ETag": etag(alarm)})


def _check_patch(body: Any, dialect: Dialect) -> str | None:
    if not isinstance(body, dict) or not body:
        return "the body must be a non-empty JSON object with alarmAcknowledged and/or perceivedSeverity"
    if dialect is Dialect.O_RAN_SC and len({"alarmAcknowledged", "perceivedSeverity"} & set(body)) != 1:
        # o2ims/views/alarm_route.py AlarmGetRouter.patch
        return 'Either "alarmAcknowledged" or "perceivedSeverity" shall be included in a request, but not both.'
    unknown = sorted(set(body) - {"alarmAcknowledged", "perceivedSeverity"})
    if unknown:
        return f"unknown field(s) {', '.join(unknown)}; valid: alarmAcknowledged, perceivedSeverity"
    if "alarmAcknowledged" in body and body["alarmAcknowledged"] is not True:
        return f"alarmAcknowledged: only true may be set, got {body['alarmAcknowledged']!r}"
    sev = body.get("perceivedSeverity", CLEARED)
    if isinstance(sev, bool) or sev != CLEARED:
        return f"perceivedSeverity: only {CLEARED} (CLEARED) may be set, got {sev!r}"
    return None


def patch_alarm(ctx: Ctx) -> SynthResponse:
    """Acknowledge and/or clear an alarm (merge patch); 409 when it already is, 412 on a stale If-Match."""
    ident = ctx.params["alarmEventRecordId"]
    alarm = ctx.state.alarms.get(ident)
    if alarm is None:
        return ctx.not_found("alarm", ident)
    try:
        body = ctx.body_json()
    except ValueError as e:
        return ctx.problem(400, str(e))
    reason = _check_patch(body, ctx.dialect) or validate_body(ctx)
    if reason:
        return ctx.problem(400, reason)
    if (failed := _precondition(ctx, alarm)) is not None:
        return failed
    if ctx.dialect is Dialect.O_RAN_SC:
        # o2ims/views/alarm_view.py: acknowledging again acknowledges again (200); clearing again is a 400.
        if "perceivedSeverity" in body and alarm["perceivedSeverity"] == CLEARED:
            return ctx.problem(400, f"Alarm Event Record {ident} has already been marked as CLEARED.")
    elif body.get("alarmAcknowledged") and alarm["alarmAcknowledged"]:
        return ctx.problem(409, f"alarm {ident} is already acknowledged")
    elif "perceivedSeverity" in body and alarm["perceivedSeverity"] == CLEARED:
        return ctx.problem(409, f"alarm {ident} is already cleared")
    updated = update_alarm(ctx.owner, ctx.state, ident, acknowledge="alarmAcknowledged" in body,
                           severity=CLEARED if "perceivedSeverity" in body else None)
    applied = {k: updated[k] for k in ("alarmAcknowledged", "perceivedSeverity") if k in body}
    return json_response(200, applied, {"ETag": etag(updated)})


def update_alarm(owner: SyntheticO2IMS, state: SessionState, ident: str, *, acknowledge: bool = False,
                 severity: int | None = None) -> JSON:
    """Change an alarm of a session and notify: ACKNOWLEDGE, CLEAR (severity 5) or CHANGE (other severity)."""
    alarm = dict(state.alarms[ident])  # copy on write: the model's alarms are shared by every session
    now = owner.now(state)
    events = []
    if acknowledge:
        alarm["alarmAcknowledged"] = True
        alarm["alarmAcknowledgedTime"] = now
        events.append("ACKNOWLEDGE")
    if severity is not None and severity != alarm["perceivedSeverity"]:
        alarm["perceivedSeverity"] = severity
        if severity == CLEARED:
            alarm["alarmClearedTime"] = now
            events.append("CLEAR")
        else:
            events.append("CHANGE")
    alarm["alarmChangedTime"] = now
    state.alarms[ident] = alarm
    for kind in events:
        owner.emit(alarm_notifications(owner.model, state, kind, alarm))
    return alarm


def raise_alarm(owner: SyntheticO2IMS, state: SessionState, site: str, resource: str, definition: str,
                severity: int, extensions: Mapping[str, str] | None = None) -> JSON:
    """Raise a new alarm on ``resource`` of ``site`` in a session and notify (NEW); ValueError on bad names."""
    model = owner.model
    ref = model.resource_refs.get((site, resource))
    if ref is None:
        raise ValueError(f"site {site!r} has no resource {resource!r} (names: node-N, nic-N, accelerator-N, volume-N)")
    def_id = model.alarm_definition_id(ref.kind, definition)
    if def_id is None:
        raise ValueError(f"no alarm definition {definition!r} for a {ref.kind}; valid: "
                         + ", ".join(ALARM_DEFINITIONS[ref.kind]))
    if not 0 <= severity <= 4:
        raise ValueError(f"perceivedSeverity must be 0 (CRITICAL) .. 4 (INDETERMINATE), got {severity}")
    state.alarm_count += 1
    now = owner.now(state)
    alarm: JSON = {
        "alarmEventRecordId": model.id("alarm", owner.run_id, state.name, str(state.alarm_count), site, resource,
                                       definition),
        "alarmDefinitionID": def_id,
        "probableCauseID": model.id("probableCause", definition),
        "alarmRaisedTime": now,
        "alarmChangedTime": now,
        "alarmAcknowledged": False,
        "resourceTypeID": ref.type_id,
        "resourceID": ref.resource_id,
        "perceivedSeverity": severity,
        "extensions": {"site": site, "resourceName": resource, "alarmName": definition, **(extensions or {})},
    }
    state.alarms[alarm["alarmEventRecordId"]] = alarm
    owner.emit(alarm_notifications(model, state, "NEW", alarm))
    return alarm


# ------------------------------------------------------------------------------ alarmServiceConfiguration


def _check_configuration(body: Any, *, partial: bool) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not partial:
        missing = [k for k in ("retentionPeriod", "extensions") if k not in body]
        if missing:
            return f"missing required field(s): {', '.join(missing)}"
    period = body.get("retentionPeriod", 1)
    if not partial or "retentionPeriod" in body:
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            return f"retentionPeriod: expected an integer number of days >= 1, got {period!r}"
    ext = body.get("extensions", {})
    if ext is not None and not isinstance(ext, dict):
        return f"extensions: expected an object, got {ext!r}"
    if ext and not all(isinstance(v, str) or (partial and v is None) for v in ext.values()):
        return "extensions: values must be strings"
    if ext is None and not partial:
        return "extensions: expected an object, got null"
    return None


def get_configuration(ctx: Ctx) -> SynthResponse:
    """The session's alarm service configuration, with its ETag."""
    config = ctx.state.service_configuration
    return ctx.item(config, headers={"ETag": etag(config)})


def _write_configuration(ctx: Ctx, *, partial: bool) -> SynthResponse:
    try:
        body = ctx.body_json()
    except ValueError as e:
        return ctx.problem(400, str(e))
    reason = _check_configuration(body, partial=partial) or validate_body(ctx)
    if reason:
        return ctx.problem(400, reason)
    current = ctx.state.service_configuration
    if (failed := _precondition(ctx, current)) is not None:
        return failed
    if partial:  # RFC 7396 JSON merge patch
        ext = dict(current.get("extensions", {}))
        for key, value in (body.get("extensions") or {}).items():
            if value is None:
                ext.pop(key, None)
            else:
                ext[key] = value
        if body.get("extensions", ...) is None:
            ext = {}
        config = {"retentionPeriod": body.get("retentionPeriod", current["retentionPeriod"]), "extensions": ext}
    else:
        config = {"retentionPeriod": body["retentionPeriod"], "extensions": dict(body["extensions"])}
    ctx.state.service_configuration = config
    ctx.owner.now(ctx.state)
    return json_response(200, config, {"ETag": etag(config)})


def put_configuration(ctx: Ctx) -> SynthResponse:
    """Replace the alarm service configuration."""
    return _write_configuration(ctx, partial=False)


def patch_configuration(ctx: Ctx) -> SynthResponse:
    """Merge-patch the alarm service configuration."""
    return _write_configuration(ctx, partial=True)


HANDLERS: dict[tuple[str, str], dict[str, Handler]] = {
    (API, "/api_versions"): {"GET": api_versions},
    (API, "/alarms"): {"GET": list_alarms},
    (API, "/alarms/{alarmEventRecordId}"): {"GET": get_alarm, "PATCH": patch_alarm},
    (API, "/alarmServiceConfiguration"): {
        "GET": get_configuration, "PUT": put_configuration, "PATCH": patch_configuration},
    (API, "/alarmSubscriptions"): subscription_handlers(),
    (API, "/alarmSubscriptions/{alarmSubscriptionId}"): subscription_item_handlers(),
}
