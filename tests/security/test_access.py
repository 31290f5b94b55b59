"""The access decision: roles from each operation's ``security`` in the vendored definitions, RFC 6750 answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from replayer.o2ims.spec import bundled_specs
from replayer.security.access import OAuthPolicy, RoleTable, StaticTokens, bearer_token
from replayer.security.tokens import TokenError

INV = "/o2ims-infrastructureInventory/v1"
MON = "/o2ims-infrastructureMonitoring/v1"
PROV = "/o2ims-infrastructureProvisioning/v1"
CLU = "/o2ims-infrastructureCluster/v1"
ART = "/o2ims-infrastructureArtifacts/v1"


@pytest.fixture(scope="module")
def roles() -> RoleTable:
    return RoleTable(bundled_specs())


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("GET", INV, ("o2ims-admin", "o2ims-reader")),
    ("HEAD", f"{INV}/resourcePools", ("o2ims-admin", "o2ims-reader")),
    ("POST", f"{INV}/subscriptions", ("o2ims-admin", "o2ims-subscriber")),
    ("GET", "/o2ims-infrastructureInventory/v2/deploymentManagers", ("o2ims-admin", "o2ims-deployer")),
    ("GET", f"{MON}/alarms", ("o2ims-admin", "o2ims-reader")),
    ("PATCH", f"{MON}/alarms/a1", ("o2ims-admin", "o2ims-maintainer")),
    ("POST", f"{PROV}/provisioningRequests", ("o2ims-admin", "o2ims-provisioner")),
    ("GET", f"{CLU}/nodeClusters", ("o2ims-admin", "o2ims-reader")),
    ("GET", f"{ART}/managedInfrastructureTemplates", ("o2ims-admin", "o2ims-reader", "o2ims-provisioner")),
    ("GET", "/o2ims_infrastructureInventory/v1/resourcePools", ("o2ims-admin", "o2ims-reader")),  # legacy path
    ("GET", "/not/an/o2ims/path", None),
])
def test_required_roles_come_from_the_operation_security(roles: RoleTable, method: str, path: str,
                                                         expected: tuple[str, ...] | None) -> None:
    assert roles.required(method, path) == expected


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer", None), (None, None), ("", None),
])
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def _policy(roles: RoleTable, claims: Mapping[str, Any] | Exception) -> OAuthPolicy:
    def verify(token: str) -> Mapping[str, Any]:
        if isinstance(claims, Exception):
            raise claims
        return claims

    return OAuthPolicy(verify, roles)


def test_no_token_is_a_401_challenge_without_an_error_code(roles: RoleTable) -> None:
    d = _policy(roles, {}).decide("GET", INV, None)
    assert d.status == 401 and d.www_authenticate == 'Bearer realm="o2ims"'


def test_a_bad_token_is_a_401_invalid_token_with_the_reason(roles: RoleTable) -> None:
    d = _policy(roles, TokenError('the token has "expired"')).decide("GET", INV, "Bearer x")
    assert d.status == 401
    assert d.www_authenticate == ('Bearer realm="o2ims", error="invalid_token", '
                                  'error_description="the token has \'expired\'"')


def test_a_missing_role_is_a_403_naming_the_roles(roles: RoleTable) -> None:
    d = _policy(roles, {"roles": ["o2ims-subscriber"], "client_id": "smo"}).decide("GET", f"{MON}/alarms", "Bearer x")
    assert d.status == 403
    assert d.required == ("o2ims-admin", "o2ims-reader") and d.granted == ("o2ims-subscriber",)
    assert "needs one of the roles o2ims-admin, o2ims-reader; the token has o2ims-subscriber" in d.detail
    assert 'error="insufficient_scope"' in d.www_authenticate and "role:o2ims-reader" in d.www_authenticate


def test_any_one_listed_role_is_enough_and_unknown_paths_need_only_a_token(roles: RoleTable) -> None:
    policy = _policy(roles, {"roles": ["o2ims-reader"], "preferred_username": "service-account-smo"})
    d = policy.decide("GET", f"{INV}/resourcePools", "Bearer x")
    assert d.allowed and d.principal == "service-account-smo"
    assert policy.decide("GET", "/somewhere/else", "Bearer x").allowed
    assert _policy(roles, {"roles": "o2ims-reader"}).decide("GET", INV, "Bearer x").status == 403  # not a list


def test_the_roles_claim_is_configurable(roles: RoleTable) -> None:
    claims = {"resource_access.o2ims-client.roles": ["o2ims-reader"]}  # the sample token's flat claim
    policy = OAuthPolicy(lambda t: claims, roles, "resource_access.o2ims-client.roles")
    assert policy.decide("GET", INV, "Bearer x").allowed
    assert _policy(roles, claims).decide("GET", INV, "Bearer x").status == 403


def test_a_certificate_bound_token_needs_that_certificate(roles: RoleTable) -> None:
    policy = _policy(roles, {"roles": ["o2ims-admin"], "cnf": {"x5t#S256": "thumb-a"}})
    assert policy.decide("GET", INV, "Bearer x", "thumb-a").allowed
    for other in ("thumb-b", None):
        d = policy.decide("GET", INV, "Bearer x", other)
        assert d.status == 401 and "bound to another client certificate" in d.detail


def test_static_tokens() -> None:
    static = StaticTokens(frozenset({"t0ken"}))
    assert static.decide("GET", INV, "Bearer t0ken").allowed
    assert static.decide("GET", INV, "Bearer nope").status == 401
    assert 'error="invalid_token"' in static.decide("GET", INV, "Bearer nope").www_authenticate
    assert static.decide("GET", INV, None).www_authenticate == 'Bearer realm="o2ims"'
