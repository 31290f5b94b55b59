"""Differential tests: the o-ran-sc dialect of o2ims-replay against the real pti-o2, on the same edge1-4 data.

- synthetic vs real: the synthetic O2IMS (``--dialect o-ran-sc``) and pti-o2 answer generated queries alike;
- derived vs real: answers derived from a recording of pti-o2's unfiltered lists equal pti-o2's own answers;
- writes: subscriptions (create, duplicate, delete twice) and alarm acknowledgement on both.

Every difference must be a row of docs/dialects.md ("Checked against pti-o2"), matched in explained.py. The
number of generated queries is O2REPLAY_PTIO2_QUERIES (default 300; ``all`` for every query the generator
knows: ``make fuzz``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from replayer.o2ims.dialect import Dialect
from replayer.server.config import ServeConfig
from replayer.server.embedded import EmbeddedServer
from tests.ptio2 import walk
from tests.ptio2.compare import Answer, Difference, differences
from tests.ptio2.differential import COLLECTIONS, Side, oracle_collections, run
from tests.ptio2.explained import UNRECORDED, explain, shows_what_was_recorded
from tests.ptio2.harness import PtiO2
from tests.ptio2.queries import INV, MON, Collection, Query, generate
from tests.ptio2.recording import recording

COUNT_ENV = os.environ.get("O2REPLAY_PTIO2_QUERIES", "300")
COUNT = None if COUNT_ENV == "all" else int(COUNT_ENV)


@pytest.fixture(scope="module")
def collections(ptio2: PtiO2) -> list[Collection]:
    """pti-o2's collections with every element: where the generated queries take names and values from."""
    return oracle_collections(ptio2.base_url, ptio2.auth())


def _server(ptio2: PtiO2, **settings: Any) -> EmbeddedServer:
    config = ServeConfig(port=0, dialect=Dialect.O_RAN_SC, auth_tokens=frozenset({ptio2.token}), use_cache=False,
                         **settings)
    return EmbeddedServer(config)


def _unexplained(found: list[Difference]) -> list[str]:
    out = [str(d) for d in found if explain(d) is None]
    dump = os.environ.get("O2REPLAY_PTIO2_DUMP")
    if dump:
        with open(dump, "a") as fh:
            fh.write("".join(line + "\n" for line in out))
    return out


def test_synthetic_o_ran_sc_answers_like_pti_o2(ptio2: PtiO2, collections: list[Collection]) -> None:
    queries = generate(collections, COUNT)
    with _server(ptio2, paths=(), synthetic=True) as ours:
        report = run(queries, Side(ptio2.base_url, ptio2.tokens), Side(ours.url, ptio2.tokens))
    print(f"synthetic vs pti-o2: {report.summary()}")
    assert report.tried == len(queries) and report.equal > 0
    unexplained = _unexplained(report.differences)
    assert unexplained == [], f"{len(unexplained)} unexplained differences:\n" + "\n".join(unexplained[:40])


def _record_lists(ptio2: PtiO2, cassette: Path, confdir: Path, collections: list[Collection]) -> None:
    """Record what a consumer lists without a query: every collection, every page, and the singletons."""
    with recording(ptio2.base_url, cassette, confdir) as proxy:
        c = walk.Consumer(proxy, ptio2.auth())
        try:
            for path in (f"{INV}/api_versions", f"{INV}/v1/api_versions", f"{INV}/v1", f"{MON}/api_versions",
                         f"{MON}/v1/api_versions", f"{MON}/v1/alarmServiceConfiguration"):
                c.get(path)
            for coll in collections:
                walk.get_pages(c, coll.path)
        finally:
            c.close()


def _derivable(query: Query, collections: list[Collection]) -> bool:
    """A query on a recorded collection or one of its elements (what answers are derived for)."""
    path = query.path.split("?")[0]
    return query.method == "GET" and any(path == c.path or path.rsplit("/", 1)[0] == c.path for c in collections)


