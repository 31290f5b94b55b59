"""Generated O2IMS queries for differential tests: every GET route, every filter operator over every attribute
kind, every selector, every page, wrong ids, wrong methods, malformed filters and selectors, bad tokens.

``generate(samples, count, seed)`` is deterministic: the same samples, count and seed give the same queries.
``samples`` are the unfiltered answers of the oracle with ``all_fields`` (so every attribute and its values are
known); nothing here does IO.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

INV = "/o2ims-infrastructureInventory"
MON = "/o2ims-infrastructureMonitoring"
NO_SUCH_ID = "00000000-0000-4000-8000-00000000dead"
OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "cont", "ncont", "in", "nin")
METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class Query:
    """One request to send to both sides; ``auth`` names the token: valid, expired, foreign, none, malformed."""

    family: str  # what kind of query: filter, fields, paging, wrong-id... (for the report)
    method: str
    path: str  # with its query string, percent-encoded
    auth: str = "valid"
    body: Any = None

    def __str__(self) -> str:
        token = "" if self.auth == "valid" else f" [{self.auth} token]"
        return f"{self.method} {self.path}{token}"


@dataclass(frozen=True, slots=True)
class Collection:
    """A collection route with its elements as the oracle lists them (``all_fields``)."""

    path: str
    id_key: str
    items: tuple[Mapping[str, Any], ...]
    pages: int = 1


def q(params: Sequence[tuple[str, str]]) -> str:
    """A query string, values percent-encoded the way a client library does (``(),;`` kept readable)."""
    return "&".join(f"{k}={quote(v, safe='(),;')}" if v != "" else k for k, v in params)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "structured"


def attributes(coll: Collection) -> dict[str, list[Any]]:
    """Every top-level attribute of the collection's elements with its distinct scalar values, sorted by name."""
    out: dict[str, list[Any]] = {}
    for item in coll.items:
        for key, value in item.items():
            values = out.setdefault(key, [])
            if _kind(value) != "structured" and value not in values:
                values.append(value)
    return dict(sorted(out.items()))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _filter_terms(attr: str, values: list[Any], rng: random.Random) -> Iterator[tuple[str, str]]:
    """(operator, term) pairs for one attribute: each operator with an existing and a missing value."""
    present = _text(rng.choice(values)) if values else "x"
    other = _text(rng.choice(values)) if values else "y"
    for op in OPERATORS:
        if op in ("in", "nin"):
            yield op, f"({op},{attr},{present},{other})"
            yield op, f"({op},{attr},no-such-value,{present})"
        elif op in ("cont", "ncont"):
            cut = present[1:-1] if len(present) > 2 else present
            yield op, f"({op},{attr},{cut})"
            yield op, f"({op},{attr},no-such-value)"
        else:
            yield op, f"({op},{attr},{present})"
            yield op, f"({op},{attr},no-such-value)"


def filters(coll: Collection, rng: random.Random) -> Iterator[Query]:
    """Every operator over every attribute, a conjunction, and malformed filters."""
    attrs = attributes(coll)
    for attr, values in attrs.items():
        for _op, term in _filter_terms(attr, values, rng):
            yield Query("filter", "GET", f"{coll.path}?{q([('filter', term)])}")
    names = [a for a, v in attrs.items() if v]
    if len(names) >= 2:
        a, b = rng.sample(names, 2)
        both = f"(eq,{a},{_text(attrs[a][0])});(neq,{b},no-such-value)"
        yield Query("filter", "GET", f"{coll.path}?{q([('filter', both)])}")
    for bad in ("(eq,nosuch,x)", "(like,name,x)", "(eq,name)", "(eq,name,a,b)", "name", "(eq,,x)", "((eq,name,x)",
                "(eq,name,x);", ""):
        yield Query("filter-malformed", "GET", f"{coll.path}?{q([('filter', bad)])}")


