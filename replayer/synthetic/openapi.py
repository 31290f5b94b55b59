"""``/openapi.json`` and ``/docs``: one OpenAPI 3.0 document for everything the server answers.

The document bundles the vendored definitions the synthetic model serves (inventory v1 from
release-4.21; inventory v2, monitoring, provisioning, cluster and artifacts from main) with each file's
components renamed ``<tree>_<service>.<Name>`` and every ``$ref`` rewritten to match, then adds the
earlier mock's routes and the admin API. Built once, on first request, and served pre-encoded.
"""

from __future__ import annotations

import datetime
import functools
import html
import inspect
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from replayer.synthetic.legacy import LEGACY_ROUTES

__all__ = ["SOURCES", "build_document", "setup_openapi"]

SPECS = Path(__file__).resolve().parent.parent / "data" / "specs"
#: (tree, service, path prefix to take from it): which vendored file serves which paths.
SOURCES: tuple[tuple[str, str, str], ...] = (
    ("oran-o2ims-release-4.21", "resources", "/o2ims-infrastructureInventory/v1"),
    ("oran-o2ims-main", "resources", "/o2ims-infrastructureInventory"),
    ("oran-o2ims-main", "alarms", "/o2ims-infrastructureMonitoring"),
    ("oran-o2ims-main", "provisioning", "/o2ims-infrastructureProvisioning"),
    ("oran-o2ims-main", "cluster", "/o2ims-infrastructureCluster"),
    ("oran-o2ims-main", "artifacts", "/o2ims-infrastructureArtifacts"),
)
_SHORT = {"oran-o2ims-release-4.21": "r421", "oran-o2ims-main": "main"}
_SECTIONS = ("schemas", "parameters", "responses", "requestBodies", "headers")


def _load(tree: str, service: str) -> dict[str, Any]:
    path = SPECS / tree / "internal" / "service" / service / "api" / "openapi.yaml"
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def _rewrite(node: Any, tree: str, service: str) -> Any:
    """Rewrite ``$ref``s of one file to the bundled component names."""
    if isinstance(node, list):
        return [_rewrite(n, tree, service) for n in node]
    if isinstance(node, (datetime.date, datetime.datetime)):
        return node.isoformat().replace("+00:00", "Z")  # YAML timestamps in examples -> JSON strings
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            target, _, pointer = value.partition("#")
            owner = "common" if "common/api/openapi.yaml" in target else service
            parts = pointer.strip("/").split("/")  # components/<section>/<Name>
            out[key] = f"#/components/{parts[1]}/{_SHORT[tree]}_{owner}.{parts[2]}"
        else:
            out[key] = _rewrite(value, tree, service)
    return out


def _components(doc: dict[str, Any], tree: str, service: str, into: dict[str, dict[str, Any]]) -> None:
    for section in _SECTIONS:
        for name, value in (doc.get("components", {}).get(section) or {}).items():
            into.setdefault(section, {})[f"{_SHORT[tree]}_{service}.{name}"] = _rewrite(value, tree, service)


