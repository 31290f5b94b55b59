"""Reading a cassette one interaction at a time gives what the whole parse gives, in flat memory."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest

from bench.bench_load import make_interactions, write_vcrpy
from replayer.cassettes.files import CassetteWriter
from replayer.cassettes.load import load_cassette
from replayer.cassettes.model import Interaction, Request, Response
from replayer.cassettes.stream import stream_cassette
from replayer.commands.progress import Progress
from replayer.errors import CassetteError
from tests.cassettes.test_broken_corpus import CORPUS, EXPECTED

REFERENCE = Path(__file__).resolve().parents[2] / "cassettes"


def _ours(path: Path, count: int) -> Path:
    writer = CassetteWriter(path, metadata={"upstream": "https://o2ims.example"})
    for i in make_interactions(count):
        writer.append(i)
    writer.flush()
    return path


@pytest.mark.parametrize("path", sorted(REFERENCE.rglob("*.yaml")), ids=lambda p: p.name)
def test_the_reference_cassettes_stream_as_they_load(path: Path) -> None:
    streamed = stream_cassette(path)
    assert streamed.split
    assert tuple(streamed.interactions) == load_cassette(path).interactions
    assert dict(streamed.metadata) == dict(load_cassette(path).metadata)


def test_our_layout_and_vcrpys_stream_as_they_load(tmp_path: Path) -> None:
    for path in (_ours(tmp_path / "ours.yaml", 300), write_vcrpy(tmp_path / "vcrpy.yaml", 300)):
        streamed = stream_cassette(path)
        assert streamed.split, path.name
        assert tuple(streamed.interactions) == load_cassette(path).interactions


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_broken_cassette_gives_the_same_line(name: str) -> None:
    path = CORPUS / name
    with pytest.raises(CassetteError) as exc:
        list(stream_cassette(path).interactions)
    assert str(exc.value) == f"{path}:{EXPECTED[name]}"


@pytest.mark.parametrize("text", [
    "# a comment at column 0\nversion: 1\ninteractions:\n- request: {method: GET, uri: 'http://h/x'}\n"
    "  response: {status: {code: 200}, body: {string: ''}}\n",
    "version: 1\ninteractions:\n  - request: {method: GET, uri: 'http://h/x'}\n"
    "    response: {status: {code: 200}, body: {string: ''}}\n",
    "version: 1\ninteractions: []\n",
], ids=["comment", "indented-list", "empty"])
def test_other_layouts_are_read_whole(text: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    streamed = stream_cassette(path)
    assert not streamed.split
    assert tuple(streamed.interactions) == load_cassette(path).interactions


def _small(path: Path, count: int) -> Path:
    """Many small exchanges (headers, a short body): where a parsed model weighs most against its text."""
    writer = CassetteWriter(path)
    for n in range(count):
        writer.append(Interaction(
            Request("GET", f"http://o2ims.example/o2ims-infrastructureInventory/v1/resourcePools/p{n}",
                    {"Accept": ["application/json"], "X-Request-Id": [f"r{n}"]}, b""),
            Response(200, "OK", {"Content-Type": ["application/json"], "Date": ["Tue, 25 Nov 2025 10:00:00 GMT"]},
                     b'{"resourcePoolId": "p%d", "name": "edge1-pool"}' % n)))
    writer.flush()
    return path


def test_streaming_holds_one_interaction_at_a_time(tmp_path: Path) -> None:
    path = _small(tmp_path / "big.yaml", 3000)
    tracemalloc.start()
    try:
        whole = load_cassette(path)
        _, whole_peak = tracemalloc.get_traced_memory()
        del whole
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        count = sum(1 for _ in stream_cassette(path).interactions)
        _, stream_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 3000
    # the file's bytes stay (read once); the parsed interactions do not pile up
    assert stream_peak - base < whole_peak / 3, (stream_peak - base, whole_peak, path.stat().st_size)


def test_progress_prints_only_once_work_is_long() -> None:
    now = [0.0]
    out = io.StringIO()
    progress = Progress("validate", every=5, after=2, clock=lambda: now[0], out=out)
    progress.file()
    for _ in progress.count(range(1000)):
        pass
    assert out.getvalue() == ""  # quick work: silent
    now[0] = 3.0
    for _ in progress.count(range(1000)):
        now[0] += 0.001
    assert out.getvalue() == "o2replay validate: 1500 interactions in 1 file so far\n"
