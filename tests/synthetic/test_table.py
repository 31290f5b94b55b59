"""The handler table: every route and method of the definitions has a handler, generated where it can be."""

from __future__ import annotations

import pytest

from replayer.o2ims.routes import ROUTES, RouteKind
from replayer.synthetic.api import SyntheticO2IMS
from replayer.synthetic.table import FROM_MODEL, HANDLERS, noun, route_key


def test_every_route_and_method_has_a_handler() -> None:
    missing = [(m, r.template) for r in ROUTES for m in r.methods if m not in HANDLERS.get(route_key(r), {})]
    assert missing == []


def test_no_handler_without_a_route() -> None:
    keys = {route_key(r) for r in ROUTES}
    assert set(HANDLERS) <= keys
    for key, handlers in HANDLERS.items():
        methods = {m for r in ROUTES if route_key(r) == key for m in r.methods}
        assert set(handlers) <= methods, key


def test_items_share_the_generated_lookup_of_their_collection() -> None:
    generated = [r for r in ROUTES if r.kind is RouteKind.ITEM and r.template.endswith("/{deploymentManagerId}")]
    assert generated and all(HANDLERS[route_key(r)]["GET"].__qualname__.startswith("item_handler") for r in generated)


@pytest.mark.parametrize(("param", "expected"), [
    ("deploymentManagerId", "deployment manager"),
    ("resourcePoolId", "resource pool"),
    ("alarmDictionaryId", "alarm dictionary"),
    ("managedInfrastructureTemplateId", "managed infrastructure template"),
    ("globalLocationId", "location"),
    ("oCloudSiteId", "O-Cloud site"),
])
def test_noun(param: str, expected: str) -> None:
    assert noun(param) == expected


def test_model_lists_name_model_attributes() -> None:
    model = SyntheticO2IMS().model
    assert all(isinstance(getattr(model, name), list) and getattr(model, name) for name in FROM_MODEL.values())
