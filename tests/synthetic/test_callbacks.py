"""Where notifications may go: the --notify-allow policy at subscription time and on every delivery (after DNS
resolution), and redirects that are never followed. Real servers on 127.0.0.1; the only stand-in is a DNS
answer, so that a name can resolve to a metadata or loopback address without a network."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from synth_helpers import ServerThread, make_app

from replayer.errors import UsageError
from replayer.server.config import serve_config
from replayer.synthetic.api import SyntheticO2IMS
from replayer.synthetic.callbacks import CallbackPolicy, default_policy, parse_notify_allow
from replayer.synthetic.notify import DeliveryPolicy, Notification, Notifier, Outbox

MON = "/o2ims-infrastructureMonitoring/v1"
INV = "/o2ims-infrastructureInventory/v1"
DEFAULT = CallbackPolicy()


@pytest.mark.parametrize(("url", "refused"), [
    ("http://127.0.0.1:8080/cb", None),
    ("http://[::1]/cb", None),
    ("http://localhost:9/cb", None),
    ("http://10.1.2.3/cb", None),
    ("http://172.20.0.5/cb", None),
    ("http://192.168.1.10/cb", None),
    ("http://[fd12::1]/cb", None),
    ("http://consumer.example/cb", None),  # a name: checked against what it resolves to, at delivery
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata address"),
    ("http://[fd00:ec2::254]/", "cloud metadata address"),
    ("http://100.100.100.200/", "cloud metadata address"),
    ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata name"),
    ("http://169.254.10.1/cb", "link-local"),
    ("http://[fe80::1]/cb", "link-local"),
    ("http://[::ffff:169.254.169.254]/", "cloud metadata address"),  # IPv4-mapped IPv6
    ("http://0.0.0.0:8080/cb", "not a unicast address"),
    ("http://8.8.8.8/cb", "outside --notify-allow (loopback, private)"),
    ("http://[2001:db8::1]/cb", "outside --notify-allow"),
    ("ftp://127.0.0.1/cb", "expected an absolute http(s) URL"),
    ("http://127.0.0.1:99999/cb", "not a valid URL"),
])
def test_callback_urls_default_policy_loopback_and_private(url: str, refused: str | None) -> None:
    reason = DEFAULT.refuse_url(url)
    assert (reason is None) if refused is None else (reason is not None and refused in reason), reason


@pytest.mark.parametrize(("entries", "url", "allowed"), [
    (["any"], "http://8.8.8.8/cb", True),
    (["any"], "http://169.254.169.254/", False),  # 'any' never opens metadata or link-local
    (["any"], "http://[fe80::1]/cb", False),
    (["loopback"], "http://10.0.0.1/cb", False),
    (["loopback,10.20.0.0/16"], "http://10.20.3.4/cb", True),
    (["203.0.113.7"], "http://203.0.113.7/cb", True),
    (["203.0.113.7"], "http://203.0.113.8/cb", False),
    (["*.lab.example"], "http://consumer.lab.example/cb", True),
    (["169.254.0.0/16"], "http://169.254.1.1/cb", False),  # an entry cannot allow link-local
])
def test_notify_allow_entries(entries: list[str], url: str, allowed: bool) -> None:
    assert (parse_notify_allow(entries).refuse_url(url) is None) is allowed


def test_notify_allow_names_allow_any_address_but_the_always_refused() -> None:
    policy = parse_notify_allow(["consumer.lab"])
    assert policy.refuse_resolved("consumer.lab", ["203.0.113.9"]) is None
    assert "cloud metadata" in (policy.refuse_resolved("consumer.lab", ["169.254.169.254"]) or "")
    assert policy.refuse_resolved("other.lab", ["203.0.113.9"]) is not None
    mixed = parse_notify_allow(["private"])
    assert mixed.refuse_resolved("mixed.lab", ["169.254.169.254", "10.0.0.1"]) is None  # one allowed address
    assert mixed.refuse_resolved("gone.lab", []) == "gone.lab did not resolve"


@pytest.mark.parametrize("entry", ["", "10.0.0.0/33", "http://x", "a b"])
def test_notify_allow_bad_entry_is_a_clear_usage_error(entry: str) -> None:
    with pytest.raises(UsageError, match=r"^--notify-allow: "):
        serve_config({"notify_allow": [entry]})


def test_notify_allow_from_the_config_file_names_the_key(tmp_path: Any) -> None:
    with pytest.raises(UsageError, match=r"replay\.notify_allow: .*'nope!' is not a host name"):
        serve_config({}, {"notify_allow": ["nope!"]}, config_path=tmp_path / ".o2replay.yaml")
    cfg = serve_config({}, {"notify_allow": "loopback"}, config_path=tmp_path / ".o2replay.yaml")
    assert cfg.callbacks is not None and cfg.callbacks.refuse_url("http://10.0.0.1/") is not None


def test_loopback_only_environment_variable_still_works() -> None:
    policy = default_policy({"O2REPLAY_NOTIFY_LOOPBACK_ONLY": "1"})
    assert policy.refuse_url("http://127.0.0.1/cb") is None and policy.refuse_url("http://localhost/cb") is None
    assert "is not resolved" in (policy.refuse_url("http://consumer.example/cb") or "")
    assert default_policy({}) == CallbackPolicy()


# ------------------------------------------------------------------------------- subscriptions over HTTP


@pytest.fixture
def default_server() -> Iterator[ServerThread]:
    """The synthetic O2IMS with the default policy (loopback and private), whatever the environment says."""
    srv = ServerThread(make_app(SyntheticO2IMS(callbacks=CallbackPolicy()))).start()
    yield srv
    srv.stop()


@pytest.mark.parametrize(("path", "callback", "reason"), [
    (f"{MON}/alarmSubscriptions", "http://169.254.169.254/latest/meta-data/", "cloud metadata address"),
    (f"{INV}/subscriptions", "http://[fe80::1%25eth0]:8080/cb", "link-local"),
    (f"{INV}/subscriptions", "http://metadata.google.internal/", "cloud metadata name"),
    (f"{INV}/subscriptions", "http://8.8.8.8/cb", "outside"),
])
def test_subscription_to_a_refused_callback_is_400_problem_details(default_server: ServerThread, path: str,
                                                                    callback: str, reason: str) -> None:
    r = requests.post(f"{default_server.url}{path}", json={"callback": callback}, timeout=5)
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json()["detail"].startswith("callback: refused: ") and reason in r.json()["detail"]
    assert requests.get(f"{default_server.url}{path}", timeout=5).json() == []


def test_subscription_to_a_private_callback_is_accepted(default_server: ServerThread) -> None:
    r = requests.post(f"{default_server.url}{INV}/subscriptions", json={"callback": "http://10.9.8.7:9/cb"}, timeout=5)
    assert r.status_code == 201, r.text


# ------------------------------------------------------------------------------- delivery


class Hits:
    """A real callback server on 127.0.0.1 that counts POSTs and answers with ``status`` (and ``location``)."""

    def __init__(self, status: int = 204, location: str = "", body: bytes = b"") -> None:
        self.calls = 0
        self.status, self.location, self.body = status, location, body
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.server = ServerThread(app).start()

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        headers = {"Location": self.location} if self.location else {}
        return web.Response(status=self.status, headers=headers, body=self.body)


class FixedDNS(AbstractResolver):
    """A DNS answering every name with one address (a stand-in for the network's DNS, not for our code)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.asked.append(host)
        return [{"hostname": host, "host": self.address, "port": port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        return None


def _deliver(callback: str, policy: CallbackPolicy, dns: AbstractResolver | None = None) -> dict[str, Any]:
    """Deliver one notification through a real Notifier and return its admin log record."""
    async def run() -> dict[str, Any]:
        outbox = Outbox()
        notifier = Notifier(outbox, DeliveryPolicy(attempts=3, backoff=0.01, timeout=5, callbacks=policy),
                            tick_interval=0.05, resolver=dns)
        async with notifier:
            outbox.put([Notification("default", "sub-1", "infrastructureInventory", callback, "n-1", "test",
                                     b'{"notificationId":"n-1"}')])
            assert await notifier.wait_settled(10, minimum=1)
            return notifier.records()[0]
    return asyncio.run(run())


def test_redirect_is_never_followed_and_is_a_failed_delivery() -> None:
    target = Hits(200, body=b"secret answer of the redirect target")
    redirector = Hits(307, location=f"{target.server.url}/steal")
    try:
        record = _deliver(f"{redirector.server.url}/cb", CallbackPolicy())
    finally:
        target.server.stop()
        redirector.server.stop()
    assert record["state"] == "failed"
    assert len(record["attempts"]) == 1 and record["attempts"][0]["status"] == 307  # not retried
    assert "redirect not followed" in record["attempts"][0]["error"]
    assert redirector.calls == 1 and target.calls == 0
    assert "secret answer" not in str(record)


def test_delivery_checks_the_address_after_dns_resolution_metadata_refused() -> None:
    dns = FixedDNS("169.254.169.254")
    record = _deliver("http://rebind.test:8080/cb", parse_notify_allow(["any"]), dns)
    assert dns.asked == ["rebind.test"]
    assert record["state"] == "blocked"
    assert "cloud metadata address" in record["attempts"][0]["error"]


def test_delivery_checks_the_address_after_dns_resolution_loopback_outside_policy() -> None:
    hits = Hits(204)
    try:
        refused = _deliver(f"http://rebind.test:{hits.server.port}/cb", parse_notify_allow(["private"]),
                           FixedDNS("127.0.0.1"))
        allowed = _deliver(f"http://rebind.test:{hits.server.port}/cb", parse_notify_allow(["loopback"]),
                           FixedDNS("127.0.0.1"))
    finally:
        hits.server.stop()
    assert refused["state"] == "blocked" and "127.0.0.1 is outside" in refused["attempts"][0]["error"]
    assert allowed["state"] == "delivered"
    assert hits.calls == 1  # only the allowed delivery connected


def test_delivery_rechecks_a_literal_callback_subscribed_under_another_policy() -> None:
    record = _deliver("http://169.254.169.254/latest/meta-data/", CallbackPolicy())
    assert record["state"] == "blocked" and record["attempts"][0]["attempt"] == 0


def test_notify_allow_from_the_environment() -> None:
    from replayer.cli import build_parser
    from replayer.commands import serve
    from replayer.environment import apply_environment

    parser = build_parser()
    args = parser.parse_args(["serve"])
    args.env_origins = apply_environment(parser, args, {"O2REPLAY_NOTIFY_ALLOW": "loopback,10.20.0.0/16"})
    policy = serve.settings(args).callbacks
    assert policy is not None
    assert policy.refuse_url("http://10.20.1.1/cb") is None and policy.refuse_url("http://192.168.1.1/cb")
