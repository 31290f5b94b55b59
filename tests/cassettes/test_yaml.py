"""Cassette files: format guarantees, atomic writes under SIGKILL, the derived cache, vcrpy both ways."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import marshal
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import vcr
import yaml
from aiohttp import web

from bench.bench_load import make_interactions
from replayer.cassettes import fastyaml
from replayer.cassettes.model import (
    Cassette,
    Interaction,
    InteractionKind,
    InteractionMeta,
    Request,
    Response,
    cassette_from_dict,
    normalise_message,
)
from replayer.cassettes.cache import cache_folder, cache_put
from replayer.cassettes.files import CACHE_DIR, CassetteWriter, atomic_write, find_cassettes
from replayer.cassettes.load import load_cassette, load_cassettes
from replayer.cassettes.yaml import dump_cassette, parse_cassette

URL = "http://o2ims.invalid.example/o2ims-infrastructureInventory/v1/resourcePools"
POOLS = [{"resourcePoolId": "p1", "name": "EDGE1", "description": "a: b # c 'q'", "extensions": {"n": 1}}]


def json_interaction(n: int = 0, meta: InteractionMeta | None = None) -> Interaction:
    headers, body = normalise_message({"Content-Type": ["application/json"], "Content-Length": ["0"]},
                                      json.dumps(POOLS).encode())
    return Interaction(Request("GET", f"{URL}?n={n}", {"Accept": ["application/json"]}),
                       Response(200, "OK", headers, body), meta or InteractionMeta())


# --------------------------------------------------------------------------- format guarantees


def test_round_trip_cassette_to_yaml_and_back() -> None:
    original = Cassette(tuple(make_interactions(25)) + (json_interaction(),), {"upstream": "https://o2ims.example"})
    text = dump_cassette(original)
    again = parse_cassette(text)
    assert again == original
    assert dump_cassette(again) == text


def test_fast_reader_and_libyaml_build_the_same_cassette() -> None:
    text = dump_cassette(Cassette(tuple(make_interactions(60)), {"n": 1}))
    assert parse_cassette(text) == cassette_from_dict(yaml.load(text, Loader=yaml.CSafeLoader))  # noqa: S506


def test_identical_input_gives_byte_identical_text() -> None:
    a = dump_cassette(Cassette(tuple(make_interactions(30)), {"b": 1, "a": 2}))
    b = dump_cassette(Cassette(tuple(make_interactions(30)), {"a": 2, "b": 1}))
    assert a == b
    assert a.startswith("version: 1\nmetadata:\n  a: 2\n  b: 1\ninteractions:\n- request:\n")


def test_json_bodies_are_literal_blocks_with_two_space_indent() -> None:
    text = dump_cassette(Cassette((json_interaction(),)))
    assert (
        "    body:\n"
        "      string: |-\n"
        "        [\n"
        "          {\n"
        '            "resourcePoolId": "p1",\n'
        '            "name": "EDGE1",\n'
        '            "description": "a: b # c \'q\'",\n'
    ) in text
    assert "Content-Length:\n      - '" in text


def test_compressed_bodies_are_written_decoded() -> None:
    wire = gzip.compress(json.dumps(POOLS).encode())
    headers, body = normalise_message({"Content-Type": ["application/json"], "Content-Encoding": ["gzip"],
                                       "Content-Length": [str(len(wire))]}, wire)
    text = dump_cassette(Cassette((Interaction(Request("GET", URL), Response(200, "OK", headers, body)),)))
    assert "Content-Encoding" not in text
    assert f"- '{len(body)}'" in text and '"resourcePoolId": "p1"' in text


def test_binary_bodies_are_base64_with_yaml_marker() -> None:
    blob = bytes(range(256))
    i = Interaction(Request("PUT", URL, {}, b"\xff\x00"), Response(200, "OK", {}, blob))
    text = dump_cassette(Cassette((i,)))
    assert "    body: !!binary |\n      /wA=\n" in text
    assert "      string: !!binary |\n        AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEy" in text
    assert parse_cassette(text).interactions[0].response.body == blob


def test_meta_is_written_only_when_set() -> None:
    plain = dump_cassette(Cassette((json_interaction(),)))
    assert "meta:" not in plain
    meta = InteractionMeta(InteractionKind.NOTIFICATION, "2025-11-26T01:00:00Z", 0.25)
    text = dump_cassette(Cassette((json_interaction(meta=meta),)))
    assert text.endswith("  meta:\n    kind: notification\n    recorded_at: '2025-11-26T01:00:00Z'\n    duration: 0.25\n")
    assert parse_cassette(text).interactions[0].meta == meta


def test_empty_cassette() -> None:
    assert dump_cassette(Cassette()) == "version: 1\ninteractions: []\n"
    assert parse_cassette("version: 1\ninteractions: []\n") == Cassette()


# --------------------------------------------------------------------------- atomic writes


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "c.yaml"
    atomic_write(target, "one")
    atomic_write(target, b"two")
    assert target.read_text() == "two"
    assert os.listdir(target.parent) == ["c.yaml"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "c.yaml"
    atomic_write(target, "old")
    with pytest.raises(TypeError):
        atomic_write(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["c.yaml"]


def test_writer_appends_flushes_and_keeps_existing(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    w = CassetteWriter(path, metadata={"upstream": "u"})
    assert w.dirty and len(w) == 0
    w.flush()
    assert load_cassette(path) == Cassette((), {"upstream": "u"})
    w.append(json_interaction(1))
    assert w.dirty
    w.flush()
    assert not w.dirty
    w.update_metadata(upstream="u")
    assert not w.dirty
    w.update_metadata(api_versions=["v1"])
    w.flush()
    again = CassetteWriter(path, existing=load_cassette(path))
    again.append(json_interaction(2))
    again.flush()
    loaded = load_cassette(path)
    assert [i.request.uri for i in loaded.interactions] == [f"{URL}?n=1", f"{URL}?n=2"]
    assert loaded.metadata == {"api_versions": ["v1"], "upstream": "u"}
    assert path.read_text() == again.text() == dump_cassette(loaded)


CHILD = """
import sys
from replayer.cassettes.model import Interaction, Request, Response
from replayer.cassettes.files import CassetteWriter
body = ('{"pad": "' + "x" * 3000 + '"}').encode()
w = CassetteWriter(sys.argv[1], metadata={"upstream": "http://h"})
for n in range(100000):
    w.append(Interaction(Request("GET", "http://h/item/%d" % n), Response(200, "OK", {}, body)))
    w.flush()
    print(n, flush=True)
