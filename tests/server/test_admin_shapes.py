"""Both reset endpoints answer in one shape; a connection reset by a fault is counted as status="reset"."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from replayer.server.config import parse_fault
from replayer.server.embedded import EmbeddedServer
from tests.server.conftest import INV, POOLS, interaction

Serve = Callable[..., EmbeddedServer]


@pytest.mark.parametrize("session", [None, "job-1"])
def test_reset_answers_have_one_shape(serve: Serve, session: str | None) -> None:
    server = serve({"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]}, synthetic=True,
                   strict=False)
    query = {"session": session} if session else {}
    whole = requests.post(f"{server.url}/__admin/reset", params=query, timeout=5)
    synthetic = requests.post(f"{server.url}/__admin/synthetic/reset", params=query, timeout=5)
    assert whole.status_code == synthetic.status_code == 200
    assert whole.json() == synthetic.json() == {"status": "reset", "session": session}


def test_a_reset_fault_is_counted_as_reset(serve: Serve) -> None:
    server = serve({"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]},
                   faults=(parse_fault({"path": f"{INV}/resourcePools", "reset": True}),))
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{server.url}{INV}/resourcePools", timeout=5)
    metrics = requests.get(f"{server.url}/metrics", timeout=5).text
    assert f'o2replay_requests_total{{source="fault",route="{INV}/resourcePools",status="reset"}} 1' in metrics
    assert 'status="0"' not in metrics
