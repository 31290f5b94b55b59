"""Hostile and malformed requests for the replay server, each with the answer it must get.

Each entry: a name, the raw bytes sent on a fresh connection, the status expected, and a fragment
of the ProblemDetails ``detail`` (one line). Built as raw bytes so that framing errors (which no
well-behaved client library would send) are exercised as well as bodies and queries.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass

INV = "/o2ims-infrastructureInventory/v1"
SUBS = f"{INV}/subscriptions"


@dataclass(frozen=True, slots=True)
class Hostile:
    """One hostile request and the answer it must get."""

    name: str
    raw: bytes
    status: int
    detail: str
    #: The server modes the entry applies to: "strict" (cassettes only), "synthetic" (fallback on).
    modes: tuple[str, ...] = ("strict", "synthetic")


def req(method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None,
        *, length: bool = True) -> bytes:
    """An HTTP/1.1 request as bytes; Content-Length added for a body unless ``length`` is false."""
    hdrs = {"Host": "127.0.0.1", "Connection": "close", **(headers or {})}
    if body and length and "Transfer-Encoding" not in hdrs:
        hdrs["Content-Length"] = str(len(body))
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    return head.encode("latin-1") + body


JSON = {"Content-Type": "application/json"}
DEEP_ARRAY = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 5_000 + b"1" + b"}" * 5_000
JUST_TOO_DEEP = b"[" * 101 + b"]" * 101
DEEP_IN_STRING = b'{"s": "' + b"[" * 5_000 + b'"}'
DEEP = "nests deeper than 100 levels"
MALFORMED = "malformed HTTP request"

CORPUS: tuple[Hostile, ...] = (
    # --- bodies that do not decode under their Content-Encoding
    Hostile("gzip-not-gzip", req("POST", SUBS, b'{"callback":"x"}', {**JSON, "Content-Encoding": "gzip"}),
            400, "cannot be read as Content-Encoding 'gzip'"),
    Hostile("deflate-not-deflate", req("POST", SUBS, b"plain text", {"Content-Encoding": "deflate"}),
            400, "cannot be read as Content-Encoding 'deflate'"),
    Hostile("br-not-br", req("POST", SUBS, b"plain text", {"Content-Encoding": "br"}),
            400, "cannot be read as Content-Encoding 'br'"),
    # aiohttp decodes a truncated gzip stream as far as it goes: the body is then merely unrecorded
    Hostile("gzip-truncated", req("POST", SUBS, gzip.compress(b'{"a": 1}' * 100)[:30],
                                  {**JSON, "Content-Encoding": "gzip"}),
            404, "no recorded interaction", ("strict",)),
    Hostile("gzip-on-get", req("GET", f"{INV}/resourcePools", b"junk", {"Content-Encoding": "gzip"}),
            400, "Content-Encoding 'gzip'"),
    Hostile("gzip-admin", req("POST", "/__admin/faults", b"junk", {**JSON, "Content-Encoding": "gzip"}),
            400, "Content-Encoding 'gzip'"),
    # --- nesting
    Hostile("deep-array-100k", req("POST", SUBS, DEEP_ARRAY, JSON), 400, DEEP),
    Hostile("deep-object-5k", req("POST", SUBS, DEEP_OBJECT, JSON), 400, DEEP),
    Hostile("deep-101", req("POST", SUBS, JUST_TOO_DEEP, JSON), 400, DEEP),
    Hostile("deep-no-content-type", req("PUT", f"{INV}/resourcePools/p1", DEEP_ARRAY), 400, DEEP),
    Hostile("deep-gzip", req("POST", SUBS, gzip.compress(DEEP_ARRAY), {**JSON, "Content-Encoding": "gzip"}),
            400, DEEP),
    Hostile("deep-deflate", req("POST", SUBS, zlib.compress(DEEP_OBJECT), {**JSON, "Content-Encoding": "deflate"}),
            400, DEEP),
    Hostile("deep-chunked", req("POST", SUBS, b"%x\r\n" % len(DEEP_ARRAY) + DEEP_ARRAY + b"\r\n0\r\n\r\n",
                                {**JSON, "Transfer-Encoding": "chunked"}), 400, DEEP),
    Hostile("deep-admin-fault", req("POST", "/__admin/faults", DEEP_ARRAY, JSON), 400, DEEP),
    Hostile("deep-leading-space", req("POST", SUBS, b"  \n" + DEEP_ARRAY, JSON), 400, DEEP),
    # --- bodies that are merely not what was recorded: a clean miss, never a crash
    Hostile("deep-only-in-a-string", req("POST", SUBS, DEEP_IN_STRING, JSON), 404, "no recorded interaction",
            ("strict",)),
    Hostile("not-utf8-json", req("POST", SUBS, b'{"a": "\xff\xfe"}', JSON), 404, "no recorded interaction",
            ("strict",)),
    Hostile("truncated-json", req("POST", SUBS, b'{"callback": ', JSON), 404, "no recorded interaction",
            ("strict",)),
    Hostile("nan-json", req("POST", SUBS, b'{"a": NaN, "b": Infinity}', JSON), 404, "no recorded interaction",
            ("strict",)),
    Hostile("huge-number", req("POST", SUBS, b'{"a": 1' + b"0" * 5000 + b"}", JSON), 404,
            "no recorded interaction", ("strict",)),
    # --- the synthetic O2IMS refuses bad bodies with its own 400s
    Hostile("synthetic-truncated-json", req("POST", SUBS, b'{"callback": ', JSON), 400, "not valid JSON",
            ("synthetic",)),
    Hostile("synthetic-not-utf8", req("POST", SUBS, b'{"callback": "\xff"}', JSON), 400, "not valid JSON",
            ("synthetic",)),
    Hostile("synthetic-array-subscription", req("POST", SUBS, b"[1, 2]", JSON), 400, "",
            ("synthetic",)),
    Hostile("synthetic-huge-number", req("POST", SUBS, b'{"callback": 1' + b"0" * 5000 + b"}", JSON), 400,
            "", ("synthetic",)),
    Hostile("admin-fault-not-json", req("POST", "/__admin/faults", b"{nope", JSON), 400, "fault rule"),
    # --- malformed HTTP framing: aiohttp's parser refuses, answered as ProblemDetails
    Hostile("garbage", b"HELLO THERE\r\n\r\n", 400, MALFORMED),
    Hostile("bad-method-chars", b"G(E)T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, MALFORMED),
    Hostile("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, MALFORMED),
    Hostile("long-request-line", req("GET", f"{INV}/" + "a" * 9000), 400, MALFORMED),
    Hostile("long-header", req("GET", INV, headers={"X-Big": "b" * 9000}), 400, MALFORMED),
    Hostile("header-without-colon", b"GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400, MALFORMED),
    Hostile("space-in-header-name", b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400, MALFORMED),
    Hostile("cl-and-chunked", req("POST", SUBS, b"0\r\n\r\n", {"Transfer-Encoding": "chunked",
                                                               "Content-Length": "5"}, length=False),
            400, MALFORMED),
    Hostile("negative-content-length", req("POST", SUBS, b"", {"Content-Length": "-1"}), 400, MALFORMED),
    Hostile("two-content-lengths", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            400, MALFORMED),
    Hostile("bad-chunk-size", req("POST", SUBS, b"zz\r\nabc\r\n0\r\n\r\n", {"Transfer-Encoding": "chunked"},
                                  length=False), 400, MALFORMED),
    Hostile("bad-http-version", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400, MALFORMED),
    Hostile("nul-in-header-value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, MALFORMED),
    Hostile("unsupported-transfer-encoding", req("POST", SUBS, b"abc", {"Transfer-Encoding": "bogus"},
                                                 length=False), 400, MALFORMED),
    # --- paths and queries that must be a clean miss or a clean 400
    Hostile("dot-dot-path", req("GET", f"{INV}/../../../etc/passwd"), 404, "no recorded interaction", ("strict",)),
    Hostile("encoded-crlf-path", req("GET", f"{INV}/resourcePools/%0D%0ASet-Cookie:%20x=y"), 404,
            "is not in the recorded collection", ("strict",)),
    Hostile("encoded-nul-path", req("GET", f"{INV}/resourcePools/%00"), 404, "is not in the recorded collection",
            ("strict",)),
    Hostile("bad-percent", req("GET", f"{INV}/deploymentManagers?x=%zz%"), 404, "no recorded interaction",
            ("strict",)),
    Hostile("many-query-params", req("GET", f"{INV}/deploymentManagers?" + "&".join(f"k{i}=v" for i in range(600))),
            404, "no recorded interaction", ("strict",)),
    Hostile("unknown-method", req("BREW", f"{INV}/resourcePools"), 400, MALFORMED),
    Hostile("deep-filter", req("GET", f"{INV}/resourcePools?filter=" + "(" * 3000 + "eq,name,x" + ")" * 3000),
            400, "filter", ("synthetic",)),
    Hostile("filter-unknown-op", req("GET", f"{INV}/resourcePools?filter=(zz,name,x)"), 400, "filter",
            ("synthetic",)),
    Hostile("bad-page-marker", req("GET", f"{INV}/resourcePools?nextpage_opaque_marker=%FF%FE"), 400, "",
            ("synthetic",)),
)
