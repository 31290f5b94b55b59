"""The handler table: every route of ``replayer.o2ims.routes`` bound to its handlers, generated where it can be.

From the route table and the identity keys: ``api_versions`` on every ``.../api_versions`` path; for a
collection in ``FROM_MODEL`` or an API module's ``LISTS``, the GET of the list and the GET of one element (found
by the route's identity key, else a 404 naming the kind of object); the subscription handlers on every
``subscriptions`` / ``alarmSubscriptions`` collection and item. An API module's ``HANDLERS`` add what
is truly special, and win over anything generated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from replayer.o2ims.routes import ROUTES, ROUTES_BY_TEMPLATE, Route, RouteKind
from replayer.synthetic import artifacts, cluster, inventory, monitoring, provisioning
from replayer.synthetic.context import Ctx, Handler
from replayer.synthetic.generic import ItemsOf, api_versions, collection_handler, item_handler
from replayer.synthetic.subscriptions import SUBSCRIPTION_SEGMENTS, subscription_handlers, subscription_item_handlers

__all__ = ["FROM_MODEL", "HANDLERS", "Key", "build_table", "noun", "route_key"]

#: (API name, path below the version): both inventory versions share their handlers.
Key = tuple[str, str]

_INV, _CLU = "infrastructureInventory", "infrastructureCluster"

#: Collections that answer a model attribute as it is: (api, collection path) -> the ``Model`` attribute.
#: The API modules' ``LISTS`` add the collections whose elements depend on the version or the session.
FROM_MODEL: dict[Key, str] = {
    (_INV, "/deploymentManagers"): "deployment_managers",
    (_INV, "/alarmDictionaries"): "alarm_dictionaries",
    (_INV, "/locations"): "locations",
    (_INV, "/oCloudSites"): "ocloud_sites",
    (_CLU, "/nodeClusterTypes"): "node_cluster_types",
    (_CLU, "/clusterResourceTypes"): "cluster_resource_types",
    (_CLU, "/clusterResources"): "cluster_resources",
    (_CLU, "/alarmDictionaries"): "cluster_alarm_dictionaries",
    ("infrastructureArtifacts", "/managedInfrastructureTemplates"): "templates",
}

#: Nouns that do not follow from the id parameter's name.
_NOUNS = {"globalLocationId": "location", "oCloudSiteId": "O-Cloud site"}


def route_key(route: Route) -> Key:
    """(api, path below the version) of a route: the handler table's key."""
    segs = route.template.split("/")
    rest = segs[3:] if route.version else segs[2:]
    return route.api, ("/" + "/".join(rest)) if rest else ""


def noun(id_param: str) -> str:
    """What a 404 calls the object an id parameter names: ``resourcePoolId`` -> ``resource pool``."""
    if id_param in _NOUNS:
        return _NOUNS[id_param]
    return re.sub(r"(?<!^)([A-Z])", r" \1", id_param.removesuffix("Id")).lower()


def _attribute(name: str) -> ItemsOf:
    def items_of(ctx: Ctx) -> Sequence[Mapping[str, Any]]:
        items: Sequence[Mapping[str, Any]] = getattr(ctx.model, name)
        return items
    return items_of


def _generated(route: Route, lists: Mapping[Key, ItemsOf]) -> dict[str, Handler]:
    last = route.template.rsplit("/", 1)[-1]
    if last == "api_versions":
        return {"GET": api_versions}
    collection = route if route.kind is RouteKind.COLLECTION else (
        ROUTES_BY_TEMPLATE.get(route.collection_template or "") if route.kind is RouteKind.ITEM else None)
    if collection is None:
        return {}
    if collection.template.rsplit("/", 1)[-1] in SUBSCRIPTION_SEGMENTS:
        return subscription_handlers() if route is collection else subscription_item_handlers()
    items_of = lists.get(route_key(collection))
    if items_of is None:
        return {}
    if route is collection:
        return {"GET": collection_handler(items_of)}
    assert route.identity_key is not None and route.id_param is not None  # every item route has both
    return {"GET": item_handler(items_of, route.identity_key, noun(route.id_param))}


def build_table(routes: Iterable[Route], lists: Mapping[Key, ItemsOf],
                special: Mapping[Key, Mapping[str, Handler]]) -> dict[Key, dict[str, Handler]]:
    """Handlers by route key and method: the generated ones, then ``special`` over them."""
    table: dict[Key, dict[str, Handler]] = {}
    for route in routes:
        key = route_key(route)
        table.setdefault(key, {}).update(_generated(route, lists))
    for key, handlers in special.items():
        table.setdefault(key, {}).update(handlers)
    return table


_MODULES = (inventory, monitoring, provisioning, cluster, artifacts)
_LISTS: dict[Key, ItemsOf] = {key: _attribute(name) for key, name in FROM_MODEL.items()}
_SPECIAL: dict[Key, dict[str, Handler]] = {}
for _module in _MODULES:
    _LISTS.update(getattr(_module, "LISTS", {}))
    _SPECIAL.update(_module.HANDLERS)

#: Every route's handlers.
HANDLERS: dict[Key, dict[str, Handler]] = build_table(ROUTES, _LISTS, _SPECIAL)
