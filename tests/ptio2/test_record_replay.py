"""Record pti-o2 through ``o2replay record``, then replay the cassette with synthetic off: the same answers.

"The same": status, Content-Type, X-Total-Count and Link equal; a JSON body equal as JSON (cassettes store JSON
bodies pretty-printed for review, docs/cassette-format.md) once secrets are redacted as the recorder does,\nany other body equal byte for byte.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import requests

from replayer.cassettes.load import load_cassette
from replayer.server.config import ServeConfig
from replayer.server.embedded import EmbeddedServer
from tests.ptio2 import walk
from tests.ptio2.compare import parsed, redacted
from tests.ptio2.harness import PtiO2
from tests.ptio2.recording import recording


def test_a_recorded_session_replays_exactly_with_synthetic_off(ptio2_reseed: PtiO2, mitm_confdir: Path,
                                                                tmp_path: Path) -> None:
    ref = ptio2_reseed
    cassette = tmp_path / "pti-o2.yaml"
    with recording(ref.base_url, cassette, mitm_confdir) as proxy:
        live = walk.session(proxy, ref.auth())
    recorded = load_cassette(cassette).interactions
    assert [(i.request.method, i.request.path) for i in recorded] == [
        (s.method, s.path.split("?")[0]) for s in live]
    assert ref.token not in cassette.read_text()
    statuses = {s.status for s in live}
    assert {200, 201, 400, 401, 404, 405, 409} <= statuses, statuses

    # Exactly as recorded: the recorded addresses too (the live pti-o2's), so no rewriting to the served one.
    config = ServeConfig(paths=(str(cassette),), port=0, strict=True, synthetic=False, use_cache=False,
                         rewrite_urls=False)
    with EmbeddedServer(config) as server, requests.Session() as http:
        http.trust_env = False
        session = {"X-Replay-Session": uuid.uuid4().hex}
        for n, (seen, inter) in enumerate(zip(live, recorded)):
            headers = {**session, **({"Content-Type": "application/json"} if inter.request.body else {})}
            again = http.request(seen.method, server.url + seen.path, data=inter.request.body or None,
                                 headers=headers, timeout=30)
            where = f"#{n} {seen.method} {seen.path}"
            assert again.headers["X-Replay-Source"] == "cassette", where
            assert again.status_code == seen.status, where
            assert parsed(again.content) == redacted(seen.body), where
            assert again.headers.get("Content-Type") == seen.content_type, where
            for name in ("X-Total-Count", "Link"):
                assert again.headers.get(name) == seen.headers.get(name), f"{where}: {name}"
