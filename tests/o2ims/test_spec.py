"""Validation against the vendored OpenAPI definitions and extra spec files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from replayer.o2ims.routes import ROUTES
from replayer.o2ims.spec import (
    SpecError,
    SpecSet,
    Violation,
    ViolationKind,
    bundled_specs,
    compliance_schema,
    compliance_schema_names,
)

INV1 = "/o2ims-infrastructureInventory/v1"
INV2 = "/o2ims-infrastructureInventory/v2"
UUID = "38dcb63b-b1f0-4d2c-88bf-56446670ef01"
JSON = "application/json"
PROBLEM = "application/problem+json"

POOL_V1 = {"resourcePoolId": UUID, "name": "edge1-compute", "description": "Compute", "globalLocationId": "loc",
           "oCloudId": UUID, "extensions": {"site": "edge1"}}
DM = {"deploymentManagerId": UUID, "name": "edge1", "description": "k8s", "oCloudId": UUID,
      "serviceUri": "https://edge1:6443", "supportedLocations": ["loc"], "capabilities": {}, "capacity": {}}
ALARM = {"alarmEventRecordId": UUID, "alarmDefinitionID": UUID, "probableCauseID": UUID,
         "alarmRaisedTime": "2026-01-01T00:00:00Z", "alarmAcknowledged": False, "perceivedSeverity": 2,
         "extensions": {}, "resourceTypeID": UUID, "resourceID": UUID}
PROBLEM_BODY = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no such pool"}


@pytest.fixture(scope="module")
def specs() -> SpecSet:
    return bundled_specs()


def kinds(violations: list[Violation]) -> list[str]:
    return [str(v.kind) for v in violations]


def test_bundled_specs_cover_the_route_table(specs: SpecSet) -> None:
    assert bundled_specs() is specs  # cached
    assert set(specs.templates) == {r.template for r in ROUTES}
    for route in ROUTES:
        for method in route.methods:
            op = specs.find_operation(method, route.template)
            assert op is not None and op.template == route.template and op.method == method


@pytest.mark.parametrize(
    ("method", "path", "status", "content_type", "body"),
    [
        ("GET", f"{INV1}/resourcePools", 200, JSON, [POOL_V1]),
        ("GET", f"{INV1}/resourcePools", 200, "application/json; charset=utf-8", json.dumps([POOL_V1]).encode()),
        ("GET", f"{INV1}/resourcePools/", 200, JSON, []),
        ("GET", f"{INV1}/resourcePools/{UUID}", 200, JSON, POOL_V1),
        ("GET", f"{INV1}/deploymentManagers/{UUID}", 200, JSON, DM),
        ("GET", f"{INV1}/resourcePools/{UUID}", 404, PROBLEM, PROBLEM_BODY),
        ("GET", f"{INV1}/resourcePools/{UUID}", 404, "Application/Problem+JSON", json.dumps(PROBLEM_BODY)),
        ("GET", INV1, 200, JSON, {"oCloudId": UUID, "globalcloudId": UUID, "name": "o", "description": "d",
                                  "serviceUri": "http://x", "extensions": {}}),
        ("GET", INV2, 200, JSON, {"oCloudId": UUID, "globalCloudId": UUID, "name": "o", "description": "d",
                                  "serviceUri": "http://x", "extensions": {}}),
        ("GET", "/o2ims-infrastructureInventory/api_versions", 200, JSON,
         {"uriPrefix": INV1, "apiVersions": [{"version": "1.0.0"}]}),
        ("GET", "/o2ims-infrastructureMonitoring/v1/alarms", 200, JSON, [ALARM]),
        ("DELETE", f"{INV1}/subscriptions/{UUID}", 200, None, b""),
        ("DELETE", "/o2ims-infrastructureProvisioning/v1/provisioningRequests/x", 202, None, None),
        # readOnly subscriptionId is returned, and a subscription needs only its callback
        ("POST", f"{INV1}/subscriptions", 201, JSON, {"subscriptionId": UUID, "callback": "http://smo/cb"}),
    ],
)
def test_valid_responses_pass(specs: SpecSet, method: str, path: str, status: int, content_type: str | None,
                              body: Any) -> None:
    assert specs.validate_response(method, path, status, content_type, body) == []


@pytest.mark.parametrize(
    ("method", "path", "status", "content_type", "body", "expected"),
    [
        ("GET", "/o2ims_infrastructureInventory/v1/status", 200, JSON, {},
         Violation(ViolationKind.UNKNOWN_PATH, "", "/o2ims_infrastructureInventory/v1/status is not a path of the "
                   "definitions")),
        ("GET", f"{INV1}/resourcePools/a/b", 200, JSON, {}, Violation(ViolationKind.UNKNOWN_PATH, "",
         f"{INV1}/resourcePools/a/b is not a path of the definitions")),
        ("PUT", f"{INV1}/resourcePools", 200, JSON, [], Violation(ViolationKind.UNDOCUMENTED_METHOD, "",
         f"PUT is not documented for {INV1}/resourcePools (documented: GET)")),
        ("GET", f"{INV1}/resourcePools", 404, PROBLEM, PROBLEM_BODY, Violation(ViolationKind.UNDOCUMENTED_STATUS, "",
         f"status 404 is not documented for GET {INV1}/resourcePools (documented: 200, 400, 401, 403, 500)")),
        ("GET", f"{INV1}/resourcePools/x", 404, JSON, PROBLEM_BODY, Violation(ViolationKind.WRONG_CONTENT_TYPE, "",
         "content type 'application/json' is not documented (documented: application/problem+json) "
         "(errors must be application/problem+json)")),
        ("GET", f"{INV1}/resourcePools", 200, "text/html", "<html>", Violation(ViolationKind.WRONG_CONTENT_TYPE, "",
         "content type 'text/html' is not documented (documented: application/json)")),
        ("GET", f"{INV1}/resourcePools", 200, None, [], Violation(ViolationKind.WRONG_CONTENT_TYPE, "",
         "content type 'missing' is not documented (documented: application/json)")),
        ("GET", f"{INV1}/resourcePools", 200, JSON, [{**POOL_V1, "name": 7}],
         Violation(ViolationKind.SCHEMA, "/0/name", "wrong type: 7 is not of type 'string'")),
        ("GET", f"{INV1}/resourcePools", 200, JSON, [POOL_V1, {k: v for k, v in POOL_V1.items() if k != "name"}],
         Violation(ViolationKind.SCHEMA, "/1", "missing required field 'name'")),
        ("GET", f"{INV1}/resourcePools", 200, JSON, {"a": 1},
         Violation(ViolationKind.SCHEMA, "", "wrong type: {'a': 1} is not of type 'array'")),
        ("GET", f"{INV1}/resourcePools", 200, JSON, b"[{", Violation(ViolationKind.SCHEMA, "",
         "body is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 3 (char 2)")),
        ("GET", "/o2ims-infrastructureMonitoring/v1/alarms", 200, JSON, [{**ALARM, "perceivedSeverity": 9}],
         Violation(ViolationKind.SCHEMA, "/0/perceivedSeverity", "bad enum value: 9 is not one of [0, 1, 2, 3, 4, 5]")),
        ("GET", INV1, 200, JSON, {"oCloudId": UUID, "globalCloudId": UUID, "name": "o", "description": "d",
                                  "serviceUri": "http://x", "extensions": {}},
         Violation(ViolationKind.SCHEMA, "", "missing required field 'globalcloudId'")),
        ("GET", f"{INV1}/resourcePools/x", 404, PROBLEM, {"status": "404", "detail": "x"},
         Violation(ViolationKind.SCHEMA, "/status", "wrong type: '404' is not of type 'integer'")),
        ("DELETE", f"{INV1}/subscriptions/{UUID}", 200, JSON, b"{}",
         Violation(ViolationKind.SCHEMA, "", "no body is documented, got 2 bytes")),
    ],
)
def test_each_violation_is_detected(specs: SpecSet, method: str, path: str, status: int, content_type: str | None,
                                    body: Any, expected: Violation) -> None:
    assert specs.validate_response(method, path, status, content_type, body) == [expected]


def test_violation_str_and_kind_is_a_string() -> None:
    violation = Violation(ViolationKind.SCHEMA, "/0/name", "wrong type")
    assert str(violation) == "schema at /0/name: wrong type"
    assert violation.kind == "schema"
    assert str(Violation(ViolationKind.UNKNOWN_PATH, "", "x")) == "unknown-path: x"


def test_many_schema_errors_are_capped(specs: SpecSet) -> None:
    found = specs.validate_response("GET", f"{INV1}/resourcePools", 200, JSON, [{}] * 10)
    assert len(found) == 21
    assert found[-1].message == "... and 30 more"


def test_missing_fields_are_listed_in_order(specs: SpecSet) -> None:
    found = specs.validate_response("GET", f"{INV1}/deploymentManagers/{UUID}", 200, JSON, {"name": "x"})
    assert [v.message for v in found] == [
        f"missing required field '{name}'"
        for name in ("capabilities", "capacity", "deploymentManagerId", "description", "oCloudId", "serviceUri",
                     "supportedLocations")
    ]


@pytest.mark.parametrize(
    ("method", "path", "content_type", "body", "expected"),
    [
        ("POST", f"{INV1}/subscriptions", JSON, {"callback": "http://smo/cb"}, []),
        ("POST", f"{INV1}/subscriptions", JSON, {"callback": "http://smo/cb", "subscriptionId": UUID}, []),
        ("POST", f"{INV1}/subscriptions", JSON, b'{"filter": "(eq,name,x)"}',
         [Violation(ViolationKind.SCHEMA, "", "missing required field 'callback'")]),
        ("POST", f"{INV1}/subscriptions", "text/plain", b"callback",
         [Violation(ViolationKind.WRONG_CONTENT_TYPE, "", "content type 'text/plain' is not documented "
                    "(documented: application/json)")]),
        ("POST", f"{INV1}/subscriptions", JSON, b"",
         [Violation(ViolationKind.SCHEMA, "", "a request body is required")]),
        ("POST", f"{INV1}/subscriptions", JSON, b"{oops", [Violation(ViolationKind.SCHEMA, "",
         "body is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)")]),
        ("PATCH", "/o2ims-infrastructureMonitoring/v1/alarms/a", "application/merge-patch+json",
         {"alarmAcknowledged": True}, []),
        ("PATCH", "/o2ims-infrastructureMonitoring/v1/alarms/a", JSON, {"alarmAcknowledged": True},
         [Violation(ViolationKind.WRONG_CONTENT_TYPE, "", "content type 'application/json' is not documented "
                    "(documented: application/merge-patch+json)")]),
        ("GET", f"{INV1}/resourcePools", None, b"", []),
        ("POST", f"{INV1}/resourcePools", JSON, b"{}",
         [Violation(ViolationKind.UNDOCUMENTED_METHOD, "", f"POST is not documented for {INV1}/resourcePools "
                    "(documented: GET)")]),
    ],
)
def test_validate_request_body(specs: SpecSet, method: str, path: str, content_type: str | None, body: Any,
                               expected: list[Violation]) -> None:
    assert specs.validate_request_body(method, path, content_type, body) == expected


def test_provisioning_request_body_rejects_unknown_fields(specs: SpecSet) -> None:
    body = {"provisioningRequestId": UUID, "name": "pr", "description": "d", "templateName": "t",
            "templateVersion": "v1", "templateParameters": {}}
    path = "/o2ims-infrastructureProvisioning/v1/provisioningRequests"
    assert specs.validate_request_body("POST", path, JSON, body) == []
    found = specs.validate_request_body("POST", path, JSON, {**body, "colour": "red"})
    assert kinds(found) == ["schema"] and "'colour' was unexpected" in found[0].message


# ------------------------------------------------------------------------------------------ extra spec files

COMMON = """\
openapi: "3.0.0"
info: {title: common, version: "1"}
paths: {}
components:
  schemas:
    Problem:
      type: object
      properties:
        status: {type: integer}
        detail: {type: string}
      required: [status, detail]