def _legacy_paths() -> dict[str, Any]:
    ok = {"description": "The earlier mock's snake_case answer",
          "content": {"application/json": {"schema": {"type": "object"}}}}
    err = {"description": "The earlier mock's error shape {error: {status, title, timestamp, path}}",
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LegacyError"}}}}
    paging: list[dict[str, Any]] = [
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
        {"name": "filter", "in": "query", "description": "accepted and ignored", "schema": {"type": "string"}},
    ]
    paths: dict[str, Any] = {}
    for template in LEGACY_ROUTES:
        params: list[dict[str, Any]] = [{"name": p.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in template.split("/") if p.startswith("{")]
        if template.endswith(("deploymentManagers", "resourcePools", "ProvisioningRequest")):
            params += paging
        if template.endswith("ProvisioningRequest"):
            params.append({"name": "request_status", "in": "query", "schema": {"type": "string"}})
        paths[template] = {"get": {
            "tags": ["legacy"], "summary": f"Earlier mock: {template.rsplit('/', 1)[-1]}",
            "parameters": params, "responses": {"200": ok, "404": err, "422": err},
        }}
    return paths


def _admin_paths() -> dict[str, Any]:
    def op(summary: str, code: str = "200") -> dict[str, Any]:
        return {"tags": ["admin"], "summary": summary, "responses": {code: {"description": summary}}}
    return {
        "/__admin/notifications": {"get": op("Notifications sent and the callbacks' answers"),
                                   "delete": op("Forget the delivery log", "204")},
        "/__admin/synthetic/alarms": {"post": op("Raise an alarm in a session", "201")},
        "/__admin/synthetic/alarms/{alarmId}": {"patch": op("Change or acknowledge an alarm")},
        "/__admin/synthetic/resources": {"post": op("Add a resource to a pool in a session", "201")},
        "/__admin/synthetic/resources/{resourceId}": {"delete": op("Remove an added resource")},
        "/__admin/synthetic/reset": {"post": op("Drop a session's state")},
    }


@functools.lru_cache(maxsize=1)
def build_document() -> dict[str, Any]:
    """The bundled OpenAPI document (cached)."""
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {"schemas": {}, "securitySchemes": {}}
    for tree, service, prefix in SOURCES:
        doc = _load(tree, service)
        _components(doc, tree, service, components)
        _components(_load(tree, "common"), tree, "common", components)
        components["securitySchemes"].update(doc.get("components", {}).get("securitySchemes") or {})
        for path, item in doc.get("paths", {}).items():
            if path.startswith(prefix) and path not in paths:
                paths[path] = _rewrite(item, tree, service)
    components["schemas"]["LegacyError"] = {
        "type": "object",
        "properties": {"error": {"type": "object", "properties": {
            "status": {"type": "integer"}, "title": {"type": "string"},
            "timestamp": {"type": "string"}, "path": {"type": "string"}}}},
    }
    paths.update(_legacy_paths())
    paths.update(_admin_paths())
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "o2ims-replay: replayed and synthetic O2IMS",
            "version": "1.0.0",
            "description": "O2IMS inventory (v1, v2), monitoring, provisioning, cluster and artifacts APIs as "
                           "vendored from openshift-kni/oran-o2ims, the earlier mock's routes, and the admin API.",
        },
        "paths": paths,
        "components": components,
    }


def _served_paths(app: web.Application, known: Mapping[str, Any]) -> dict[str, Any]:
    """Every route the application registered beyond the O2IMS definitions (``/health``, ``/metrics``, the
    admin API...), described by its handler's docstring, so that the document covers all the server serves."""
    paths: dict[str, Any] = {}
    for route in app.router.routes():
        template = route.resource.canonical if route.resource is not None else ""
        method = route.method.lower()
        if not template or "{tail" in template or method not in ("get", "put", "post", "patch", "delete"):
            continue
        if method in known.get(template, {}):
            continue
        doc = (inspect.getdoc(route.handler) or template).splitlines()[0]
        tag = "admin" if template.startswith("/__admin/") else "server"
        paths.setdefault(template, {})[method] = {"tags": [tag], "summary": doc,
                                                   "responses": {"200": {"description": doc}}}
    return paths


def document_for(app: web.Application | None) -> dict[str, Any]:
    """The bundled document plus the routes ``app`` registered (the bundled one alone without an app)."""
    base = build_document()
    if app is None:
        return base
    extra = _served_paths(app, base["paths"])
    if not extra:
        return base
    paths = dict(base["paths"])
    for template, ops in extra.items():
        paths[template] = {**paths.get(template, {}), **ops}
    return {**base, "paths": paths}


def docs_html(app: web.Application | None = None) -> str:
    """A self-contained page listing every operation (no external scripts)."""
    rows = []
    for path, item in document_for(app)["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                summary = html.escape(str(op.get("summary", "")))
                rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                            f"<td>{summary}</td></tr>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>o2ims-replay API</title></head><body>"
            "<h1>o2ims-replay API</h1><p>Machine-readable: <a href='/openapi.json'>/openapi.json</a></p>"
            "<table border='1' cellpadding='4'><tr><th>Method</th><th>Path</th><th>Summary</th></tr>"
            + "".join(rows) + "</table></body></html>")


async def _openapi(request: web.Request) -> web.Response:
    """``GET /openapi.json``: the OpenAPI document of everything this server serves."""
    body = json.dumps(document_for(request.app), indent=1).encode("utf-8")
    return web.Response(body=body, content_type="application/json")


async def _docs(request: web.Request) -> web.Response:
    """``GET /docs``: every operation this server serves, as a page."""
    return web.Response(text=docs_html(request.app), content_type="text/html")


def setup_openapi(app: web.Application, model: object | None) -> None:
    """Register ``/openapi.json`` and ``/docs``."""
    app.router.add_get("/openapi.json", _openapi)
    app.router.add_get("/docs", _docs)
