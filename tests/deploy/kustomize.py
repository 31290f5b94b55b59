"""A small kustomize, enough for deploy/kubernetes/: the tests render the overlays with it when no
``kubectl`` with a recent kustomize is on the machine (Debian's kubernetes-client 1.20 bundles kustomize
2.0.3, which predates ``patches:``). Where a recent ``kubectl`` is present, a test checks both render
the same objects.

Supported: ``resources`` (files and kustomization folders), ``patches`` (strategic merge from a file,
``$patch: delete``), ``configMapGenerator`` and ``secretGenerator`` (files, literals; the content-hash
name suffix computed as kustomize's ``hasher.go`` does, and references in pod templates renamed), and
``images``. Anything else in a kustomization is refused, so the manifests cannot silently outgrow it.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

__all__ = ["render"]

_KNOWN = {"apiVersion", "kind", "resources", "patches", "configMapGenerator", "secretGenerator", "images"}
#: Strategic-merge keys of the lists the manifests patch (k8s.io/api: patchMergeKey).
_MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
               "volumeMounts": "mountPath", "ports": "containerPort"}

Obj = dict[str, Any]


def _key(obj: Obj) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def _merge(base: Any, patch: Any, field: str = "") -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            if v is None:
                out.pop(k, None)
            elif k in out:
                out[k] = _merge(out[k], v, k)
            else:
                out[k] = copy.deepcopy(v)
        return out
    if isinstance(base, list) and isinstance(patch, list) and field in _MERGE_KEYS:
        mk = _MERGE_KEYS[field]
        if field == "ports" and patch and "containerPort" not in patch[0]:
            mk = "port"
        # kyaml's order: the patch's elements (merged into their base element), then the base's others.
        by_key = {x.get(mk): x for x in base}
        merged = [_merge(by_key[i.get(mk)], i) if i.get(mk) in by_key else copy.deepcopy(i) for i in patch]
        patched = {i.get(mk) for i in patch}
        return merged + [copy.deepcopy(x) for x in base if x.get(mk) not in patched]
    return copy.deepcopy(patch)


def _go_json(doc: Any) -> str:
    """encoding/json's Marshal: sorted keys, no spaces, <>& escaped."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _suffix(obj: Obj) -> str:
    """kustomize api/hasher: sha256 of the JSON encoding, first 10 hex digits with 0,1,3,a,e swapped."""
    # kustomize v4+ hashes the generated object before it has a name: "name" is empty.
    doc: Obj = {"kind": obj["kind"], "name": "", "data": obj.get("data", {})}
    if obj["kind"] == "Secret":
        doc["type"] = obj.get("type", "Opaque")
    digest = hashlib.sha256(_go_json(doc).encode()).hexdigest()[:10]
    return digest.translate(str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"}))


def _generate(root: Path, spec: Obj, kind: str) -> Obj:
    data: dict[str, str] = {}
    for entry in spec.get("files", []):
        name, _, path = entry.partition("=") if "=" in entry else (Path(entry).name, "", entry)
        data[name] = (root / path).read_text(encoding="utf-8")
    for literal in spec.get("literals", []):
        name, _, value = literal.partition("=")
        data[name] = value
    obj: Obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": spec["name"]}}
    if kind == "Secret":
        obj["type"] = spec.get("type", "Opaque")
        obj["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    else:
        obj["data"] = data
    return obj


def _rename_refs(obj: Obj, renamed: dict[tuple[str, str], str]) -> None:
    """References to generated ConfigMaps and Secrets in pod templates follow the hashed names."""
    pod = obj.get("spec", {}).get("template", {}).get("spec")
    if pod is None:
        return
    for vol in pod.get("volumes", []):
        if "configMap" in vol:
            vol["configMap"]["name"] = renamed.get(("ConfigMap", vol["configMap"]["name"]), vol["configMap"]["name"])
        if "secret" in vol:
            vol["secret"]["secretName"] = renamed.get(("Secret", vol["secret"]["secretName"]),
                                                      vol["secret"]["secretName"])
    for c in pod.get("containers", []) + pod.get("initContainers", []):
        for env in c.get("env", []):
            for ref_kind, ref in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                target = env.get("valueFrom", {}).get(ref)
                if target:
                    target["name"] = renamed.get((ref_kind, target["name"]), target["name"])


def _set_images(obj: Obj, images: list[Obj]) -> None:
    pod = obj.get("spec", {}).get("template", {}).get("spec")
    if pod is None:
        return
    for c in pod.get("containers", []) + pod.get("initContainers", []):
        name, _, tag = c["image"].partition(":")
        for rule in images:
            if rule["name"] == name:
                c["image"] = f"{rule.get('newName', name)}:{rule.get('newTag', tag)}"


def render(folder: str | Path) -> list[Obj]:
    """The objects ``kubectl kustomize folder`` would print (in file order, not kustomize's)."""
    root = Path(folder)
    k = yaml.safe_load((root / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = sorted(set(k) - _KNOWN)
    if unknown:
        raise ValueError(f"{root}/kustomization.yaml: {unknown[0]} is not supported by tests/deploy/kustomize.py")
    objects: list[Obj] = []
    renamed: dict[tuple[str, str], str] = {}
    for res in k.get("resources", []):
        path = root / res
        if path.is_dir():
            objects += render(path)
        else:
            objects += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    for obj in objects:  # the base's generated names: patches and generators here refer to the plain names
        name = obj["metadata"].get("annotations", {}).get("test.kustomize/base-name")
        if name:
            renamed[(obj["kind"], name)] = obj["metadata"]["name"]
    for spec, kind in [(g, "ConfigMap") for g in k.get("configMapGenerator", [])] + \
                      [(g, "Secret") for g in k.get("secretGenerator", [])]:
        gen = _generate(root, spec, kind)
        plain = gen["metadata"]["name"]
        gen["metadata"]["name"] = f"{plain}-{_suffix(gen)}"
        gen["metadata"]["annotations"] = {"test.kustomize/base-name": plain}
        renamed[(kind, plain)] = gen["metadata"]["name"]
        objects = [o for o in objects if o["metadata"].get("annotations", {}).get("test.kustomize/base-name")
                   != plain or o["kind"] != kind] + [gen]
    for entry in k.get("patches", []):
        for patch in yaml.safe_load_all((root / entry["path"]).read_text(encoding="utf-8")):
            target = _key(patch)
            at = next((i for i, o in enumerate(objects) if _key(o) == target), None)
            if at is None:
                raise ValueError(f"{root / entry['path']}: no {target[0]} named {target[1]} to patch")
            if patch.get("$patch") == "delete":
                del objects[at]
            else:
                objects[at] = _merge(objects[at], patch)
    for obj in objects:
        _rename_refs(obj, renamed)
        _set_images(obj, k.get("images", []))
    return objects


def strip_markers(objects: list[Obj]) -> list[Obj]:
    """The objects without this renderer's bookkeeping annotation."""
    out = copy.deepcopy(objects)
    for obj in out:
        ann = obj["metadata"].get("annotations", {})
        ann.pop("test.kustomize/base-name", None)
        if not ann:
            obj["metadata"].pop("annotations", None)
    return out
