"""`o2replay diff` end to end: every output format, exit codes per threshold, input errors, learn, baseline."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
import yaml

from replayer.cli import main

from .conftest import ALARMS, DMS, POOLS, ix, pool, write

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "diff-json-schema.json").read_text())


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .o2replay.yaml above a temporary folder
    monkeypatch.delenv("NO_COLOR", raising=False)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _pair(tmp_path: Path, *, breaking: bool = True, warning: bool = True, info: bool = True) -> tuple[str, str]:
    """old.yaml / new.yaml with the chosen severities of drift (one finding each)."""
    old = [pool("p1"), pool("p2")]
    new = [pool("p1", description="changed") if info else pool("p1"),
           {k: v for k, v in pool("p2", site="s").items() if not (breaking and k == "oCloudId")
            and (warning or k != "site")}]
    a = write(tmp_path / "old.yaml", ix(body=old), ix(DMS, [{"deploymentManagerId": "d1"}]))
    b = write(tmp_path / "new.yaml", ix(body=new), ix(DMS, [{"deploymentManagerId": "d1"}]))
    return str(a), str(b)


# --------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize(("drift", "fail_on", "code"), [
    ({"breaking": True, "warning": True, "info": True}, "breaking", 1),
    ({"breaking": False, "warning": True, "info": True}, "breaking", 0),
    ({"breaking": False, "warning": True, "info": True}, "warning", 1),
    ({"breaking": False, "warning": False, "info": True}, "warning", 0),
    ({"breaking": False, "warning": False, "info": True}, "info", 1),
    ({"breaking": False, "warning": False, "info": False}, "info", 0),
    ({"breaking": True, "warning": True, "info": True}, "never", 0),
])
def test_exit_code_per_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str], drift: dict[str, bool],
                                 fail_on: str, code: int) -> None:
    a, b = _pair(tmp_path, **drift)
    got, out, _ = _run(capsys, a, b, "--fail-on", fail_on, "--no-schema")
    assert got == code, out
    expected = sum(drift.values())
    assert out.count("\n    ") == expected  # one finding line per drift


def test_default_threshold_is_breaking(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair(tmp_path, breaking=False)
    assert _run(capsys, a, b, "--no-schema")[0] == 0
    a, b = _pair(tmp_path)
    assert _run(capsys, a, b, "--no-schema")[0] == 1


# --------------------------------------------------------------------------- formats


def test_text_groups_per_file_and_endpoint_without_colour_off_a_tty(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair(tmp_path)
    _, out, _ = _run(capsys, a, b, "--no-schema")
    assert "\x1b[" not in out
    lines = out.splitlines()
    assert lines[0] == f"o2replay diff: {a} -> {b}"
    assert lines.index(f"  GET {POOLS}") == lines.index(b) + 1
    assert re.search(r"^    BREAKING field_removed +field body\[resourcePoolId=p2\]\.oCloudId removed$", out, re.M)
    assert out.rstrip().endswith("summary: 1 breaking, 1 warning, 1 info (0 ignored, 0 accepted) in 1 file, "
                                 "2 interactions")


def test_colour_always_and_never(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair(tmp_path)
    assert "\x1b[31;1mBREAKING" in _run(capsys, a, b, "--no-schema", "--color", "always")[1]
    assert "\x1b[" not in _run(capsys, a, b, "--no-schema", "--color", "never")[1]


def _on_tty(argv: list[str], env: dict[str, str]) -> str:
    """Run the CLI with stdout on a pseudo-terminal; return what it printed."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "replayer", *argv], stdout=follower, stderr=subprocess.PIPE,
                              env=env, timeout=60, check=False)
    finally:
        os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
        if b"summary:" in b"".join(chunks) and chunks[-1].endswith(b"\n"):
            break
    os.close(leader)
    assert proc.returncode == 1, proc.stderr
    return b"".join(chunks).decode()


