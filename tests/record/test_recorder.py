"""replayer.record.recorder: option parsing, path filter, notifications, record modes, metadata, flushing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from replayer.cassettes.model import InteractionKind
from replayer.cassettes.load import load_cassette
from replayer.o2ims.routes import O2IMS_PATH_PREFIXES
from replayer.record.recorder import (
    Exchange,
    FlushPolicy,
    Recorder,
    RecordMode,
    api_version_of,
    build_interaction,
    classify,
    headers_from_pairs,
    parse_config,
    parse_flush,
)

INV = "/o2ims-infrastructureInventory/v1"
UP = "https://o2ims.example:8443"


def ex(path: str = f"{INV}/resourcePools", method: str = "GET", body: Any = None, *, status: int = 200,
       resp: Any = None, gz: bool = False, headers: dict[str, list[str]] | None = None) -> Exchange:
    """An exchange as the addon hands it over."""
    req_body = json.dumps(body).encode() if body is not None else b""
    resp_body = json.dumps(resp if resp is not None else [{"resourcePoolId": "p1"}]).encode()
    resp_headers = {"Content-Type": ["application/json"], "Content-Length": [str(len(resp_body))]}
    if gz:
        resp_body = gzip.compress(resp_body, mtime=0)
        resp_headers.update({"Content-Encoding": ["gzip"], "Content-Length": [str(len(resp_body))]})
    req_headers = {"Authorization": ["Bearer tok-123"], **(headers or {})}
    if body is not None:
        req_headers["Content-Type"] = ["application/json"]
    return Exchange(method, f"{UP}{path}", req_headers, req_body, status, "", resp_headers, resp_body, 100.0, 100.25)


def config(tmp_path: Path, **kw: Any) -> Any:
    kw.setdefault("record_paths", O2IMS_PATH_PREFIXES)
    return parse_config(cassette=str(tmp_path / "c.yaml"), **kw)


class Clock:
    """A settable clock, passed in like any other dependency."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(("value", "interval"), [("each", 0.0), ("5s", 5.0), ("2.5", 2.5), ("0", 0.0)])
def test_parse_flush(value: str, interval: float) -> None:
    assert parse_flush(value) == FlushPolicy(interval)


@pytest.mark.parametrize(("kw", "message"), [
    ({"cassette": ""}, "cassette must be a file path"),
    ({"record_mode": "sometimes"}, "record_mode must be one of once, new_episodes, all, none, got 'sometimes'"),
    ({"cassette_flush": "often"}, "cassette_flush must be 'each' or a number of seconds"),
    ({"cassette_flush": "-1s"}, "cassette_flush must be"),
    ({"record_paths": ["o2ims"]}, "record_paths entries must be path prefixes starting with '/'"),
    ({"notification_paths": ["cb"]}, "notification_paths entries must be path prefixes"),
    ({"redact_rules": "/nonexistent/rules.yaml"}, "redact_rules /nonexistent/rules.yaml: cannot read"),
])
def test_bad_options_name_the_option(tmp_path: Path, kw: dict[str, Any], message: str) -> None:
    args = {"cassette": str(tmp_path / "c.yaml"), **kw}
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        parse_config(**args)


def test_bad_rules_file_names_file_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("headers:\n  - a\n  b: [\n")
    with pytest.raises(ValueError, match=rf"^redact_rules {rules}: line \d+: invalid YAML"):
        parse_config(cassette=str(tmp_path / "c.yaml"), redact_rules=str(rules))


def test_cassette_may_not_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is a directory"):
        parse_config(cassette=str(tmp_path))


def test_headers_from_pairs_groups_case_insensitively() -> None:
    assert headers_from_pairs([("Set-Cookie", "a"), ("X", "1"), ("set-cookie", "b")]) == \
        {"Set-Cookie": ["a", "b"], "X": ["1"]}


# --------------------------------------------------------------------------- classification


@pytest.mark.parametrize(("path", "method", "body", "kind"), [
    (f"{INV}/resourcePools", "GET", None, InteractionKind.API),
    ("/o2ims_infrastructureInventory/v1/deploymentManagers", "GET", None, InteractionKind.API),
    ("/O2ims_infrastructureMonitoring/v1/alarms", "GET", None, InteractionKind.API),
    ("/o2ims-infrastructureInventoryX/v1", "GET", None, None),  # prefixes match whole segments
    ("/health", "GET", None, None),
    ("/callback", "POST", {"notificationId": "n", "notificationEventType": 0}, InteractionKind.NOTIFICATION),
    ("/cb/alarms", "POST", {"alarmEventRecordId": "a", "consumerSubscriptionId": "c"}, InteractionKind.NOTIFICATION),
    ("/events", "POST", {"specversion": "1.0", "type": "t", "data": {}}, InteractionKind.NOTIFICATION),
    ("/callback", "POST", {"hello": "world"}, None),
    ("/callback", "GET", None, None),
])
def test_classify(tmp_path: Path, path: str, method: str, body: Any, kind: InteractionKind | None) -> None:
    assert classify(ex(path, method, body), config(tmp_path)) is kind


