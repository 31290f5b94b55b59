"""JWTs: issued with the claims openshift-kni expects, validated for signature, expiry, issuer and audience."""

from __future__ import annotations

import time

import jwt
import pytest

from cryptography.hazmat.primitives.asymmetric import rsa

from replayer.security.tokens import (SigningKey, TokenError, Verifier, issue_token, jwk_thumbprint, jwks_document,
                                      keys_from_jwks)

ISS = "https://o2ims.test"
AUD = "o2ims-client"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


def _token(key: SigningKey, **over: object) -> str:
    args: dict[str, object] = {"issuer": ISS, "audience": AUD, "client_id": "smo-client",
                               "roles": ("o2ims-reader",), "roles_claim": "roles", "ttl": 300}
    args.update(over)
    return issue_token(key, **args)  # type: ignore[arg-type]


def test_token_carries_the_claims_of_the_openshift_kni_sample(key: SigningKey) -> None:
    token = _token(key, roles=("o2ims-reader", "o2ims-subscriber"), cnf="abc")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    claims = Verifier({key.kid: key.private.public_key()}, issuer=ISS, audience=AUD).verify(token)
    assert claims["aud"] == [AUD] and claims["iss"] == ISS and claims["azp"] == "smo-client"
    assert claims["roles"] == ["o2ims-reader", "o2ims-subscriber"]
    assert claims["scope"] == "openid role:o2ims-reader role:o2ims-subscriber"
    assert claims["preferred_username"] == "service-account-smo-client"
    assert claims["exp"] - claims["iat"] == 300
    assert claims["cnf"] == {"x5t#S256": "abc"}


@pytest.mark.parametrize(("over", "verifier_args", "message"), [
    ({"now": time.time() - 3600}, {}, "the token has expired"),
    ({"audience": "someone-else"}, {}, "not meant for this server"),
    ({"issuer": "https://elsewhere"}, {}, "issued by another issuer"),
    ({}, {"audience": "other-server"}, "not meant for this server"),
])
def test_bad_tokens_are_refused_with_a_reason(key: SigningKey, over: dict[str, object],
                                              verifier_args: dict[str, str], message: str) -> None:
    args = {"issuer": ISS, "audience": AUD, **verifier_args}
    verifier = Verifier({key.kid: key.private.public_key()}, **args)  # type: ignore[arg-type]
    with pytest.raises(TokenError, match=message):
        verifier.verify(_token(key, **over))


def test_a_token_signed_by_another_key_under_the_same_kid_is_refused(key: SigningKey) -> None:
    other = SigningKey.generate()
    forged = SigningKey(other.private, key.kid)
    verifier = Verifier({key.kid: key.private.public_key()}, issuer=ISS, audience=AUD)
    with pytest.raises(TokenError, match="signature does not verify"):
        verifier.verify(_token(forged))
    with pytest.raises(TokenError, match="unknown key"):
        verifier.verify(_token(other))
    with pytest.raises(TokenError, match="not a well-formed JWT"):
        verifier.verify("not-a-jwt")


def test_unsigned_and_hs256_tokens_are_refused(key: SigningKey) -> None:
    claims = {"iss": ISS, "aud": AUD, "exp": int(time.time()) + 60, "iat": int(time.time())}
    verifier = Verifier({key.kid: key.private.public_key()}, issuer=ISS, audience=AUD)
    none_alg = jwt.encode(claims, None, algorithm="none", headers={"kid": key.kid})
    with pytest.raises(TokenError):
        verifier.verify(none_alg)


def test_jwks_round_trip_and_kid_is_the_rfc7638_thumbprint(key: SigningKey) -> None:
    doc = jwks_document([key])
    assert doc["keys"][0]["kid"] == key.kid and doc["keys"][0]["alg"] == "RS256" and "d" not in doc["keys"][0]
    keys = keys_from_jwks(doc)
    assert Verifier(keys, issuer=ISS, audience=AUD).verify(_token(key))["sub"] == "smo-client"
    # RFC 7638 3.1: the thumbprint of the RFC 7517 A.1 key
    n = int.from_bytes(jwt.utils.base64url_decode(
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3o"
        "knjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHz"
        "u6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8"
        "awapJzKnqDKgw"), "big")
    assert jwk_thumbprint(rsa.RSAPublicNumbers(65537, n).public_key()) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_a_jwks_without_rsa_signing_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="no RSA signing key|not a usable JWKS"):
        keys_from_jwks({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x"}]})
    with pytest.raises(ValueError, match="not a usable JWKS"):
        keys_from_jwks({"nokeys": []})


def test_pem_round_trip_keeps_the_kid(key: SigningKey) -> None:
    assert SigningKey.from_pem(key.pem()).kid == key.kid
    with pytest.raises(ValueError):
        SigningKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
