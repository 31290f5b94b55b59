"""The JSON Schemas shipped for editors (.o2replay.yaml, synthetic profiles, cassettes): valid schemas, in step
with the code that reads those files, and satisfied by every bundled file and every example in the docs."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from replayer.commands.record import _CONFIG_KEYS as RECORD_KEYS
from replayer.diff.config import _KEYS as DIFF_KEYS
from replayer.diff.model import DriftKind
from replayer.matching import OnExhausted
from replayer.server.config import _FAULT_TYPES, REPLAY_KEYS
from replayer.synthetic import profile as profile_module

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "replayer" / "data" / "schemas"
CONFIG, PROFILE, CASSETTE = (json.loads((SCHEMAS / f"{n}.schema.json").read_text())
                             for n in ("o2replay-config", "profile", "cassette"))


def _validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def _errors(schema: dict[str, Any], doc: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator(schema).iter_errors(doc)]


def _plain(doc: Any) -> Any:
    """A YAML document as an editor's JSON view of it: !!binary bytes as their base64 text."""
    if isinstance(doc, bytes):
        return base64.b64encode(doc).decode()
    if isinstance(doc, dict):
        return {k: _plain(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_plain(v) for v in doc]
    return doc


@pytest.mark.parametrize("schema", [CONFIG, PROFILE, CASSETTE], ids=["config", "profile", "cassette"])
def test_is_a_draft_7_schema(schema: dict[str, Any]) -> None:
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"  # what editors' YAML support reads


def test_config_schema_knows_exactly_the_keys_the_code_reads() -> None:
    props = CONFIG["properties"]
    assert set(props["replay"]["properties"]) == set(REPLAY_KEYS)
    assert set(props["diff"]["properties"]) == set(DIFF_KEYS)
    assert set(props["record"]["properties"]) == set(RECORD_KEYS)
    assert set(CONFIG["definitions"]["fault"]["properties"]) == set(_FAULT_TYPES)
    assert CONFIG["definitions"]["drift_kind"]["enum"] == [k.value for k in DriftKind]
    assert props["replay"]["properties"]["on_exhausted"]["enum"] == [e.value for e in OnExhausted]


def test_profile_schema_knows_exactly_the_keys_the_code_reads() -> None:
    props = PROFILE["properties"]
    assert set(props) == set(profile_module._TOP)
    assert set(props["cloud"]["properties"]) == set(profile_module._CLOUD)
    assert set(props["sites"]["items"]["properties"]) == set(profile_module._SITE)
    assert set(props["defaults"]["properties"]) == set(profile_module._DEFAULTS)
    assert set(props["defaults"]["properties"]["extensions"]["properties"]) == set(profile_module._EXTENSION_BLOCKS)


BUNDLED_PROFILES = sorted((ROOT / "replayer" / "data" / "profiles").glob("*.yaml"))
BUNDLED_CASSETTES = sorted((ROOT / "cassettes").rglob("*.yaml"))


@pytest.mark.parametrize("path", BUNDLED_PROFILES, ids=lambda p: p.name)
def test_bundled_profiles_validate(path: Path) -> None:
    assert _errors(PROFILE, yaml.safe_load(path.read_text())) == []


@pytest.mark.parametrize("path", BUNDLED_CASSETTES, ids=lambda p: p.name)
def test_bundled_cassettes_validate(path: Path) -> None:
    assert _errors(CASSETTE, _plain(yaml.safe_load(path.read_text()))) == []


def _doc_examples() -> list[tuple[str, str, Any]]:
    """(page:line, kind, document) of every YAML example in the docs that is a config, profile or cassette."""
    found = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text()
        for m in re.finditer(r"```yaml\n(.*?)```", text, re.S):
            if "[...]" in m.group(1) or "\n...\n" in m.group(1):
                continue  # an elided example (`sites: [...]`) shows one key, not a whole file
            doc = yaml.safe_load(m.group(1))
            where = f"{page.name}:{text.count(chr(10), 0, m.start()) + 2}"
            if isinstance(doc, dict) and doc and set(doc) <= {"replay", "diff", "record"}:
                found.append((where, "config", doc))
            elif isinstance(doc, dict) and "sites" in doc:
                found.append((where, "profile", doc))
            elif isinstance(doc, dict) and "interactions" in doc:
                found.append((where, "cassette", doc))
    return found


EXAMPLES = _doc_examples()


def test_the_docs_have_examples_of_each_kind() -> None:
    kinds = [kind for _, kind, _ in EXAMPLES]
    assert kinds.count("config") >= 3 and "profile" in kinds and "cassette" in kinds, kinds


@pytest.mark.parametrize(("where", "kind", "doc"), EXAMPLES, ids=[f"{w}-{k}" for w, k, _ in EXAMPLES])
def test_docs_examples_validate(where: str, kind: str, doc: Any) -> None:
    schema = {"config": CONFIG, "profile": PROFILE, "cassette": CASSETTE}[kind]
    assert _errors(schema, _plain(doc)) == [], where


@pytest.mark.parametrize(("doc", "message"), [
    ({"replay": {"stict": True}}, "Additional properties are not allowed ('stict' was unexpected)"),
    ({"replay": {"on_exhausted": "again"}}, "'again' is not one of"),
    ({"replay": {"faults": [{"path": "/x"}]}}, "is not valid under any of the given schemas"),
    ({"record": {"mode": "transparent"}}, "'transparent' is not one of"),
    ({"diff": {"severity": [{"kind": "field_renamed", "severity": "info"}]}}, "is not valid under any"),
])
def test_config_mistakes_are_flagged(doc: Any, message: str) -> None:
    assert any(message in e for e in _errors(CONFIG, doc)), _errors(CONFIG, doc)


def test_a_profile_typo_is_flagged() -> None:
    doc = yaml.safe_load(BUNDLED_PROFILES[0].read_text())
    doc["sites"][0]["cpu_cors"] = 4
    assert any("'cpu_cors' was unexpected" in e for e in _errors(PROFILE, doc))


def test_editor_settings_in_the_docs_point_at_the_shipped_schemas() -> None:
    text = (ROOT / "docs" / "install.md").read_text()
    settings = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    for schema in settings["yaml.schemas"]:
        assert (ROOT / schema).is_file(), schema
    modelines = re.findall(r"# yaml-language-server: \$schema=(\S+)", text)
    assert modelines and all((ROOT / m).is_file() for m in modelines)