def test_notification_paths_and_switch(tmp_path: Path) -> None:
    cfg = config(tmp_path, notification_paths=["/hooks"])
    assert classify(ex("/hooks/o2ims", "POST", {"x": 1}), cfg) is InteractionKind.NOTIFICATION
    off = config(tmp_path, record_notifications=False)
    assert classify(ex("/cb", "POST", {"notificationId": "n"}), off) is None
    everything = config(tmp_path, record_paths=["/"])
    assert classify(ex("/health"), everything) is InteractionKind.API
    assert classify(ex("/cb", "POST", {"notificationId": "n"}), everything) is InteractionKind.NOTIFICATION
    assert classify(ex(f"{INV}/subscriptions", "POST", {"notificationId": "n"}), everything) is InteractionKind.API


def test_build_interaction_decodes_redacts_and_fixes_length(tmp_path: Path) -> None:
    i = build_interaction(ex(gz=True, resp=[{"resourcePoolId": "p1", "password": "pw"}]), InteractionKind.API,
                          config(tmp_path))
    assert "Content-Encoding" not in i.response.headers
    assert json.loads(i.response.body) == [{"resourcePoolId": "p1", "password": "<redacted:password>"}]
    assert i.response.headers["Content-Length"] == [str(len(i.response.body))]
    assert i.response.reason == "OK"  # HTTP/2 has no reason phrase: the standard one is used
    assert i.request.headers["Authorization"] == ["Bearer <redacted>"]
    assert i.meta.recorded_at is None and i.meta.duration is None


def test_timing_is_recorded_only_when_asked(tmp_path: Path) -> None:
    i = build_interaction(ex(), InteractionKind.API, config(tmp_path, record_timing=True))
    assert i.meta.recorded_at == "1970-01-01T00:01:40.000Z" and i.meta.duration == 0.25


@pytest.mark.parametrize(("path", "expected"), [
    (f"{INV}/resourcePools", ("infrastructureInventory", "v1")),
    ("/o2ims_infrastructureMonitoring/v2", ("infrastructureMonitoring", "v2")),
    ("/o2ims-infrastructureInventory/api_versions", None),
    ("/health", None),
])
def test_api_version_of(path: str, expected: tuple[str, str] | None) -> None:
    assert api_version_of(path) == expected


# --------------------------------------------------------------------------- record modes


def test_once_records_into_a_new_cassette_with_metadata(tmp_path: Path) -> None:
    rec = Recorder(config(tmp_path))
    assert not (tmp_path / "c.yaml").exists()  # nothing written before the first exchange
    assert rec.record(ex()).recorded
    assert not rec.record(ex("/health")).recorded
    assert rec.record(ex("/o2ims-infrastructureMonitoring/v1/alarms")).index == 1
    c = load_cassette(tmp_path / "c.yaml")
    assert len(c) == 2
    assert c.metadata["upstream"] == UP
    assert c.metadata["api_versions"] == {"infrastructureInventory": ["v1"], "infrastructureMonitoring": ["v1"]}
    assert "recorded_at" not in c.metadata


def test_once_never_touches_an_existing_cassette(tmp_path: Path) -> None:
    Recorder(config(tmp_path)).record(ex())
    before = (tmp_path / "c.yaml").read_bytes()
    rec = Recorder(config(tmp_path))
    assert not rec.active and "already holds 1 interaction and" in rec.note
    outcome = rec.record(ex(f"{INV}/deploymentManagers"))
    rec.close()
    assert not outcome.recorded and (tmp_path / "c.yaml").read_bytes() == before


