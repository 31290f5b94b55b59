"""Who may call what: the pure authorisation decision for one O2IMS request (no sockets, no aiohttp).

    decision = policy.decide(method, path, authorization_header, client_thumbprint)

``Decision.status`` is 200 (allow), 401 (no or bad credentials) or 403 (a valid token without a role the
operation needs). Roles are read from the claim openshift-kni reads (the Inventory CR's ``groupsClaim``,
default ``roles``: api/inventory/v1alpha1/inventory_types.go) and checked against the operation's
``security`` in the vendored definitions: ``role:NAME`` scopes, any one of which is enough, as each role is
bound to its own ClusterRole in openshift-kni (config/rbac/oran_o2ims_oauth_role_bindings.yaml). A path no
definition describes needs a valid token and no role. The response headers follow RFC 6750 3.1.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from replayer.o2ims.routes import is_legacy_path, normalise_path
from replayer.o2ims.spec import SpecSet
from replayer.security.tokens import TokenError

__all__ = ["Decision", "RoleTable", "StaticTokens", "OAuthPolicy", "bearer_token", "ALLOW"]

REALM = "o2ims"
_CACHE_MAX = 20_000


@dataclass(frozen=True, slots=True)
class Decision:
    """Allow (200), 401 or 403, with what the answer must say."""

    status: int
    detail: str = ""
    www_authenticate: str = ""
    required: tuple[str, ...] = ()  # roles of which one was needed (403)
    granted: tuple[str, ...] = ()  # roles the token carries
    principal: str | None = None  # who the token names (client id or username)
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def allowed(self) -> bool:
        return self.status == 200


ALLOW = Decision(200)


def bearer_token(authorization: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (RFC 6750 2.1), or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _missing_credentials(what: str) -> Decision:
    # RFC 6750 3.1: a request with no credentials gets the challenge without an error code.
    return Decision(401, f"{what} is required (Authorization: Bearer <token>)", f'Bearer realm="{REALM}"')


def _invalid(description: str) -> Decision:
    quoted = description.replace("\\", "\\\\").replace('"', "'")
    return Decision(401, description,
                    f'Bearer realm="{REALM}", error="invalid_token", error_description="{quoted}"')


class StaticTokens:
    """``--auth bearer``: any one of a fixed set of tokens opens every O2IMS path."""

    def __init__(self, tokens: frozenset[str]) -> None:
        self.tokens = tuple(t.encode() for t in tokens)

    def decide(self, method: str, path: str, authorization: str | None, thumbprint: str | None = None) -> Decision:
        """Allow a request that carries one of the tokens."""
        token = bearer_token(authorization)
        if token is None:
            return _missing_credentials("a bearer token")
        given = token.encode()
        if any(hmac.compare_digest(given, t) for t in self.tokens):
            return ALLOW
        return _invalid("the bearer token is not one of the accepted tokens")


class RoleTable:
    """Operation -> the roles of which one is needed, from the definitions' ``security``."""

    def __init__(self, specs: SpecSet) -> None:
        self.specs = specs
        self._cache: dict[tuple[str, str], tuple[str, ...] | None] = {}

    def required(self, method: str, path: str) -> tuple[str, ...] | None:
        """Roles (any one) for ``method path``; () when the operation names none; None for an unknown path."""
        key = (method, path)
        if key in self._cache:
            return self._cache[key]
        found = self._lookup(method, path)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[key] = found
        return found

    def _lookup(self, method: str, path: str) -> tuple[str, ...] | None:
        path = normalise_path(path)
        if is_legacy_path(path):  # the earlier mock's underscore prefixes name the same operations
            head, _, rest = path[1:].partition("/")
            path = "/" + head.replace("_", "-", 1) + ("/" + rest if rest else "")
        op = self.specs.find_operation("GET" if method == "HEAD" else method, path)
        if op is None:
            return None
        roles: list[str] = []
        for requirement in op.security:
            for scope in requirement:
                role = scope.removeprefix("role:")
                if role not in roles:
                    roles.append(role)
        return tuple(roles)


class OAuthPolicy:
    """``--auth oauth2``: a valid JWT on every O2IMS request, with a role the operation allows."""

    def __init__(self, verify: Callable[[str], Mapping[str, Any]], roles: RoleTable, roles_claim: str = "roles") -> None:
        self.verify = verify
        self.roles = roles
        self.roles_claim = roles_claim

    def decide(self, method: str, path: str, authorization: str | None, thumbprint: str | None = None) -> Decision:
        """Authenticate the token, check its certificate binding, then its roles."""
        token = bearer_token(authorization)
        if token is None:
            return _missing_credentials("an OAuth2 access token")
        try:
            claims = self.verify(token)
        except TokenError as e:
            return _invalid(str(e))
        bound = claims.get("cnf")
        if isinstance(bound, Mapping) and bound.get("x5t#S256") and bound.get("x5t#S256") != thumbprint:
            # RFC 8705 3: a certificate-bound token is only good over a connection with that certificate
            # (openshift-kni: internal/service/common/auth/auth_rfc8705.go).
            return _invalid("the token is bound to another client certificate")
        raw = claims.get(self.roles_claim, [])
        granted = tuple(str(r) for r in raw) if isinstance(raw, list) else ()
        principal = str(claims.get("preferred_username") or claims.get("client_id") or claims.get("sub") or "")
        required = self.roles.required(method, path)
        if required and not set(required) & set(granted):
            names = ", ".join(required)
            has = ", ".join(granted) or "none"
            return Decision(403, f"{method} {path} needs one of the roles {names}; the token has {has}",
                            f'Bearer realm="{REALM}", error="insufficient_scope", '
                            f'scope="{" ".join("role:" + r for r in required)}"',
                            required, granted, principal, claims)
        return Decision(200, granted=granted, principal=principal or None, claims=claims)
