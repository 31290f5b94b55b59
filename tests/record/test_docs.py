"""docs/recording.md stays true: its YAML examples parse and mean what the text says."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from replayer.commands.record import _CONFIG_KEYS
from replayer.record.redact import default_rules, redact_headers, redact_json, rules_from_yaml

DOC = Path(__file__).resolve().parents[2] / "docs" / "recording.md"


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)


def test_rules_file_example_parses_and_works() -> None:
    block = next(b for b in _yaml_blocks() if b.startswith("# redact.yaml"))
    rules = rules_from_yaml(block, default_rules())
    assert redact_json({"bmcDetails": {"address": "10.0.0.1"}, "pin": 1234, "code": "abc"}, rules) == \
        {"bmcDetails": {"address": "<redacted:address>"}, "pin": 0, "code": "abc"}
    assert redact_headers({"Date": ["x"], "X-Tenant-Token": ["t"]}, rules) == {"X-Tenant-Token": ["<redacted:x-tenant-token>"]}
    assert redact_json({"tenant_pin": "1", "sortKey": "a", "key": "zone"}, rules) == \
        {"tenant_pin": "<redacted:tenant_pin>", "sortKey": "a", "key": "zone"}


def test_config_example_uses_known_keys() -> None:
    block = next(b for b in _yaml_blocks() if b.startswith("record:"))
    assert set(yaml.safe_load(block)["record"]) <= set(_CONFIG_KEYS)


def test_every_addon_option_is_documented() -> None:
    text = DOC.read_text()
    for option in ("cassette", "record_mode", "record_paths", "redact_rules", "cassette_flush", "record_timing",
                   "record_notifications", "notification_paths"):
        assert f"| `{option}` |" in text, option