def selectors(path: str, attrs: Sequence[str], rng: random.Random) -> Iterator[Query]:
    """fields, exclude_fields, all_fields, exclude_default, combinations and unknown names."""
    for attr in attrs:
        yield Query("fields", "GET", f"{path}?{q([('fields', attr)])}")
        yield Query("exclude_fields", "GET", f"{path}?{q([('exclude_fields', attr)])}")
    if len(attrs) >= 2:
        pair = ",".join(rng.sample(list(attrs), 2))
        yield Query("fields", "GET", f"{path}?{q([('fields', pair)])}")
        yield Query("exclude_fields", "GET", f"{path}?{q([('exclude_fields', pair)])}")
    for params in ([("all_fields", "")], [("all_fields", "true")], [("exclude_default", "true")],
                   [("exclude_default", "false")], [("fields", "nosuch")], [("exclude_fields", "nosuch")],
                   [("all_fields", ""), ("fields", attrs[0] if attrs else "name")],
                   [("fields", attrs[0] if attrs else "name"), ("exclude_fields", attrs[-1] if attrs else "name")],
                   [("exclude_default", "true"), ("fields", attrs[0] if attrs else "name")]):
        yield Query("selector", "GET", f"{path}?{q(params)}")


def paging(coll: Collection) -> Iterator[Query]:
    """Every page, one past the last, and markers that are not page numbers."""
    for page in range(1, coll.pages + 2):
        yield Query("paging", "GET", f"{coll.path}?nextpage_opaque_marker={page}")
    for marker in ("0", "-1", "abc"):
        yield Query("paging", "GET", f"{coll.path}?nextpage_opaque_marker={marker}")
    if coll.pages > 1:
        yield Query("paging", "GET", f"{coll.path}?nextpage_opaque_marker=2&fields=description")
        yield Query("paging", "GET", f"{coll.path}?filter=(neq,description,x)&nextpage_opaque_marker=2")


def items(coll: Collection, rng: random.Random) -> Iterator[Query]:
    """One element (plain and with selectors), and an unknown id."""
    if coll.items:
        one = coll.items[rng.randrange(len(coll.items))]
        path = f"{coll.path}/{one[coll.id_key]}"
        yield Query("item", "GET", path)
        yield from selectors(path, sorted(one), rng)
    yield Query("wrong-id", "GET", f"{coll.path}/{NO_SUCH_ID}")


def methods(paths: Sequence[str]) -> Iterator[Query]:
    """Methods a read-only route does not take."""
    for path in paths:
        for method in METHODS:
            yield Query("wrong-method", method, path)


def tokens(paths: Sequence[str]) -> Iterator[Query]:
    """No token, an expired one, one signed by a key the server does not know, and malformed headers."""
    for path in paths:
        for auth in ("none", "expired", "foreign", "malformed", "basic"):
            yield Query("token", "GET", path, auth=auth)


SINGLETONS = (f"{INV}/api_versions", f"{INV}/v1/api_versions", f"{INV}/v1", f"{MON}/api_versions",
              f"{MON}/v1/api_versions", f"{MON}/v1/alarmServiceConfiguration")


def every_query(collections: Sequence[Collection], seed: int = 0) -> list[Query]:
    """Every query the generator knows for these collections, in a fixed order."""
    rng = random.Random(seed)
    out: list[Query] = []
    for s in SINGLETONS:
        out.append(Query("singleton", "GET", s))
    out += selectors(f"{INV}/v1", ["description", "globalCloudId", "name", "serviceUri", "extensions"], rng)
    for coll in collections:
        out.append(Query("list", "GET", coll.path))
        out += filters(coll, rng)
        out += selectors(coll.path, list(attributes(coll)), rng)
        out += paging(coll)
        out += items(coll, rng)
    read_only = [c.path for c in collections if "ubscriptions" not in c.path] + [f"{INV}/v1"]
    out += methods(read_only)
    out += tokens([f"{INV}/v1", f"{INV}/v1/resourcePools", f"{MON}/v1/alarms"])
    out.append(Query("unknown-route", "GET", f"{INV}/v1/nosuch"))
    out.append(Query("unknown-route", "GET", f"{INV}/v2/resourcePools"))
    return out


def generate(collections: Sequence[Collection], count: int | None, seed: int = 0) -> list[Query]:
    """``count`` queries sampled from ``every_query`` (all of them when None), every family represented."""
    every = every_query(collections, seed)
    if count is None or count >= len(every):
        return every
    rng = random.Random(seed)
    by_family: dict[str, list[Query]] = {}
    for query in every:
        by_family.setdefault(query.family, []).append(query)
    picked = [rng.choice(group) for group in by_family.values()]
    rest = [x for x in every if x not in picked]
    picked += rng.sample(rest, count - len(picked))
    return sorted(picked, key=every.index)
