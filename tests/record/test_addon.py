"""The mitmproxy addon, in process: options, their errors, and one call into replayer per flow."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

import pytest
from mitmproxy import exceptions

with warnings.catch_warnings():  # ldap3 (imported by mitmproxy.addons) uses a deprecated pyasn1 name
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy.test import taddons, tflow, tutils

from replayer.record.addon import O2IMSRecorder
from replayer.cassettes.load import load_cassette
from replayer.o2ims.routes import O2IMS_PATH_PREFIXES

INV = "/o2ims-infrastructureInventory/v1"


def flow(path: str = f"{INV}/resourcePools", token: str = "tok-secret") -> tflow.HTTPFlow:
    f = tflow.tflow(resp=tutils.tresp(content=b'[{"resourcePoolId": "p1"}]', headers=[(b"content-type", b"application/json")]))
    f.request.path = path
    f.request.headers["Authorization"] = f"Bearer {token}"
    return f


def test_options_are_declared_with_defaults() -> None:
    addon = O2IMSRecorder()
    with taddons.context(addon) as tctx:
        o = tctx.options
        assert o.cassette == "" and o.record_mode == "once" and o.cassette_flush == "each"
        assert tuple(o.record_paths) == O2IMS_PATH_PREFIXES
        assert o.record_timing is False and o.record_notifications is True and list(o.notification_paths) == []


def test_no_cassette_means_no_recording() -> None:
    addon = O2IMSRecorder()
    with taddons.context(addon):
        addon.response(flow())
        assert addon.recorder is None


@pytest.mark.parametrize(("option", "value", "message"), [
    ("cassette_flush", "sometimes", "cassette_flush must be 'each' or a number of seconds"),
    ("record_paths", ["relative"], "record_paths entries must be path prefixes starting with '/'"),
    ("redact_rules", "/nonexistent.yaml", "redact_rules /nonexistent.yaml: cannot read"),
])
def test_bad_options_become_options_errors(tmp_path: Path, option: str, value: object, message: str) -> None:
    addon = O2IMSRecorder()
    with taddons.context(addon) as tctx:
        addon.running()  # at run time a bad change is refused
        with pytest.raises(exceptions.OptionsError, match="o2ims recorder: " + message.replace("'", ".")):
            tctx.configure(addon, cassette=str(tmp_path / "c.yaml"), **{option: value})


def test_record_mode_must_be_one_of_vcrpys(tmp_path: Path) -> None:
    addon = O2IMSRecorder()
    with taddons.context(addon) as tctx:
        addon.running()
        with pytest.raises(exceptions.OptionsError, match="record_mode must be one of once, new_episodes, all, none"):
            tctx.configure(addon, cassette=str(tmp_path / "c.yaml"), record_mode="sometimes")


def test_a_bad_option_at_start_up_is_one_logged_line_not_a_traceback(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    addon = O2IMSRecorder()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, cassette=str(tmp_path / "c.yaml"), record_mode="sometimes")
        assert addon.recorder is None
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == [
        "o2ims recorder: record_mode must be one of once, new_episodes, all, none, got 'sometimes'"]
    assert not errors[0].exc_info


def test_response_records_redacted_and_done_flushes(tmp_path: Path) -> None:
    addon = O2IMSRecorder()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, cassette=str(tmp_path / "c.yaml"), cassette_flush="60s")
        addon.response(flow())
        addon.response(flow("/health"))
        assert not (tmp_path / "c.yaml").exists()  # timed policy: not yet
        addon.done()
    c = load_cassette(tmp_path / "c.yaml")
    assert [i.request.path for i in c.interactions] == [f"{INV}/resourcePools"]
    assert "tok-secret" not in (tmp_path / "c.yaml").read_text()


def test_error_flows_write_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    addon = O2IMSRecorder()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, cassette=str(tmp_path / "c.yaml"))
        f = tflow.tflow(err=True)
        f.request.path = f"{INV}/resourcePools?access_token=qsecret"
        addon.error(f)
        assert "not recorded: GET /o2ims-infrastructureInventory/v1/resourcePools?access_token=%3C" in caplog.text
        assert "qsecret" not in caplog.text
        addon.done()
    assert not (tmp_path / "c.yaml").exists()


def test_reconfiguring_the_cassette_closes_the_old_one(tmp_path: Path) -> None:
    addon = O2IMSRecorder()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, cassette=str(tmp_path / "a.yaml"), cassette_flush="60s")
        addon.response(flow())
        tctx.configure(addon, cassette=str(tmp_path / "b.yaml"))
        assert len(load_cassette(tmp_path / "a.yaml")) == 1
        addon.response(flow(f"{INV}/deploymentManagers"))
        addon.done()
    assert [i.request.path for i in load_cassette(tmp_path / "b.yaml").interactions] == [f"{INV}/deploymentManagers"]


def test_timed_flush_task_runs_in_the_event_loop(tmp_path: Path) -> None:
    async def scenario() -> int:
        addon = O2IMSRecorder()
        with taddons.context(addon) as tctx:
            tctx.configure(addon, cassette=str(tmp_path / "c.yaml"), cassette_flush="0.05s")
            addon.running()
            addon.response(flow())
            for _ in range(100):  # bounded: at most 5 s
                if (tmp_path / "c.yaml").exists():
                    break
                await asyncio.sleep(0.05)
            addon.done()
        return len(load_cassette(tmp_path / "c.yaml"))

    assert asyncio.run(scenario()) == 1


def test_an_unwritable_cassette_is_refused_at_start_up(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    addon = O2IMSRecorder()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, cassette=str(blocker / "c.yaml"))
        assert addon.recorder is None  # no proxy session that could never be saved
    assert f"o2ims recorder: cannot record into {blocker / 'c.yaml'}: {blocker} is a file, not a folder" in caplog.text


def test_a_write_failure_mid_session_loses_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "rec"
    addon = O2IMSRecorder()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, cassette=str(folder / "c.yaml"))
        addon.response(flow())
        saved = (folder / "c.yaml").read_bytes()
        (folder / "c.yaml").rename(tmp_path / "first.yaml")
        (folder / "c.yaml.lock").rename(tmp_path / "held.lock")
        folder.rmdir()
        folder.write_text("the folder is gone")  # every write now fails
        f = flow()
        addon.response(f)
        assert f.response is not None and f.response.status_code == 200  # the client still gets its answer
        assert f"cannot write {folder / 'c.yaml'}" in caplog.text
        folder.unlink()
        folder.mkdir()
        addon.done()  # the final flush writes both exchanges
    assert len(load_cassette(folder / "c.yaml").interactions) == 2
    assert saved.count(b"- request:") == 1


def test_an_exchange_too_deep_to_record_is_named_in_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    addon = O2IMSRecorder()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, cassette=str(tmp_path / "c.yaml"))
        f = flow()
        assert f.response is not None
        f.response.content = b"[" * 5000 + b"]" * 5000
        addon.response(f)
        addon.done()
    assert (f"o2ims-recorder: GET {INV}/resourcePools: not recorded: response.body nests deeper than 100 levels "
            "of arrays and objects (the limit)") in caplog.text
    assert "Addon error" not in caplog.text
