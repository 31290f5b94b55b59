"""Cluster API: nodeClusterTypes (+ alarmDictionary), nodeClusters, clusterResourceTypes, clusterResources,
alarmDictionaries and subscriptions. Provisioned node clusters are per session.

The GET handlers of the collections and their items are generated from the route table
(``replayer.synthetic.table``); this module adds what is special.
"""

from __future__ import annotations

from typing import Any

from replayer.synthetic.answers import SynthResponse
from replayer.synthetic.context import Ctx, Handler
from replayer.synthetic.generic import ItemsOf, find

__all__ = ["HANDLERS", "LISTS"]

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


#: Collections whose elements are more than a model attribute (those are in ``replayer.synthetic.table``).
LISTS: dict[tuple[str, str], ItemsOf] = {(API, "/nodeClusters"): _node_clusters}

#: What the route table cannot generate.
HANDLERS: dict[tuple[str, str], dict[str, Handler]] = {
    (API, "/nodeClusterTypes/{nodeClusterTypeId}/alarmDictionary"): {"GET": type_dictionary},
}
