"""The aiohttp edge of authentication: the embedded OAuth2 authorisation server, an external identity
provider's keys, and the guard every O2IMS request passes (docs/security.md).

Embedded (``--auth oauth2``): ``POST /oauth/token`` (RFC 6749 4.4 client credentials; client_secret_basic
or client_secret_post), ``GET /.well-known/openid-configuration`` (and RFC 8414's
``/.well-known/oauth-authorization-server``), ``GET /oauth/jwks``. External (``--oauth-jwks URL``): the
provider's JWKS is fetched at start, cached, and fetched again for an unknown ``kid`` (at most every 10 s)
or when older than 5 minutes. The decision itself is replayer/security/access.py.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import unquote_plus

import aiohttp
from aiohttp import web

from replayer.security.access import Decision, OAuthPolicy, RoleTable, StaticTokens
from replayer.security.clients import ROLES, ClientRegistry, OAuthClient
from replayer.security.tokens import TokenError, SigningKey, Verifier, issue_token, jwks_document, keys_from_jwks
from replayer.server.config import ServeConfig
from replayer.o2ims.dialect import DEFAULT_DIALECT, Dialect
from replayer.o2ims.problem import build_problem
from replayer.o2ims.routes import normalise_path, template_of
from replayer.server.answer import Answer, problem_answer
from replayer.server.request import base_url_of
from replayer.server.runtime import log
from replayer.server.tls import CLIENT, IDENTITY, peer_subject, peer_thumbprint

__all__ = ["TOKEN_PATH", "JWKS_PATH", "DISCOVERY_PATHS", "Issuer", "RemoteKeys", "Guard", "build_guard",
           "setup_oauth"]

TOKEN_PATH = "/oauth/token"
JWKS_PATH = "/oauth/jwks"
DISCOVERY_PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")


class Issuer:
    """The embedded authorisation server: registered clients, one signing key, one issuer name."""

    def __init__(self, config: ServeConfig, clients: tuple[OAuthClient, ...], key: SigningKey) -> None:
        self.config = config
        self.registry = ClientRegistry(clients)
        self.key = key
        self.issuer = config.oauth_issuer or ""
        self.verifier = Verifier({key.kid: key.private.public_key()}, issuer=self.issuer,
                                 audience=config.oauth_audience)

    # ------------------------------------------------------------------ RFC 6749 4.4 client credentials

    async def token(self, request: web.Request) -> web.StreamResponse:
        """``POST /oauth/token``: a JWT for a client that authenticates, or an RFC 6749 5.2 error."""
        if request.content_type != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
        form = await request.post()
        grant = form.get("grant_type")
        if not isinstance(grant, str) or not grant:
            return _oauth_error(400, "invalid_request", "grant_type is missing")
        if grant != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type",
                                f"grant_type {grant!r} is not supported (this server issues client_credentials)")
        try:
            client_id, secret, basic = _client_credentials(request.headers.get("Authorization"), form)
        except ValueError as e:
            return _oauth_error(400, "invalid_request", str(e))
        client = self.registry.authenticate(client_id, secret) if client_id else None
        if client is None:
            challenge = {"WWW-Authenticate": 'Basic realm="o2ims-replay"'} if basic else {}
            return _oauth_error(401, "invalid_client", "unknown client or wrong secret", challenge)
        scope = form.get("scope")
        requested = [s.removeprefix("role:") for s in str(scope or "").split() if s.startswith("role:")]
        denied = [r for r in requested if r not in client.roles]
        if denied:
            return _oauth_error(400, "invalid_scope", f"client {client_id} may not have role:{denied[0]}")
        roles = tuple(requested) or client.roles
        cfg = self.config
        token = issue_token(self.key, issuer=self.issuer, audience=cfg.oauth_audience, client_id=client.client_id,
                            roles=roles, roles_claim=cfg.oauth_roles_claim, ttl=cfg.oauth_token_ttl,
                            cnf=peer_thumbprint(request))
        body = {"access_token": token, "token_type": "Bearer", "expires_in": cfg.oauth_token_ttl,
                "scope": " ".join(["openid", *(f"role:{r}" for r in roles)])}
        return web.json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def discovery(self, request: web.Request) -> web.StreamResponse:
        """OpenID Connect Discovery 1.0 / RFC 8414 metadata."""
        base = f"{request.scheme}://{request.host}"
        return web.json_response({
            "issuer": self.issuer,
            "token_endpoint": base + TOKEN_PATH,
            "jwks_uri": base + JWKS_PATH,
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", *(f"role:{r}" for r in ROLES)],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "client_id", "azp", "scope",
                                 "preferred_username", self.config.oauth_roles_claim, "cnf"],
            "tls_client_certificate_bound_access_tokens": True,
        })

    async def jwks(self, request: web.Request) -> web.StreamResponse:
        """The public signing key."""
        return web.json_response(jwks_document([self.key]), headers={"Cache-Control": "max-age=300"})


def _client_credentials(authorization: str | None, form: Mapping[str, Any]) -> tuple[str, str, bool]:
    """(client_id, secret, came as HTTP Basic) from the header (RFC 6749 2.3.1) or the form."""
    in_form = "client_secret" in form or "client_id" in form
    if authorization and authorization.lower().startswith("basic "):
        if "client_secret" in form:
            raise ValueError("give the client credentials once: in the Authorization header or in the body")
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError("the Basic credentials are not base64 of id:secret") from None
        client_id, _, secret = raw.partition(":")
        return unquote_plus(client_id), unquote_plus(secret), True
    if in_form:
        return str(form.get("client_id") or ""), str(form.get("client_secret") or ""), False
    return "", "", False


def _oauth_error(status: int, error: str, description: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """An RFC 6749 5.2 error body (OAuth endpoints do not speak ProblemDetails)."""
    return web.json_response({"error": error, "error_description": description}, status=status,
                             headers={"Cache-Control": "no-store", "Pragma": "no-cache", **(headers or {})})


class RemoteKeys:
    """An external identity provider's JWKS, fetched into a Verifier and refreshed when needed."""

    MIN_INTERVAL = 10.0
    MAX_AGE = 300.0

    def __init__(self, url: str, verifier: Verifier) -> None:
        self.url = url
        self.verifier = verifier
        self.fetched_at = 0.0
        self.tried_at = -self.MIN_INTERVAL
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def start(self, app: web.Application) -> AsyncIterator[None]:
        """cleanup_ctx: one client session; the first fetch is tried at start (a failure is logged)."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        await self.refresh()
        yield
        await self._session.close()

    async def ensure(self, authorization: str | None) -> None:
        """Fetch the keys again when the token names an unknown key or the cache is old."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return
        try:
            kid = self.verifier.kid_of(authorization[7:].strip())
        except TokenError:
            return
        stale = time.monotonic() - self.fetched_at > self.MAX_AGE
        if (kid and kid not in self.verifier.keys) or stale or not self.verifier.keys:
            await self.refresh()

    async def refresh(self) -> None:
        """Fetch the JWKS (at most once every MIN_INTERVAL seconds); keep the old keys on failure."""
        async with self._lock:
            if time.monotonic() - self.tried_at < self.MIN_INTERVAL or self._session is None:
                return
            self.tried_at = time.monotonic()
            try:
                async with self._session.get(self.url) as resp:
                    resp.raise_for_status()
                    doc = json.loads(await resp.read())
                self.verifier.keys = keys_from_jwks(doc)
                self.fetched_at = time.monotonic()
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, OSError) as e:
                log.warning("cannot fetch the identity provider's keys from %s: %s", self.url, e)


