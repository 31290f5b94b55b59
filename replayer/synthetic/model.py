"""The deterministic O-Cloud built from a profile: every object of every O2IMS API, as spec-shaped dicts.

Ids are uuid5 of stable names under a namespace derived from the cloud name; timestamps derive from the
profile's epoch. Nothing here is random or reads the wall clock, so two builds give identical objects
(issue 4 §1). The objects are plain JSON values, ready for ``replayer.o2ims.query.select``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from replayer.synthetic.profile import AlarmSeed, Profile, Site, Template

__all__ = [
    "ALARM_DEFINITIONS",
    "CLUSTER_ALARM_DEFINITIONS",
    "Model",
    "RESOURCE_KINDS",
    "build_model",
    "iso_time",
    "parse_time",
    "stable_id",
]

JSON = dict[str, Any]

#: Resource kinds: (resourceKind, resourceClass, vendor, model, description) per ResourceType (O2IMS
#: inventory "ResourceType"). The alarm definitions of each kind form its alarm dictionary.
RESOURCE_KINDS: dict[str, tuple[str, str, str, str, str]] = {
    "node": ("PHYSICAL", "COMPUTE", "Dell", "PowerEdge XR8620t", "Edge compute server"),
    "accelerator": ("PHYSICAL", "COMPUTE", "Intel", "vRAN Boost ACC100", "FEC/LDPC accelerator card"),
    "nic": ("PHYSICAL", "NETWORKING", "Intel", "E810-XXVDA4", "SR-IOV capable 25GbE network interface"),
    "volume": ("LOGICAL", "STORAGE", "Ceph", "RBD", "Replicated block storage volume"),
}

#: Alarm definitions per resource kind: name -> (description, proposed repair, clearing type).
ALARM_DEFINITIONS: dict[str, dict[str, tuple[str, str, str]]] = {
    "node": {
        "NodeHighTemperature": ("Node inlet temperature above threshold", "Check cooling and airflow", "AUTOMATIC"),
        "NodeNotReady": ("Node is not ready to run workloads", "Check kubelet and node health", "AUTOMATIC"),
        "NodePowerSupplyFailure": ("A power supply unit failed", "Replace the failed PSU", "MANUAL"),
    },
    "accelerator": {
        "AcceleratorFault": ("Accelerator reports an uncorrectable error", "Reset or replace the card", "MANUAL"),
    },
    "nic": {
        "NicLinkDown": ("Network interface link is down", "Check cabling and switch port", "AUTOMATIC"),
        "NicPacketLoss": ("Packet loss above threshold", "Check optics and congestion", "AUTOMATIC"),
    },
    "volume": {
        "VolumeCapacityLow": ("Volume free capacity below 10%", "Expand the volume or free space", "AUTOMATIC"),
        "VolumeDegraded": ("Volume replication is degraded", "Check the storage cluster health", "AUTOMATIC"),
    },
}

#: Alarm definitions of the node cluster type (cluster API alarm dictionary).
CLUSTER_ALARM_DEFINITIONS: dict[str, tuple[str, str, str]] = {
    "ClusterOperatorDegraded": ("A cluster operator is degraded", "Inspect the operator's conditions", "AUTOMATIC"),
    "KubeAPIDown": ("The Kubernetes API server is unreachable", "Check control-plane pods", "AUTOMATIC"),
    "EtcdMembersDown": ("An etcd member is down", "Restore the etcd member", "MANUAL"),
}

_DICTIONARY_VERSION = "1.0.0"
_SCHEMA_VERSION = "1.0"
API_VERSION = "1.0.0"


def stable_id(namespace: uuid.UUID, *parts: str) -> str:
    """A uuid5 of the joined ``parts`` under ``namespace``: the same name gives the same id, always."""
    return str(uuid.uuid5(namespace, "/".join(parts)))


def parse_time(text: str) -> datetime:
    """An RFC 3339 UTC timestamp as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso_time(moment: datetime) -> str:
    """RFC 3339 with a ``Z`` and no microseconds unless present (stable text for byte-identical bodies)."""
    text = moment.astimezone(timezone.utc).isoformat()
    return text.replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """Where a named resource (``node-1``) of a site lives."""

    resource_id: str
    pool_id: str
    type_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class Model:
    """Every object of the synthetic O-Cloud, per API and version; read-only after ``build_model``."""

    profile: Profile
    namespace: uuid.UUID
    epoch: datetime
    ocloud_id: str
    global_cloud_id: str
    ocloud: JSON
    deployment_managers: list[JSON]
    resource_types_v1: list[JSON]
    resource_types_v2: list[JSON]
    resource_pools_v1: list[JSON]
    resource_pools_v2: list[JSON]
    resources: dict[str, list[JSON]]  # pool id -> resources
    alarm_dictionaries: list[JSON]
    locations: list[JSON]
    ocloud_sites: list[JSON]
    node_cluster_types: list[JSON]
    node_clusters: list[JSON]
    cluster_resource_types: list[JSON]
    cluster_resources: list[JSON]
    cluster_alarm_dictionaries: list[JSON]
    templates: list[JSON]
    template_defaults: dict[str, JSON]  # artifactResourceId -> defaults
    template_by_name: dict[tuple[str, str], Template]
    alarms: list[JSON]
    resource_refs: dict[tuple[str, str], ResourceRef]  # (site, name) -> ref
    alarm_definition_ids: dict[tuple[str, str], str]  # (kind, definition name) -> id
    site_of_dm: dict[str, Site]
    pool_of: dict[tuple[str, str], str]  # (site, compute|storage|network) -> the pool holding such resources

    def id(self, *parts: str) -> str:
        """A stable id in this model's namespace."""
        return stable_id(self.namespace, *parts)

    def at(self, seconds: float) -> str:
        """The timestamp ``seconds`` after the epoch."""
        return iso_time(self.epoch + timedelta(seconds=seconds))

    def alarm_definition_id(self, kind: str, name: str) -> str | None:
        """The id of alarm definition ``name`` for resources of ``kind``, or None."""
        return self.alarm_definition_ids.get((kind, name))


