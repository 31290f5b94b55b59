"""Validation of O2IMS traffic against the vendored OpenAPI 3.0 definitions (and extra spec files).

OpenAPI 3.0 schema objects are an extended subset of JSON Schema draft 4/5; each document is translated
once (``nullable`` -> a ``"null"`` type, ``readOnly`` / ``writeOnly`` -> direction-specific ``required``,
``example``, ``discriminator`` and friends dropped) and validated with ``jsonschema``'s draft 4 validator,
the cross-file ``$ref`` (``../../common/api/openapi.yaml#/...``) resolved through a ``referencing`` registry.
Formats (``uuid``, ``date-time``, ``uri``) are annotations here, not checked: real servers differ on them and
the definitions use them loosely.

    violations = bundled_specs().validate_response("GET", path, 200, "application/json", body)
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from replayer import limits
from replayer.cassettes.model import media_type
from replayer.o2ims.problem import PROBLEM_CONTENT_TYPE
from replayer.o2ims.routes import TemplateIndex, normalise_path

__all__ = [
    "BUNDLED_SPEC_FILES",
    "COMPLIANCE_SCHEMAS_DIR",
    "SPECS_DIR",
    "Operation",
    "SpecError",
    "SpecSet",
    "Violation",
    "ViolationKind",
    "bundled_specs",
    "compliance_schema",
    "compliance_schema_names",
]

SPECS_DIR = Path(__file__).resolve().parent.parent / "data" / "specs"
COMPLIANCE_SCHEMAS_DIR = SPECS_DIR / "it-test-o2ims-compliance-schemas"
_MAIN = SPECS_DIR / "oran-o2ims-main" / "internal" / "service"

#: Inventory v1 from release-4.21, then inventory v2 and the other APIs from main (the first file that
#: defines a path wins; both inventory files define ``/o2ims-infrastructureInventory/api_versions``).
BUNDLED_SPEC_FILES: tuple[Path, ...] = (
    SPECS_DIR / "oran-o2ims-release-4.21" / "internal" / "service" / "resources" / "api" / "openapi.yaml",
    *(_MAIN / svc / "api" / "openapi.yaml" for svc in ("resources", "alarms", "provisioning", "cluster", "artifacts")),
)

_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_MAX_SCHEMA_VIOLATIONS = 20
# OpenAPI-only keywords with no JSON Schema meaning (OAS 3.0.3 4.7.24-25).
_DROPPED_KEYWORDS = frozenset(
    {"nullable", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs", "example", "deprecated"}
)


class SpecError(ValueError):
    """A spec file cannot be read or is not an OpenAPI 3 document."""


class ViolationKind(StrEnum):
    """What is wrong with an exchange."""

    UNKNOWN_PATH = "unknown-path"
    UNDOCUMENTED_METHOD = "undocumented-method"
    UNDOCUMENTED_STATUS = "undocumented-status"
    WRONG_CONTENT_TYPE = "wrong-content-type"
    SCHEMA = "schema"


@dataclass(frozen=True, slots=True)
class Violation:
    """One finding: its kind, a JSON pointer into the body ("" for the whole exchange) and a sentence."""

    kind: ViolationKind
    pointer: str
    message: str

    def __str__(self) -> str:
        where = f" at {self.pointer}" if self.pointer else ""
        return f"{self.kind}{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented method of one path."""

    template: str
    method: str
    source: Path
    operation_id: str
    responses: Mapping[str, Mapping[str, Any]]  # status ("200", "4XX", "default") -> content type -> schema
    request_body: Mapping[str, Any] | None = None  # content type -> schema, None when no body is documented
    request_body_required: bool = False
    pointer: str = field(default="", repr=False)  # JSON pointer of the operation in its document
    #: OAuth2 scopes, one tuple per alternative requirement (OAS 3.0.3 4.7.30); the document's when absent
    security: tuple[tuple[str, ...], ...] = ()


# ------------------------------------------------------------------------------------------ translation


