"""Fixtures of the synthetic O2IMS tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from synth_helpers import ServerThread, make_app

from replayer.synthetic.api import SyntheticO2IMS


@pytest.fixture
def model() -> SyntheticO2IMS:
    """A fresh synthetic model with the default profile."""
    return SyntheticO2IMS()


@pytest.fixture
def server(model: SyntheticO2IMS) -> Iterator[ServerThread]:
    """The model served over real HTTP."""
    srv = ServerThread(make_app(model)).start()
    yield srv
    srv.stop()