class _Builder:
    """Builds a Model; one method per object family, each small."""

    def __init__(self, profile: Profile) -> None:
        self.p = profile
        self.ns = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:o2ims-replay:synthetic:{profile.cloud.name}")
        self.epoch = parse_time(profile.cloud.epoch)
        self.ocloud_id = self.id("ocloud")
        self.refs: dict[tuple[str, str], ResourceRef] = {}
        self.def_ids: dict[tuple[str, str], str] = {}

    def id(self, *parts: str) -> str:
        return stable_id(self.ns, *parts)

    def at(self, seconds: float) -> str:
        return iso_time(self.epoch + timedelta(seconds=seconds))

    # -------------------------------------------------------------------------------- inventory

    def ocloud(self, global_id: str) -> JSON:
        c = self.p.cloud
        # v1 (release-4.21) spells globalcloudId, v2 (main) globalCloudId: serve both (issue 4 §2).
        return {
            "oCloudId": self.ocloud_id,
            "globalcloudId": global_id,
            "globalCloudId": global_id,
            "name": c.name,
            "description": c.description,
            "serviceUri": "",  # filled per request from the base URL
            "extensions": dict(c.extensions),
        }

    def type_id(self, kind: str) -> str:
        return self.id("resourceType", kind)

    def dictionary_id(self, kind: str) -> str:
        return self.id("alarmDictionary", kind)

    def alarm_definitions(self, scope: str, defs: Mapping[str, tuple[str, str, str]]) -> list[JSON]:
        out = []
        for name, (description, repair, clearing) in defs.items():
            def_id = self.id("alarmDefinition", scope, name)
            self.def_ids[(scope, name)] = def_id
            out.append({
                "alarmDefinitionId": def_id,
                "alarmName": name,
                "alarmLastChange": _DICTIONARY_VERSION,
                "alarmChangeType": "ADDED",
                "alarmDescription": description,
                "proposedRepairActions": repair,
                "clearingType": clearing,
                "managementInterfaceId": ["O2IMS"],
                "pkNotificationField": ["alarmDefinitionID"],
                "alarmAdditionalFields": {"resourceClass": scope},
            })
        return out

    def alarm_dictionary(self, dict_id: str, entity: str, vendor: str, definitions: list[JSON]) -> JSON:
        return {
            "alarmDictionaryId": dict_id,
            "alarmDictionaryVersion": _DICTIONARY_VERSION,
            "alarmDictionarySchemaVersion": _SCHEMA_VERSION,
            "entityType": entity,
            "vendor": vendor,
            "managementInterfaceId": ["O2IMS"],
            "pkNotificationField": ["alarmDefinitionID"],
            "alarmDefinition": definitions,
        }

    def resource_types(self) -> tuple[list[JSON], list[JSON], list[JSON]]:
        v1, v2, dictionaries = [], [], []
        for kind, (rkind, rclass, vendor, model, description) in RESOURCE_KINDS.items():
            dictionary = self.alarm_dictionary(
                self.dictionary_id(kind), f"{kind}-{model}", vendor,
                self.alarm_definitions(kind, ALARM_DEFINITIONS[kind]),
            )
            dictionaries.append(dictionary)
            base = {
                "resourceTypeId": self.type_id(kind),
                "name": kind,
                "description": description,
                "vendor": vendor,
                "model": model,
                "version": "1.0",
                "resourceKind": rkind,
                "resourceClass": rclass,
                "extensions": {"kind": kind},
            }
            v1.append({**base, "alarmDictionary": dictionary})
            v2.append({**base, "alarmDictionaryId": dictionary["alarmDictionaryId"]})
        return v1, v2, dictionaries

    def dm(self, site: Site, location_id: str) -> JSON:
        caps = site.extensions["deployment_manager"].get("capabilities", {})
        ext = {k: v for k, v in site.extensions["deployment_manager"].items() if k != "capabilities"}
        # release-4.21 types capabilities and capacity as string maps: values are rendered as text.
        return {
            "deploymentManagerId": self.id("deploymentManager", site.name),
            "name": f"Kubernetes-{site.title}",
            "description": f"Kubernetes deployment manager for {site.title} edge site",
            "oCloudId": self.ocloud_id,
            "serviceUri": f"https://kubernetes-{site.name}.nephio.local:6443",
            "supportedLocations": [location_id],
            "capabilities": {k: _text(v) for k, v in caps.items()},
            "capacity": {k: str(v) for k, v in _capacity(site).items()},
            "extensions": {
                "site": site.name,
                "deploymentManagerType": "KUBERNETES",
                "kubernetes_version": site.kubernetes_version,
                "container_runtime": site.container_runtime,
                "cluster_cidr": site.cluster_cidr,
                "service_cidr": site.service_cidr,
                "pod_cidr": site.pod_cidr,
                **ext,
            },
        }

    def pools(self, site: Site, index: int, location_id: str, site_id: str) -> tuple[list[JSON], list[JSON]]:
        v1, v2 = [], []
        for role, ext in _pool_extensions(site).items():
            pool_id = self.id("resourcePool", site.name, role)
            name = f"{site.title}-{role.upper()}"
            description = f"{role.capitalize()} resource pool for {site.title} edge site"
            rack = {"compute": "Rack A", "storage": "Rack B", "network": "Network Equipment"}[role]
            v1.append({
                "resourcePoolId": pool_id,
                "name": name,
                "description": description,
                "oCloudId": self.ocloud_id,
                "globalLocationId": location_id,
                "location": f"Edge Site {index} - {rack}",
                "extensions": ext,
            })
            v2.append({
                "resourcePoolId": pool_id,
                "name": name,
                "oCloudSiteId": site_id,
                "description": description,
                "extensions": {**ext, "location": f"Edge Site {index} - {rack}"},
            })
        return v1, v2

    def resource(self, site: Site, pool_role: str, kind: str, n: int, extensions: JSON) -> JSON:
        name = f"{kind}-{n}"
        pool_id = self.id("resourcePool", site.name, pool_role)
        rid = self.id("resource", site.name, name)
        self.refs[(site.name, name)] = ResourceRef(rid, pool_id, self.type_id(kind), kind)
        return {
            "resourceId": rid,
            "resourcePoolId": pool_id,
            "resourceTypeId": self.type_id(kind),
            "globalAssetId": f"urn:o2ims-replay:{site.name}:{name}",
            "description": f"{RESOURCE_KINDS[kind][4]} {name} at {site.title}",
            "elements": [],
            "tags": [site.name, kind],
            "groups": [f"{site.name}-{pool_role}"],
            "extensions": {"name": name, "site": site.name, **extensions},
        }

    def site_resources(self, site: Site) -> dict[str, list[JSON]]:
        compute, network, storage = [], [], []
        for n in range(1, site.nodes + 1):
            compute.append(self.resource(site, "compute", "node", n, {
                "cpu_cores": site.node_cpu_cores, "memory_gb": site.node_memory_gb,
                "storage_gb": site.node_storage_gb, "role": "control-plane" if n == 1 else "worker",
            }))
        for n in range(1, site.nodes * site.accelerators_per_node + 1):
            node = (n - 1) // max(site.accelerators_per_node, 1) + 1
            compute.append(self.resource(site, "compute", "accelerator", n, {"node": f"node-{node}"}))
        for n in range(1, site.nodes * site.nics_per_node + 1):
            node = (n - 1) // max(site.nics_per_node, 1) + 1
            network.append(self.resource(site, "network", "nic", n, {
                "node": f"node-{node}", "speed_gbps": 25, "sriov_vfs": 8,
            }))
        size = site.storage_tb * 1000 // max(site.volumes, 1)
        for n in range(1, site.volumes + 1):
            storage.append(self.resource(site, "storage", "volume", n, {"size_gb": size, "replicas": 3}))
        return {
            self.id("resourcePool", site.name, "compute"): compute,
            self.id("resourcePool", site.name, "storage"): storage,
            self.id("resourcePool", site.name, "network"): network,
        }

    def location(self, site: Site, location_id: str, site_id: str) -> JSON:
        lon, lat = site.coordinates
        return {
            "globalLocationId": location_id,
            "name": site.location_name,
            "description": f"Location of the {site.title} edge site",
            "oCloudSiteIds": [site_id],
            "coordinate": {"type": "Point", "coordinates": [lon, lat]},
            "civicAddress": [{"caType": 22, "caValue": site.address}] if site.address else [],
            "address": site.address,
            "extensions": {"site": site.name},
        }

    def ocloud_site(self, site: Site, location_id: str, site_id: str) -> JSON:
        return {
            "oCloudSiteId": site_id,
            "globalLocationId": location_id,
            "name": site.name,
            "description": f"O-Cloud site {site.title}",
            "resourcePools": [self.id("resourcePool", site.name, r) for r in ("compute", "storage", "network")],
            "extensions": {"title": site.title},
        }

    # -------------------------------------------------------------------------------- cluster

    def cluster(self, templates: list[JSON]) -> tuple[list[JSON], list[JSON], list[JSON], list[JSON], list[JSON]]:
        dict_id = self.id("alarmDictionary", "nodeCluster")
        dictionary = self.alarm_dictionary(
            dict_id, "NodeCluster-Kubernetes", "o2ims-replay",
            self.alarm_definitions("nodeCluster", CLUSTER_ALARM_DEFINITIONS),
        )
        versions = sorted({s.kubernetes_version for s in self.p.sites})
        types = [{
            "nodeClusterTypeId": self.id("nodeClusterType", "kubernetes"),
            "name": "Kubernetes",
            "description": "Kubernetes node cluster",
            "extensions": {"alarmDictionaryId": dict_id, "versions": versions},
        }]
        resource_types = [
            {
                "clusterResourceTypeId": self.id("clusterResourceType", role),
                "name": role,
                "description": f"Kubernetes {role} node",
                "extensions": {"nodeRole": role},
            }
            for role in ("control-plane", "worker")
        ]
        artifact = templates[0]["artifactResourceId"] if templates else self.id("template", "none")
        clusters, resources = [], []
        for site in self.p.sites:
            members = [self.cluster_resource(site, n, artifact) for n in range(1, site.nodes + 1)]
            resources += members
            clusters.append(self.node_cluster(site, [m["clusterResourceId"] for m in members], artifact))
        return types, clusters, resource_types, resources, [dictionary]

    def cluster_resource(self, site: Site, n: int, artifact: str) -> JSON:
        role = "control-plane" if n == 1 else "worker"
        return {
            "clusterResourceId": self.id("clusterResource", site.name, f"node-{n}"),
            "name": f"{site.name}-node-{n}",
            "description": f"Kubernetes {role} node node-{n} of {site.name}-cluster",
            "clusterResourceTypeId": self.id("clusterResourceType", role),
            "memberOf": [f"{site.name}-cluster"],
            "artifactResourceIds": [artifact],
            "resourceId": self.id("resource", site.name, f"node-{n}"),
            "extensions": {"site": site.name, "nodeRole": role},
        }

    def node_cluster(self, site: Site, members: list[str], artifact: str) -> JSON:
        return {
            "nodeClusterId": self.id("nodeCluster", site.name),
            "clientNodeClusterId": self.id("clientNodeCluster", site.name),
            "name": f"{site.name}-cluster",
            "description": f"Kubernetes cluster of the {site.title} edge site",
            "clusterDistributionDescription": f"Kubernetes {site.kubernetes_version}",
            "nodeClusterTypeId": self.id("nodeClusterType", "kubernetes"),
            "artifactResourceId": artifact,
            "clusterResourceIds": members,
            "clusterResourceGroups": [],
            "extensions": {
                "site": site.name,
                "deploymentManagerId": self.id("deploymentManager", site.name),
                "clusterCidr": site.cluster_cidr,
                **site.extensions.get("node_cluster", {}),
            },
        }

    # -------------------------------------------------------------------------------- artifacts, alarms

    def templates(self) -> tuple[list[JSON], dict[str, JSON]]:
        out, defaults = [], {}
        for t in self.p.templates:
            tid = self.id("template", t.name, t.version)
            out.append({
                "artifactResourceId": tid,
                "name": t.name,
                "version": t.version,
                "description": t.description,
                "parameterSchema": dict(t.parameter_schema),
                "characteristics": {"failing": "true" if t.failing else "false"},
                "extensions": {"templateId": f"{t.name}.{t.version}"},
            })
            defaults[tid] = {
                "clusterInstanceDefaults": dict(t.defaults.get("clusterInstanceDefaults", {})),
                "policyTemplateDefaults": dict(t.defaults.get("policyTemplateDefaults", {})),
            }
        return out, defaults

    def alarm(self, seed: AlarmSeed) -> JSON:
        ref = self.refs.get((seed.site, seed.resource))
        if ref is None:
            raise ValueError(f"alarms: site {seed.site} has no resource {seed.resource}")
        def_id = self.def_ids.get((ref.kind, seed.definition))
        if def_id is None:
            valid = ", ".join(ALARM_DEFINITIONS[ref.kind])
            raise ValueError(f"alarms: no definition {seed.definition!r} for a {ref.kind}; valid: {valid}")
        raised = self.at(seed.raised_minutes * 60)
        return {
            "alarmEventRecordId": self.id("alarm", seed.site, seed.resource, seed.definition),
            "alarmDefinitionID": def_id,
            "probableCauseID": self.id("probableCause", seed.definition),
            "alarmRaisedTime": raised,
            "alarmChangedTime": raised,
            "alarmAcknowledged": False,
            "resourceTypeID": ref.type_id,
            "resourceID": ref.resource_id,
            "perceivedSeverity": seed.severity,
            "extensions": {"site": seed.site, "resourceName": seed.resource, "alarmName": seed.definition},
        }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={_text(v)}" for k, v in value.items())
    return str(value)