def test_colour_on_a_tty_unless_no_color(tmp_path: Path) -> None:
    a, b = _pair(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\x1b[31;1m" in _on_tty(["diff", a, b, "--no-schema"], env)
    assert "\x1b[" not in _on_tty(["diff", a, b, "--no-schema"], {**env, "NO_COLOR": "1"})


def _table_rows(markdown: str, header_start: str) -> list[list[str]]:
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_markdown_renders_a_summary_table_and_details(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "o" / "a.yaml", ix(body=[pool("p1")]), ix(ALARMS, [{"alarmEventRecordId": "x", "n": 1}]))
    write(tmp_path / "n" / "a.yaml", ix(body=[pool("p1", name="a|b")]), ix(ALARMS, [{"alarmEventRecordId": "x"}]))
    code, out, _ = _run(capsys, "o", "n", "--format", "markdown", "--no-schema")
    assert code == 1
    assert out.startswith("### O2IMS drift: 1 breaking, 0 warning, 1 info\n")
    summary = _table_rows(out, "| Endpoint")
    assert summary[0] == ["Endpoint", "File", "🔴 breaking", "🟠 warning", "🔵 info"]
    assert re.fullmatch(r"(-+:?\|?)+", "".join(summary[1])), summary[1]
    assert sorted((r[0], r[2], r[4]) for r in summary[2:]) == [(f"`GET {POOLS}`", "0", "1"),
                                                               (f"`GET {ALARMS}`", "1", "0")]
    assert all(len(r) == 5 for r in summary)
    assert out.count("<details>") == 2 and out.count("</details>") == 2
    details = _table_rows(out.split(f"<code>GET {POOLS}</code>")[1], "| Severity")
    assert details[2][:5] == ["🔵 info", "value_changed", "`body[resourcePoolId=p1].name`", "`pool-p1`", "`a\\|b`"]
    assert details[2][5].isdigit()


def test_json_validates_against_the_documented_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair(tmp_path)
    code, out, _ = _run(capsys, a, b, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["summary"]["breaking"] >= 1 and doc["failed"] is True and doc["fail_on"] == "breaking"
    removed = next(f for f in doc["findings"] if f["kind"] == "field_removed")
    assert removed["old"] == "cloud-1" and removed["new"] is None
    assert removed["new_location"]["file"] == b and removed["new_location"]["interaction"] == 0
    # an empty report validates too
    code, out, _ = _run(capsys, a, a, "--format", "json")
    assert code == 0
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(out))


def test_github_annotations_carry_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair(tmp_path)
    code, out, _ = _run(capsys, a, b, "--format", "github", "--no-schema")
    assert code == 1
    annotations = [line for line in out.splitlines() if line.startswith("::")]
    assert len(annotations) == 3
    text = Path(b).read_text().splitlines()
    levels = set()
    for line in annotations:
        m = re.match(r"^::(error|warning|notice) file=([^,]+),line=(\d+),title=([^:]+)::(.+)$", line)
        assert m, line
        levels.add(m.group(1))
        assert m.group(2) == b
        target = text[int(m.group(3)) - 1]
        if m.group(5).endswith(" removed"):  # not in the new file: the line of its object there
            assert '"resourcePoolId": "p2"' in target, (line, target)
        else:
            field = re.search(r"\.(\w+)(?: added|:)", m.group(5))
            assert field and f'"{field.group(1)}"' in target, (line, target)
    assert levels == {"error", "warning", "notice"}
    assert out.splitlines()[-1].startswith("o2replay diff: 1 breaking")


def test_github_annotation_of_a_status_change_points_at_the_status(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a.yaml", ix(DMS, []), ix(body=[pool("p1")]))
    b = write(tmp_path / "b.yaml", ix(DMS, []), ix(body={"status": 503}, status=503))
    _, out, _ = _run(capsys, str(a), str(b), "--format", "github", "--no-schema")
    line = int(re.search(r"line=(\d+)", out).group(1))  # type: ignore[union-attr]
    assert b.read_text().splitlines()[line - 1].strip() == "code: 503"


def test_junit_is_valid_xml_with_failures_at_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair(tmp_path)
    _, out, _ = _run(capsys, a, b, "--format", "junit", "--fail-on", "warning", "--no-schema")
    root = ET.fromstring(out.split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    case = suite.find("testcase")
    assert case is not None and case.get("name") == f"GET {POOLS}" and case.get("classname") == b
    failure = case.find("failure")
    assert failure is not None and failure.text is not None
    assert "[breaking] field_removed" in failure.text and "[warning] field_added" in failure.text
    assert "[info] value_changed" in (case.findtext("system-out") or "")


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair(tmp_path)
    code, out, _ = _run(capsys, a, b, "--format", "markdown", "-o", "report.md", "--no-schema")
    assert code == 1 and out == ""
    assert (tmp_path / "report.md").read_text().startswith("### O2IMS drift")


# --------------------------------------------------------------------------- folders


def test_folders_pair_files_by_relative_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "old" / "edge1" / "pools.yaml", ix(body=[pool("p1")]))
    write(tmp_path / "old" / "edge1" / "dms.yaml", ix(DMS, []))
    write(tmp_path / "new" / "edge1" / "pools.yaml", ix(body=[pool("p1")]))
    write(tmp_path / "new" / "edge2" / "alarms.yaml", ix(ALARMS, []))
    code, out, _ = _run(capsys, "old", "new", "--format", "json", "--no-schema")
    doc = json.loads(out)
    assert code == 1
    assert sorted((f["kind"], f["file"]) for f in doc["findings"]) == [
        ("endpoint_added", "new/edge2/alarms.yaml"), ("endpoint_removed", "old/edge1/dms.yaml")]
    assert doc["summary"]["files"] == 3


# --------------------------------------------------------------------------- input errors


def test_bad_cassette_is_exit_2_with_the_cassette_error_line(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = _pair(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ninteractions:\n- request: {method: GET, uri: /x}\n  response:\n"
                   "    status: {code: 999}\n    body: {string: ''}\n")
    code, out, err = _run(capsys, a, str(bad))
    assert code == 2 and out == ""
    assert err == f"o2replay diff: error: {bad}:5: interaction 0: response.status.code must be between 100 " \
                  "and 599, got 999\n"


@pytest.mark.parametrize(("argv", "needle"), [
    (["only-one.yaml"], "expected OLD NEW"),
    (["missing.yaml", "old.yaml"], "missing.yaml: no such file or directory"),
    (["old.yaml", "."], "compare two files or two folders"),
    (["old.yaml", "new.yaml", "--baseline", "old.yaml"], "old.yaml: not a baseline"),
    (["--git", "a...b"], "three dots are not supported"),
])
def test_usage_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                          needle: str) -> None:
    _pair(tmp_path)
    code, _, err = _run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and needle in err, err


def test_bad_config_is_exit_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair(tmp_path)
    (tmp_path / ".o2replay.yaml").write_text("diff:\n  ignore:\n    - nope\n")
    code, _, err = _run(capsys, a, b)
    assert code == 2 and err.count("\n") == 1
    assert ".o2replay.yaml: diff.ignore[0]: path pattern 'nope' must start with body" in err


# --------------------------------------------------------------------------- config, learn, baseline


def _run_a(extra: dict[str, object]) -> list[object]:
    return [pool("p1", lastSeen="10:00", extensions={"cpu": 32, "temperature": 41}), pool("p2", **extra)]


def test_learn_proposes_rules_that_silence_an_unchanged_upstream(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "run1.yaml", ix(body=_run_a({"lastSeen": "10:00"})),
          ix(DMS + "/d1", {"deploymentManagerId": "d1", "session": "s-1"}))
    write(tmp_path / "run2.yaml", ix(body=[pool("p1", lastSeen="10:05", extensions={"cpu": 32, "temperature": 44}),
                                           pool("p2", lastSeen="10:05")]),
          ix(DMS + "/d1", {"deploymentManagerId": "d1", "session": "s-2"}))
    assert _run(capsys, "run1.yaml", "run2.yaml", "--fail-on", "info", "--no-schema")[0] == 1
    code, proposed, _ = _run(capsys, "--learn", "run1.yaml", "run2.yaml")
    assert code == 0
    rules = yaml.safe_load(proposed)["diff"]["ignore"]
    assert {"path": "body[*].extensions.temperature", "endpoint": f"GET {POOLS}", "kind": "value_changed"} in rules
    assert {"path": "body[*].lastSeen", "endpoint": f"GET {POOLS}", "kind": "value_changed"} in rules
    assert {"path": "body.session", "endpoint": f"GET {DMS}/{{deploymentManagerId}}", "kind": "value_changed"} in rules
    (tmp_path / ".o2replay.yaml").write_text(proposed)
    assert _run(capsys, "run1.yaml", "run2.yaml", "--fail-on", "info", "--no-schema")[0] == 0
    # a real change is still caught under the learnt rules
    write(tmp_path / "run3.yaml", ix(body=[pool("p1", lastSeen="x", name="renamed",
                                               extensions={"cpu": 32, "temperature": 50}), pool("p2", lastSeen="y")]),
          ix(DMS + "/d1", {"deploymentManagerId": "d1", "session": "s-3"}))
    code, out, _ = _run(capsys, "run1.yaml", "run3.yaml", "--fail-on", "info", "--no-schema", "--format", "json")
    assert code == 1
    assert [f["path"] for f in json.loads(out)["findings"]] == ["body[resourcePoolId=p1].name"]
    # a learnt volatile field that disappears is still drift: the rules only cover the kinds they saw
    write(tmp_path / "run4.yaml", ix(body=[pool("p1", lastSeen="x", extensions={"cpu": 32}), pool("p2", lastSeen="y")]),
          ix(DMS + "/d1", {"deploymentManagerId": "d1", "session": "s-4"}))
    code, out, _ = _run(capsys, "run1.yaml", "run4.yaml", "--fail-on", "info", "--no-schema", "--format", "json")
    assert [(f["kind"], f["path"]) for f in json.loads(out)["findings"]] == [
        ("field_removed", "body[resourcePoolId=p1].extensions.temperature")]


def test_baseline_accepts_known_drift_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair(tmp_path)
    code, report, _ = _run(capsys, a, b, "--format", "json", "--no-schema")
    assert code == 1
    (tmp_path / "accepted.json").write_text(report)
    code, out, _ = _run(capsys, a, b, "--baseline", "accepted.json", "--fail-on", "info", "--no-schema")
    assert code == 0 and "(0 ignored, 3 accepted)" in out
    # a new drift on top of the accepted one still fails; via the config key this time
    (tmp_path / ".o2replay.yaml").write_text("diff:\n  baseline: accepted.json\n")
    write(Path(b), ix(body=[pool("p1", description="changed"), pool("p2", site="s", oCloudId=None)]),
          ix(DMS, [{"deploymentManagerId": "d1"}]))
    code, out, _ = _run(capsys, a, b, "--fail-on", "info", "--no-schema", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["summary"]["accepted"] == 2
    assert [(f["kind"], f["path"]) for f in doc["findings"]] == [("value_changed", "body[resourcePoolId=p2].oCloudId")]


def test_no_builtin_ignores_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a.yaml", ix(ALARMS, [{"alarmEventRecordId": "x", "alarmRaisedTime": "1"}]))
    b = write(tmp_path / "b.yaml", ix(ALARMS, [{"alarmEventRecordId": "x", "alarmRaisedTime": "2"}]))
    assert _run(capsys, str(a), str(b), "--fail-on", "info")[0] == 0
    assert _run(capsys, str(a), str(b), "--fail-on", "info", "--no-builtin-ignores")[0] == 1


def test_markdown_stays_under_the_comment_size_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = [ix(f"{DMS}/d{i}", {"deploymentManagerId": f"d{i}", "note": "x" * 100}, query=f"q={i}") for i in range(200)]
    new = [ix(f"/o2ims-infrastructureInventory/v1/thing{i}", {"note": "y"}) for i in range(400)]
    a, b = write(tmp_path / "a.yaml", *old), write(tmp_path / "b.yaml", *new)
    code, out, _ = _run(capsys, str(a), str(b), "--format", "markdown", "--no-schema")
    assert code == 1 and len(out) < 65_536
    assert "more endpoint(s) left out to stay under GitHub's comment size limit" in out
    assert "| *201 more endpoint(s)* |" in out  # 401 endpoints: the summary table shows 200
    assert out.count("<details>") == out.count("</details>") > 0


def test_schema_lists_every_kind_and_severity() -> None:
    from replayer.diff.model import DriftKind, Severity

    finding = SCHEMA["$defs"]["finding"]["properties"]
    assert set(finding["kind"]["enum"]) == {k.value for k in DriftKind}
    assert set(finding["severity"]["enum"]) == {s.value for s in Severity}


def test_a_configured_baseline_that_does_not_exist_yet_accepts_nothing(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from replayer.cli import main

    baseline = tmp_path / "drift-baseline.json"
    old = tmp_path / "old.yaml"
    old.write_text("version: 1\ninteractions: []\n")
    assert main(["diff", str(old), str(old), "--baseline", str(baseline), "--format", "json",
                 "--fail-on", "never", "-o", str(baseline)]) == 0
    assert "does not exist yet" in capsys.readouterr().err
    assert baseline.exists()
    assert main(["diff", str(old), str(old), "--baseline", str(baseline)]) == 0
