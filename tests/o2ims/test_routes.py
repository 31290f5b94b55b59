"""The route table against the vendored OpenAPI definitions, and path matching, normalisation, templates."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from replayer.o2ims import routes
from replayer.o2ims.routes import (
    API_VERSIONS_PATHS,
    IDENTITY_KEYS,
    ROUTES,
    ROUTES_BY_TEMPLATE,
    RouteKind,
    default_excluded,
    identity_key_for,
    identity_value,
    is_legacy_path,
    match_route,
    normalise_path,
    template_of,
)

SPECS = Path(routes.__file__).parent.parent / "data" / "specs"
MAIN = SPECS / "oran-o2ims-main" / "internal" / "service"
SOURCES = [
    SPECS / "oran-o2ims-release-4.21" / "internal" / "service" / "resources" / "api" / "openapi.yaml",
    *(MAIN / svc / "api" / "openapi.yaml" for svc in ("resources", "alarms", "provisioning", "cluster", "artifacts")),
]
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
_loaded: dict[Path, Any] = {}


def _load(path: Path) -> Any:
    if path not in _loaded:
        _loaded[path] = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return _loaded[path]


def _deref(doc_path: Path, node: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    while "$ref" in node:
        target, _, pointer = node["$ref"].partition("#")
        if target:
            doc_path = (doc_path.parent / target).resolve()
        node = _load(doc_path)
        for part in pointer.strip("/").split("/"):
            node = node[part]
    return doc_path, node


def _spec_paths() -> dict[str, tuple[Path, dict[str, Any]]]:
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    for source in SOURCES:
        for template, ops in _load(source)["paths"].items():
            out.setdefault(template, (source, ops))
    return out


SPEC_PATHS = _spec_paths()


def _ok_schema(source: Path, ops: dict[str, Any]) -> tuple[Path, dict[str, Any]] | None:
    content = ops.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return None if schema is None else (source, schema)


def test_every_spec_path_has_a_route_and_nothing_else() -> None:
    assert set(ROUTES_BY_TEMPLATE) == set(SPEC_PATHS)
    assert len(ROUTES) == len(ROUTES_BY_TEMPLATE)


@pytest.mark.parametrize("template", sorted(SPEC_PATHS))
def test_route_agrees_with_its_definition(template: str) -> None:
    source, ops = SPEC_PATHS[template]
    route = ROUTES_BY_TEMPLATE[template]
    assert set(route.methods) == {m.upper() for m in ops if m in HTTP_METHODS}
    assert route.params == tuple(re.findall(r"\{(\w+)\}", template))
    found = _ok_schema(source, ops)
    assert found is not None, "every O2IMS path answers GET 200 with JSON"
    doc, schema = _deref(*found)
    if route.kind is RouteKind.COLLECTION:
        assert schema["type"] == "array"
        _, element = _deref(doc, schema["items"])
    else:
        assert schema.get("type") != "array"
        element = schema
    if route.kind is RouteKind.ITEM:
        assert route.id_param == route.params[-1] and template.endswith("/{" + route.id_param + "}")
        assert route.collection_template in ROUTES_BY_TEMPLATE
        assert ROUTES_BY_TEMPLATE[route.collection_template].kind is RouteKind.COLLECTION
    if route.kind in (RouteKind.COLLECTION, RouteKind.ITEM):
        assert route.identity_key is not None
        # The identity key is a (possibly nested) property of the element schema.
        node: dict[str, Any] = element
        for part in route.identity_key.split("/"):
            _, node = _deref(doc, node["properties"][part])
        assert node["type"] == "string"
    else:
        assert route.identity_key is None and route.id_param is None


@pytest.mark.parametrize("template", sorted(t for t, r in ROUTES_BY_TEMPLATE.items() if default_excluded(r)))
def test_default_excluded_are_complex_attributes_of_the_schema(template: str) -> None:
    source, ops = SPEC_PATHS[template]
    found = _ok_schema(source, ops)
    assert found is not None
    doc, schema = _deref(*found)
    if schema.get("type") == "array":
        doc, schema = _deref(doc, schema["items"])
    for attr in default_excluded(ROUTES_BY_TEMPLATE[template]):
        node = schema
        for part in attr.split("/"):
            doc, node = _deref(doc, node["properties"][part])
        assert node["type"] in ("object", "array"), attr


def test_identity_keys_and_api_versions_paths() -> None:
    assert IDENTITY_KEYS["resourcePools"] == "resourcePoolId"
    assert len(API_VERSIONS_PATHS) == 5 + 6  # unversioned per API, plus v1 of each and inventory v2
    assert all(ROUTES_BY_TEMPLATE[p].kind is RouteKind.SINGLETON for p in API_VERSIONS_PATHS)


INV1 = "/o2ims-infrastructureInventory/v1"
UUID = "38dcb63b-b1f0-4d2c-88bf-56446670ef01"


@pytest.mark.parametrize(
    ("path", "template", "params"),
    [
        (INV1, INV1, {}),
        (f"{INV1}/resourcePools", f"{INV1}/resourcePools", {}),
        (f"{INV1}/resourcePools/{UUID}", f"{INV1}/resourcePools/{{resourcePoolId}}", {"resourcePoolId": UUID}),
        (
            f"{INV1}/resourcePools/p1/resources/r1",
            f"{INV1}/resourcePools/{{resourcePoolId}}/resources/{{resourceId}}",
            {"resourcePoolId": "p1", "resourceId": "r1"},
        ),
        (f"{INV1}/resourceTypes/t1/alarmDictionary", f"{INV1}/resourceTypes/{{resourceTypeId}}/alarmDictionary",
         {"resourceTypeId": "t1"}),
        ("/o2ims-infrastructureInventory/v2/oCloudSites/s", "/o2ims-infrastructureInventory/v2/oCloudSites/"
         "{oCloudSiteId}", {"oCloudSiteId": "s"}),
        ("/o2ims-infrastructureMonitoring/api_versions", "/o2ims-infrastructureMonitoring/api_versions", {}),
        # not normalised yet: match_route normalises on a miss
        (f"{INV1}/resourcePools/", f"{INV1}/resourcePools", {}),
        (f"{INV1}//resourcePools/a%20b", f"{INV1}/resourcePools/{{resourcePoolId}}", {"resourcePoolId": "a b"}),
    ],
)
def test_match_route(path: str, template: str, params: dict[str, str]) -> None:
    found = match_route(path)
    assert found is not None
    assert found[0].template == template
    assert found[1] == params


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/o2ims-infrastructureInventory",
        "/o2ims-infrastructureInventory/v3/resourcePools",
        f"{INV1}/resourcePools/a/b",
        "/o2ims_infrastructureInventory/v1/resourcePools",  # the earlier mock's prefix is not in the specs
        "/o2ims-infrastructureInventory/v1/resourcepools",  # case-sensitive
        "/health",
    ],
)
def test_match_route_misses(path: str) -> None:
    assert match_route(path) is None


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("/", "/"),
        ("", "/"),
        ("/a/b", "/a/b"),
        ("/a/b/", "/a/b"),
        ("/a//b///c", "/a/b/c"),
        ("a/b", "/a/b"),
        ("/a/%62", "/a/b"),  # unreserved: decoded
        ("/a/%7E%2d", "/a/~-"),
        ("/a/%2f", "/a/%2F"),  # reserved: kept, hex upper-cased (RFC 3986 6.2.2.1)
        ("/a/%20", "/a/%20"),
        ("/a/./b/../c", "/a/c"),
        ("/a/b?x=1", "/a/b"),
        ("//", "/"),
    ],
)
def test_normalise_path(raw: str, canonical: str) -> None:
    assert normalise_path(raw) == canonical
    assert normalise_path(canonical) == canonical


@pytest.mark.parametrize(
    ("path", "template"),
    [
        (f"{INV1}/resourcePools/{UUID}", f"{INV1}/resourcePools/{{resourcePoolId}}"),
        (f"{INV1}/deploymentManagers/edge1-dm/", f"{INV1}/deploymentManagers/{{deploymentManagerId}}"),
        (f"/o2ims_infrastructureInventory/v1/deploymentManagers/{UUID}",
         "/o2ims_infrastructureInventory/v1/deploymentManagers/{id}"),
        ("/o2ims_infrastructureInventory/v1/status", "/o2ims_infrastructureInventory/v1/status"),
        ("/x/12345/y", "/x/{id}/y"),
        ("/x/0123456789abcdef0123", "/x/{id}"),
        ("/x/edge1", "/x/edge1"),
    ],
)
def test_template_of(path: str, template: str) -> None:
    assert template_of(path) == template


def test_long_hex_without_digits_is_a_word() -> None:
    assert template_of("/x/deadbeefdeadbeefcafe") == "/x/deadbeefdeadbeefcafe"


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (f"{INV1}/resourcePools", "resourcePoolId"),
        (f"{INV1}/resourcePools/p/resources", "resourceId"),
        (f"{INV1}/resourcePools/p/resources/r", "resourceId"),
        ("/o2ims-infrastructureMonitoring/v1/alarms/a", "alarmEventRecordId"),
        ("/o2ims-infrastructureProvisioning/v1/provisioningRequests", "provisioningRequestData/provisioningRequestId"),
        (INV1, None),
        ("/o2ims_infrastructureInventory/v1/resourcePools", "resource_pool_id"),
        (f"/o2ims_infrastructureInventory/v1/deploymentManagers/{UUID}", "deployment_manager_id"),
        ("/elsewhere/resourcePools", "resourcePoolId"),
        ("/nothing/known", None),
        ("/", None),
    ],
)
def test_identity_key_for(path: str, key: str | None) -> None:
    assert identity_key_for(path) == key


def test_identity_value_follows_paths() -> None:
    pr = {"provisioningRequestData": {"provisioningRequestId": "p-1"}}
    assert identity_value(pr, "provisioningRequestData/provisioningRequestId") == "p-1"
    assert identity_value({"resourceId": "r"}, "resourceId") == "r"
    assert identity_value({"a": "flat"}, "a/b") is None


def test_default_excluded() -> None:
    found = match_route(f"{INV1}/deploymentManagers/x")
    assert found is not None
    assert default_excluded(found[0]) == ("capabilities", "capacity", "extensions")
    assert default_excluded(ROUTES_BY_TEMPLATE[INV1]) == ("extensions",)
    assert default_excluded(ROUTES_BY_TEMPLATE["/o2ims-infrastructureInventory/api_versions"]) == ()
    assert default_excluded(None) == ()


def test_is_legacy_path() -> None:
    assert is_legacy_path("/o2ims_infrastructureInventory/v1/status")
    assert is_legacy_path("/O2ims_infrastructureMonitoring/v1/alarms")
    assert not is_legacy_path(INV1)


def test_import_reads_no_yaml() -> None:
    code = "import sys, replayer.o2ims.routes, replayer.o2ims.query; print('yaml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("route", ROUTES, ids=[r.template for r in ROUTES])
def test_every_route_matches_its_concrete_paths(route: routes.Route) -> None:
    values = {p: f"{p}-{UUID}" for p in route.params}
    path = route.template.format(**values)
    for variant in (path, path + "/", path.replace("/", "//", 1)):
        found = match_route(variant)
        assert found is not None
        assert found[0] is route
        assert found[1] == values
        assert template_of(variant) == route.template
    found = match_route(path)
    assert found is not None
    found[1]["mutated"] = "x"  # callers get their own params dict, the cache is not touched
    assert match_route(path) == (route, values)
