"""Tiny cassette factories for the diff tests: interactions from a few keywords, files via dump_cassette."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from replayer.cassettes.model import Cassette, Interaction, InteractionMeta, Request, Response
from replayer.cassettes.yaml import dump_cassette

POOLS = "/o2ims-infrastructureInventory/v1/resourcePools"
DMS = "/o2ims-infrastructureInventory/v1/deploymentManagers"
ALARMS = "/o2ims-infrastructureMonitoring/v1/alarms"


def ix(path: str = POOLS, body: Any = None, *, status: int = 200, method: str = "GET",
       headers: dict[str, str] | None = None, raw: bytes | None = None, query: str = "",
       request_body: bytes = b"", content_type: str = "application/json") -> Interaction:
    """One interaction: JSON ``body`` (or ``raw`` bytes) answered to ``method path?query``."""
    resp_headers = {"Content-Type": [content_type]}
    for k, v in (headers or {}).items():
        resp_headers[k] = [v]
    data = raw if raw is not None else json.dumps(body, indent=2).encode()
    uri = f"http://o2ims.example:8080{path}" + (f"?{query}" if query else "")
    return Interaction(Request(method, uri, {"Accept": ["application/json"]}, request_body),
                       Response(status, "OK" if status < 400 else "Error", resp_headers, data),
                       InteractionMeta())


def write(path: Path, *interactions: Interaction, metadata: dict[str, Any] | None = None) -> Path:
    """Write a cassette file and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_cassette(Cassette(tuple(interactions), metadata or {})), encoding="utf-8")
    return path


def pool(pid: str, **extra: Any) -> dict[str, Any]:
    """A ResourcePoolInfo-like object."""
    return {"resourcePoolId": pid, "name": f"pool-{pid}", "oCloudId": "cloud-1", "globalLocationId": "edge1",
            "description": "compute", "extensions": {"cpu": 32}, **extra}