"""


@pytest.mark.parametrize("kill_after", [1, 40, 150])
def test_sigkill_leaves_a_valid_prefix(tmp_path: Path, kill_after: int) -> None:
    path = tmp_path / "c.yaml"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout is not None
    flushed, deadline = -1, time.monotonic() + 60
    try:
        while flushed + 1 < kill_after and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "the writer died"
            flushed = int(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert flushed + 1 >= kill_after
    loaded = load_cassette(path)  # a complete, valid cassette, whatever the moment of the kill
    uris = [i.request.uri for i in loaded.interactions]
    assert len(uris) > flushed  # every interaction reported as flushed is there
    assert uris == [f"http://h/item/{n}" for n in range(len(uris))]  # and nothing but a prefix
    assert [f for f, _ in find_cassettes([tmp_path])] == [path]  # a leftover temp file is not a cassette


# --------------------------------------------------------------------------- derived cache


def write(path: Path, n: int, seed: int = 0) -> Cassette:
    c = Cassette(tuple(make_interactions(n, seed=seed)), {"seed": seed})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_cassette(c), encoding="utf-8")
    return c


def entries(root: Path) -> list[str]:
    return sorted(p.name for p in (root / CACHE_DIR).glob("*.marshal"))


def test_cache_hit_gives_the_same_cassette(tmp_path: Path) -> None:
    expected = write(tmp_path / "edge1" / "a.yaml", 20)
    cold = load_cassettes([tmp_path])
    assert len(entries(tmp_path)) == 1
    warm = load_cassettes([tmp_path])
    assert [lc.cassette for lc in warm] == [lc.cassette for lc in cold] == [expected]
    assert warm[0].name == "edge1/a.yaml" and warm[0].digest == cold[0].digest
    assert (tmp_path / CACHE_DIR / ".gitignore").read_text().endswith("*\n")
    # default meta is shared, metadata kept
    assert warm[0].cassette.interactions[0].meta is warm[0].cassette.interactions[1].meta


def test_cache_is_keyed_on_content(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    write(path, 3)
    [first] = load_cassettes([tmp_path])
    # Forge the entry: a hit must come from the cache, so the forged content shows through ...
    forged = Cassette(first.cassette.interactions[:1], {"forged": True})
    cache_put(cache_folder(tmp_path), first.digest, forged)
    assert load_cassettes([tmp_path])[0].cassette == forged
    assert load_cassettes([tmp_path], use_cache=False)[0].cassette == first.cassette
    # ... and any change of the file's bytes misses it.
    path.write_text(path.read_text() + "\n")
    assert load_cassettes([tmp_path])[0].cassette == first.cassette


@pytest.mark.parametrize("garbage", [b"", b"\x00not marshal", marshal.dumps(("other-tag", {}, []))])
def test_corrupt_or_foreign_entries_are_ignored_and_replaced(tmp_path: Path, garbage: bytes) -> None:
    expected = write(tmp_path / "a.yaml", 5)
    load_cassettes([tmp_path])
    [entry] = (tmp_path / CACHE_DIR).glob("*.marshal")
    entry.write_bytes(garbage)
    assert load_cassettes([tmp_path])[0].cassette == expected
    assert load_cassettes([tmp_path])[0].cassette == expected
    assert entry.read_bytes() != garbage


def test_cache_prunes_changed_and_deleted_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "sub" / "b.yaml"
    write(a, 2, seed=1)
    write(b, 2, seed=2)
    load_cassettes([tmp_path])
    before = entries(tmp_path)
    assert len(before) == 2
    write(a, 3, seed=3)
    load_cassettes([tmp_path])
    after = entries(tmp_path)
    assert len(after) == 2 and after != before  # a's old entry went, b's stayed
    load_cassettes([a])  # loading one file of the folder keeps the others' entries
    assert entries(tmp_path) == after
    b.unlink()
    load_cassettes([tmp_path])
    assert len(entries(tmp_path)) == 1
    index = json.loads((tmp_path / CACHE_DIR / "index.json").read_text())
    assert list(index["files"]) == ["a.yaml"]


def test_cache_folder_is_not_a_cassette_folder(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", 1)
    load_cassettes([tmp_path])
    (tmp_path / CACHE_DIR / "stray.yaml").write_text("not: a cassette\n")
    assert [lc.name for lc in load_cassettes([tmp_path])] == ["a.yaml"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_folder_loads_without_cache(tmp_path: Path) -> None:
    expected = write(tmp_path / "a.yaml", 2)
    tmp_path.chmod(0o555)
    try:
        assert load_cassettes([tmp_path])[0].cassette == expected
        assert not (tmp_path / CACHE_DIR).exists()
    finally:
        tmp_path.chmod(0o755)


def test_unwritable_cache_folder_loads_without_cache(tmp_path: Path) -> None:
    expected = write(tmp_path / "a.yaml", 2)
    (tmp_path / CACHE_DIR).write_text("a file where the cache folder would be")
    assert load_cassettes([tmp_path])[0].cassette == expected
    assert load_cassettes([tmp_path])[0].cassette == expected


# --------------------------------------------------------------------------- vcrpy compatibility


def our_cassette(path: Path, *, with_extras: bool) -> None:
    meta = InteractionMeta(InteractionKind.API, "2025-11-26T01:00:00Z", 0.01) if with_extras else None
    blob = Interaction(Request("GET", "http://o2ims.invalid.example/blob"),
                       Response(200, "OK", {"Content-Type": ["application/octet-stream"]}, b"\x00\xff\x10"))
    c = Cassette((json_interaction(meta=meta), blob), {"upstream": "http://o2ims.invalid.example"} if with_extras else {})
    path.write_text(dump_cassette(c), encoding="utf-8")


@pytest.mark.parametrize("with_extras", [False, True])
def test_vcrpy_replays_our_cassette(tmp_path: Path, with_extras: bool) -> None:
    path = tmp_path / "ours.yaml"
    our_cassette(path, with_extras=with_extras)
    before = path.read_bytes()
    with vcr.VCR(record_mode="none").use_cassette(str(path)) as cass:
        got = requests.get(f"{URL}?n=0", headers={"Accept": "application/json"}, timeout=5)
        blob = requests.get("http://o2ims.invalid.example/blob", timeout=5)
    assert got.status_code == 200 and got.json() == POOLS
    assert got.headers["Content-Length"] == str(len(got.content))
    assert blob.content == b"\x00\xff\x10"
    assert cass.play_count == 2 and cass.all_played
    assert path.read_bytes() == before  # record_mode none writes nothing


def test_vcrpy_ignores_metadata_and_meta(tmp_path: Path) -> None:
    plain, extras = tmp_path / "plain.yaml", tmp_path / "extras.yaml"
    our_cassette(plain, with_extras=False)
    our_cassette(extras, with_extras=True)
    assert "metadata:" in extras.read_text() and "  meta:\n" in extras.read_text()
    loaded = []
    for p in (plain, extras):
        with vcr.VCR(record_mode="none").use_cassette(str(p)) as cass:
            loaded.append([(r.method, r.uri, r.body, dict(r.headers), resp) for r, resp in cass.data])
    assert loaded[0] == loaded[1]


@contextlib.contextmanager
def upstream() -> Iterator[str]:
    """A small O2IMS-like aiohttp server on 127.0.0.1, ephemeral port, in a thread."""

    async def pools(request: web.Request) -> web.StreamResponse:
        resp = web.json_response(POOLS)
        resp.enable_compression(web.ContentCoding.gzip)
        return resp

    async def blob(request: web.Request) -> web.StreamResponse:
        return web.Response(body=bytes(range(256)), content_type="application/octet-stream")

    async def subscribe(request: web.Request) -> web.StreamResponse:
        doc = await request.json()
        return web.json_response({"subscriptionId": "s1", **doc}, status=201)

    app = web.Application()
    app.router.add_get("/o2ims-infrastructureInventory/v1/resourcePools", pools)
    app.router.add_get("/blob", blob)
    app.router.add_post("/o2ims-infrastructureInventory/v1/subscriptions", subscribe)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    ready = threading.Event()
    port: list[int] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        port.append(runner.addresses[0][1])
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port[0]}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def test_cassette_recorded_by_vcrpy_loads_in_ours(tmp_path: Path) -> None:
    path = tmp_path / "vcrpy.yaml"
    with upstream() as base, vcr.VCR(record_mode="once").use_cassette(str(path)):
        live = requests.get(f"{base}/o2ims-infrastructureInventory/v1/resourcePools", timeout=10)
        requests.get(f"{base}/blob", timeout=10)
        requests.post(f"{base}/o2ims-infrastructureInventory/v1/subscriptions", json={"callback": "http://c/"},
                      timeout=10)
    assert live.json() == POOLS
    text = path.read_text()
    assert "Content-Encoding" in text  # vcrpy keeps the header (and stores the body decoded)
    assert fastyaml.load(text) == yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506 - the fast path, same value
    cassette = load_cassette(path)
    pools, blob, sub = cassette.interactions
    assert pools.request.method == "GET" and pools.request.path.endswith("/resourcePools")
    assert pools.response.json() == POOLS
    assert pools.response.body == json.dumps(POOLS, indent=2).encode()  # decoded and pretty-printed
    assert "Content-Encoding" not in pools.response.headers
    assert pools.response.headers["Content-Length"] == [str(len(pools.response.body))]
    assert blob.response.body == bytes(range(256))
    assert sub.response.status == 201 and sub.response.json()["subscriptionId"] == "s1"
    assert json.loads(sub.request.body) == {"callback": "http://c/"}
    assert [lc.cassette for lc in load_cassettes([path])] == [cassette]


# --------------------------------------------------------------------------- benchmark smoke test


def test_load_benchmark_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The benchmark runs end to end on 200 interactions; correctness only, no timing claims."""
    from bench import bench_load

    assert bench_load.main(["--sizes", "200", "--single", "200", "--repeat", "1", "--workdir", str(tmp_path)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 1 ")]
    assert {row.split(" | ")[0] for row in rows} == {"| 1 file, 200", "| 1 split file, 200",
                                                     "| 1 file written by vcrpy, 200"}
    assert len(rows) == 12
    assert all(row.split(" | ")[2] == "200" for row in rows)
    assert {row.split(" | ")[1] for row in rows} == {"vcrpy FilesystemPersister", "yaml.load CSafeLoader",
                                                     "ours, cold (no cache)", "ours, warm (cache hit)"}


# --------------------------------------------------------------------------- docs


def test_cassette_format_doc_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    """Every ```python block of docs/cassette-format.md runs, and the printed YAML is the one shown."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cassette-format.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in doc.split("```python\n")[1:]]
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "docs/cassette-format.md", "exec"), {})  # noqa: S102 - our own doc
    shown = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert capsys.readouterr().out == shown + "\n"


def test_atomic_write_keeps_the_mode_of_the_file_and_gives_new_files_the_umask_mode(tmp_path: Path) -> None:
    import os
    import stat

    from replayer.cassettes.files import atomic_write

    umask = os.umask(0o022)
    os.umask(umask)
    fresh = tmp_path / "fresh.yaml"
    atomic_write(fresh, "version: 1\ninteractions: []\n")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
    fresh.chmod(0o640)
    atomic_write(fresh, "version: 1\ninteractions: []\n")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640