def _schema(node: Any, direction: str) -> Any:
    """A JSON Schema (draft 4) equivalent of an OpenAPI 3.0 schema object, for "response" or "request"."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return {"$ref": node["$ref"]}  # OAS 3.0: siblings of $ref are ignored
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYWORDS:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _schema(sub, direction) for name, sub in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = _schema(value, direction)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = [_schema(sub, direction) for sub in value]
        else:
            out[key] = value
    if node.get("nullable") is True:
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "type" not in out:  # e.g. nullable + allOf: null, or whatever the composition accepts
            return {"anyOf": [{"type": "null"}, out]}
    if isinstance(out.get("required"), list) and isinstance(node.get("properties"), dict):
        # A readOnly property is not sent in requests, a writeOnly one not returned (OAS 3.0.3 4.7.25).
        hidden = "writeOnly" if direction == "response" else "readOnly"
        props = node["properties"]
        out["required"] = [r for r in out["required"] if not (isinstance(props.get(r), dict) and props[r].get(hidden))]
        if not out["required"]:
            del out["required"]  # draft 4 wants a non-empty list
    return out


def _translate_document(doc: Mapping[str, Any], direction: str) -> dict[str, Any]:
    """The document with every schema object translated (components and inline path schemas)."""
    out: dict[str, Any] = dict(doc)
    components = dict(doc.get("components") or {})
    components["schemas"] = {k: _schema(v, direction) for k, v in (components.get("schemas") or {}).items()}
    out["components"] = components
    paths: dict[str, Any] = {}
    for template, item in (doc.get("paths") or {}).items():
        paths[template] = {m: _translate_operation(op, direction) if m in _HTTP_METHODS else op
                           for m, op in (item or {}).items()}
    out["paths"] = paths
    return out


def _translate_operation(op: Mapping[str, Any], direction: str) -> dict[str, Any]:
    out = dict(op)
    responses = {}
    for status, response in (op.get("responses") or {}).items():
        responses[status] = _translate_content_holder(response, direction)
    out["responses"] = responses
    if isinstance(op.get("requestBody"), dict):
        out["requestBody"] = _translate_content_holder(op["requestBody"], direction)
    return out


def _translate_content_holder(holder: Any, direction: str) -> Any:
    if not isinstance(holder, dict) or not isinstance(holder.get("content"), dict):
        return holder
    content = {ct: ({**media, "schema": _schema(media["schema"], direction)} if "schema" in (media or {}) else media)
               for ct, media in holder["content"].items()}
    return {**holder, "content": content}


# ----------------------------------------------------------------------------------------------- loading


def _load_document(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SpecError(f"{path}: cannot read spec file: {e.strerror or e}") from e
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        doc = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=loader)  # noqa: S506 (safe)
    except (yaml.YAMLError, ValueError) as e:
        raise SpecError(f"{path}: not valid YAML/JSON: {str(e).splitlines()[0]}") from e
    if not isinstance(doc, dict):
        raise SpecError(f"{path}: not an OpenAPI document (top level is not a mapping)")
    return doc


def _external_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            yield ref.partition("#")[0]
        for value in node.values():
            yield from _external_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _external_refs(value)


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _status_sort_key(status: str) -> tuple[int, str]:
    return (0 if status.isdigit() else 1 if status.upper().endswith("XX") else 2, status)


class SpecSet:
    """A set of OpenAPI 3 documents: find operations and validate exchanges against them."""

    def __init__(self, documents: Sequence[tuple[Path, dict[str, Any]]]) -> None:
        """Index ``documents`` (path, parsed OpenAPI 3 document); the first defining a path wins."""
        self._docs: dict[Path, dict[str, Any]] = {}
        self._operations: dict[str, dict[str, Operation]] = {}
        for source, doc in documents:
            self._add(source.resolve(), doc)
        self._index = TemplateIndex((t, t) for t in self._operations)
        self._registries: dict[str, Any] = {}
        self._validators: dict[tuple[str, str], Any] = {}

    @classmethod
    def from_files(cls, paths: Iterable[str | Path]) -> SpecSet:
        """Load OpenAPI 3 files (YAML or JSON); their relative ``$ref`` files are loaded as needed."""
        documents: list[tuple[Path, dict[str, Any]]] = []
        for raw in paths:
            path = Path(raw).resolve()
            doc = _load_document(path)
            version = str(doc.get("openapi", ""))
            if not version.startswith("3."):
                found = f"swagger {doc['swagger']}" if "swagger" in doc else f"openapi {version or 'missing'}"
                raise SpecError(f"{path}: only OpenAPI 3 documents are supported (found {found})")
            if not isinstance(doc.get("paths"), dict):
                raise SpecError(f"{path}: 'paths' is missing or not a mapping")
            for ref in sorted(set(_external_refs(doc))):
                if not (path.parent / ref).resolve().is_file():
                    raise SpecError(f"{path}: $ref to {ref!r}: no such file")
            documents.append((path, doc))
        return cls(documents)

    def _add(self, source: Path, doc: dict[str, Any]) -> None:
        self._docs[source] = doc
        for template, item in doc.get("paths", {}).items():
            if template in self._operations or not isinstance(item, dict):
                continue
            ops: dict[str, Operation] = {}
            for method, op in item.items():
                if method in _HTTP_METHODS and isinstance(op, dict):
                    ops[method.upper()] = self._operation(source, template, method, op, doc.get("security"))
            self._operations[template] = ops

    @staticmethod
    def _operation(source: Path, template: str, method: str, op: Mapping[str, Any],
                   default_security: Any = None) -> Operation:
        responses = {
            str(status): dict((resp or {}).get("content") or {}) for status, resp in (op.get("responses") or {}).items()
        }
        body = op.get("requestBody")
        request = dict(body.get("content") or {}) if isinstance(body, dict) else None
        required = bool(body.get("required")) if isinstance(body, dict) else False
        pointer = f"/paths/{_pointer_escape(template)}/{method}"
        return Operation(template, method.upper(), source, str(op.get("operationId", "")), responses, request,
                         required, pointer, _security(op.get("security", default_security)))

    # ------------------------------------------------------------------------------------------ lookup

    @property
    def templates(self) -> tuple[str, ...]:
        """Every path template, in document order."""
        return tuple(self._operations)

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """The template matching ``path`` and its parameters, or None."""
        return self._index.match(normalise_path(path))

    def operations(self, path: str) -> dict[str, Operation] | None:
        """Method -> operation for ``path``, or None when the path is unknown."""
        found = self.match(path)
        return None if found is None else self._operations[found[0]]

    def find_operation(self, method: str, path: str) -> Operation | None:
        """The documented operation for ``method`` on ``path``, or None."""
        ops = self.operations(path)
        return None if ops is None else ops.get(method.upper())

    def _locate(self, method: str, path: str) -> Operation | Violation:
        ops = self.operations(path)
        if ops is None:
            return Violation(ViolationKind.UNKNOWN_PATH, "", f"{normalise_path(path)} is not a path of the definitions")
        op = ops.get(method.upper())
        if op is None:
            allowed = ", ".join(sorted(ops)) or "none"
            template = _op_template(ops, path)
            return Violation(ViolationKind.UNDOCUMENTED_METHOD, "",
                             f"{method.upper()} is not documented for {template} (documented: {allowed})")
        return op

    # -------------------------------------------------------------------------------------- validation

    def validate_response(
        self, method: str, path: str, status: int, content_type: str | None, body: Any
    ) -> list[Violation]:
        """Everything wrong with a response to ``method path`` ([] when it conforms)."""
        op = self._locate(method, path)
        if isinstance(op, Violation):
            return [op]
        key = _status_key(op.responses, status)
        if key is None:
            documented = ", ".join(sorted(op.responses, key=_status_sort_key))
            return [Violation(ViolationKind.UNDOCUMENTED_STATUS, "",
                              f"status {status} is not documented for {op.method} {op.template} "
                              f"(documented: {documented})")]
        pointer = f"{op.source.as_uri()}#{op.pointer}/responses/{_pointer_escape(key)}"
        return self._check_content(op.responses[key], pointer, content_type, body, "response", status)

    def validate_request_body(self, method: str, path: str, content_type: str | None, body: Any) -> list[Violation]:
        """Everything wrong with a request body for ``method path`` ([] when it conforms)."""
        op = self._locate(method, path)
        if isinstance(op, Violation):
            return [op]
        if op.request_body is None:
            return []
        if _is_empty(body):
            if op.request_body_required:
                return [Violation(ViolationKind.SCHEMA, "", "a request body is required")]
            return []
        pointer = f"{op.source.as_uri()}#{op.pointer}/requestBody"
        return self._check_content(op.request_body, pointer, content_type, body, "request", 0)

    def _check_content(
        self, content: Mapping[str, Any], pointer: str, content_type: str | None, body: Any, direction: str,
        status: int,
    ) -> list[Violation]:
        if not content:
            if _is_empty(body):
                return []
            return [Violation(ViolationKind.SCHEMA, "", f"no body is documented, got {_describe(body)}")]
        media = media_type(content_type)
        documented = _match_media(content, media)
        if documented is None:
            listed = ", ".join(content)
            is_error = PROBLEM_CONTENT_TYPE in content and status >= 400
            hint = f" (errors must be {PROBLEM_CONTENT_TYPE})" if is_error else ""
            return [Violation(ViolationKind.WRONG_CONTENT_TYPE, "",
                              f"content type {media or 'missing'!r} is not documented (documented: {listed}){hint}")]
        schema_node = content[documented].get("schema") if isinstance(content[documented], dict) else None
        if schema_node is None:
            return []
        parsed = _parse_body(body, media)
        if isinstance(parsed, Violation):
            return [parsed]
        media_pointer = f"{pointer}/content/{_pointer_escape(documented)}/schema"
        return self._schema_violations(direction, media_pointer, parsed)

    def _schema_violations(self, direction: str, schema_pointer: str, instance: Any) -> list[Violation]:
        validator = self._validator(direction, schema_pointer)
        errors = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.message))
        out = [_violation(e) for e in errors[:_MAX_SCHEMA_VIOLATIONS]]
        if len(errors) > _MAX_SCHEMA_VIOLATIONS:
            out.append(Violation(ViolationKind.SCHEMA, "", f"... and {len(errors) - _MAX_SCHEMA_VIOLATIONS} more"))
        return out

    def _validator(self, direction: str, schema_pointer: str) -> Any:
        """A cached draft 4 validator for the schema at ``schema_pointer`` (``file://...#/paths/...``)."""
        key = (direction, schema_pointer)
        validator = self._validators.get(key)
        if validator is None:
            from jsonschema import Draft4Validator

            registry = self._registry(direction)
            # The operation's schema is reached through its document, so relative $refs resolve from there.
            validator = Draft4Validator({"$ref": schema_pointer}, registry=registry)
            self._validators[key] = validator
        return validator

    def _registry(self, direction: str) -> Any:
        registry = self._registries.get(direction)
        if registry is None:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT4

            resources: dict[str, Resource[Any]] = {}
            pending = list(self._docs)
            loaded: dict[Path, dict[str, Any]] = dict(self._docs)
            while pending:
                source = pending.pop()
                doc = loaded[source]
                for ref in set(_external_refs(doc)):
                    target = (source.parent / ref).resolve()
                    if target not in loaded:
                        loaded[target] = _load_document(target)
                        pending.append(target)
                resources[source.as_uri()] = DRAFT4.create_resource(_translate_document(doc, direction))
            registry = Registry().with_resources(resources.items())
            self._registries[direction] = registry
        return registry


def _security(raw: Any) -> tuple[tuple[str, ...], ...]:
    """The scopes of each security requirement object (any scheme), in document order."""
    if not isinstance(raw, list):
        return ()
    out: list[tuple[str, ...]] = []
    for requirement in raw:
        if isinstance(requirement, dict):
            out.append(tuple(str(s) for scopes in requirement.values() if isinstance(scopes, list) for s in scopes))
    return tuple(out)


def _op_template(ops: Mapping[str, Operation], path: str) -> str:
    """The template of a path's operations (for messages)."""
    return next(iter(ops.values())).template if ops else normalise_path(path)


def _status_key(responses: Mapping[str, Any], status: int) -> str | None:
    # OAS 3.0.3 4.7.16: an exact code wins over a range ("4XX"), which wins over "default".
    exact = str(status)
    if exact in responses:
        return exact
    ranged = f"{status // 100}XX"
    for key in responses:
        if key.upper() == ranged:
            return key
    return "default" if "default" in responses else None


def _match_media(content: Mapping[str, Any], media: str) -> str | None:
    if not media:
        return None
    lowered = {ct.lower(): ct for ct in content}
    if media in lowered:
        return lowered[media]
    major = media.split("/", 1)[0]
    for candidate in (f"{major}/*", "*/*"):
        if candidate in lowered:
            return lowered[candidate]
    return None


def _is_empty(body: Any) -> bool:
    return body is None or (isinstance(body, (bytes, str)) and not body.strip())


def _describe(body: Any) -> str:
    size = len(body) if isinstance(body, (bytes, str)) else len(json.dumps(body))
    return f"{size} bytes"


def _parse_body(body: Any, media: str) -> Any:
    if not isinstance(body, (bytes, str)):
        return body  # already parsed JSON
    if not (media.endswith("/json") or media.endswith("+json")):
        return body
    try:
        return limits.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        return Violation(ViolationKind.SCHEMA, "", f"body is not valid JSON: {e}")


def _violation(error: Any) -> Violation:
    pointer = "".join(f"/{_pointer_escape(str(p))}" for p in error.absolute_path)
    if error.validator == "required":
        message = f"missing required field {error.message.split(' is a required property')[0]}"
    elif error.validator == "type":
        message = f"wrong type: {error.message}"
    elif error.validator == "enum":
        message = f"bad enum value: {error.message}"
    else:
        message = error.message
    return Violation(ViolationKind.SCHEMA, pointer, message)


@functools.cache
def bundled_specs() -> SpecSet:
    """The vendored O2IMS definitions (loaded once, on first use)."""
    return SpecSet.from_files(BUNDLED_SPEC_FILES)


def compliance_schema_names() -> tuple[str, ...]:
    """Names of the it-test compliance JSON schemas (file names without ``.json``)."""
    return tuple(sorted(p.stem for p in COMPLIANCE_SCHEMAS_DIR.glob("*.json")))


@functools.cache
def _compliance(name: str) -> str:
    path = COMPLIANCE_SCHEMAS_DIR / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"unknown compliance schema {name!r} (valid: {', '.join(compliance_schema_names())})")
    return path.read_text(encoding="utf-8")


def compliance_schema(name: str) -> dict[str, Any]:
    """An it-test O2IMS compliance JSON schema, e.g. ``compliance_schema("resourcePools_properties")``."""
    schema: dict[str, Any] = json.loads(_compliance(name.removesuffix(".json")))
    return schema
