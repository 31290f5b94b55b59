"""Regenerate ``cassettes/reference/``: record the synthetic O2IMS through the recording addon.

    make cassettes                      # or: python scripts/make_reference_cassettes.py cassettes/reference

Starts ``o2replay serve`` (no cassettes, synthetic on), then for each endpoint group a real ``mitmdump`` with
``addons/o2ims_recorder.py`` in reverse mode in front of it, and drives a scripted consumer session through
the proxy: every GET route of the O2IMS definitions (collections, one element of each, singletons), a few
queries (filter, fields, paging), subscriptions, alarm acknowledgement, the provisioning lifecycle, and a
notification recorded by a second proxy in front of a consumer's callback listener.

Fixed loopback ports (override with O2REPLAY_REF_PORT_BASE) keep the recorded URIs, and so the files,
identical from one regeneration to the next.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from replayer.o2ims.routes import ROUTES, RouteKind, identity_value  # noqa: E402

BASE = int(os.environ.get("O2REPLAY_REF_PORT_BASE", "38600"))
SERVER_PORT, PROXY_PORT, CALLBACK_PORT, CALLBACK_PROXY_PORT = BASE, BASE + 1, BASE + 2, BASE + 3
BIN = Path(sys.executable).parent
SESSION = {"X-Replay-Session": "reference"}
DEADLINE_S = 30.0

#: cassette name -> the API prefixes recorded in it
GROUPS: dict[str, tuple[str, ...]] = {
    "inventory-v1": ("/o2ims-infrastructureInventory/api_versions", "/o2ims-infrastructureInventory/v1"),
    "inventory-v2": ("/o2ims-infrastructureInventory/v2",),
    "monitoring": ("/o2ims-infrastructureMonitoring",),
    "cluster": ("/o2ims-infrastructureCluster",),
    "artifacts": ("/o2ims-infrastructureArtifacts",),
    "provisioning": ("/o2ims-infrastructureProvisioning",),
}


def wait_until(check: Callable[[], bool], what: str, timeout: float = DEADLINE_S) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise SystemExit(f"make_reference_cassettes: timed out waiting for {what}")


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One request; returns (status, parsed JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    hdrs = {"Accept": "application/json", **SESSION, **(headers or {})}
    if data is not None:
        ctype = "application/merge-patch+json" if method == "PATCH" else "application/json"
        hdrs["Content-Type"] = ctype
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as e:
        raw, status = e.read(), e.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port (no HTTP: it would be recorded)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def process(args: list[str], ready: Callable[[], bool], what: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run a child until the block ends; SIGINT then wait, so a recorder writes its final flush."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: proc.poll() is None and ready(), what)
        yield proc
    except BaseException:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace")[-4000:])
        raise
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def recorder(target_port: int, listen_port: int, cassette: Path) -> Any:
    """A mitmdump recording everything to ``cassette`` in reverse mode in front of ``target_port``."""
    args = [
        str(BIN / "mitmdump"), "-q", "-s", str(ROOT / "addons" / "o2ims_recorder.py"),
        "--mode", f"reverse:http://127.0.0.1:{target_port}", "--listen-host", "127.0.0.1",
        "--listen-port", str(listen_port), "--set", "connection_strategy=lazy",
        "--set", f"cassette={cassette}", "--set", "record_mode=once",
        "--set", f"redact_rules={ROOT / 'scripts' / 'reference-redact-rules.yaml'}",
    ]
    return process(args, lambda: port_open(listen_port), f"mitmdump on port {listen_port}")


def element_id(route_template: str, item: dict[str, Any]) -> str | None:
    """The id of a collection element as its item path wants it."""
    item_route = next((r for r in ROUTES if r.collection_template == route_template), None)
    if item_route is None or not item_route.identity_key:
        return None
    value = identity_value(item, item_route.identity_key)
    return None if value is None else str(value)


def walk_gets(base: str, prefixes: tuple[str, ...]) -> None:
    """GET every collection, its first element and every singleton under the prefixes, in route order."""
    fills: dict[str, str] = {}
    for route in ROUTES:
        if "GET" not in route.methods or not route.template.startswith(prefixes):
            continue
        path = route.template
        for name, value in fills.items():
            path = path.replace("{" + name + "}", value)
        if "{" in path:
            continue
        status, body = http("GET", base + path)
        if route.kind is RouteKind.COLLECTION and status == 200 and isinstance(body, list) and body:
            item_route = next((r for r in ROUTES if r.collection_template == route.template), None)
            ident = element_id(route.template, body[0])
            if item_route is not None and item_route.id_param and ident:
                fills.setdefault(item_route.id_param, ident)


def queries(base: str) -> None:
    """A few O2IMS queries: filter, fields, exclude_default, paging."""
    pools = base + "/o2ims-infrastructureInventory/v1/resourcePools"
    http("GET", pools + "?filter=(cont,name,EDGE1)")
    http("GET", pools + "?fields=name,resourcePoolId")
    http("GET", pools + "?exclude_default=true")
    http("GET", pools + "?filter=(eq,name,does-not-exist)")
    http("GET", pools + "?filter=(bogus")  # 400 ProblemDetails


def subscription_cycle(path: str, id_key: str, n: int) -> Callable[[str], None]:
    """A step that creates a subscription, lists it, reads it and deletes it."""

    def step(base: str) -> None:
        url = base + path
        status, body = http("POST", url, {"callback": f"http://127.0.0.1:9/events/{n}",
                                          "consumerSubscriptionId": f"3f1e0c6a-{n:04d}-4b7e-9d7c-00000000000{n}"})
        if status == 201 and isinstance(body, dict):
            http("GET", url)
            http("GET", f"{url}/{body[id_key]}")
            http("DELETE", f"{url}/{body[id_key]}")

    return step


def monitoring(base: str) -> None:
    """Alarms: acknowledge one; service configuration: patch it; alarm subscriptions."""
    mon = base + "/o2ims-infrastructureMonitoring/v1"
    status, alarms = http("GET", mon + "/alarms")
    if status == 200 and alarms:
        alarm_id = alarms[0]["alarmEventRecordId"]
        http("PATCH", f"{mon}/alarms/{alarm_id}", {"alarmAcknowledged": True})
        http("GET", f"{mon}/alarms/{alarm_id}")
    http("PATCH", mon + "/alarmServiceConfiguration", {"retentionPeriod": 30})


def provisioning(base: str) -> None:
    """The provisioning lifecycle: create, poll until FULFILLED, delete, poll until gone."""
    art = base + "/o2ims-infrastructureArtifacts/v1/managedInfrastructureTemplates"
    _, templates = http("GET", art)
    good = next(t for t in templates or [] if (t.get("characteristics") or {}).get("failing") != "true")
    prs = base + "/o2ims-infrastructureProvisioning/v1/provisioningRequests"
    pr_id = "6ba7b810-9dad-41d1-80b4-00c04fd430c8"
    body = {"provisioningRequestId": pr_id, "name": "intent-edge1-upf", "description": "UPF on edge1",
            "templateName": good["name"], "templateVersion": good["version"],
            "templateParameters": {"nodeClusterName": "edge1-upf", "oCloudSiteId": "edge1"}}
    http("POST", prs, body)
    for _ in range(20):
        status, pr = http("GET", f"{prs}/{pr_id}")
        phase = (pr or {}).get("status", {}).get("provisioningPhase") if status == 200 else None
        if phase in ("FULFILLED", "FAILED"):
            break
    http("GET", prs)
    http("DELETE", f"{prs}/{pr_id}")
    for _ in range(20):
        status, _ = http("GET", f"{prs}/{pr_id}")
        if status == 404:
            break


class _Callback(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length", "0"))
        _Callback.received.append(self.rfile.read(length))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def notifications(out: Path) -> None:
    """Record an alarm notification the synthetic O2IMS POSTs to a consumer's callback (through a proxy)."""
    server = ThreadingHTTPServer(("127.0.0.1", CALLBACK_PORT), _Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with recorder(CALLBACK_PORT, CALLBACK_PROXY_PORT, out / "notifications.yaml"):
            mon = f"http://127.0.0.1:{SERVER_PORT}/o2ims-infrastructureMonitoring/v1"
            http("POST", mon + "/alarmSubscriptions",
                 {"callback": f"http://127.0.0.1:{CALLBACK_PROXY_PORT}/consumer/alarms",
                  "consumerSubscriptionId": "3f1e0c6a-0005-4b7e-9d7c-000000000005"})
            http("POST", f"http://127.0.0.1:{SERVER_PORT}/__admin/synthetic/alarms",
                 {"site": "edge1", "resource": "node-1", "definition": "NodeHighTemperature", "severity": 1})
            wait_until(lambda: bool(_Callback.received), "the alarm notification")
    finally:
        server.shutdown()


def main(argv: list[str]) -> int:
    """Regenerate every reference cassette into the folder given (default cassettes/reference)."""
    final = Path(argv[0] if argv else ROOT / "cassettes" / "reference").resolve()
    # Record into a scratch folder and move into place only when every group succeeded.
    out = Path(tempfile.mkdtemp(prefix="o2replay-ref-out-"))
    empty = Path(tempfile.mkdtemp(prefix="o2replay-ref-"))
    serve = [str(BIN / "o2replay"), "serve", str(empty), "--host", "127.0.0.1", "--port", str(SERVER_PORT),
             "--synthetic", "on", "--no-cache", "--run-id", "reference"]  # fixed ids: byte-identical files
    proxied = f"http://127.0.0.1:{PROXY_PORT}"
    scripts: dict[str, list[Callable[[str], None]]] = {
        "inventory-v1": [lambda b: walk_gets(b, GROUPS["inventory-v1"]), queries,
                         subscription_cycle("/o2ims-infrastructureInventory/v1/subscriptions", "subscriptionId", 1)],
        "inventory-v2": [lambda b: walk_gets(b, GROUPS["inventory-v2"]),
                         subscription_cycle("/o2ims-infrastructureInventory/v2/subscriptions", "subscriptionId", 2)],
        "monitoring": [lambda b: walk_gets(b, GROUPS["monitoring"]), monitoring,
                       subscription_cycle("/o2ims-infrastructureMonitoring/v1/alarmSubscriptions",
                                          "alarmSubscriptionId", 3)],
        "cluster": [lambda b: walk_gets(b, GROUPS["cluster"]),
                    subscription_cycle("/o2ims-infrastructureCluster/v1/subscriptions", "subscriptionId", 4)],
        "artifacts": [lambda b: walk_gets(b, GROUPS["artifacts"])],
        "provisioning": [lambda b: walk_gets(b, GROUPS["provisioning"]), provisioning],
    }
    with process(serve, lambda: port_open(SERVER_PORT), "o2replay serve"):
        for name, steps in scripts.items():
            http("POST", f"http://127.0.0.1:{SERVER_PORT}/__admin/reset")
            with recorder(SERVER_PORT, PROXY_PORT, out / f"{name}.yaml"):
                for step in steps:
                    step(proxied)
            print(f"recorded {name}")
        http("POST", f"http://127.0.0.1:{SERVER_PORT}/__admin/reset")
        notifications(out)
        print("recorded notifications")
    final.mkdir(parents=True, exist_ok=True)
    for f in sorted(out.glob("*.yaml")):
        shutil.move(str(f), final / f.name)
        print(f"wrote {final / f.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