class Guard:
    """Runs the access decision for one request and renders a refusal (401/403 ProblemDetails)."""

    def __init__(self, policy: StaticTokens | OAuthPolicy | None, *, mtls: bool,
                 remote: RemoteKeys | None = None, issuer: Issuer | None = None) -> None:
        self.policy = policy
        self.mtls = mtls
        self.remote = remote
        self.issuer = issuer

    def bind(self, url: str) -> None:
        """Name the embedded issuer after the URL the server listens on, unless ``--oauth-issuer`` named it."""
        if self.issuer is not None and not self.issuer.issuer:
            self.issuer.issuer = url
            self.issuer.verifier.issuer = url

    async def check(self, request: web.Request, dialect: Dialect = DEFAULT_DIALECT) -> Answer | None:
        """None to go on; the refusal (ProblemDetails in ``dialect``'s shape) otherwise. Notes the client
        (certificate subject, token principal)."""
        auth = request.headers.get("Authorization")
        subject = peer_subject(request) if self.mtls else None
        decision: Decision | None = None
        if self.policy is not None:
            if self.remote is not None:
                await self.remote.ensure(auth)
            decision = self.policy.decide(request.method, request.raw_path.partition("?")[0], auth,
                                          peer_thumbprint(request) if self.mtls else None)
            request[IDENTITY] = decision.principal
        CLIENT.set((subject, decision.principal if decision else None))
        if decision is None or decision.allowed:
            return None
        extra: dict[str, Any] = {}
        if decision.status == 403:
            extra = {"requiredRoles": list(decision.required), "grantedRoles": list(decision.granted)}
        path = normalise_path(request.raw_path.partition("?")[0])
        base = base_url_of({k.lower(): v for k, v in request.headers.items()}, request.scheme, request.host)
        problem = build_problem(decision.status, decision.detail, dialect=dialect, path=path, base_url=base,
                                extra=extra or None)
        return problem_answer(problem, "auth", {"WWW-Authenticate": decision.www_authenticate},
                              template=template_of(path))


