"""``/docs``: Swagger UI for the whole ``/openapi.json``, served from assets shipped with the package.

O2IMS labs are often offline, so nothing comes from a CDN: the page, its scripts and its style sheet are
all answered by this server from the ``swagger-ui-bundle`` package (Swagger UI's own ``dist`` files,
Apache-2.0, licence in that package). The online spec validator badge is off (it would call
validator.swagger.io). "Try it out" sends requests to the origin the page came from, that is this server:
the document has no ``servers`` entry.
"""

from __future__ import annotations

import functools
import html
import importlib.resources
from pathlib import Path

from aiohttp import web

__all__ = ["ASSETS", "assets_dir", "docs_html", "setup_docs_page"]

#: The files the page loads, under ``/docs/static/``; nothing else in the folder is served.
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "application/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
STATIC = "/docs/static/"


@functools.lru_cache(maxsize=1)
def assets_dir() -> Path:
    """The folder of Swagger UI's files inside the installed ``swagger-ui-bundle`` package."""
    vendor = Path(str(importlib.resources.files("swagger_ui_bundle") / "vendor"))
    found = sorted(p for p in vendor.glob("swagger-ui-*") if (p / "swagger-ui-bundle.js").is_file())
    if not found:
        raise RuntimeError(f"swagger-ui-bundle has no Swagger UI under {vendor}; reinstall o2ims-replay")
    return found[-1]


def docs_html(title: str = "o2ims-replay API") -> str:
    """The Swagger UI page for ``/openapi.json`` (assets from ``/docs/static/``)."""
    t = html.escape(title)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{t}</title>
<link rel="stylesheet" href="{STATIC}swagger-ui.css">
<link rel="icon" type="image/png" href="{STATIC}favicon-32x32.png" sizes="32x32">
</head>
<body>
<noscript>This page needs JavaScript. The API description itself is <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="{STATIC}swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,
  displayRequestDuration: true,
  docExpansion: "none",
  filter: true,
  tryItOutEnabled: false
}});
</script>
</body>
</html>
"""


async def _page(request: web.Request) -> web.Response:
    """``GET /docs``: Swagger UI for every operation this server serves (offline, "Try it out" included)."""
    return web.Response(text=docs_html(), content_type="text/html", headers={"Cache-Control": "no-cache"})


async def _asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["tail"]
    if name not in ASSETS:
        raise web.HTTPNotFound(text=f"no such asset: {name}")
    return web.FileResponse(assets_dir() / name, headers={"Content-Type": ASSETS[name],
                                                          "Cache-Control": "public, max-age=86400"})


def setup_docs_page(app: web.Application) -> None:
    """Register ``/docs`` and its assets under ``/docs/static/``."""
    app.router.add_get("/docs", _page)
    app.router.add_get(STATIC + "{tail}", _asset)
