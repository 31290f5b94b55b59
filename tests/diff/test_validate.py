"""`o2replay validate`: recorded responses against the bundled O2IMS definitions (or given files), stale cassettes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from replayer.cli import main

from .conftest import POOLS, ix, write

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "diff-json-schema.json").read_text())
INV = "/o2ims-infrastructureInventory/v1"
GOOD_POOL = {"resourcePoolId": "p1", "oCloudId": "c", "name": "n", "description": "d", "globalLocationId": "g",
             "extensions": {}}
GOOD_ERROR = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no pool p9"}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _validate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["validate", *argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert err == "", err
    doc = json.loads(out)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    return code, doc


def test_conformant_recording_has_no_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "ok.yaml", ix(body=[GOOD_POOL]), ix(f"{POOLS}/p9", GOOD_ERROR, status=404,
                                                         content_type="application/problem+json"))
    code, doc = _validate(capsys, "ok.yaml")
    assert code == 0 and doc["findings"] == [] and doc["summary"]["interactions"] == 2


@pytest.mark.parametrize(("interaction", "severity", "path", "needle"), [
    (ix(body=[{k: v for k, v in GOOD_POOL.items() if k != "name"}]), "breaking", "body[0]",
     "missing required field 'name'"),
    (ix(body=[{**GOOD_POOL, "name": 7}]), "breaking", "body[0].name", "wrong type"),
    (ix(f"{POOLS}/p9", GOOD_ERROR, status=404), "breaking", "body", "errors must be application/problem+json"),
    (ix(f"{INV}/nothingHere", {}), "warning", "body", "unknown-path"),
])
def test_each_kind_of_violation(tmp_path: Path, capsys: pytest.CaptureFixture[str], interaction: Any,
                                severity: str, path: str, needle: str) -> None:
    write(tmp_path / "c.yaml", interaction)
    code, doc = _validate(capsys, "c.yaml", "--fail-on", "warning")
    assert code == 1
    assert [(f["kind"], f["severity"], f["path"]) for f in doc["findings"]] == [("spec_violation", severity, path)]
    assert needle in doc["findings"][0]["message"]
    assert doc["findings"][0]["new_location"]["interaction"] == 0


def test_exit_codes_follow_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "c.yaml", ix(f"{INV}/nothingHere", {}))  # a warning only
    assert _validate(capsys, "c.yaml")[0] == 0
    assert _validate(capsys, "c.yaml", "--fail-on", "warning")[0] == 1
    assert _validate(capsys, "c.yaml", "--fail-on", "never")[0] == 0


def test_stale_and_unknown_age(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = (datetime.now(UTC) - timedelta(days=100)).isoformat()
    fresh = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    write(tmp_path / "c" / "old.yaml", ix(body=[GOOD_POOL]), metadata={"recorded_at": old})
    write(tmp_path / "c" / "fresh.yaml", ix(body=[GOOD_POOL]), metadata={"recorded_at": fresh})
    write(tmp_path / "c" / "undated.yaml", ix(body=[GOOD_POOL]))
    code, doc = _validate(capsys, "c", "--max-age", "30", "--fail-on", "warning")
    assert code == 1
    assert sorted((f["kind"], f["severity"], Path(f["file"]).name) for f in doc["findings"]) == [
        ("stale", "warning", "old.yaml"), ("unknown_age", "info", "undated.yaml")]
    assert _validate(capsys, "c")[1]["findings"] == []  # without --max-age, age is not checked


def test_own_spec_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "mine.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /things:\n    get:\n"
                    "      responses:\n        '200':\n          description: ok\n          content:\n"
                    "            application/json:\n              schema:\n                type: array\n"
                    "                items: {type: object, required: [thingId], properties: {thingId: {type: string}}}\n")
    write(tmp_path / "c.yaml", ix("/things", [{"thingId": "a"}, {"other": 1}]))
    code, doc = _validate(capsys, "c.yaml", "--spec", str(spec))
    assert code == 1
    assert [(f["path"], f["message"].endswith("missing required field 'thingId'")) for f in doc["findings"]] == [
        ("body[1]", True)]


def test_github_annotation_points_at_the_interaction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "c.yaml", ix(body=[GOOD_POOL]), ix(body=[{**GOOD_POOL, "name": 7}]))
    assert main(["validate", "c.yaml", "--format", "github"]) == 1
    out = capsys.readouterr().out
    m = re.match(r"::error file=c\.yaml,line=(\d+),", out)
    assert m, out
    lines = (tmp_path / "c.yaml").read_text().splitlines()
    assert '"name": 7' in lines[int(m.group(1)) - 1]


@pytest.mark.parametrize(("argv", "needle"), [
    (["c.yaml", "--spec", "nope.yaml"], "--spec nope.yaml: no such file"),
    (["c.yaml", "--max-age", "-1"], "--max-age must be a number of days >= 0"),
    (["missing.yaml"], "missing.yaml: no such file or directory"),
])
def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    write(tmp_path / "c.yaml", ix(body=[GOOD_POOL]))
    assert main(["validate", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err


def test_not_an_openapi_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "c.yaml", ix(body=[GOOD_POOL]))
    (tmp_path / "swagger.yaml").write_text("swagger: '2.0'\npaths: {}\n")
    assert main(["validate", "c.yaml", "--spec", "swagger.yaml"]) == 2
    assert "only OpenAPI 3 documents are supported" in capsys.readouterr().err


def test_field_selection_may_leave_out_required_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    selected = [{"resourcePoolId": "p1", "name": "n"}, {"resourcePoolId": "p2", "name": 3}]
    write(tmp_path / "c.yaml", ix(body=selected, query="fields=name,resourcePoolId"),
          ix(body=[{"resourcePoolId": "p1"}], query="all_fields"))
    code, doc = _validate(capsys, "c.yaml")
    assert code == 1
    by_interaction = {(f["new_location"]["interaction"], f["path"], f["message"].split(" -> 200: ", 1)[1].split(":")[0])
                      for f in doc["findings"]}
    # with fields=: only the wrong type; with all_fields (omits nothing): the missing fields too
    assert {(i, p, m) for i, p, m in by_interaction if i == 0} == {(0, "body[1].name", "schema at /1/name")}
    assert (1, "body[0]", "schema at /0") in by_interaction
