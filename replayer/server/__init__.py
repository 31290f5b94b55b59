"""The replay server (``o2replay serve``): cassettes first, O2IMS-aware derived answers, then synthetic or a miss.

Modules: ``config`` (ServeConfig from flags and ``.o2replay.yaml``), ``state`` (the loaded, indexed,
pre-built cassette set), ``request`` (one parsed request), ``answer`` (the one answer type, rendered in one
place, and the header names), ``handlers`` (the catch-all handler and its hot path), ``derived`` (answers
from recorded collections), ``overlay`` (each session's writes), ``rewrite`` (recorded addresses to served
ones), ``admin`` (``/__admin/``, ``/health``, ``/metrics``), ``faults``, ``journal``, ``metrics``, ``watch``
(``--watch``), ``workers`` (one process or ``--workers N``), ``embedded`` (in a thread, for the pytest
plugin), ``inbound`` (connection limit, read timeouts, body checks), ``app`` (``create_app``).
"""

from replayer.server.app import create_app
from replayer.server.config import ServeConfig, serve_config
from replayer.server.embedded import EmbeddedServer

__all__ = ["create_app", "ServeConfig", "serve_config", "EmbeddedServer"]
