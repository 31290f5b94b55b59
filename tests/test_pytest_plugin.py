"""The pytest plugin: a sample consumer test suite run with ``pytester`` against real cassettes (issue 3, §9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from replayer.cassettes.model import Cassette
from replayer.cassettes.yaml import dump_cassette
from tests.server.conftest import INV, POOLS, PROV, interaction

pytest_plugins = ["pytester"]

CONSUMER_TESTS = '''
import pytest
import requests

INV = "/o2ims-infrastructureInventory/v1"
PROV = "/o2ims-infrastructureProvisioning/v1"


@pytest.mark.o2ims_cassette("recorded/inventory.yaml", strict=True)
def test_lists_pools(o2ims_server):
    r = requests.get(o2ims_server + INV + "/resourcePools", timeout=5)
    assert r.headers["X-Replay-Source"] == "cassette"
    assert [p["name"] for p in r.json()] == ["edge1-compute", "edge2-compute", "edge3-storage"]


@pytest.mark.o2ims_cassette("recorded", strict=True)
def test_filter_is_derived(o2ims_server):
    r = requests.get(o2ims_server + INV + "/resourcePools?filter=(eq,location,edge2)", timeout=5)
    assert r.headers["X-Replay-Source"] == "derived"
    assert [p["resourcePoolId"] for p in r.json()] == ["p2"]


@pytest.mark.o2ims_cassette("recorded", strict=True)
@pytest.mark.parametrize("round", [1, 2])
def test_sequence_starts_over_in_every_test(o2ims_server, round):
    phases = [requests.get(o2ims_server + PROV + "/provisioningRequests/pr1", timeout=5).json()["phase"]
              for _ in range(2)]
    assert phases == ["PENDING", "FULFILLED"]


@pytest.mark.o2ims_cassette("recorded", strict=True)
def test_strict_miss(o2ims_server):
    assert requests.get(o2ims_server + INV + "/nothing", timeout=5).status_code == 404


def test_ini_option_when_no_marker(o2ims_server):
    assert requests.get(o2ims_server + PROV + "/provisioningRequests/pr1", timeout=5).status_code == 200
'''


@pytest.fixture
def consumer(pytester: pytest.Pytester) -> pytest.Pytester:
    recorded = pytester.path / "recorded"
    recorded.mkdir()
    (recorded / "inventory.yaml").write_text(dump_cassette(Cassette((
        interaction("GET", f"{INV}/resourcePools", body=POOLS),))))
    (recorded / "provisioning.yaml").write_text(dump_cassette(Cassette((
        interaction("GET", f"{PROV}/provisioningRequests/pr1", body={"phase": "PENDING"}),
        interaction("GET", f"{PROV}/provisioningRequests/pr1", body={"phase": "FULFILLED"})))))
    pytester.makeini("[pytest]\no2ims_cassettes = recorded/provisioning.yaml\n"
                     "filterwarnings =\n    error\n    ignore::DeprecationWarning:schemathesis.*\n")
    pytester.makepyfile(test_consumer=CONSUMER_TESTS)
    return pytester


def test_sample_consumer_suite_passes(consumer: pytest.Pytester) -> None:
    result = consumer.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)


def test_marker_is_registered(consumer: pytest.Pytester) -> None:
    result = consumer.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["*o2ims_cassette(*paths, **settings)*"])


def test_missing_cassette_fails_the_test_with_the_file_named(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_missing='''
import pytest

@pytest.mark.o2ims_cassette("nope/absent.yaml")
def test_x(o2ims_server):
    pass
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*absent.yaml: no such file or directory*"])


def test_plugin_module_is_the_declared_entry_point() -> None:
    from importlib.metadata import entry_points

    eps = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert eps.get("o2ims_replay") == "replayer.pytest_plugin"
    assert Path(__import__("replayer.pytest_plugin").pytest_plugin.__file__).name == "pytest_plugin.py"


def test_project_config_is_the_fallback(pytester: pytest.Pytester) -> None:
    (pytester.path / "recorded").mkdir()
    (pytester.path / "recorded" / "pr.yaml").write_text(dump_cassette(Cassette((
        interaction("GET", f"{PROV}/provisioningRequests/pr1", body={"phase": "PENDING"}),))))
    (pytester.path / ".o2replay.yaml").write_text("replay:\n  cassettes: [recorded]\n  strict: true\n")
    pytester.makepyfile(test_cfg=f'''
import requests

def test_from_config(o2ims_server):
    assert requests.get(o2ims_server + "{PROV}/provisioningRequests/pr1", timeout=5).json() == {{"phase": "PENDING"}}
    assert requests.get(o2ims_server + "{PROV}/nothing", timeout=5).headers["X-Replay-Source"] == "miss"
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_https_mutual_tls_and_oauth2_from_the_marker_and_the_config_file(pytester: pytest.Pytester) -> None:
    (pytester.path / "recorded").mkdir()
    (pytester.path / "recorded" / "inv.yaml").write_text(dump_cassette(Cassette((
        interaction("GET", f"{INV}/resourcePools", body=POOLS),))))
    (pytester.path / ".o2replay.yaml").write_text("replay:\n  cassettes: [recorded]\n  tls: auto\n")
    pytester.makepyfile(test_secure=f'''
import pytest
import requests

URL = "{INV}/resourcePools"


def test_https_from_the_config_file(o2ims_server, o2ims_ca):
    assert o2ims_server.startswith("https://")
    assert requests.get(o2ims_server + URL, verify=o2ims_ca, timeout=5).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(o2ims_server + URL, timeout=5)


@pytest.mark.o2ims_cassette("recorded", auth="oauth2")
def test_oauth2_roles(o2ims_server, o2ims_ca, o2ims_replay):
    assert requests.get(o2ims_server + URL, verify=o2ims_ca, timeout=5).status_code == 401
    reader = {{"Authorization": "Bearer " + o2ims_replay.token("o2ims-reader")}}
    assert requests.get(o2ims_server + URL, verify=o2ims_ca, headers=reader, timeout=5).status_code == 200
    other = {{"Authorization": "Bearer " + o2ims_replay.token("o2ims-subscriber")}}
    assert requests.get(o2ims_server + URL, verify=o2ims_ca, headers=other, timeout=5).status_code == 403


@pytest.mark.o2ims_cassette("recorded", tls="off")
def test_plain_http_asks_for_no_ca(o2ims_server):
    assert o2ims_server.startswith("http://")


@pytest.mark.o2ims_cassette("recorded", tls_client_ca="auto", auth="oauth2")
def test_mutual_tls(o2ims_server, o2ims_ca, o2ims_replay):
    cert = o2ims_replay.client_cert("consumer")
    token = o2ims_replay.token("o2ims-reader", cert=cert)
    r = requests.get(o2ims_server + URL, verify=o2ims_ca, cert=cert, headers={{"Authorization": "Bearer " + token}},
                     timeout=5)
    assert r.status_code == 200
    with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
        requests.get(o2ims_server + URL, verify=o2ims_ca, timeout=5)
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
