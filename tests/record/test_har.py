"""HAR both ways: a HAR written by mitmproxy's own exporter (``hardump``) and one in Chrome DevTools' format
imported through the recorder; cassettes exported to HAR and read back by mitmproxy's HAR reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mitmproxy.io.har import request_to_flow

from replayer.cassettes.load import load_cassette
from replayer.cassettes.yaml import dump_cassette
from replayer.cli import main
from replayer.har import exchanges_from_har, har_from_cassette
from replayer.record.scan import scan_text

from .conftest import Mitmdump
from .test_recording import PATHS, RECORDED, _forms, drive
from .upstream import Upstream

ROOT = Path(__file__).resolve().parents[2]
CHROME_HAR = ROOT / "tests" / "data" / "har" / "chrome-devtools.har"
REFERENCE = sorted((ROOT / "cassettes" / "reference").glob("*.yaml"))
IMPORT_PATHS = [arg for p in PATHS for arg in ("--record-path", p.split("=", 1)[1])]


@pytest.fixture(scope="module")
def recorded_with_har(upstream: Upstream, confdir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One session through a real mitmdump that both records (our addon) and dumps a HAR (mitmproxy's savehar)."""
    folder = tmp_path_factory.mktemp("har")
    cassette, har = folder / "addon.yaml", folder / "session.har"
    proxy = Mitmdump(f"reverse:{upstream.url}", cassette, confdir, *PATHS, f"hardump={har}")
    try:
        drive(proxy.url, upstream)
        proxy.recorded(RECORDED)
    finally:
        assert proxy.stop() == 0  # savehar writes the HAR on shutdown
    return cassette, har


def test_mitmproxy_har_imports_to_the_same_cassette_the_addon_records(
        recorded_with_har: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    addon, har = recorded_with_har
    doc = json.loads(har.read_text())
    assert doc["log"]["creator"]["name"] == "mitmproxy"
    out = tmp_path / "imported.yaml"
    assert main(["import", "har", str(har), "--cassette", str(out), *IMPORT_PATHS]) == 0
    assert out.read_bytes() == addon.read_bytes()  # same path filter, normalisation and redaction
    err = capsys.readouterr().err
    assert f"{RECORDED} interactions from {len(doc['log']['entries'])} entries imported" in err
    assert "skipped 1 entry: path not recorded (see --record-path)" in err
    assert "skipped 1 entry: an OAuth2 token exchange is never recorded" in err


def test_no_canary_of_the_mitmproxy_har_reaches_the_imported_cassette(
        recorded_with_har: tuple[Path, Path], upstream: Upstream, tmp_path: Path) -> None:
    _, har = recorded_with_har
    assert upstream.canaries.access_token in har.read_text()  # the HAR itself holds them
    out = tmp_path / "imported.yaml"
    assert main(["import", "har", str(har), "--cassette", str(out), "--record-path", "/"]) == 0
    raw = out.read_text()
    for name, secret in upstream.canaries.all().items():
        for form in _forms(secret):
            assert form not in raw, f"canary {name} leaked as {form!r}"
    assert scan_text(raw) == []


def test_chrome_devtools_har_is_imported_and_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "browser.yaml"
    assert main(["import", "har", str(CHROME_HAR), "--cassette", str(out)]) == 0
    c = load_cassette(out)
    assert [(i.request.method, i.request.path, i.response.status) for i in c.interactions] == [
        ("GET", "/o2ims-infrastructureInventory/v1", 200),
        ("GET", "/o2ims-infrastructureInventory/v1/resourcePools", 200),
        ("POST", "/o2ims-infrastructureInventory/v1/subscriptions", 201),
    ]
    first = c.interactions[0]
    assert not any(name.startswith(":") for name in first.request.headers)  # HTTP/2 pseudo-headers dropped
    assert "content-encoding" not in first.response.headers  # HAR text is decoded already
    assert first.response.headers["content-length"] == [str(len(first.response.body))]
    pools = c.interactions[1].response.json()  # a base64 content.text, decoded
    assert pools[0]["description"] == "edge site 1 \N{ROCKET}"
    raw = out.read_text()
    assert "CANARY" not in raw and scan_text(raw) == []
    assert "Bearer <redacted>" in raw and "<redacted:userinfo>@smo.lab.example" in raw
    err = capsys.readouterr().err
    assert "skipped 1 entry: no response (status 0" in err and "3 interactions from 5 entries" in err


def test_export_is_read_back_by_mitmproxys_har_reader() -> None:
    for path in REFERENCE:
        cassette = load_cassette(path)
        entries = har_from_cassette(cassette, version="test")["log"]["entries"]
        assert len(entries) == len(cassette)
        for it, entry in zip(cassette.interactions, entries):
            flow = request_to_flow(entry)
            assert (flow.request.method, flow.request.url) == (it.request.method, it.request.uri)
            assert flow.request.content == it.request.body
            assert flow.response is not None and flow.response.status_code == it.response.status
            assert flow.response.content == it.response.body


@pytest.mark.parametrize("path", REFERENCE, ids=lambda p: p.name)
def test_export_then_import_gives_back_the_interactions(path: Path, tmp_path: Path) -> None:
    har = tmp_path / "out.har"
    assert main(["export", "har", str(path), "-o", str(har)]) == 0
    again = tmp_path / "again.yaml"
    assert main(["import", "har", str(har), "--cassette", str(again), "--record-path", "/"]) == 0
    original, imported = load_cassette(path), load_cassette(again)
    assert dump_cassette(imported).split("interactions:", 1)[1] == dump_cassette(original).split("interactions:", 1)[1]


def test_export_is_deterministic_and_goes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "har", str(REFERENCE[0])]) == 0
    first = capsys.readouterr().out
    assert main(["export", "har", str(REFERENCE[0])]) == 0
    assert capsys.readouterr().out == first
    assert json.loads(first)["log"]["version"] == "1.2"


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "bad.har:1: not a HAR file: invalid JSON"),
    ('{"log": {}}', "bad.har: not a HAR file: log.entries: missing"),
    ('{"log": {"entries": [{"request": {"method": "GET"}, "response": {}}]}}',
     "bad.har: not a HAR file: log.entries[0].request.url: missing"),
])
def test_bad_har_is_one_line_and_exit_2(content: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.har").write_text(content)
    assert main(["import", "har", "bad.har", "--cassette", "out.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not Path("out.yaml").exists()


def test_import_once_refuses_a_cassette_with_interactions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lab.yaml"
    out.write_bytes(REFERENCE[0].read_bytes())
    assert main(["import", "har", str(CHROME_HAR), "--cassette", str(out)]) == 2
    assert "left untouched; use --record-mode new_episodes or all" in capsys.readouterr().err
    assert out.read_bytes() == REFERENCE[0].read_bytes()
    assert main(["import", "har", str(CHROME_HAR), "--cassette", str(out), "--record-mode", "new_episodes"]) == 0
    assert len(load_cassette(out)) == len(load_cassette(REFERENCE[0])) + 3


def test_entries_that_are_not_http_are_reported_not_fatal() -> None:
    doc = {"log": {"entries": [{"request": {"method": "GET", "url": "data:text/plain,hi"}, "response": {"status": 200},
                                "startedDateTime": "2026-01-01T00:00:00Z"}]}}
    [entry] = exchanges_from_har(doc)
    assert entry.exchange is None and entry.skipped.startswith("not an http(s) URL")
