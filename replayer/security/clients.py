"""OAuth2 clients of the embedded authorisation server: id, secret and the O2IMS roles they get.

A clients file (``--oauth-clients FILE``, or ``oauth: clients:`` in a synthetic profile)::

    clients:
      - client_id: smo-client
        client_secret: change-me
        roles: [o2ims-reader, o2ims-subscriber]

The roles are the groups openshift-kni binds to its ClusterRoles (config/rbac/oran_o2ims_oauth_role_bindings.yaml
in openshift-kni/oran-o2ims): each one is granted on its own.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ROLES", "OAuthClient", "ClientRegistry", "parse_clients", "read_clients"]

#: Every role the vendored O2IMS definitions name in an operation's ``security`` (``role:NAME`` scopes).
ROLES = ("o2ims-admin", "o2ims-reader", "o2ims-subscriber", "o2ims-maintainer", "o2ims-provisioner",
         "o2ims-deployer")
_FIELDS = ("client_id", "client_secret", "roles")


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """One registered client."""

    client_id: str
    secret: str
    roles: tuple[str, ...]


def _client(raw: Any, where: str) -> OAuthClient:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be a mapping with client_id, client_secret and roles")
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise ValueError(f"{where}.{unknown[0]} is not a client field (expected {', '.join(_FIELDS)})")
    for name in ("client_id", "client_secret"):
        if not isinstance(raw.get(name), str) or not raw[name]:
            raise ValueError(f"{where}.{name} must be a non-empty string")
    roles = raw.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
        raise ValueError(f"{where}.roles must be a list of role names (e.g. {', '.join(ROLES[:2])})")
    return OAuthClient(raw["client_id"], raw["client_secret"], tuple(roles))


def parse_clients(raw: Any, where: str = "clients") -> tuple[OAuthClient, ...]:
    """Clients from a list (or a mapping with ``clients:``); raise ValueError naming the bad entry."""
    if isinstance(raw, Mapping) and set(raw) == {"clients"}:
        raw = raw["clients"]
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where} must be a non-empty list of clients (client_id, client_secret, roles)")
    clients = tuple(_client(c, f"{where}[{i}]") for i, c in enumerate(raw))
    seen: set[str] = set()
    for i, c in enumerate(clients):
        if c.client_id in seen:
            raise ValueError(f"{where}[{i}].client_id {c.client_id!r} is listed twice")
        seen.add(c.client_id)
    return clients


def read_clients(path: str | Path) -> tuple[OAuthClient, ...]:
    """Clients from a YAML file; raise ValueError naming the file."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(f"{path}: cannot read clients: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: invalid YAML: {e}") from None
    return parse_clients(doc, f"{path}: clients")


class ClientRegistry:
    """Looks clients up by id and checks secrets in constant time."""

    def __init__(self, clients: Iterable[OAuthClient]) -> None:
        self.clients = {c.client_id: c for c in clients}

    def authenticate(self, client_id: str, secret: str) -> OAuthClient | None:
        """The client when ``secret`` is its secret, else None."""
        client = self.clients.get(client_id)
        if client is None:
            hmac.compare_digest(secret.encode(), b"x" * len(secret.encode()))  # same work for unknown ids
            return None
        return client if hmac.compare_digest(secret.encode(), client.secret.encode()) else None
