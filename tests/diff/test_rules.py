"""Path patterns and the diff config: wildcards, prefixes, endpoints, and one-line config errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from replayer.diff.config import DEFAULT_HEADERS, parse_diff_config
from replayer.diff.rules import PathPattern, Rule, endpoint_matches, is_redacted, split_pattern
from replayer.errors import UsageError


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("body.name", "body.name", True),
    ("body.name", "body.names", False),
    ("body.extensions", "body.extensions.cpu", True),  # a prefix covers everything under it
    ("body[*].name", "body[resourcePoolId=p1].name", True),
    ("body[*].name", "body.name", False),
    ("body[resourcePoolId=p*].name", "body[resourcePoolId=p1].name", True),
    ("body[resourcePoolId=q*].name", "body[resourcePoolId=p1].name", False),
    ("body.**.updateTime", "body.updateTime", True),
    ("body.**.updateTime", "body[alarmEventRecordId=a].x[3].updateTime", True),
    ("body.**.updateTime", "body.updateTimes", False),
    ("body.*Time", "body.alarmRaisedTime", True),
    ("**", "status", True),
    ("headers.X-Trace", "headers.x-trace", True),
    ("body.tags[=VM]", "body.tags[=VM]", True),
    ("body.tags[0]", "body.tags[1]", False),
])
def test_pattern_matching(pattern: str, path: str, expected: bool) -> None:
    assert PathPattern.parse(pattern).matches(split_pattern(path)) is expected


@pytest.mark.parametrize("bad", ["", "body[x", "name.x", "   "])
def test_bad_patterns_raise_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        PathPattern.parse(bad)


@pytest.mark.parametrize(("pattern", "endpoint", "expected"), [
    ("GET /o2ims-infrastructureInventory/v1/*", "GET /o2ims-infrastructureInventory/v1/resourcePools", True),
    ("POST /o2ims-infrastructureInventory/v1/*", "GET /o2ims-infrastructureInventory/v1/resourcePools", False),
    ("/o2ims-infrastructureInventory/v1/resourcePools/{resourcePoolId}",
     "DELETE /o2ims-infrastructureInventory/v1/resourcePools/{resourcePoolId}", True),
])
def test_endpoint_globs(pattern: str, endpoint: str, expected: bool) -> None:
    assert endpoint_matches(pattern, endpoint) is expected


def test_rule_limited_to_kinds() -> None:
    rule = Rule(PathPattern.parse("body.**"), kinds=frozenset({"value_changed"}))
    assert rule.applies("GET /x", "value_changed", ("body", "a"))
    assert not rule.applies("GET /x", "field_removed", ("body", "a"))


@pytest.mark.parametrize(("value", "expected"), [
    ("<redacted>", True), ("Bearer <redacted:sha256:ab12>", True), ("***REDACTED***", True),
    ("redacted", False), (3, False), (None, False),
])
def test_redaction_placeholders(value: object, expected: bool) -> None:
    assert is_redacted(value) is expected


def test_full_config_section_parses(tmp_path: Path) -> None:
    cfg = parse_diff_config({
        "builtin_ignores": False,
        "ignore": ["body.**.lastSeen", {"path": "headers.x-trace", "endpoint": "GET /a/*", "kind": "header_changed"}],
        "identity_keys": {"widgets": "widgetName"},
        "severity": [{"kind": ["field_added", "item_added"], "severity": "info"}],
        "headers": ["Content-Type", "X-Trace"],
        "baseline": "drift.json",
    }, base_dir=tmp_path)
    assert len(cfg.ignores) == 2 and not cfg.builtin_ignores
    assert cfg.identity_keys == (("widgets", "widgetName"),)
    assert cfg.headers == ("content-type", "x-trace")
    assert cfg.baseline == tmp_path / "drift.json"
    assert cfg.severity_rules[0].kinds == frozenset({"field_added", "item_added"})


def test_defaults() -> None:
    cfg = parse_diff_config({})
    assert cfg.headers == DEFAULT_HEADERS and cfg.builtin_ignores and len(cfg.ignores) >= 10


@pytest.mark.parametrize(("section", "needle"), [
    ({"ignores": []}, "diff.ignores: unknown key"),
    ({"ignore": "body.x"}, "diff.ignore: must be a list"),
    ({"ignore": ["nope.x"]}, "diff.ignore[0]: path pattern 'nope.x' must start with body"),
    ({"ignore": [{"path": "body.x", "endpont": "GET /"}]}, "diff.ignore[0].endpont: unknown key"),
    ({"ignore": [{"path": "body.x", "kind": "renamed"}]}, "diff.ignore[0].kind: unknown kind 'renamed'"),
    ({"severity": [{"path": "body.x", "severity": "fatal"}]}, "unknown severity 'fatal' (expected breaking"),
    ({"severity": [{"path": "body.x"}]}, "diff.severity[0]: must be a mapping with severity"),
    ({"identity_keys": {"pools": 3}}, "diff.identity_keys.pools: must be a field name"),
    ({"builtin_ignores": "yes"}, "diff.builtin_ignores: must be true or false"),
])
def test_config_errors_are_one_line_naming_the_key(section: dict[str, object], needle: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_diff_config(section, source="cfg.yaml")
    message = str(exc.value)
    assert message.startswith("cfg.yaml: ") and needle in message and "\n" not in message


def test_values_with_brackets_stay_parseable() -> None:
    from replayer.diff.rules import ItemKey, ScalarKey, escape_value, path_tokens, render_path, unescape_value

    tokens = ("body", *path_tokens([ItemKey("resourceId", "r[1]#x%"), "tags", ScalarKey("a]b", 0)]))
    rendered = render_path(tokens)
    assert rendered == "body[resourceId=r%5B1%5D%23x%25].tags[=a%5Db]"
    assert split_pattern(rendered) == tokens
    assert PathPattern.parse("body[*].tags[*]").matches(split_pattern(rendered))
    assert unescape_value(escape_value("r[1]#x%")) == "r[1]#x%"
