"""``ignore_body`` on a real server: a POST carrying a fresh random consumerSubscriptionId replays the recorded
answer; a real difference is still a miss whose nearest recorded request names the rule that applied."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import requests

from replayer.matching import BodyIgnore, MatchOn
from replayer.server.embedded import EmbeddedServer
from tests.server.conftest import INV, interaction

Serve = Callable[..., EmbeddedServer]
RECORDED = {"callback": "http://smo/notify", "consumerSubscriptionId": "3f0c-recorded", "filter": "(eq,name,x)"}


def test_a_random_subscription_id_replays_the_recording(serve: Serve) -> None:
    on = MatchOn(ignore_body=(BodyIgnore.parse("POST */subscriptions body.consumerSubscriptionId"),))
    server = serve({"subs.yaml": [interaction("POST", f"{INV}/subscriptions", 201,
                                              req_body=json.dumps(RECORDED).encode(),
                                              body={"subscriptionId": "s-1", **RECORDED})]}, match_on=on)
    for _ in range(3):
        sent = {**RECORDED, "consumerSubscriptionId": str(uuid.uuid4())}
        r = requests.post(f"{server.url}{INV}/subscriptions", json=sent, timeout=5)
        assert r.status_code == 201 and r.headers["X-Replay-Source"] == "cassette"
        assert r.json()["subscriptionId"] == "s-1"
    other = {**RECORDED, "consumerSubscriptionId": "x", "filter": "(eq,name,y)"}
    miss = requests.post(f"{server.url}{INV}/subscriptions", json=other, timeout=5)
    assert miss.status_code == 404
    nearest = miss.json()["nearest"][0]
    assert nearest["differences"] == ['body field filter: "(eq,name,y)", recorded "(eq,name,x)"']
    assert nearest["ignored"] == ["POST */subscriptions body.consumerSubscriptionId"]
    logged = requests.get(f"{server.url}/__admin/near-misses", timeout=5).json()
    assert logged[-1]["nearest"][0]["ignored"] == nearest["ignored"]


def test_without_the_rule_the_same_post_is_a_miss(serve: Serve) -> None:
    server = serve({"subs.yaml": [interaction("POST", f"{INV}/subscriptions", 201,
                                              req_body=json.dumps(RECORDED).encode(), body={})]})
    sent = {**RECORDED, "consumerSubscriptionId": str(uuid.uuid4())}
    r = requests.post(f"{server.url}{INV}/subscriptions", json=sent, timeout=5)
    assert r.status_code == 404
    assert r.json()["nearest"][0]["differences"][0].startswith("body field consumerSubscriptionId:")
    assert "ignored" not in r.json()["nearest"][0]
