"""Every synthetic answer validates against the vendored OpenAPI definitions, errors included,
and the inventory and monitoring v1 answers against the it-test compliance JSON schemas."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from replayer.o2ims.routes import ROUTES, Route
from replayer.o2ims.spec import bundled_specs, compliance_schema
from replayer.synthetic.api import SynthRequest, SynthResponse, SyntheticO2IMS

SUB_CALLBACK = "http://127.0.0.1:9/callback"
PR_ID = "5b3c6d1e-0f2a-4b8c-9d7e-1a2b3c4d5e6f"


def ask(model: SyntheticO2IMS, method: str, path: str, body: Any = None, query: tuple[tuple[str, str], ...] = (),
        headers: dict[str, str] | None = None) -> SynthResponse:
    data = b"" if body is None else json.dumps(body).encode()
    return model.handle(SynthRequest(method, path, query, headers or {"content-type": "application/json"}, data,
                                     "conformance", "http://127.0.0.1:30205"))


def check(method: str, path: str, resp: SynthResponse) -> None:
    violations = bundled_specs().validate_response(
        method, path, resp.status, resp.headers.get("Content-Type"), resp.body)
    assert violations == [], f"{method} {path} -> {resp.status}: {[str(v) for v in violations]}"


def ids(model: SyntheticO2IMS) -> dict[str, str]:
    """A real value for every path parameter of the definitions."""
    m = model.model
    pool = m.resource_pools_v1[0]["resourcePoolId"]
    sub = ask(model, "POST", "/o2ims-infrastructureInventory/v1/subscriptions", {"callback": SUB_CALLBACK}).json()
    csub = ask(model, "POST", "/o2ims-infrastructureCluster/v1/subscriptions", {"callback": SUB_CALLBACK}).json()
    asub = ask(model, "POST", "/o2ims-infrastructureMonitoring/v1/alarmSubscriptions",
               {"callback": SUB_CALLBACK}).json()
    ask(model, "POST", "/o2ims-infrastructureProvisioning/v1/provisioningRequests", {
        "provisioningRequestId": PR_ID, "name": "intent-1", "description": "conformance",
        "templateName": "edge-cluster", "templateVersion": "v4-18-0", "templateParameters": {}})
    return {
        "deploymentManagerId": m.deployment_managers[0]["deploymentManagerId"],
        "resourceTypeId": m.resource_types_v2[0]["resourceTypeId"],
        "resourcePoolId": pool,
        "resourceId": m.resources[pool][0]["resourceId"],
        "alarmDictionaryId": m.alarm_dictionaries[0]["alarmDictionaryId"],
        "globalLocationId": m.locations[0]["globalLocationId"],
        "oCloudSiteId": m.ocloud_sites[0]["oCloudSiteId"],
        "alarmEventRecordId": m.alarms[0]["alarmEventRecordId"],
        "alarmSubscriptionId": asub["alarmSubscriptionId"],
        "provisioningRequestId": PR_ID,
        "nodeClusterTypeId": m.node_cluster_types[0]["nodeClusterTypeId"],
        "nodeClusterId": m.node_clusters[0]["nodeClusterId"],
        "clusterResourceTypeId": m.cluster_resource_types[0]["clusterResourceTypeId"],
        "clusterResourceId": m.cluster_resources[0]["clusterResourceId"],
        "managedInfrastructureTemplateId": m.templates[0]["artifactResourceId"],
        "subscriptionId": sub["subscriptionId"],
        "clusterSubscriptionId": csub["subscriptionId"],
        "clusterAlarmDictionaryId": m.cluster_alarm_dictionaries[0]["alarmDictionaryId"],
    }


def fill(route: Route, values: dict[str, str], unknown: str | None = None) -> str:
    path = route.template
    for name in route.params:
        value = values[name]
        if route.api == "infrastructureCluster" and name in ("subscriptionId", "alarmDictionaryId"):
            value = values["cluster" + name[0].upper() + name[1:]]
        if name == unknown:
            value = "00000000-0000-4000-8000-000000000000"
        path = path.replace("{" + name + "}", value)
    return path


@pytest.fixture(scope="module")
def walked() -> tuple[SyntheticO2IMS, dict[str, str]]:
    model = SyntheticO2IMS()
    return model, ids(model)


@pytest.mark.parametrize("route", [r for r in ROUTES if "GET" in r.methods], ids=lambda r: r.template)
def test_every_get_conforms(walked: tuple[SyntheticO2IMS, dict[str, str]], route: Route) -> None:
    model, values = walked
    path = fill(route, values)
    resp = ask(model, "GET", path)
    assert resp.status == 200, resp.body
    check("GET", path, resp)
    if route.params:  # an unknown id: 404 ProblemDetails
        missing = fill(route, values, unknown=route.params[-1])
        resp = ask(model, "GET", missing)
        assert resp.status == 404
        check("GET", missing, resp)
    if route.kind == "collection":  # a malformed filter and an unknown attribute: 400
        for expr in ("(eq,name", "(eq,noSuchAttribute,x)"):
            resp = ask(model, "GET", path, query=(("filter", expr),))
            assert resp.status == 400, (path, expr, resp.body)
            check("GET", path, resp)


def test_selectors_and_paging_conform(walked: tuple[SyntheticO2IMS, dict[str, str]]) -> None:
    model, _ = walked
    path = "/o2ims-infrastructureInventory/v1/resourcePools"
    resp = ask(model, "GET", path, query=(("exclude_default", ""),))
    assert all("extensions" not in p for p in resp.json())
    check("GET", path, resp)
    resp = ask(model, "GET", path, query=(("filter", "(eq,name,EDGE3-STORAGE)"),))
    assert [p["name"] for p in resp.json()] == ["EDGE3-STORAGE"]


def test_writes_conform(walked: tuple[SyntheticO2IMS, dict[str, str]]) -> None:
    model, values = walked
    prov = "/o2ims-infrastructureProvisioning/v1/provisioningRequests"
    alarm = f"/o2ims-infrastructureMonitoring/v1/alarms/{values['alarmEventRecordId']}"
    config = "/o2ims-infrastructureMonitoring/v1/alarmServiceConfiguration"
    good = {"provisioningRequestId": PR_ID, "name": "intent-1", "description": "again",
            "templateName": "edge-cluster", "templateVersion": "v4-18-0", "templateParameters": {}}
    cases: list[tuple[str, str, Any, dict[str, str] | None, int]] = [
        ("POST", prov, good, None, 409),
        ("POST", prov, {"name": "x"}, None, 400),
        ("PUT", f"{prov}/{PR_ID}", {**good, "provisioningRequestId": "6b3c6d1e-0f2a-4b8c-9d7e-1a2b3c4d5e6f"}, None, 422),
        ("PUT", f"{prov}/{PR_ID}", good, {"content-type": "application/json", "if-match": '"stale"'}, 412),
        ("PUT", f"{prov}/{PR_ID}", good, None, 200),
        ("PATCH", alarm, {"alarmAcknowledged": True}, None, 200),
        ("PATCH", alarm, {"alarmAcknowledged": True}, None, 409),
        ("PATCH", alarm, {"perceivedSeverity": 2}, None, 400),
        ("PATCH", alarm, {"perceivedSeverity": 5}, {"content-type": "application/merge-patch+json", "if-match": '"x"'}, 412),
        ("PATCH", alarm, {"perceivedSeverity": 5}, None, 200),
        ("PUT", config, {"retentionPeriod": 30, "extensions": {"team": "ran"}}, None, 200),
        ("PUT", config, {"retentionPeriod": 0, "extensions": {}}, None, 400),
        ("PATCH", config, {"extensions": {"team": None, "site": "edge1"}}, None, 200),
        ("POST", "/o2ims-infrastructureMonitoring/v1/alarmSubscriptions", {"callback": SUB_CALLBACK}, None, 409),
        ("POST", "/o2ims-infrastructureMonitoring/v1/alarmSubscriptions", {"callback": "not a url"}, None, 400),
        ("POST", "/o2ims-infrastructureInventory/v2/subscriptions", {"callback": "x", "filter": "(eq"}, None, 400),
        ("DELETE", f"/o2ims-infrastructureInventory/v1/subscriptions/{values['subscriptionId']}", None, None, 200),
        ("DELETE", f"/o2ims-infrastructureInventory/v1/subscriptions/{values['subscriptionId']}", None, None, 404),
        ("DELETE", f"/o2ims-infrastructureMonitoring/v1/alarmSubscriptions/{values['alarmSubscriptionId']}", None,
         None, 200),
        ("DELETE", f"{prov}/{PR_ID}", None, None, 202),
        ("DELETE", f"{prov}/00000000-0000-4000-8000-000000000000", None, None, 404),
    ]
    for method, path, body, headers, status in cases:
        resp = ask(model, method, path, body, headers=headers)
        assert resp.status == status, (method, path, resp.body)
        check(method, path, resp)
    assert ask(model, "GET", config).json() == {"retentionPeriod": 30, "extensions": {"site": "edge1"}}


def error_schema(name: str) -> dict[str, Any]:
    """An it-test error schema without its ``instance: array`` (the O2IMS ProblemDetails says a URI string;
    the definitions win where the two disagree, see docs/o2ims-coverage.md)."""
    schema = compliance_schema(name)
    schema["properties"].pop("instance")
    return schema


def test_unsupported_method_is_405_with_allow(model: SyntheticO2IMS) -> None:
    resp = ask(model, "DELETE", "/o2ims-infrastructureInventory/v1/resourcePools")
    assert resp.status == 405 and resp.headers["Allow"] == "GET"
    assert resp.headers["Content-Type"] == "application/problem+json"
    jsonschema.validate(resp.json(), error_schema("unsupported_method_properties"))


def test_unknown_path_is_404_problem(model: SyntheticO2IMS) -> None:
    resp = ask(model, "GET", "/o2ims-infrastructureInventory/v1/noSuchThing")
    assert resp.status == 404 and resp.headers["Content-Type"] == "application/problem+json"
    jsonschema.validate(resp.json(), error_schema("client_errors_properties"))


V1 = "/o2ims-infrastructureInventory/v1"


@pytest.mark.parametrize(("path", "schema", "query"), [
    (V1, "ocloud_properties", ()),
    (V1, "ocloud_allfields_properties", (("all_fields", ""),)),
    (f"{V1}/deploymentManagers", "deploymentManagers_properties", ()),
    (f"{V1}/resourcePools", "resourcePools_properties", ()),
    (f"{V1}/resourceTypes", "resourceTypes_properties", ()),
    (f"{V1}/resourceTypes", "resourceTypes_allfields_properties", (("all_fields", ""),)),
    (f"{V1}/resourceTypes", "resourceTypes_field2_properties", (("fields", "name,alarmDictionary"),)),
    ("/o2ims-infrastructureMonitoring/v1/alarms", "alarms_properties", ()),
])
def test_compliance_schemas(model: SyntheticO2IMS, path: str, schema: str, query: tuple[tuple[str, str], ...]) -> None:
    resp = ask(model, "GET", path, query=query)
    assert resp.status == 200
    jsonschema.validate(resp.json(), compliance_schema(schema))


def test_compliance_item_schemas(model: SyntheticO2IMS) -> None:
    m = model.model
    pool = m.resource_pools_v1[0]["resourcePoolId"]
    for path, schema in [
        (f"{V1}/deploymentManagers/{m.deployment_managers[0]['deploymentManagerId']}", "deploymentManager_properties"),
        (f"{V1}/resourcePools/{pool}", "resourcePool_properties"),
        (f"{V1}/resourcePools/{pool}/resources", "resources_properties"),
        (f"{V1}/resourcePools/{pool}/resources/{m.resources[pool][0]['resourceId']}", "resource_properties"),
        (f"{V1}/resourceTypes/{m.resource_types_v1[0]['resourceTypeId']}", "resourceType_properties"),
        (f"/o2ims-infrastructureMonitoring/v1/alarms/{m.alarms[0]['alarmEventRecordId']}", "alarm_properties"),
    ]:
        resp = ask(model, "GET", path)
        jsonschema.validate(resp.json(), compliance_schema(schema))
    created = ask(model, "POST", f"{V1}/subscriptions", {"callback": SUB_CALLBACK})
    jsonschema.validate(created.json(), compliance_schema("subscription_post_resp_properties"))
    jsonschema.validate(ask(model, "GET", f"{V1}/subscriptions").json(), compliance_schema("subscriptions_properties"))
    asub = ask(model, "POST", "/o2ims-infrastructureMonitoring/v1/alarmSubscriptions", {"callback": SUB_CALLBACK})
    jsonschema.validate(asub.json(), compliance_schema("alarm_subscription_properties"))
    jsonschema.validate(ask(model, "GET", "/o2ims-infrastructureMonitoring/v1/alarmSubscriptions").json(),
                        compliance_schema("alarm_subscriptions_properties"))


@pytest.mark.parametrize("segment", ["#", "?", "..", ".", "a b", "%", "\n"])
def test_odd_ids_are_404_problems(model: SyntheticO2IMS, segment: str) -> None:
    """Decoded ids holding delimiters or dot segments (schemathesis found them) stay 404 ProblemDetails."""
    for method, path in (("GET", f"{V1}/deploymentManagers/{segment}"),
                         ("DELETE", f"{V1}/subscriptions/{segment}"),
                         ("GET", f"/o2ims-infrastructureProvisioning/v1/provisioningRequests/{segment}")):
        resp = ask(model, method, path)
        assert resp.status == 404, (method, path, resp.body)
        assert resp.headers["Content-Type"] == "application/problem+json"
        assert resp.json()["instance"].startswith("http://127.0.0.1:30205/o2ims-")