def _capacity(site: Site) -> dict[str, int]:
    return {
        "total_nodes": site.nodes,
        "total_cpu_cores": site.cpu_cores,
        "total_memory_gb": site.memory_gb,
        "total_storage_gb": site.storage_gb,
        "available_cpu_cores": site.cpu_cores_free,
        "available_memory_gb": site.memory_gb_free,
        "available_storage_gb": site.storage_gb_free,
    }


def legacy_capacity(site: Site) -> dict[str, int]:
    """The earlier mock's ``capacity`` block of a deployment manager."""
    return _capacity(site)


def _pool_extensions(site: Site) -> dict[str, JSON]:
    ext = site.extensions
    return {
        "compute": {
            "resource_pool_type": "COMPUTE",
            "resource_type_list": ["VIRTUAL_MACHINE", "CONTAINER"],
            **ext["compute_pool"],
            "total_nodes": site.nodes,
            "node_specifications": {
                "cpu_cores_per_node": site.node_cpu_cores,
                "memory_gb_per_node": site.node_memory_gb,
                "storage_gb_per_node": site.node_storage_gb,
            },
        },
        "storage": {
            "resource_pool_type": "STORAGE",
            "resource_type_list": ["STORAGE_VOLUME"],
            **ext["storage_pool"],
            "total_capacity_tb": site.storage_tb,
            "available_capacity_tb": site.storage_tb_free,
            "iops_capability": site.iops,
        },
        "network": {
            "resource_pool_type": "NETWORK",
            "resource_type_list": ["NETWORK_FUNCTION"],
            **{k: v for k, v in ext["network_pool"].items() if k in ("network_functions",)},
            "bandwidth_gbps": site.bandwidth_gbps,
            "latency_ms": site.latency_ms,
            **{k: v for k, v in ext["network_pool"].items() if k not in ("network_functions",)},
        },
    }


