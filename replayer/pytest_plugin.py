"""pytest plugin (entry point ``pytest11``): the ``o2ims_server`` fixture, a real replay server for a test.

    @pytest.mark.o2ims_cassette("cassettes/inventory.yaml", strict=True)
    def test_lists_pools(o2ims_server: str) -> None:
        pools = requests.get(f"{o2ims_server}/o2ims-infrastructureInventory/v1/resourcePools").json()

HTTPS, mutual TLS and OAuth2 come from the same settings (``tls="auto"``, ``tls_client_ca="auto"``,
``auth="oauth2"``): the URL is then ``https://`` and ``o2ims_ca`` is the CA to verify it with (the local CA
lives in a session temporary folder unless ``tls_dir`` is set), and ``o2ims_replay.token("o2ims-reader")``
fetches a token from the embedded token endpoint::

    @pytest.mark.o2ims_cassette("cassettes", tls="auto", auth="oauth2")
    def test_reader(o2ims_server: str, o2ims_ca: str, o2ims_replay) -> None:
        token = o2ims_replay.token("o2ims-reader")
        requests.get(f"{o2ims_server}/o2ims-infrastructureInventory/v1", verify=o2ims_ca,
                     headers={"Authorization": f"Bearer {token}"})

Config precedence: the ``o2ims_cassette`` marker (closest wins) > the ``o2ims_cassettes`` ini option >
``replay:`` in ``.o2replay.yaml`` > defaults. One server per distinct set of cassettes and settings runs
for the whole session on 127.0.0.1 with an ephemeral port, in a thread with its own event loop; before
each test its replay cursors, synthetic state and journal are reset, so tests do not see each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

__all__ = ["o2ims_server", "o2ims_replay", "o2ims_ca", "ServerPool"]

MARKER = "o2ims_cassette"
_ROLE_HINT = "o2ims_cassette(*paths, **settings): cassettes (files or folders) for the o2ims_server fixture; " \
    "settings as in the replay: section of .o2replay.yaml (strict=True, synthetic=False, match_on=..., ...)"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini options."""
    parser.addini("o2ims_cassettes", type="paths", default=[],
                  help="cassette files or folders the o2ims_server fixture serves when a test has no marker")
    parser.addini("o2ims_strict", type="bool", default=False,
                  help="o2ims_server: a miss is a 404 naming the nearest recorded requests")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker."""
    config.addinivalue_line("markers", _ROLE_HINT)


class ServerPool:
    """Session-wide replay servers, one per (cassettes, settings)."""

    def __init__(self, tls_dir: Path | None = None) -> None:
        self._servers: dict[tuple[Any, ...], Any] = {}
        self.tls_dir = tls_dir  # where tls="auto" keeps its CA unless tls_dir is set

    def get(self, paths: tuple[str, ...], settings: dict[str, Any], rootpath: Path) -> Any:
        """A running server for these cassettes and settings (started on first use)."""
        from replayer.project_file import load_config
        from replayer.server.config import serve_config
        from replayer.server.embedded import EmbeddedServer

        key = (paths, tuple(sorted((k, repr(v)) for k, v in settings.items())))
        server = self._servers.get(key)
        if server is None:
            project = load_config(search_from=rootpath)
            section = project.section("replay")
            flags = {**settings, "cassettes": list(paths) if paths else None}
            config = serve_config(flags, section, config_path=project.path)
            if not paths and "cassettes" not in section:
                config = replace(config, paths=())  # nothing chosen: the synthetic model alone
            config = replace(config, host="127.0.0.1", port=0, workers=1, watch=False)
            if config.tls and "tls_dir" not in settings and "tls_dir" not in section and self.tls_dir:
                config = replace(config, tls_dir=str(self.tls_dir))
            server = self._servers[key] = EmbeddedServer(config).start()
        return server

    def stop_all(self) -> None:
        """Stop every server."""
        for server in self._servers.values():
            server.stop()
        self._servers.clear()


def _resolve(raw: str | Path, node_dir: Path, rootpath: Path) -> str:
    p = Path(raw)
    if p.is_absolute():
        return str(p)
    near = node_dir / p
    return str(near if near.exists() else rootpath / p)


@pytest.fixture(scope="session")
def o2ims_server_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    """The session's replay servers; all stop when the session ends."""
    pool = ServerPool(tmp_path_factory.mktemp("o2replay-tls"))
    yield pool
    pool.stop_all()


@pytest.fixture
def o2ims_replay(request: pytest.FixtureRequest, o2ims_server_pool: ServerPool) -> Any:
    """The running ``EmbeddedServer`` (``.url``, ``.runtime`` through ``.call``) for this test's cassettes."""
    marker = request.node.get_closest_marker(MARKER)
    rootpath = request.config.rootpath
    node_dir = Path(str(request.node.path)).parent
    if marker is not None and marker.args:
        raw: list[Any] = list(marker.args)
    else:
        raw = list(request.config.getini("o2ims_cassettes"))
    settings = dict(marker.kwargs) if marker is not None else {}
    if request.config.getini("o2ims_strict"):
        settings.setdefault("strict", True)
    paths = tuple(_resolve(p, node_dir, rootpath) for p in raw)
    server = o2ims_server_pool.get(paths, settings, rootpath)

    def fresh() -> None:
        server.runtime.reset()
        server.runtime.journal.clear()

    server.call(fresh)
    return server


@pytest.fixture
def o2ims_server(o2ims_replay: Any) -> str:
    """Base URL (``http://127.0.0.1:PORT``, ``https://`` with ``tls``) of a replay server over the marked cassettes,
    reset for this test."""
    return str(o2ims_replay.url)


@pytest.fixture
def o2ims_ca(o2ims_replay: Any) -> str:
    """The CA file that verifies an HTTPS ``o2ims_server`` (``tls="auto"``), for ``verify=`` or ``--cacert``."""
    if not o2ims_replay.ca_path:
        pytest.fail("o2ims_ca needs an HTTPS server: mark the test with o2ims_cassette(..., tls='auto')")
    return str(o2ims_replay.ca_path)