def test_once_treats_an_empty_file_as_missing(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_bytes(b"")
    rec = Recorder(config(tmp_path))
    assert rec.active and rec.record(ex()).recorded


def test_a_broken_existing_cassette_is_an_error_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("version: 1\ninteractions: [\n")
    with pytest.raises(ValueError, match=r"c\.yaml:\d+: invalid YAML"):
        Recorder(config(tmp_path, record_mode="new_episodes"))
    assert (tmp_path / "c.yaml").read_text() == "version: 1\ninteractions: [\n"


def test_none_records_nothing(tmp_path: Path) -> None:
    rec = Recorder(config(tmp_path, record_mode="none"))
    assert not rec.record(ex()).recorded
    rec.close()
    assert not (tmp_path / "c.yaml").exists()


def test_all_keeps_the_old_file_until_the_first_exchange_then_a_bak(tmp_path: Path) -> None:
    Recorder(config(tmp_path)).record(ex(f"{INV}/deploymentManagers"))
    old = (tmp_path / "c.yaml").read_bytes()
    rec = Recorder(config(tmp_path, record_mode="all"))
    rec.flush()
    assert (tmp_path / "c.yaml").read_bytes() == old and not (tmp_path / "c.yaml.bak").exists()
    assert rec.record(ex()).recorded
    assert (tmp_path / "c.yaml.bak").read_bytes() == old
    assert [i.request.path for i in load_cassette(tmp_path / "c.yaml").interactions] == [f"{INV}/resourcePools"]


def test_all_with_no_traffic_leaves_the_old_file(tmp_path: Path) -> None:
    Recorder(config(tmp_path)).record(ex())
    old = (tmp_path / "c.yaml").read_bytes()
    Recorder(config(tmp_path, record_mode="all")).close()
    assert (tmp_path / "c.yaml").read_bytes() == old


def test_new_episodes_appends_only_what_was_not_recorded(tmp_path: Path) -> None:
    first = Recorder(config(tmp_path))
    first.record(ex(f"{INV}/resourcePools?filter=(eq,name,a)&fields=name"))
    first.record(ex(f"{INV}/subscriptions", "POST", {"callback": "http://c", "filter": "x"}))
    first.close()
    rec = Recorder(config(tmp_path, record_mode="new_episodes"))
    # same requests: query order and JSON formatting do not matter (replayer.matching.request_key)
    assert not rec.record(ex(f"{INV}/resourcePools?fields=name&filter=(eq,name,a)")).recorded
    assert not rec.record(ex(f"{INV}/subscriptions", "POST", {"filter": "x", "callback": "http://c"})).recorded
    # a second identical request is a new episode (vcrpy plays each recorded response once)
    assert rec.record(ex(f"{INV}/resourcePools?fields=name&filter=(eq,name,a)")).recorded
    assert rec.record(ex(f"{INV}/deploymentManagers")).recorded
    c = load_cassette(tmp_path / "c.yaml")
    assert [i.request.path.rsplit("/", 1)[1] for i in c.interactions] == \
        ["resourcePools", "subscriptions", "resourcePools", "deploymentManagers"]


def test_timed_flush_writes_after_the_interval(tmp_path: Path) -> None:
    clock = Clock()
    rec = Recorder(config(tmp_path, cassette_flush="5s"), clock=clock)
    rec.record(ex())
    assert not (tmp_path / "c.yaml").exists()
    clock.now = 5.0
    rec.tick()
    assert len(load_cassette(tmp_path / "c.yaml")) == 1
    rec.record(ex(f"{INV}/deploymentManagers"))
    assert len(load_cassette(tmp_path / "c.yaml")) == 1
    rec.close()
    assert len(load_cassette(tmp_path / "c.yaml")) == 2


def test_timing_metadata_only_when_on(tmp_path: Path) -> None:
    rec = Recorder(config(tmp_path, record_timing=True))
    rec.record(ex())
    c = load_cassette(tmp_path / "c.yaml")
    assert c.metadata["recorded_at"] == "1970-01-01T00:01:40.000Z"
    assert c.interactions[0].meta.duration == 0.25


def test_record_mode_values_are_vcrpys() -> None:
    assert [m.value for m in RecordMode] == ["once", "new_episodes", "all", "none"]


def test_a_body_nested_deeper_than_the_limit_is_not_recorded_and_says_so(tmp_path: Path) -> None:
    from dataclasses import replace

    rec = Recorder(config(tmp_path))
    assert rec.record(ex()).recorded
    deep = replace(ex(f"{INV}/deploymentManagers"), response_body=b"[" * 5000 + b"]" * 5000,
                   response_headers={"Content-Type": ["application/json"]})
    out = rec.record(deep)
    assert not out.recorded
    assert out.reason == "not recorded: response.body nests deeper than 100 levels of arrays and objects (the limit)"
    assert rec.record(ex(f"{INV}/resourcePools/p1")).recorded  # the recording goes on
    rec.close()
    assert len(load_cassette(tmp_path / "c.yaml").interactions) == 2  # and the cassette still loads