def build_model(profile: Profile) -> Model:
    """Build the whole O-Cloud of ``profile``; ValueError for an alarm naming an unknown resource/definition."""
    b = _Builder(profile)
    global_id = profile.cloud.global_cloud_id or b.id("globalCloud")
    rt_v1, rt_v2, dictionaries = b.resource_types()
    dms, pools_v1, pools_v2, locations, sites = [], [], [], [], []
    resources: dict[str, list[JSON]] = {}
    site_of_dm: dict[str, Site] = {}
    for index, site in enumerate(profile.sites, start=1):
        location_id = b.id("location", site.name)
        site_id = b.id("oCloudSite", site.name)
        dm = b.dm(site, location_id)
        dms.append(dm)
        site_of_dm[dm["deploymentManagerId"]] = site
        v1, v2 = b.pools(site, index, location_id, site_id)
        pools_v1 += v1
        pools_v2 += v2
        resources.update(b.site_resources(site))
        locations.append(b.location(site, location_id, site_id))
        sites.append(b.ocloud_site(site, location_id, site_id))
    templates, defaults = b.templates()
    nct, nc, crt, cr, cad = b.cluster(templates)
    alarms = [b.alarm(seed) for seed in profile.alarms]
    return Model(
        profile=profile, namespace=b.ns, epoch=b.epoch, ocloud_id=b.ocloud_id, global_cloud_id=global_id,
        ocloud=b.ocloud(global_id), deployment_managers=dms,
        resource_types_v1=rt_v1, resource_types_v2=rt_v2, resource_pools_v1=pools_v1, resource_pools_v2=pools_v2,
        resources=resources, alarm_dictionaries=dictionaries, locations=locations, ocloud_sites=sites,
        node_cluster_types=nct, node_clusters=nc, cluster_resource_types=crt, cluster_resources=cr,
        cluster_alarm_dictionaries=cad, templates=templates, template_defaults=defaults,
        template_by_name={(t.name, t.version): t for t in profile.templates},
        alarms=alarms, resource_refs=dict(b.refs), alarm_definition_ids=dict(b.def_ids), site_of_dm=site_of_dm,
        pool_of={(site.name, role): b.id("resourcePool", site.name, role) for site in profile.sites
                 for role in ("compute", "storage", "network")},
    )
