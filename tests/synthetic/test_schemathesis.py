"""schemathesis over real HTTP against the synthetic O2IMS and against the replay server serving the bundled
reference cassettes (synthetic fallback on, as ``o2replay serve`` runs by default): no 5xx, no schema
violation, no undocumented status, for the release-4.21 inventory and monitoring and the main provisioning
definitions.

Bounded by ``O2REPLAY_FUZZ_EXAMPLES`` (examples per operation; default 8 in the normal suite, 500 with
``make fuzz``).
"""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import BaseOpenAPISchema

from replayer.o2ims.spec import SPECS_DIR
from replayer.server.config import ServeConfig
from replayer.server.embedded import EmbeddedServer
from replayer.synthetic.api import SyntheticO2IMS

from synth_helpers import ServerThread, make_app

REFERENCE = Path(__file__).resolve().parents[2] / "cassettes" / "reference"
EXAMPLES = int(os.environ.get("O2REPLAY_FUZZ_EXAMPLES", "8"))
SPEC_FILES = {
    "inventory": SPECS_DIR / "oran-o2ims-release-4.21/internal/service/resources/api/openapi.yaml",
    "monitoring": SPECS_DIR / "oran-o2ims-release-4.21/internal/service/alarms/api/openapi.yaml",
    "provisioning": SPECS_DIR / "oran-o2ims-main/internal/service/provisioning/api/openapi.yaml",
}
SELECTORS = ("fields", "exclude_fields", "exclude_default")


def schema_unless_selected(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """The response schema check, except where attribute selectors legitimately drop required attributes
    (SOL013 5.3: ``fields=name`` answers objects holding only ``name``)."""
    if any(key in (case.query or {}) for key in SELECTORS):
        return None
    return response_schema_conformance(ctx, response, case)


CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, schema_unless_selected)


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[ServerThread]:
    srv = ServerThread(make_app(SyntheticO2IMS())).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def replay_server() -> Iterator[EmbeddedServer]:
    """The replay server over the bundled reference cassettes: recorded, derived and synthetic answers."""
    # The recordings of the synthetic O2IMS (what `make serve` serves); o-ran-sc/ records another dialect.
    files = tuple(str(f) for f in sorted(REFERENCE.glob("*.yaml")))
    config = ServeConfig(paths=files, port=0, use_cache=False, run_id="fuzz")
    srv = EmbeddedServer(config).start()
    yield srv
    srv.stop()


def _schema(name: str, server: ServerThread | EmbeddedServer) -> BaseOpenAPISchema:
    schema = schemathesis.from_path(str(SPEC_FILES[name]), base_url=server.url)
    assert isinstance(schema, BaseOpenAPISchema)
    return schema


@pytest.fixture(scope="module")
def inventory_schema(fuzz_server: ServerThread) -> BaseOpenAPISchema:
    return _schema("inventory", fuzz_server)


@pytest.fixture(scope="module")
def monitoring_schema(fuzz_server: ServerThread) -> BaseOpenAPISchema:
    return _schema("monitoring", fuzz_server)


@pytest.fixture(scope="module")
def provisioning_schema(fuzz_server: ServerThread) -> BaseOpenAPISchema:
    return _schema("provisioning", fuzz_server)


_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
    suppress_health_check=list(HealthCheck),
)

@pytest.fixture(scope="module")
def inventory_replay_schema(replay_server: EmbeddedServer) -> BaseOpenAPISchema:
    return _schema("inventory", replay_server)


@pytest.fixture(scope="module")
def monitoring_replay_schema(replay_server: EmbeddedServer) -> BaseOpenAPISchema:
    return _schema("monitoring", replay_server)


@pytest.fixture(scope="module")
def provisioning_replay_schema(replay_server: EmbeddedServer) -> BaseOpenAPISchema:
    return _schema("provisioning", replay_server)


inventory = schemathesis.from_pytest_fixture("inventory_schema")
monitoring = schemathesis.from_pytest_fixture("monitoring_schema")
provisioning = schemathesis.from_pytest_fixture("provisioning_schema")
inventory_replay = schemathesis.from_pytest_fixture("inventory_replay_schema")
monitoring_replay = schemathesis.from_pytest_fixture("monitoring_replay_schema")
provisioning_replay = schemathesis.from_pytest_fixture("provisioning_replay_schema")


@inventory.parametrize()
@_SETTINGS
def test_inventory_v1(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=10)


@monitoring.parametrize()
@_SETTINGS
def test_monitoring_v1(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=10)


@provisioning.parametrize()
@_SETTINGS
def test_provisioning_v1(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=10)


@inventory_replay.parametrize()
@_SETTINGS
def test_inventory_v1_replayed(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=10)


@monitoring_replay.parametrize()
@_SETTINGS
def test_monitoring_v1_replayed(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=10)


@provisioning_replay.parametrize()
@_SETTINGS
def test_provisioning_v1_replayed(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=10)
