"""Runs with pti-o2's own interpreter, inside its source tree: keys, tokens, seeding and domain changes.

    python inside.py keys DIR                 # RSA key pairs for the oauth2/jwt provider (DIR/jwt*.pem)
    python inside.py token DIR KIND           # print a token: valid, expired or foreign (signed by another key)
    python inside.py seed DOCUMENT.json       # wipe the inventory, load the document through the domain classes
    python inside.py change CHANGES.json      # apply domain changes (add a resource, acknowledge an alarm...)

It imports pti-o2 (``o2app``, ``o2ims``, ``o2common``) and PyJWT from pti-o2's venv, never o2ims-replay: the
document is the JSON of ``replayer.synthetic.oran_sc.render_oran_sc``. Records go in through pti-o2's bootstrap
(ORM mappers, ``metadata.create_all``) and ``SqlAlchemyUnitOfWork`` as its StarlingX watchers write them
(``o2ims/service/auditor/*_handler.py``); domain events are not dispatched, so no SMO is called.
"""

import datetime
import json
import sys
import time
from pathlib import Path


def keys(folder):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    out = Path(folder)
    for name in ("jwt", "jwt_foreign"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (out / f"{name}_private.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (out / f"{name}_public.pem").write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def token(folder, kind):
    import jwt

    now = int(time.time())
    claims = {"sub": "o2ims-replay-tester", "clientHost": "127.0.0.1", "iat": now, "exp": now + 365 * 86400}
    if kind == "expired":
        claims.update(iat=now - 7200, exp=now - 3600)
    key_name = "jwt_foreign" if kind == "foreign" else "jwt"
    key = (Path(folder) / f"{key_name}_private.pem").read_text()
    print(jwt.encode(claims, key, algorithm="RS256"))


def _when(text):
    """A naive UTC datetime from an RFC 3339 text (pti-o2's columns are naive DateTime)."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def _stamp(obj, when):
    obj.createtime = obj.updatetime = when
    obj.hash = "o2ims-replay"
    return obj


def _uow():
    from o2app import bootstrap

    return bootstrap.bootstrap().uow


TABLES = ('"alarmEventRecord"', '"alarmSubscription"', '"subscription"', '"resource"', '"deploymentManager"',
          '"resourcePool"', '"resourceType"', '"associationAlarmDictAndAlarmDef"', '"alarmDictionary"',
          '"alarmDefinition"', '"probableCause"', '"ocloud"', '"alarmServiceConfiguration"')


def seed(path):
    from o2ims.domain import alarm_obj as a
    from o2ims.domain import ocloud as m
    from o2ims.domain.resource_type import ResourceKindEnum, ResourceTypeEnum

    doc = json.loads(Path(path).read_text())
    when = _when(doc["timestamp"])
    uow = _uow()
    with uow:
        for table in TABLES:
            uow.session.execute(f"DELETE FROM {table}")
        uow.commit()

    with uow:
        for pc in doc["probableCauses"]:
            uow.session.add(_stamp(a.ProbableCause(pc["probableCauseId"], pc["name"], pc["description"]), when))
        dictionaries = {}
        for d in doc["alarmDictionaries"]:
            dictionary = _stamp(a.AlarmDictionary(d["id"]), when)
            for key in ("entityType", "alarmDictionaryVersion", "alarmDictionarySchemaVersion", "vendor",
                        "managementInterfaceId", "pkNotificationField"):
                setattr(dictionary, key, d[key])
            definitions = []
            for ad in d["alarmDefinitions"]:
                definition = a.AlarmDefinition(
                    ad["alarmDefinitionId"], ad["alarmName"], a.AlarmChangeTypeEnum(ad["alarmChangeType"]),
                    ad["alarmDescription"], ad["proposedRepairActions"], a.ClearingTypeEnum(ad["clearingType"]),
                    ad["pkNotificationField"])
                definition.alarmLastChange = ad["alarmLastChange"]
                definition.managementInterfaceId = ad["managementInterfaceId"]
                definitions.append(_stamp(definition, when))
            uow.alarm_dictionaries.add(dictionary)
            uow.session.flush()
            # One flush per link: pti-o2 reads a dictionary's definitions without ORDER BY, and one flush of
            # them all inserts the link rows in an order that changes from run to run.
            for definition in definitions:
                dictionary.alarmDefinition.append(definition)
                uow.session.flush()
            dictionaries[d["id"]] = dictionary

        o = doc["ocloud"]
        ocloud = m.Ocloud(o["oCloudId"], o["name"], o["serviceUri"], o["globalCloudId"], o["description"], 1)
        uow.oclouds.add(_stamp(ocloud, when))

        for t in doc["resourceTypes"]:
            rt = m.ResourceType(t["resourceTypeId"], t["name"], ResourceTypeEnum[t["resourceTypeEnum"]],
                                vendor=t["vendor"], model=t["model"], version=t["version"],
                                description=t["description"])
            rt.resourceKind = ResourceKindEnum[t["resourceKind"]]
            rt.resourceClass = ResourceTypeEnum[t["resourceClass"]]
            rt.alarmDictionary = dictionaries[t["alarmDictionaryId"]]
            uow.resource_types.add(_stamp(rt, when))

        for p in doc["resourcePools"]:
            uow.resource_pools.add(_stamp(_pool(m, p), when))

        for d in doc["deploymentManagers"]:
            dm = m.DeploymentManager(
                d["deploymentManagerId"], d["name"], d["oCloudId"], d["serviceUri"], d["description"],
                d["supportedLocations"], json.dumps(d["capabilities"]), json.dumps(d["capacity"]),
                json.dumps(d["profile"]))
            uow.deployment_managers.add(_stamp(dm, when))
        uow.commit()

    with uow:
        for r in doc["resources"]:
            uow.resources.add(_stamp(_resource(m, r), when))
        uow.commit()

    with uow:
        for alarm in doc["alarms"]:
            uow.alarm_event_records.add(_stamp(_alarm(a, alarm), when))
        uow.alarm_service_config._add_default()
        uow.commit()

    with uow:
        counts = {t.strip('"'): uow.session.execute(f"SELECT count(*) FROM {t}").scalar() for t in TABLES}
    print(json.dumps(counts, sort_keys=True))


def _pool(m, p):
    return m.ResourcePool(p["resourcePoolId"], p["name"], p["location"], p["oCloudId"], p["globalLocationId"],
                          p["description"])


def _resource(m, r):
    return m.Resource(r["resourceId"], r["resourceTypeId"], r["resourcePoolId"], r["parentId"],
                      r["globalAssetId"], "", r["description"], json.dumps(r["extensions"], sort_keys=True))


def _alarm(a, alarm):
    rec = a.AlarmEventRecord(alarm["alarmEventRecordId"], alarm["resourceTypeId"], alarm["resourceId"],
                             alarm["alarmDefinitionId"], alarm["probableCauseId"], alarm["alarmRaisedTime"],
                             alarm["perceivedSeverity"])
    rec.perceivedSeverity = int(alarm["perceivedSeverity"])
    rec.alarmChangedTime = alarm["alarmChangedTime"]
    rec.alarmAcknowledged = alarm["alarmAcknowledged"]
    rec.extensions = json.dumps(alarm["extensions"], sort_keys=True)
    return rec


def change(path):
    """Apply ``[{"op": ..., ...}]``: add_resource, rename_pool, acknowledge_alarm, delete_resource."""
    from o2ims.domain import alarm_obj as a
    from o2ims.domain import ocloud as m

    spec = json.loads(Path(path).read_text())
    when = _when(spec["timestamp"])
    uow = _uow()
    with uow:
        for c in spec["changes"]:
            op = c["op"]
            if op == "add_resource":
                uow.resources.add(_stamp(_resource(m, c["resource"]), when))
            elif op == "delete_resource":
                uow.session.delete(uow.resources.get(c["resourceId"]))
            elif op == "rename_pool":
                pool = uow.resource_pools.get(c["resourcePoolId"])
                pool.name = c["name"]
                pool.updatetime = when
            elif op == "acknowledge_alarm":
                alarm = uow.alarm_event_records.get(c["alarmEventRecordId"])
                alarm.alarmAcknowledged = True
                alarm.alarmAcknowledgeTime = c["time"]
                alarm.alarmChangedTime = c["time"]
            elif op == "add_alarm":
                uow.alarm_event_records.add(_stamp(_alarm(a, c["alarm"]), when))
            else:
                raise SystemExit(f"inside.py change: unknown op {op!r}")
        uow.commit()
    print(json.dumps({"applied": len(spec["changes"])}))


def main(argv):
    commands = {"keys": keys, "token": token, "seed": seed, "change": change}
    if not argv or argv[0] not in commands:
        raise SystemExit(f"usage: inside.py {{{','.join(commands)}}} ...")
    commands[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