def build_guard(config: ServeConfig, app: web.Application) -> Guard | None:
    """The guard for ``config`` (None when neither authentication nor mutual TLS is on); routes the
    embedded authorisation server onto ``app``."""
    mtls = bool(config.tls_client_ca)
    if config.auth_tokens is not None:
        return Guard(StaticTokens(config.auth_tokens), mtls=mtls)
    if not config.oauth:
        return Guard(None, mtls=True) if mtls else None
    from replayer.o2ims.spec import bundled_specs

    roles = RoleTable(bundled_specs())
    if config.oauth_jwks:
        assert config.oauth_issuer
        verifier = Verifier({}, issuer=config.oauth_issuer, audience=config.oauth_audience)
        remote = RemoteKeys(config.oauth_jwks, verifier)
        app.cleanup_ctx.append(remote.start)
        return Guard(OAuthPolicy(verifier.verify, roles, config.oauth_roles_claim), mtls=mtls, remote=remote)
    key = SigningKey.from_pem(config.oauth_signing_key) if config.oauth_signing_key else SigningKey.generate()
    issuer = Issuer(config, _clients(config), key)
    setup_oauth(app, issuer)
    return Guard(OAuthPolicy(issuer.verifier.verify, roles, config.oauth_roles_claim), mtls=mtls, issuer=issuer)


def _clients(config: ServeConfig) -> tuple[OAuthClient, ...]:
    from replayer.security.clients import read_clients
    from replayer.synthetic import load_profile

    if config.oauth_clients:
        return read_clients(config.oauth_clients)
    profile = load_profile(config.profile) if config.profile else load_profile()
    if not profile.oauth_clients:
        profile = load_profile()  # a profile without clients: the default profile's
    return profile.oauth_clients


def setup_oauth(app: web.Application, issuer: Issuer) -> None:
    """Route the token endpoint, discovery and JWKS."""
    app.router.add_post(TOKEN_PATH, issuer.token)
    for path in DISCOVERY_PATHS:
        app.router.add_get(path, issuer.discovery)
    app.router.add_get(JWKS_PATH, issuer.jwks)
