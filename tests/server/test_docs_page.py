"""``/docs``: Swagger UI served offline from the package, over ``/openapi.json``.

The page itself in a real browser (operations rendered, "Try it out" answered from a cassette):
tests/server/test_docs_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from replayer.server.config import ServeConfig
from replayer.server.docs_page import ASSETS, assets_dir
from replayer.server.embedded import EmbeddedServer


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(ServeConfig(paths=(), port=0, use_cache=False)) as s:
        yield s


def test_page_loads_only_local_assets(server: EmbeddedServer) -> None:
    page = requests.get(f"{server.url}/docs", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'url: "/openapi.json"' in page.text and "validatorUrl: null" in page.text
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert loaded and all(u.startswith("/") for u in loaded), loaded  # nothing from a CDN
    for url in loaded:
        if url.startswith("/docs/static/"):
            r = requests.get(f"{server.url}{url}", timeout=5)
            assert r.status_code == 200 and r.content == (assets_dir() / url.rsplit("/", 1)[1]).read_bytes()
            assert r.headers["Content-Type"].startswith(ASSETS[url.rsplit("/", 1)[1]])


@pytest.mark.parametrize("name", ["index.html", "..%2f..%2fpyproject.toml", "swagger-ui.js.map"])
def test_only_the_listed_assets_are_served(server: EmbeddedServer, name: str) -> None:
    assert requests.get(f"{server.url}/docs/static/{name}", timeout=5).status_code == 404


def test_assets_come_with_their_licence() -> None:
    import importlib.metadata

    dist = importlib.metadata.distribution("swagger-ui-bundle")
    assert dist.metadata["License"] == "Apache-2.0"
    assert any(str(f).endswith("LICENSE") for f in dist.files or ())
