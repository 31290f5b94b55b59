"""`o2replay show`: list and inspect interactions with their file:line, text and JSON, without a cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replayer.cassettes.load import load_cassette
from replayer.cassettes.model import Cassette, Interaction, Request, Response
from replayer.cassettes.yaml import dump_cassette
from replayer.cli import main

ROOT = Path(__file__).resolve().parents[1]
INVENTORY = ROOT / "cassettes" / "reference" / "inventory-v1.yaml"


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(["show", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_list_has_one_row_per_interaction_with_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json(capsys, str(INVENTORY))
    cassette = load_cassette(INVENTORY)
    lines = INVENTORY.read_text().split("\n")
    assert isinstance(rows, list) and len(rows) == len(cassette)
    for row, it in zip(rows, cassette.interactions):
        assert (row["method"], row["status"], row["response_bytes"]) == \
            (it.request.method, it.response.status, len(it.response.body))
        assert it.request.uri.endswith(row["path"])
        file, line = row["source"].rsplit(":", 1)
        assert file == str(INVENTORY) and lines[int(line) - 1] == "- request:"
        assert lines[int(line)].endswith(f"method: {it.request.method}")


def test_text_list_shows_count_metadata_and_paths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(INVENTORY)]) == 0
    out = capsys.readouterr().out.splitlines()
    n = len(load_cassette(INVENTORY))
    assert out[0] == f"{INVENTORY}: {n} interactions"
    assert "  tool: o2ims-replay 0.1.0" in out
    header = next(i for i, line in enumerate(out) if line.lstrip().startswith("#"))
    assert out[header].split() == ["#", "LINE", "KIND", "METHOD", "STATUS", "REQUEST", "RESPONSE", "PATH"]
    assert len(out) - header - 1 == n
    assert out[header + 2].split()[-1] == "/o2ims-infrastructureInventory/v1"


def test_one_interaction_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    it = load_cassette(INVENTORY).interactions[1]
    detail = _json(capsys, str(INVENTORY), "--interaction", "1")
    assert isinstance(detail, dict)
    assert detail["request"]["uri"] == it.request.uri
    assert detail["response"]["body"] == it.response.json()
    assert detail["response"]["headers"] == it.response.headers
    assert main(["show", str(INVENTORY), "-i", "1"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"interaction 1 (api) at {INVENTORY}:")
    assert f"GET {it.request.uri}" in text and '"oCloudId":' in text


def test_binary_body_is_described_and_singular_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "one.yaml"
    it = Interaction(Request("GET", "http://o2ims/o2ims-infrastructureArtifacts/v1/x"),
                     Response(200, "OK", {"Content-Type": ["application/octet-stream"]}, b"\xff\x00\xfe"))
    path.write_text(dump_cassette(Cassette((it,))))
    assert main(["show", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: 1 interaction\n")
    detail = _json(capsys, str(path), "-i", "0")
    assert isinstance(detail, dict)
    assert detail["response"]["body"] == "<3 bytes of application/octet-stream>"


@pytest.mark.parametrize(("argv", "message"), [
    (["--interaction", "99"], "--interaction 99: {file} has 24 interactions (valid: 0-23)"),
    (["-i", "-1"], "--interaction -1: {file} has 24 interactions (valid: 0-23)"),
])
def test_no_such_interaction(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(INVENTORY), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message.format(file=INVENTORY) in err


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\ninteractions:\n- request: {method: GET}\n")
    for path, needle in ((tmp_path / "missing.yaml", "no such file"), (broken, f"{broken}:3"),
                         (tmp_path, "is a directory")):
        assert main(["show", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and needle in err, err


def test_show_writes_no_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "inventory.yaml"
    copy.write_bytes(INVENTORY.read_bytes())
    assert main(["show", str(copy)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.yaml"]
