"""The synthetic O-Cloud laid out as the O-RAN SC INF O2 service (pti-o2) stores it.

pti-o2 learns its inventory from StarlingX: one resource pool per cloud (the central RegionOne or one subcloud)
holding every kind of resource of that cloud, with a host's CPUs, memory and ports as children of the host
(``o2ims/service/auditor/pserver_*_handler.py``). Laid out that way, the default profile is one resource pool per
edge site; a node is a top-level ``pserver`` resource, its accelerators and NICs are its children
(``pserver_acc``, ``pserver_ethernet``) and volumes are top-level ``storage_aggregate`` resources.

``render_oran_sc(model, service_uri)`` returns that layout as a plain JSON document whose records name pti-o2's
own columns (``o2ims/adapter/orm.py``): the seed a reference pti-o2 is loaded with through its own domain
classes, and what an ``o-ran-sc`` stand-in serves. Ids are the model's; every other value derives from the
profile, so two renderings are identical. Nothing here does IO.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from replayer.synthetic.model import ALARM_DEFINITIONS, RESOURCE_KINDS, Model
from replayer.synthetic.profile import Site

__all__ = ["ORAN_SC_RESOURCE_TYPES", "dumps", "pool_id", "render_oran_sc"]

JSON = dict[str, Any]

#: Our resource kinds as pti-o2 resource types: kind -> (ResourceTypeEnum name, ResourceKindEnum name).
#: pti-o2 sets resourceClass to the ResourceTypeEnum value too (``pserver_handler.create_by``).
ORAN_SC_RESOURCE_TYPES: dict[str, tuple[str, str]] = {
    "node": ("PSERVER", "PHYSICAL"),
    "accelerator": ("PSERVER_ACC", "PHYSICAL"),
    "nic": ("PSERVER_ETH", "PHYSICAL"),
    "volume": ("STORAGE_AGGREGATE", "LOGICAL"),
}

_DICTIONARY_VERSION = "1.0.0"
_SCHEMA_VERSION = "1.0"


def pool_id(model: Model, site: Site) -> str:
    """The id of the one resource pool of ``site`` in this layout."""
    return model.id("resourcePool", site.name)


def render_oran_sc(model: Model, service_uri: str) -> JSON:
    """The whole O-Cloud of ``model`` as pti-o2 records; ``service_uri`` is the O2IMS root URL it is served at."""
    return {
        "timestamp": model.profile.cloud.epoch,
        "ocloud": _ocloud(model, service_uri),
        "probableCauses": _probable_causes(model),
        "alarmDictionaries": _alarm_dictionaries(model),
        "resourceTypes": _resource_types(model),
        "resourcePools": [_pool(model, site) for site in model.profile.sites],
        "resources": [r for site in model.profile.sites for r in _site_resources(model, site)],
        "deploymentManagers": [_dm(model, dm) for dm in model.deployment_managers],
        "alarms": [_alarm(alarm) for alarm in model.alarms],
    }


def _ocloud(model: Model, service_uri: str) -> JSON:
    c = model.profile.cloud
    return {
        "oCloudId": model.ocloud_id,
        "globalCloudId": model.global_cloud_id,
        "name": c.name,
        "description": c.description,
        "serviceUri": service_uri,
    }


def _probable_causes(model: Model) -> list[JSON]:
    return [
        {"probableCauseId": model.id("probableCause", name), "name": name, "description": description}
        for defs in ALARM_DEFINITIONS.values()
        for name, (description, _repair, _clearing) in defs.items()
    ]


def _alarm_dictionaries(model: Model) -> list[JSON]:
    out = []
    for kind, (_rkind, _rclass, vendor, hw_model, _description) in RESOURCE_KINDS.items():
        out.append({
            "id": model.id("alarmDictionary", kind),
            "entityType": f"{kind}-{hw_model}",
            "alarmDictionaryVersion": _DICTIONARY_VERSION,
            "alarmDictionarySchemaVersion": _SCHEMA_VERSION,
            "vendor": vendor,
            "managementInterfaceId": "O2IMS",
            "pkNotificationField": "alarmDefinitionID",
            "alarmDefinitions": [
                {
                    "alarmDefinitionId": model.alarm_definition_ids[(kind, name)],
                    "alarmName": name,
                    "alarmLastChange": _DICTIONARY_VERSION,
                    "alarmChangeType": "ADDED",
                    "alarmDescription": description,
                    "proposedRepairActions": repair,
                    "clearingType": clearing,
                    "managementInterfaceId": "O2IMS",
                    "pkNotificationField": "alarmDefinitionID",
                }
                for name, (description, repair, clearing) in ALARM_DEFINITIONS[kind].items()
            ],
        })
    return out


def _resource_types(model: Model) -> list[JSON]:
    out = []
    for kind, (_rkind, _rclass, vendor, hw_model, description) in RESOURCE_KINDS.items():
        type_enum, kind_enum = ORAN_SC_RESOURCE_TYPES[kind]
        out.append({
            "resourceTypeId": model.id("resourceType", kind),
            "name": kind,
            "resourceTypeEnum": type_enum,
            "resourceKind": kind_enum,
            "resourceClass": type_enum,
            "vendor": vendor,
            "model": hw_model,
            "version": "1.0",
            "description": description,
            "alarmDictionaryId": model.id("alarmDictionary", kind),
        })
    return out


def _pool(model: Model, site: Site) -> JSON:
    return {
        "resourcePoolId": pool_id(model, site),
        "name": site.name,
        "description": f"Resource pool of the {site.title} edge site",
        "oCloudId": model.ocloud_id,
        "globalLocationId": model.id("location", site.name),
        "location": site.location_name,
    }


def _site_resources(model: Model, site: Site) -> list[JSON]:
    """Every resource of ``site`` in its one pool; accelerators and NICs are children of their node."""
    out = []
    for pool_resources in (model.resources[model.id("resourcePool", site.name, role)]
                           for role in ("compute", "network", "storage")):
        for r in pool_resources:
            ext = r["extensions"]
            node = ext.get("node")
            parent = model.id("resource", site.name, node) if isinstance(node, str) else None
            out.append({
                "resourceId": r["resourceId"],
                "resourceTypeId": r["resourceTypeId"],
                "resourcePoolId": pool_id(model, site),
                "parentId": parent,
                "globalAssetId": r["globalAssetId"],
                "description": r["description"],
                "extensions": ext,
            })
    return out


def _dm(model: Model, dm: JSON) -> JSON:
    site = model.site_of_dm[dm["deploymentManagerId"]]
    return {
        "deploymentManagerId": dm["deploymentManagerId"],
        "name": dm["name"],
        "description": dm["description"],
        "oCloudId": dm["oCloudId"],
        "serviceUri": dm["serviceUri"],
        "supportedLocations": ",".join(dm["supportedLocations"]),
        "capabilities": dm["capabilities"],
        "capacity": dm["capacity"],
        # pti-o2 keeps a cluster's kubeconfig in the DMS profile and serves it as extensions.profileData
        # (``ocloud_view.deployment_manager_one``): deterministic stand-ins, never real credentials.
        "profile": {
            "cluster_api_endpoint": dm["serviceUri"],
            "cluster_ca_cert": _fake_pem(site, "CA CERTIFICATE"),
            "admin_user": "kubernetes-admin",
            "admin_client_cert": _fake_pem(site, "CLIENT CERTIFICATE"),
            "admin_client_key": _fake_pem(site, "CLIENT KEY"),
        },
    }


def _fake_pem(site: Site, what: str) -> str:
    return base64.b64encode(f"o2ims-replay synthetic {site.name} {what}".encode()).decode()


def _alarm(alarm: JSON) -> JSON:
    return {
        "alarmEventRecordId": alarm["alarmEventRecordId"],
        "resourceTypeId": alarm["resourceTypeID"],
        "resourceId": alarm["resourceID"],
        "alarmDefinitionId": alarm["alarmDefinitionID"],
        "probableCauseId": alarm["probableCauseID"],
        "perceivedSeverity": alarm["perceivedSeverity"],
        "alarmRaisedTime": alarm["alarmRaisedTime"],
        "alarmChangedTime": alarm["alarmChangedTime"],
        "alarmAcknowledged": alarm["alarmAcknowledged"],
        "extensions": alarm["extensions"],
    }


def dumps(document: JSON) -> str:
    """The document as canonical JSON text (sorted keys): what the seeder reads."""
    return json.dumps(document, sort_keys=True, indent=1)
