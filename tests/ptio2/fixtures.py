"""pytest fixtures for a real pti-o2 (the O-RAN SC INF O2 service), registered suite-wide by tests/conftest.py.

``ptio2``: one pti-o2 per test session, seeded with the default edge1-4 profile in its data model; a test that
changes its inventory reseeds it when done (``ptio2_reseed``). PTIO2_SOURCE picks the source (see harness.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from replayer.synthetic.model import Model, build_model
from replayer.synthetic.oran_sc import render_oran_sc
from replayer.synthetic.profile import load_profile
from tests.ptio2.harness import HarnessError, PtiO2, start_ptio2


@pytest.fixture(scope="session")
def edge_model() -> Model:
    """The default synthetic O-Cloud (edge1-4)."""
    return build_model(load_profile())


def edge_document(model: Model, ref: PtiO2) -> dict[str, Any]:
    """The edge1-4 seed for ``ref``: the O-Cloud's serviceUri is the address pti-o2 is served at."""
    return render_oran_sc(model, ref.base_url)


@pytest.fixture(scope="session")
def ptio2(edge_model: Model) -> Iterator[PtiO2]:
    """A running pti-o2 seeded with edge1-4 (started once per session; several seconds with its venv cached)."""
    try:
        with start_ptio2() as ref:
            ref.seed(edge_document(edge_model, ref))
            yield ref
    except HarnessError as e:
        pytest.fail(f"pti-o2 could not start: {e}", pytrace=False)


@pytest.fixture
def ptio2_reseed(ptio2: PtiO2, edge_model: Model) -> Iterator[PtiO2]:
    """The session's pti-o2 for a test that changes its inventory; seeded again with edge1-4 afterwards."""
    yield ptio2
    ptio2.seed(edge_document(edge_model, ptio2))


@pytest.fixture(scope="session")
def mitm_confdir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One mitmproxy confdir (its CA) for the recordings of this session."""
    return tmp_path_factory.mktemp("ptio2-mitmproxy-conf")
