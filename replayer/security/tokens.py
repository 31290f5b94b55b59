"""JWT access tokens: issued by the embedded OAuth2 server, validated on every O2IMS request.

The JOSE work is PyJWT's (with ``cryptography`` for RS256): a maintained, typed, small library whose
``jwt.decode`` checks signature, ``exp``, ``iat``/``nbf``, ``iss`` and ``aud`` in one call, and whose
``PyJWKSet`` reads an identity provider's JWKS. Tokens follow RFC 9068 and the openshift-kni sample token
(docs/user-guide/prerequisites.md in openshift-kni/oran-o2ims): ``iss``, ``aud`` (a list holding the O2IMS
client id), ``sub``, ``client_id``, ``azp``, ``scope`` with ``role:NAME`` entries, ``preferred_username``,
the roles as a top-level list (the Inventory CR's ``groupsClaim``, default ``roles``) and, for a client
that authenticated with a certificate, the RFC 8705 ``cnf`` binding.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["ALGORITHM", "SigningKey", "jwk_thumbprint", "TokenError", "Verifier", "issue_token", "jwks_document", "keys_from_jwks"]

ALGORITHM = "RS256"  # the only algorithm openshift-kni accepts (DefaultSigningAlgorithms in auth_oauth.go)
_CACHE_MAX = 10_000


class TokenError(ValueError):
    """A token that must be refused; the message is the ``error_description`` a client sees."""


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def jwk_thumbprint(public: rsa.RSAPublicKey) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url) of an RSA public key."""
    numbers = public.public_numbers()
    canonical = json.dumps({"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)},
                           separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An RSA key that signs tokens; ``kid`` is its RFC 7638 JWK thumbprint."""

    private: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def generate(cls) -> SigningKey:
        """A new 2048-bit key."""
        return cls.from_private(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_private(cls, key: rsa.RSAPrivateKey) -> SigningKey:
        """Wrap a key; its kid is computed."""
        return cls(key, jwk_thumbprint(key.public_key()))

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKey:
        """Load a PEM RSA private key; raise ValueError for anything else."""
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the token signing key must be an RSA private key")
        return cls.from_private(key)

    def pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (handed to worker processes)."""
        return self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())

    def public_jwk(self) -> dict[str, str]:
        """The public half as a JWK (RFC 7517) with ``kid``, ``use`` and ``alg``."""
        numbers = self.private.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": self.kid,
                "n": _b64(numbers.n), "e": _b64(numbers.e)}


def jwks_document(keys: Iterable[SigningKey]) -> dict[str, Any]:
    """The JWKS served at the jwks_uri."""
    return {"keys": [k.public_jwk() for k in keys]}


def keys_from_jwks(doc: Mapping[str, Any]) -> dict[str, Any]:
    """kid -> public key of every RS256-usable key in a JWKS document; raise ValueError when there is none."""
    try:
        found = jwt.PyJWKSet.from_dict(dict(doc))
    except jwt.PyJWTError as e:
        raise ValueError(f"not a usable JWKS: {e}") from None
    keys = {k.key_id or "": k.key for k in found.keys
            if k.key_type == "RSA" and (k.public_key_use in (None, "sig"))}
    if not keys:
        raise ValueError("the JWKS has no RSA signing key")
    return keys


def issue_token(key: SigningKey, *, issuer: str, audience: str, client_id: str, roles: Sequence[str],
                roles_claim: str, ttl: int, now: float | None = None, cnf: str | None = None) -> str:
    """A signed access token for ``client_id`` carrying ``roles``; ``cnf``: an RFC 8705 certificate thumbprint."""
    iat = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": issuer, "aud": [audience], "sub": client_id, "azp": client_id, "client_id": client_id,
        "typ": "Bearer", "iat": iat, "nbf": iat, "exp": iat + ttl, "jti": str(uuid.uuid4()),
        "scope": " ".join(["openid", *(f"role:{r}" for r in roles)]),
        "preferred_username": f"service-account-{client_id}",
        roles_claim: list(roles),
    }
    if cnf is not None:
        claims["cnf"] = {"x5t#S256": cnf}
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "JWT"})


def _describe(e: jwt.PyJWTError) -> str:
    if isinstance(e, jwt.ExpiredSignatureError):
        return "the token has expired"
    if isinstance(e, jwt.InvalidAudienceError):
        return f"the token is not meant for this server (audience): {e}"
    if isinstance(e, jwt.InvalidIssuerError):
        return "the token was issued by another issuer"
    if isinstance(e, jwt.InvalidSignatureError):
        return "the token signature does not verify"
    if isinstance(e, jwt.MissingRequiredClaimError):
        return f"the token lacks a required claim: {e.claim}"
    return f"the token cannot be validated: {e}"


class Verifier:
    """Validates tokens against known keys, one issuer and one audience; remembers tokens it accepted."""

    def __init__(self, keys: Mapping[str, Any], *, issuer: str, audience: str, leeway: float = 0.0) -> None:
        self.keys = dict(keys)
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        # A valid token stays valid until it expires: signature, issuer and audience are checked once.
        self._accepted: dict[str, tuple[Mapping[str, Any], float]] = {}

    def kid_of(self, token: str) -> str:
        """The ``kid`` in the token header ("" when absent); TokenError when the header is unreadable."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("the token is not a well-formed JWT") from None
        return str(header.get("kid") or "")

    def verify(self, token: str) -> Mapping[str, Any]:
        """The claims of a valid token; TokenError naming what is wrong otherwise."""
        hit = self._accepted.get(token)
        if hit is not None:
            if hit[1] + self.leeway > time.time():
                return hit[0]
            del self._accepted[token]
            raise TokenError("the token has expired")
        kid = self.kid_of(token)
        key = self.keys.get(kid) if kid else (next(iter(self.keys.values())) if len(self.keys) == 1 else None)
        if key is None:
            raise TokenError("the token was signed by an unknown key")
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer,
                                leeway=self.leeway, options={"require": ["exp", "iat", "iss", "aud"]})
        except jwt.PyJWTError as e:
            raise TokenError(_describe(e)) from None
        if len(self._accepted) >= _CACHE_MAX:
            self._accepted.clear()
        self._accepted[token] = (claims, float(claims["exp"]))
        return claims