"""

API = """\
openapi: "3.0.3"
info: {title: api, version: "1"}
paths:
  /things/{thingId}:
    get:
      responses:
        "200":
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
        4XX:
          content:
            application/problem+json:
              schema: {$ref: "common/common.yaml#/components/schemas/Problem"}
        default:
          content:
            application/problem+json:
              schema: {$ref: "common/common.yaml#/components/schemas/Problem"}
    put:
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Thing"}
      responses:
        "204": {description: done}
components:
  schemas:
    Thing:
      type: object
      discriminator: {propertyName: kind}
      example: {id: "1"}
      properties:
        id: {type: string, readOnly: true}
        secret: {type: string, writeOnly: true}
        label: {type: string, nullable: true}
        colour: {type: string, enum: [red, blue], nullable: true}
        example: {type: integer}
        parent:
          nullable: true
          allOf: [{$ref: "#/components/schemas/Parent"}]
      required: [id, secret]
    Parent:
      type: object
      properties:
        parentId: {type: string}
      required: [parentId]
"""


@pytest.fixture
def extra(tmp_path: Path) -> SpecSet:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "common.yaml").write_text(COMMON)
    (tmp_path / "api.yaml").write_text(API)
    return SpecSet.from_files([tmp_path / "api.yaml"])


@pytest.mark.parametrize(
    ("status", "content_type", "body", "expected"),
    [
        (200, JSON, {"id": "1"}, []),  # writeOnly secret is not required in a response
        (200, JSON, {"id": "1", "label": None, "colour": None}, []),  # nullable
        (200, JSON, {"id": "1", "colour": "red", "example": 3}, []),  # a property named "example" survives
        (200, JSON, {"label": "x"}, ["missing required field 'id'"]),
        (200, JSON, {"id": "1", "colour": "green"}, ["bad enum value: 'green' is not one of ['red', 'blue', None]"]),
        (200, JSON, {"id": "1", "example": "three"}, ["wrong type: 'three' is not of type 'integer'"]),
        (200, JSON, {"id": "1", "parent": None}, []),  # nullable allOf
        (200, JSON, {"id": "1", "parent": {"parentId": "p"}}, []),
        (200, JSON, {"id": "1", "parent": {}}, ["{} is not valid under any of the given schemas"]),
        (404, PROBLEM, {"status": 404, "detail": "x"}, []),  # 4XX range, cross-file $ref
        (404, PROBLEM, {"status": 404}, ["missing required field 'detail'"]),
        (503, PROBLEM, {"status": 503}, ["missing required field 'detail'"]),  # default
    ],
)
def test_extra_spec_translation(extra: SpecSet, status: int, content_type: str, body: Any,
                                expected: list[str]) -> None:
    found = extra.validate_response("GET", "/things/1", status, content_type, body)
    assert [v.message for v in found] == expected


def test_extra_spec_request_direction(extra: SpecSet) -> None:
    # readOnly id is not required in a request; writeOnly secret is.
    assert extra.validate_request_body("PUT", "/things/1", JSON, {"secret": "s"}) == []
    found = extra.validate_request_body("PUT", "/things/1", JSON, {"id": "1"})
    assert [v.message for v in found] == ["missing required field 'secret'"]
    assert extra.validate_response("PUT", "/things/1", 204, None, b"") == []


def test_extra_spec_lookup(extra: SpecSet) -> None:
    assert extra.templates == ("/things/{thingId}",)
    assert extra.match("/things/abc/") == ("/things/{thingId}", {"thingId": "abc"})
    assert extra.match("/things") is None
    op = extra.find_operation("put", "/things/1")
    assert op is not None and op.request_body_required and op.method == "PUT"
    assert extra.find_operation("DELETE", "/things/1") is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("swagger.json", '{"swagger": "2.0", "paths": {}}',
         "only OpenAPI 3 documents are supported (found swagger 2.0)"),
        ("none.yaml", "info: {}\npaths: {}\n", "only OpenAPI 3 documents are supported (found openapi missing)"),
        ("list.yaml", "- 1\n", "not an OpenAPI document (top level is not a mapping)"),
        ("bad.yaml", "openapi: [\n", "not valid YAML/JSON"),
        ("nopaths.yaml", 'openapi: "3.0.0"\n', "'paths' is missing or not a mapping"),
    ],
)
def test_from_files_errors(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SpecError) as info:
        SpecSet.from_files([path])
    assert str(info.value).startswith(f"{path}: {message}")


def test_from_files_dangling_ref(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(API)  # refers to common/common.yaml, which is missing
    with pytest.raises(SpecError) as info:
        SpecSet.from_files([tmp_path / "api.yaml"])
    assert str(info.value) == f"{tmp_path / 'api.yaml'}: $ref to 'common/common.yaml': no such file"


def test_from_files_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"missing\.yaml: cannot read spec file"):
        SpecSet.from_files([tmp_path / "missing.yaml"])


def test_first_file_defining_a_path_wins(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "common.yaml").write_text(COMMON)
    (tmp_path / "api.yaml").write_text(API)
    (tmp_path / "other.yaml").write_text(
        'openapi: "3.0.0"\ninfo: {title: o, version: "1"}\npaths:\n  /things/{id}:\n    delete:\n'
        '      responses: {"200": {description: ok}}\n  /more:\n    get:\n      responses: {"200": {description: ok}}\n'
    )
    specs = SpecSet.from_files([tmp_path / "api.yaml", tmp_path / "other.yaml"])
    assert specs.templates == ("/things/{thingId}", "/things/{id}", "/more")
    assert specs.find_operation("DELETE", "/things/1") is None  # /things/{thingId} came first
    assert specs.find_operation("GET", "/more") is not None


# ------------------------------------------------------------------------------------------ compliance schemas


def test_compliance_schemas() -> None:
    names = compliance_schema_names()
    assert len(names) == 32 and "resourcePools_properties" in names
    schema = compliance_schema("resourcePool_properties")
    assert compliance_schema("resourcePool_properties.json") == schema
    jsonschema.validate(POOL_V1, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x"}, schema)
    schema["mutated"] = True
    assert "mutated" not in compliance_schema("resourcePool_properties")  # callers get their own copy


def test_unknown_compliance_schema() -> None:
    with pytest.raises(ValueError, match=r"unknown compliance schema 'nope' \(valid: alarm_properties, "):
        compliance_schema("nope")


def test_problem_bytes_validate(specs: SpecSet) -> None:
    from replayer.o2ims.problem import build_problem

    body = build_problem(404, "no such pool", path=f"{INV1}/resourcePools/x", base_url="http://127.0.0.1:1").body
    assert specs.validate_response("GET", f"{INV1}/resourcePools/x", 404, PROBLEM, body) == []
