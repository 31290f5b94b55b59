"""Cluster API handlers: nodeClusterTypes (+ alarmDictionary), nodeClusters, clusterResourceTypes,
clusterResources, alarmDictionaries and subscriptions. Provisioned node clusters are per session.
"""

from __future__ import annotations

from typing import Any

from replayer.synthetic.context import Ctx, Handler, SynthResponse
from replayer.synthetic.inventory import (
    api_versions,
    collection_handler,
    find,
    item_handler,
    subscription_handlers,
    subscription_item_handlers,
)

__all__ = ["HANDLERS"]

API = "infrastructureCluster"
JSON = dict[str, Any]


def _node_clusters(ctx: Ctx) -> list[JSON]:
    extra = list(ctx.state.node_clusters.values())
    return [*ctx.model.node_clusters, *extra] if extra else ctx.model.node_clusters


def type_dictionary(ctx: Ctx) -> SynthResponse:
    """The alarm dictionary of a node cluster type."""
    ident = ctx.params["nodeClusterTypeId"]
    ntype = find(ctx.model.node_cluster_types, "nodeClusterTypeId", ident)
    if ntype is None:
        return ctx.not_found("node cluster type", ident)
    return ctx.item(ctx.model.cluster_alarm_dictionaries[0])


HANDLERS: dict[tuple[str, str], dict[str, Handler]] = {
    (API, "/api_versions"): {"GET": api_versions},
    (API, "/nodeClusterTypes"): {"GET": collection_handler(lambda c: c.model.node_cluster_types)},
    (API, "/nodeClusterTypes/{nodeClusterTypeId}"): {
        "GET": item_handler(lambda c: c.model.node_cluster_types, "nodeClusterTypeId", "node cluster type")},
    (API, "/nodeClusterTypes/{nodeClusterTypeId}/alarmDictionary"): {"GET": type_dictionary},
    (API, "/nodeClusters"): {"GET": collection_handler(_node_clusters)},
    (API, "/nodeClusters/{nodeClusterId}"): {"GET": item_handler(_node_clusters, "nodeClusterId", "node cluster")},
    (API, "/clusterResourceTypes"): {"GET": collection_handler(lambda c: c.model.cluster_resource_types)},
    (API, "/clusterResourceTypes/{clusterResourceTypeId}"): {
        "GET": item_handler(lambda c: c.model.cluster_resource_types, "clusterResourceTypeId",
                            "cluster resource type")},
    (API, "/clusterResources"): {"GET": collection_handler(lambda c: c.model.cluster_resources)},
    (API, "/clusterResources/{clusterResourceId}"): {
        "GET": item_handler(lambda c: c.model.cluster_resources, "clusterResourceId", "cluster resource")},
    (API, "/alarmDictionaries"): {"GET": collection_handler(lambda c: c.model.cluster_alarm_dictionaries)},
    (API, "/alarmDictionaries/{alarmDictionaryId}"): {
        "GET": item_handler(lambda c: c.model.cluster_alarm_dictionaries, "alarmDictionaryId",
                            "alarm dictionary")},
    (API, "/subscriptions"): subscription_handlers(),
    (API, "/subscriptions/{subscriptionId}"): subscription_item_handlers(),
}
