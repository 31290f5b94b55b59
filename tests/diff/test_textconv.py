"""`o2replay textconv`: a stable semantic view (order and noise do not change the text, meaning does)."""

from __future__ import annotations

from pathlib import Path

import pytest

from replayer.cli import main

from .conftest import ALARMS, DMS, POOLS, ix, pool, write


def _view(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    assert main(["textconv", str(path)]) == 0
    return capsys.readouterr().out


def test_view_is_a_line_per_fact(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    c = write(tmp_path / "a.yaml", ix(body=[pool("p1", tags=["b", "a"])], headers={"Date": "Mon"}))
    out = _view(capsys, c)
    assert f"== GET {POOLS}\n" in out  # the origin (where it was recorded) is not part of the view
    assert "status = 200\nheaders.content-type = application/json\n" in out
    assert 'body[resourcePoolId=p1].name = "pool-p1"\n' in out
    assert 'body[resourcePoolId=p1].tags[=a] = "a"\nbody[resourcePoolId=p1].tags[=b] = "b"\n' in out
    assert "date" not in out.lower().replace("update", "")


def test_reorder_and_volatile_values_do_not_change_the_view(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    a = write(tmp_path / "a.yaml", ix(body=[pool("p1"), pool("p2")], headers={"ETag": "1"}),
              ix(ALARMS, [{"alarmEventRecordId": "x", "alarmRaisedTime": "1"}]))
    b = write(tmp_path / "b.yaml", ix(ALARMS, [{"alarmEventRecordId": "x", "alarmRaisedTime": "2"}]),
              ix(body=[pool("p2"), pool("p1")], headers={"ETag": "2"}))
    view = _view(capsys, a)
    assert view == _view(capsys, b)
    assert 'body[alarmEventRecordId=x].alarmRaisedTime = <ignored>' in view
    write(b, ix(DMS, []))
    assert _view(capsys, b) != view


def test_user_ignore_rules_mask_values(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".o2replay.yaml").write_text("diff:\n  ignore: ['body[*].description']\n")
    out = _view(capsys, write(tmp_path / "a.yaml", ix(body=[pool("p1")])))
    assert "body[resourcePoolId=p1].description = <ignored>" in out


def test_a_file_that_is_not_a_cassette_is_shown_as_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """git runs textconv on every matching file; failing would abort the whole `git diff`."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ninteractions: {}\n")
    assert main(["textconv", str(bad)]) == 0
    out, err = capsys.readouterr()
    assert out == "version: 1\ninteractions: {}\n"
    assert err.startswith(f"o2replay textconv: note: {bad}:2: interactions must be a list")
    assert main(["textconv", str(tmp_path / "missing.yaml")]) == 2
