"""Metrics, authentication, admin protection and the config precedence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from replayer.errors import UsageError
from replayer.matching import MatchOn, OnExhausted
from replayer.server.admin import _is_loopback
from replayer.server.config import LatencyMode, serve_config
from replayer.server.embedded import EmbeddedServer
from tests.server.conftest import INV, POOLS, interaction

Serve = Callable[..., EmbeddedServer]
RECORDED = {"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]}


def test_metrics_count_by_source_route_and_status_with_a_histogram(serve: Serve) -> None:
    server = serve(RECORDED)
    for _ in range(3):
        requests.get(f"{server.url}{INV}/resourcePools", timeout=5)
    requests.get(f"{server.url}{INV}/resourcePools/p1", timeout=5)
    requests.get(f"{server.url}{INV}/deploymentManagers/dm-1", timeout=5)
    text = requests.get(f"{server.url}/metrics", timeout=5).text
    assert f'o2replay_requests_total{{source="cassette",route="{INV}/resourcePools",status="200"}} 3' in text
    assert (f'o2replay_requests_total{{source="derived",route="{INV}/resourcePools/{{resourcePoolId}}",'
            f'status="200"}} 1') in text
    assert (f'o2replay_requests_total{{source="miss",route="{INV}/deploymentManagers/{{deploymentManagerId}}",'
            f'status="404"}} 1') in text
    assert 'o2replay_request_duration_seconds_bucket{source="cassette",le="+Inf"} 3' in text
    assert 'o2replay_request_duration_seconds_count{source="cassette"} 3' in text
    assert "o2replay_interactions_loaded 1" in text
    assert "# TYPE o2replay_request_duration_seconds histogram" in text


def test_bearer_auth_protects_the_api_but_not_health(serve: Serve) -> None:
    server = serve(RECORDED, auth_tokens=frozenset({"t0ken"}))
    url = f"{server.url}{INV}/resourcePools"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dDB rZW4="}):
        r = requests.get(url, headers=headers, timeout=5)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert r.headers["Content-Type"].startswith("application/problem+json")
    assert requests.get(url, headers={"Authorization": "Bearer t0ken"}, timeout=5).json() == POOLS
    assert requests.get(f"{server.url}/health", timeout=5).status_code == 200
    # an admin path with a method no admin route takes is a 404 of the admin API, not an O2IMS 401
    wrong = requests.get(f"{server.url}/__admin/reset", timeout=5)
    assert wrong.status_code == 404 and "no admin endpoint answers GET /__admin/reset" in wrong.json()["detail"]


def test_admin_token_is_required_when_set(serve: Serve) -> None:
    server = serve(RECORDED, admin_token="s3cret")
    assert requests.get(f"{server.url}/__admin/cassettes", timeout=5).status_code == 401
    r = requests.post(f"{server.url}/__admin/reset", headers={"Authorization": "Bearer s3cret"}, timeout=5)
    assert r.status_code == 200


@pytest.mark.parametrize(("remote", "ok"), [("127.0.0.1", True), ("127.8.0.2", True), ("::1", True),
                                             ("10.0.0.5", False), ("192.168.1.1", False), (None, False)])
def test_admin_answers_loopback_clients_only(remote: str | None, ok: bool) -> None:
    assert _is_loopback(remote) is ok


def test_flags_beat_the_config_file_which_beats_defaults(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("# CI tokens\nabc\n\ndef\n")
    section = {"cassettes": ["recorded"], "port": 31000, "match_on": "method,path", "on_exhausted": "cycle",
               "latency": "5-10", "strict": True, "auth_tokens": "tokens.txt",
               "faults": [{"path": "/x*", "status": 503}]}
    cfg = serve_config({"port": 32000, "strict": None}, section, config_path=tmp_path / ".o2replay.yaml")
    assert cfg.port == 32000 and cfg.strict is True
    assert cfg.paths == (str(tmp_path / "recorded"),)
    assert cfg.match_on == MatchOn(query=False, body=False)
    assert cfg.on_exhausted is OnExhausted.CYCLE
    assert cfg.latency.mode is LatencyMode.RANGE
    assert cfg.auth_tokens == frozenset({"abc", "def"})
    assert cfg.faults[0].status == 503
    assert serve_config({}).port == 30205


@pytest.mark.parametrize(("flags", "section", "message"), [
    ({"match_on": "method,bogus"}, {}, "--match-on: unknown match_on part 'bogus'"),
    ({}, {"on_exhausted": "stop"}, "replay.on_exhausted must be one of repeat-last, cycle, 404"),
    ({}, {"prot": 1}, "unknown key"),
    ({"auth": "bearer"}, {}, "--auth bearer needs --auth-tokens FILE"),
    ({}, {"faults": [{"path": "/x"}]}, "replay.faults[0] does nothing"),
    ({"latency": "soon"}, {}, "--latency: latency must be"),
    ({}, {"synthetic": "maybe"}, "replay.synthetic must be on or off"),
])
def test_bad_settings_are_one_line_usage_errors(flags: dict[str, object], section: dict[str, object],
                                                message: str) -> None:
    with pytest.raises(UsageError) as exc:
        serve_config(flags, section)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_metric_series_are_bounded() -> None:
    from replayer.server.metrics import MAX_SERIES, Metrics

    m = Metrics()
    for i in range(MAX_SERIES + 50):
        m.observe("miss", f"/random/{i}", 404, 0.001)
    assert len(m.requests) == MAX_SERIES + 1
    assert m.requests[("miss", "(other)", "404")] == 50
    assert 'o2replay_request_duration_seconds_count{source="miss"} 2050' in m.render()


def test_openapi_json_describes_every_route_the_server_serves(serve: Serve) -> None:
    server = serve(RECORDED, synthetic=True, strict=False)
    doc = requests.get(f"{server.url}/openapi.json", timeout=5).json()
    for path, method in (("/health", "get"), ("/metrics", "get"), ("/__admin/cassettes", "get"),
                         ("/__admin/reload", "post"), ("/__admin/faults", "post"), ("/__admin/near-misses", "get"),
                         ("/__admin/notifications", "get"), ("/o2ims-infrastructureInventory/v1/resourcePools", "get"),
                         ("/o2ims_infrastructureInventory/v1/status", "get")):
        assert method in doc["paths"].get(path, {}), (method, path)
    assert doc["paths"]["/health"]["get"]["summary"].startswith("``GET /health``")
    assert "/docs" in doc["paths"]  # the Swagger UI page over this document (tests/server/test_docs_page.py)