def test_derived_answers_equal_pti_o2(ptio2: PtiO2, mitm_confdir: Path, tmp_path: Path) -> None:
    # Derived answers know what was recorded: a plain list shows the default attributes only, so the queries
    # are generated from the lists as recorded (their attributes and values), not from all_fields.
    recorded = oracle_collections(ptio2.base_url, ptio2.auth(), all_fields=False)
    cassette = tmp_path / "pti-o2-lists.yaml"
    _record_lists(ptio2, cassette, mitm_confdir, recorded)
    queries = [q for q in generate(recorded, None) if _derivable(q, recorded)]
    if COUNT is not None:
        queries = queries[:: max(1, len(queries) // COUNT)][:COUNT]
    with _server(ptio2, paths=(str(cassette),), synthetic=False) as ours:
        report = run(queries, Side(ptio2.base_url, ptio2.tokens), Side(ours.url, ptio2.tokens))
    print(f"derived vs pti-o2: {report.summary()}")
    assert report.tried >= min(len(queries), 100)
    keys = {c.path: frozenset(k for item in c.items for k in item) for c in recorded}

    def recorded_keys(q: Query) -> frozenset[str]:
        path = q.path.split("?")[0]
        return keys.get(path) or keys.get(path.rsplit("/", 1)[0], frozenset())

    not_recorded = [d for d in report.differences if shows_what_was_recorded(d, recorded_keys(d.query))]
    print(f"derived vs pti-o2: {len(not_recorded)} differences are {UNRECORDED}")
    unexplained = _unexplained([d for d in report.differences if d not in not_recorded])
    assert unexplained == [], f"{len(unexplained)} unexplained differences:\n" + "\n".join(unexplained[:40])


class _Ids(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "not-created"  # the create failed on this side; the difference is reported there


class Both:
    """Sends one write scenario to both sides; ``{id}`` in a path is each side's own created id."""

    def __init__(self, real: Side, ours: Side) -> None:
        self.sides = (real, ours)
        self.ids: list[dict[str, str]] = [{}, {}]
        self.http = requests.Session()
        self.http.trust_env = False
        self.found: list[Difference] = []

    def send(self, method: str, path: str, body: Any = None, *, created: str | None = None) -> tuple[Answer, Answer]:
        answers = []
        for n, side in enumerate(self.sides):
            target = path.format_map(_Ids(self.ids[n]))
            resp = self.http.request(method, side.base_url + target, json=body, timeout=30,
                                     headers={"Authorization": f"Bearer {side.tokens['valid']}", **side.headers})
            if created and resp.status_code == 201:
                self.ids[n][created] = str(resp.json()[created.removeprefix("other-")])
            answers.append(Answer.of(resp, side.base_url, frozenset(self.ids[n].values())))
        self.found += differences(Query("write", method, path, body=body), answers[0], answers[1])
        return answers[0], answers[1]


@pytest.fixture
def both(ptio2_reseed: PtiO2) -> Iterator[Both]:
    with _server(ptio2_reseed, paths=(), synthetic=True) as ours:
        b = Both(Side(ptio2_reseed.base_url, ptio2_reseed.tokens),
                 Side(ours.url, ptio2_reseed.tokens, {"X-Replay-Session": "writes"}))
        yield b
        b.http.close()


@pytest.mark.parametrize(("path", "key"), [(p, k) for p, k in COLLECTIONS if p.endswith("ubscriptions")])
def test_subscriptions_on_both(both: Both, path: str, key: str) -> None:
    body = {"callback": "http://127.0.0.1:9/consumer", "consumerSubscriptionId": "3f1e0c6a-0001-4b7e-9d7c-000000000001",
            "filter": ""}
    created, _ = both.send("POST", path, body, created=key)
    assert created.status == 201
    assert both.send("POST", path, body)[0].status == 409
    both.send("POST", path, {"consumerSubscriptionId": "3f1e0c6a-0002-4b7e-9d7c-000000000002"})  # no callback
    both.send("POST", path, {"callback": "http://127.0.0.1:9/other", "consumerSubscriptionId": "consumer-7"},
              created=f"other-{key}")
    both.send("GET", path)
    both.send("GET", f"{path}/{{{key}}}")
    assert both.send("DELETE", f"{path}/{{{key}}}")[0].body is True
    assert both.send("DELETE", f"{path}/{{{key}}}")[0].status == 404
    both.send("GET", path)
    unexplained = _unexplained(both.found)
    assert unexplained == [], "\n".join(unexplained)


def test_alarm_acknowledgement_on_both(both: Both, collections: list[Collection]) -> None:
    alarm = next(c for c in collections if c.path.endswith("/alarms")).items[0]["alarmEventRecordId"]
    path = f"{MON}/v1/alarms/{alarm}"
    assert both.send("PATCH", path, {"alarmAcknowledged": True})[0].status == 200
    both.send("GET", path)
    both.send("PATCH", path, {"alarmAcknowledged": True})
    both.send("PATCH", path, {"alarmAcknowledged": True, "perceivedSeverity": 5})
    both.send("PATCH", path, {})
    both.send("GET", f"{MON}/v1/alarms")
    unexplained = _unexplained(both.found)
    assert unexplained == [], "\n".join(unexplained)
