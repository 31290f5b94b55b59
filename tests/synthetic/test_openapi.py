"""``/openapi.json``: one document describing every path served, every ``$ref`` resolving inside it."""

from __future__ import annotations

import json
import re

from replayer.o2ims.routes import ROUTES
from replayer.synthetic.legacy import LEGACY_ROUTES
from replayer.synthetic.openapi import build_document, docs_html


def test_every_route_and_method_is_described() -> None:
    doc = build_document()
    for route in ROUTES:
        assert route.template in doc["paths"], route.template
        documented = {m.upper() for m in doc["paths"][route.template] if m != "parameters"}
        assert set(route.methods) <= documented, route.template
    for template in LEGACY_ROUTES:
        assert "get" in doc["paths"][template]


def test_every_ref_resolves_and_the_document_is_json() -> None:
    doc = build_document()
    text = json.dumps(doc)  # no YAML timestamps or other non-JSON values left
    refs = set(re.findall(r'"\$ref": "([^"]+)"', text))
    assert refs
    for ref in refs:
        node = doc
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert isinstance(node, dict), ref
    assert doc["openapi"].startswith("3.0")


def test_docs_page_lists_operations() -> None:
    page = docs_html()
    assert "/o2ims-infrastructureProvisioning/v1/provisioningRequests" in page and "<script" not in page
