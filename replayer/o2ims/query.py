"""O2IMS query semantics: attribute filters, attribute selectors and paging (ETSI GS NFV-SOL 013 5.2-5.4).

One implementation for replayed collections, derived answers, the synthetic model and subscription filters.
Pure: dicts and strings in, dicts and strings out. ``docs/o2ims-query.md`` is the user-facing reference.

    query = parse_query([("filter", "(eq,name,edge1)"), ("fields", "name")])
    page = select(pools, query, page_size=100)
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode


__all__ = [
    "EMPTY_QUERY",
    "LIST_OPERATORS",
    "OPERATORS",
    "QUERY_PARAMS",
    "SINGLE_VALUE_OPERATORS",
    "PROJECTION",
    "Page",
    "Query",
    "Shape",
    "QueryError",
    "Term",
    "Value",
    "check_filter",
    "matches",
    "next_link",
    "page_links",
    "parse_fields",
    "parse_filter",
    "parse_query",
    "project",
    "select",
]

#: The query parameters this module owns; ``parse_query`` ignores every other one.
QUERY_PARAMS = frozenset(
    {"filter", "fields", "exclude_fields", "all_fields", "exclude_default", "nextpage_opaque_marker"}
)

# SOL013 table 5.2.2-1: these compare with exactly one value ...
SINGLE_VALUE_OPERATORS = frozenset({"eq", "neq", "gt", "gte", "lt", "lte"})
# ... and these take a list of one or more.
LIST_OPERATORS = frozenset({"in", "nin", "cont", "ncont"})
OPERATORS = SINGLE_VALUE_OPERATORS | LIST_OPERATORS
_NEGATED = {"neq": "eq", "nin": "in", "ncont": "cont"}
_VALID_OPS = ", ".join(sorted(OPERATORS))
_MARKER_PARAM = "nextpage_opaque_marker"


class QueryError(ValueError):
    """A query parameter is malformed or not applicable: the server answers 400 ProblemDetails.

    ``o_ran_sc`` is pti-o2's wording of the same error where it has one (o2common/views/view.py
    ``check_filter_attribute``, o2common/views/route.py ``__update_selector_value``); ``detail`` picks it.
    """

    def __init__(self, param: str, message: str, *, o_ran_sc: str | None = None) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.o_ran_sc = o_ran_sc

    def detail(self, o_ran_sc: bool = False) -> str:
        """The message in one implementation's words."""
        return self.o_ran_sc if o_ran_sc and self.o_ran_sc else str(self)


@dataclass(frozen=True, slots=True)
class Value:
    """One value of a filter term: its text, and whether it was single-quoted (quoted ``'null'`` is a string)."""

    text: str
    quoted: bool = False

    @property
    def is_null(self) -> bool:
        """The bare word ``null``: matches an absent attribute or a JSON null."""
        return not self.quoted and self.text == "null"


@dataclass(frozen=True, slots=True)
class Term:
    """One ``(op,attr,value[,value...])`` criterion."""

    op: str
    path: tuple[str, ...]
    values: tuple[Value, ...]
    source: str = field(default="", compare=False)  # the term as written, for error messages

    @property
    def attribute(self) -> str:
        """The attribute path as written (``extensions/site``)."""
        return "/".join(self.path)


@dataclass(frozen=True, slots=True)
class Query:
    """The O2IMS query parameters of one request, parsed."""

    filter: tuple[Term, ...] = ()
    filter_text: str = ""
    fields: tuple[tuple[str, ...], ...] = ()
    exclude_fields: tuple[tuple[str, ...], ...] = ()
    all_fields: bool = False
    exclude_default: bool = False
    marker: str | None = None
    page_size: int | None = None

    @property
    def is_empty(self) -> bool:
        """No O2IMS query parameter at all (``page_size`` aside): the collection is served as recorded."""
        return not (self.filter or self.has_selection or self.marker)

    @property
    def has_selection(self) -> bool:
        """Any attribute selector (fields, exclude_fields, all_fields, exclude_default) is present."""
        return bool(self.fields or self.exclude_fields or self.all_fields or self.exclude_default)


EMPTY_QUERY = Query()


@dataclass(frozen=True, slots=True)
class Page:
    """The result of ``select``: the items of this page and the marker of the next one (None on the last)."""

    items: list[dict[str, Any]]
    next_marker: str | None = None
    total: int = 0  # items matching the filter, over all pages
    number: int | None = None  # page-number paging: this page (1-based) ...
    pages: int | None = None  # ... of this many


# --------------------------------------------------------------------------------------------------- filter


class _Scanner:
    """Cursor over a filter expression; errors name the 1-based character position."""

    __slots__ = ("text", "pos")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str, pos: int | None = None, o_ran_sc: str | None = None) -> QueryError:
        at = self.pos if pos is None else pos
        where = f"character {at + 1}" if at < len(self.text) else "end of expression"
        return QueryError("filter", f"{message} at {where} in {self.text!r}",
                          o_ran_sc=o_ran_sc or f"invalid filter {self.text}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "nothing"
            raise self.fail(f"expected {char!r} {what}, found {found}")
        self.pos += 1

    def bare(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",();'":
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        # SOL013 5.2.2: a value holding , ( ) ; or ' is enclosed in single quotes; '' stands for one quote.
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while True:
            end = self.text.find("'", self.pos)
            if end < 0:
                raise self.fail("unterminated quoted value", start)
            out.append(self.text[self.pos : end])
            if self.text.startswith("''", end):
                out.append("'")
                self.pos = end + 2
                continue
            self.pos = end + 1
            return "".join(out)


def _parse_value(sc: _Scanner) -> Value:
    start = sc.pos
    if sc.peek() == "'":
        value = Value(sc.quoted(), quoted=True)
        if sc.peek() not in (",", ")"):
            raise sc.fail("expected ',' or ')' after a quoted value")
        return value
    text = sc.bare()
    if sc.peek() == "'":
        raise sc.fail("a quote inside a value; quote the whole value and double the quote ('')")
    if not text:
        raise sc.fail("empty value", start)
    return Value(text)


def _parse_attribute(sc: _Scanner) -> tuple[str, ...]:
    start = sc.pos
    text = sc.bare()
    if not text:
        raise sc.fail("missing attribute name", start)
    path = tuple(text.split("/"))
    if "" in path:
        raise sc.fail(f"empty segment in attribute path {text!r}", start)
    return path


def _parse_term(sc: _Scanner, index: int) -> Term:
    start = sc.pos
    sc.expect("(", f"to open term {index}")
    op_pos = sc.pos
    op = sc.bare()
    if op not in OPERATORS:
        shown = f"unknown operator {op!r}" if op else "missing operator"
        raise sc.fail(f"{shown} in term {index} (valid: {_VALID_OPS})", op_pos,
                      o_ran_sc=f"Filter operation {op} is invalid")
    sc.expect(",", f"after operator {op!r}")
    path = _parse_attribute(sc)
    sc.expect(",", f"after attribute {'/'.join(path)!r} (every term needs a value)")
    values = [_parse_value(sc)]
    while sc.peek() == ",":
        sc.pos += 1
        values.append(_parse_value(sc))
    sc.expect(")", f"to close term {index}")
    source = sc.text[start : sc.pos]
    if op in SINGLE_VALUE_OPERATORS and len(values) != 1:
        raise QueryError(
            "filter", f"operator {op!r} takes exactly one value, got {len(values)} in term {index} {source!r}"
            " (in, nin, cont and ncont take a list)",
            o_ran_sc=f"Found {len(values)} values: {[v.text for v in values]} while only single value"
            f" is allowed for operation {op}",
        )
    return Term(op, path, tuple(values), source)


@functools.lru_cache(maxsize=1024)
def parse_filter(expr: str) -> tuple[Term, ...]:
    """Terms of a SOL013 filter ``(op,attr,value[,value...])[;(...)...]``; QueryError names the bad spot."""
    if not expr:
        raise QueryError("filter", "empty filter expression")
    sc = _Scanner(expr)
    terms = [_parse_term(sc, 1)]
    while sc.peek() == ";":
        sc.pos += 1
        terms.append(_parse_term(sc, len(terms) + 1))
    if sc.pos != len(expr):
        raise sc.fail("expected ';' between terms")
    return tuple(terms)


# -------------------------------------------------------------------------------------------- evaluation

def _resolve_general(obj: Any, path: Sequence[str]) -> list[Any]:
    """Values at ``path``; arrays met on the way (or at the end) are flattened; absent leaves are skipped."""
    current = [obj]
    for part in path:
        nxt: list[Any] = []
        for value in current:
            if isinstance(value, list):
                nxt.extend(v[part] for v in value if isinstance(v, dict) and part in v)
            elif isinstance(value, dict) and part in value:
                nxt.append(value[part])
        if not nxt:
            return []
        current = nxt
    out: list[Any] = []
    for value in current:
        if isinstance(value, list):
            out.extend(value)  # SOL013: an array attribute matches when one of its elements matches
        else:
            out.append(value)
    return out


_MISSING = object()


def _present(obj: Any, path: Sequence[str]) -> bool:
    current = [obj]
    for part in path:
        nxt: list[Any] = []
        for value in current:
            items = value if isinstance(value, list) else [value]
            nxt.extend(v[part] for v in items if isinstance(v, dict) and part in v)
        if not nxt:
            return False
        current = nxt
    return True


def _number(text: str) -> float | int | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


_Test = Callable[[Any], bool]
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
}


def _equality_test(values: tuple[Value, ...]) -> _Test:
    # Numbers compare numerically (16 == 16.0), booleans as true/false, strings exactly; bare null is None.
    plain = [v.text for v in values if not v.is_null]
    texts = frozenset(plain)
    numbers = [n for n in map(_number, plain) if n is not None]
    bools = frozenset(t == "true" for t in plain if t in ("true", "false"))
    has_null = len(plain) < len(values)

    def test(actual: Any) -> bool:
        if actual is None:
            return has_null
        if isinstance(actual, bool):
            return actual in bools
        if isinstance(actual, (int, float)):
            return actual in numbers
        return isinstance(actual, str) and actual in texts

    return test


def _order_test(op: str, value: Value) -> _Test:
    if value.is_null:
        return lambda actual: False
    compare = _ORDER[op]
    text, number = value.text, _number(value.text)
    wanted = {"true": True, "false": False}.get(text)

    def test(actual: Any) -> bool:
        if isinstance(actual, bool):
            return wanted is not None and compare(actual, wanted)
        if isinstance(actual, (int, float)):
            return number is not None and compare(actual, number)
        return isinstance(actual, str) and compare(actual, text)  # strings: lexical order

    return test


def _contains_test(values: tuple[Value, ...]) -> _Test:
    parts = [v.text for v in values if not v.is_null]
    return lambda actual: isinstance(actual, str) and any(p in actual for p in parts)


@functools.lru_cache(maxsize=2048)
def _predicate(term: Term) -> _Test:
    """A compiled test of one term against one object."""
    negate = term.op in _NEGATED  # neq, nin, ncont: no value of the attribute matches the positive form
    op = _NEGATED.get(term.op, term.op)
    if op in ("eq", "in"):
        positive = _equality_test(term.values)
    elif op == "cont":
        positive = _contains_test(term.values)
    else:
        positive = _order_test(op, term.values[0])
    absent_hit = op in ("eq", "in") and any(v.is_null for v in term.values)  # absent equals null only
    absent = absent_hit is not negate
    path = term.path

    def test(obj: Any) -> bool:
        value = obj
        for part in path:  # fast path: objects all the way down to a scalar
            if type(value) is not dict:
                return _any_hit(_resolve_general(obj, path), positive, absent_hit) is not negate
            value = value.get(part, _MISSING)
            if value is _MISSING:
                return absent
        if type(value) is list:
            return _any_hit(value, positive, absent_hit) is not negate
        return positive(value) is not negate

    return test


def _any_hit(actuals: Sequence[Any], positive: _Test, absent_hit: bool) -> bool:
    return any(map(positive, actuals)) if actuals else absent_hit


def _matches_terms(obj: Mapping[str, Any], terms: tuple[Term, ...]) -> bool:
    return all(_predicate(t)(obj) for t in terms)  # SOL013 5.2.2: ';' is a logical AND


def matches(obj: Mapping[str, Any], filter_expr: str | None) -> bool:
    """Whether ``obj`` satisfies ``filter_expr`` (an empty or None filter matches everything)."""
    if not filter_expr:
        return True
    return _matches_terms(obj, parse_filter(filter_expr))


def check_filter(expr: str, items: Sequence[Mapping[str, Any]]) -> None:
    """Parse a filter and check its attributes against ``items``, as ``select`` would (QueryError)."""
    _check_attributes(items, parse_filter(expr))


def _check_attributes(items: Sequence[Mapping[str, Any]], terms: tuple[Term, ...]) -> None:
    # An attribute present in no item of a non-empty collection is a client error (SOL013 5.2.2: 400 for an
    # invalid attribute name). An empty collection cannot tell, so every attribute is accepted there.
    if not items:
        return
    for term in terms:
        if not any(_present(item, term.path) for item in items):
            raise QueryError("filter", f"unknown attribute {term.attribute!r} in term {term.source!r}",
                             o_ran_sc=f"Filter attrName {term.attribute} is invalid")


# ---------------------------------------------------------------------------------------------- selection

_FieldTree = dict[str, "_FieldTree"]


def parse_fields(param: str, text: str) -> tuple[tuple[str, ...], ...]:
    """Attribute paths of a ``fields`` / ``exclude_fields`` list (``name,extensions/country``)."""
    paths: list[tuple[str, ...]] = []
    for item in text.split(","):
        path = tuple(item.split("/"))
        if "" in path:
            raise QueryError(param, f"empty attribute name in {text!r}")
        paths.append(path)
    return tuple(paths)


def _tree(paths: Iterable[tuple[str, ...]]) -> _FieldTree:
    """Nested dict of attribute paths; an empty dict stands for the whole attribute."""
    root: _FieldTree = {}
    for path in paths:
        node = root
        for part in path[:-1]:
            child = node.get(part)
            if child is not None and not child:
                break  # a shorter path already takes the whole attribute
            node = node.setdefault(part, {})
        else:
            node[path[-1]] = {}
    return root


def _include(value: Any, tree: _FieldTree) -> Any:
    if isinstance(value, list):
        return [_include(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: (v if not tree[k] else _include(v, tree[k])) for k, v in value.items() if k in tree}


def _exclude(value: Any, tree: _FieldTree) -> Any:
    if isinstance(value, list):
        return [_exclude(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for k, v in value.items():
        sub = tree.get(k)
        if sub is None:
            out[k] = v
        elif sub:
            out[k] = _exclude(v, sub)
    return out


@dataclass(frozen=True, slots=True)
class Shape:
    """How the attribute selectors shape the objects of one route, in one implementation's manner.

    ``sol013=False`` (openshift-kni): every attribute by default; ``fields`` projects to what it names plus
    ``keep`` (the identity key); ``exclude_default`` drops ``default_excluded``.
    ``sol013=True`` (o-ran-sc, pti-o2 o2common/views/route.py ``o2_marshal_with``): only ``defaults`` by
    default (None: every attribute); ``fields`` adds to them, ``exclude_fields`` removes non-default ones from
    the full object, ``exclude_default`` leaves nothing, ``all_fields`` shows everything; ``all_fields`` beats
    ``fields`` beats ``exclude_fields`` beats ``exclude_default``.
    """

    default_excluded: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    sol013: bool = False
    defaults: tuple[str, ...] | None = None
    selectable: bool = True  # sol013: False where pti-o2 has no default set, so fields/exclude_fields fail
    attributes: tuple[str, ...] | None = None  # sol013: every attribute the model has (None: what objects hold)


PROJECTION = Shape()


@functools.lru_cache(maxsize=256)
def _selection_plan(
    query: Query, default_excluded: tuple[str, ...], keep: tuple[str, ...] = ()
) -> tuple[_FieldTree | None, _FieldTree | None]:
    """(include tree or None for everything, exclude tree or None for nothing) for a query."""
    if query.all_fields:
        return None, None
    # ``keep`` (the identity key) stays with ``fields``: the O-RAN SC compliance schemas expect e.g.
    # resourceTypeId in the answer to ``fields=name,alarmDictionary`` (resourceTypes_field2_properties.json).
    wanted = query.fields + tuple((k,) for k in keep if (k,) not in query.fields)
    include = _tree(wanted) if query.fields and not query.exclude_default else None
    excluded = list(query.exclude_fields)
    if query.exclude_default:
        # SOL013 5.3.2: with exclude_default, "fields" names complex attributes to bring back.
        kept = set(query.fields)
        excluded += [p for p in (tuple(d.split("/")) for d in default_excluded) if p not in kept]
    excluded = [p for p in excluded if (p[0],) not in {(k,) for k in keep} or len(p) > 1]
    return include, (_tree(excluded) if excluded else None)


def _sol013_plan(query: Query, shape: Shape, known: frozenset[str] | None
                 ) -> tuple[_FieldTree | None, _FieldTree | None]:
    """(include, exclude) trees of the o-ran-sc reading; QueryError for a name no object has."""
    if query.all_fields:
        return None, None
    defaults = [(d,) for d in shape.defaults] if shape.defaults is not None else None
    for param, paths in (("fields", query.fields), ("exclude_fields", query.exclude_fields)):
        if not paths:
            continue
        for path in paths:
            if len(path) == 1 and known is not None and path[0] not in known:
                raise QueryError(param, f"unknown attribute {path[0]!r}",
                                 o_ran_sc=f"Selector attribute {path[0]} not found")
        if not shape.selectable:
            raise QueryError(param, "this resource has no default attribute set to select from",
                             o_ran_sc="Selector attribute None not found")
        if param == "fields":
            return _tree([*(defaults or ()), *paths]) if defaults is not None else None, None
        kept = {d[0] for d in defaults or ()}
        return None, _tree(p for p in paths if p[0] not in kept) or None
    if query.exclude_default:
        return {}, None
    return (_tree(defaults) if defaults is not None else None), None


def _known(items: Iterable[Mapping[str, Any]], shape: Shape) -> frozenset[str] | None:
    """Top-level attribute names the objects have (None: no object, so every name is accepted)."""
    if shape.attributes is not None:
        return frozenset(shape.attributes)
    names: set[str] = set()
    seen = False
    for item in items:
        seen = True
        names.update(item)
    return frozenset(names | set(shape.defaults or ())) if seen else None


def _apply(obj: Mapping[str, Any], include: _FieldTree | None, exclude: _FieldTree | None) -> dict[str, Any]:
    result: Any = obj
    if include is not None:
        result = _include(result, include)
    if exclude is not None:
        result = _exclude(result, exclude)  # exclude_fields wins over fields (openshift-kni definitions)
        # An object the exclusion emptied was only there for what was excluded: drop it, not ``{}``.
        result = {k: v for k, v in result.items() if v != {} or obj.get(k) == {}}
    return dict(result)


def project(
    obj: Mapping[str, Any], query: Query, *, default_excluded: tuple[str, ...] = (), keep: tuple[str, ...] = (),
    shape: Shape | None = None,
) -> dict[str, Any]:
    """``obj`` with the query's attribute selectors applied (SOL013 5.3); key order is kept.

    ``keep`` names top-level attributes that ``fields`` never drops (the object's identity key); ``shape``
    (which overrides both) says how one implementation reads the selectors.
    """
    if shape is None:
        shape = Shape(tuple(default_excluded), tuple(keep))
    if shape.sol013:
        include, exclude = _sol013_plan(query, shape, _known((obj,), shape))
        return _apply(obj, include, exclude)
    if not query.has_selection:
        return dict(obj)
    include, exclude = _selection_plan(query, shape.default_excluded, shape.keep)
    return _apply(obj, include, exclude)


# ------------------------------------------------------------------------------------------------- paging


def _digest(query: Query, scope: str, offset: int) -> str:
    # The marker binds its offset to the query (filter and selectors) and scope: a marker from another
    # query, or an edited one, is rejected rather than silently serving the wrong page.
    basis = json.dumps(
        [scope, offset, query.filter_text, query.fields, query.exclude_fields, query.all_fields,
         query.exclude_default],
        separators=(",", ":"),
    )
    return hashlib.sha256(basis.encode()).hexdigest()[:12]


def _make_marker(query: Query, scope: str, offset: int) -> str:
    raw = f"{offset}.{_digest(query, scope, offset)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_marker(query: Query, scope: str) -> int:
    marker = query.marker or ""
    try:
        raw = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)).decode("ascii")
        text, _, digest = raw.partition(".")
        offset = int(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise QueryError(_MARKER_PARAM, f"not a marker issued by this server: {marker!r}") from None
    if offset < 0 or digest != _digest(query, scope, offset):
        raise QueryError(
            _MARKER_PARAM, f"marker {marker!r} does not belong to this query; restart from the first page"
        )
    return offset


def _page_number(query: Query) -> int:
    """The page a page-number marker asks for (pti-o2 Pagination: below 1 means 1)."""
    text = (query.marker or "1").strip()
    try:
        number = int(text)
    except ValueError:
        # pti-o2 answers a 500 here (int() of the marker is not guarded); a stand-in answers the 400 it means.
        raise QueryError(_MARKER_PARAM, f"expected a page number, got {text!r}",
                         o_ran_sc=f"Page number {text} bad request.") from None
    return max(number, 1)


def _filtered(items: Sequence[Mapping[str, Any]], query: Query) -> Sequence[Mapping[str, Any]]:
    if not query.filter:
        return items
    _check_attributes(items, query.filter)
    tests = [_predicate(t) for t in query.filter]
    if len(tests) == 1:
        return list(filter(tests[0], items))
    return [item for item in items if all(test(item) for test in tests)]


def select(
    items: Sequence[Mapping[str, Any]],
    query: Query,
    *,
    default_excluded: tuple[str, ...] = (),
    page_size: int | None = None,
    scope: str = "",
    keep: tuple[str, ...] = (),
    shape: Shape | None = None,
    page_numbers: bool = False,
    order_by: str | None = None,
) -> Page:
    """Filter, page and project a collection (SOL013 5.2, 5.4, 5.3, in that order).

    ``page_size`` (else ``query.page_size``; None: no paging) bounds the page; ``scope`` (e.g. the request
    path) is bound into the markers. With ``page_numbers`` the marker is a page number (pti-o2
    o2common/views/pagination_view.py ``Pagination``); ``order_by`` sorts by that attribute first (pti-o2 lists
    come sorted by id). Raises QueryError for an unknown attribute, a foreign marker or a page past the end.
    """
    if shape is None:
        shape = Shape(tuple(default_excluded), tuple(keep))
    if shape.sol013 and shape.attributes is not None:
        # pti-o2 checks a filter's attribute against its table (o2common/views/view.py check_filter_attribute),
        # so an empty list still refuses a name its objects cannot have.
        for term in query.filter:
            if term.path[0] not in shape.attributes:
                raise QueryError("filter", f"unknown attribute {term.attribute!r} in term {term.source!r}",
                                 o_ran_sc=f"Filter attrName {term.path[0]} is invalid")
    chosen = _filtered(items, query)
    if order_by is not None:
        chosen = sorted(chosen, key=lambda i: str(i.get(order_by, "")))
    size = page_size if page_size is not None else query.page_size
    if size is not None and size < 1:
        raise ValueError(f"page_size must be at least 1, got {size}")
    number = pages = None
    marker = None
    if page_numbers:
        size = size or len(chosen) or 1
        number = _page_number(query)
        pages = max(math.ceil(len(chosen) / size), 1)
        if number > pages:  # o2common/views/pagination_route.py link_header
            raise QueryError(_MARKER_PARAM, f"page {number} is past the last page ({pages})",
                             o_ran_sc=f"Page size {number} bad request.")
        start, end = (number - 1) * size, number * size
    else:
        start = _read_marker(query, scope) if query.marker else 0
        end = len(chosen) if size is None else start + size
        marker = _make_marker(query, scope, end) if end < len(chosen) else None
    window = chosen[start:end]
    if shape.sol013:
        include, exclude = _sol013_plan(query, shape, _known(items, shape))
        page = [_apply(item, include, exclude) for item in window]
    else:
        page = [project(item, query, shape=shape) for item in window]
    return Page(page, marker, len(chosen), number, pages)


def next_link(base_url: str, path: str, params: Iterable[tuple[str, str]], marker: str) -> str:
    """RFC 8288 ``Link`` header value pointing at the next page (SOL013 5.4.2.1: ``rel="next"``)."""
    kept = [(k, v) for k, v in params if k != _MARKER_PARAM]
    kept.append((_MARKER_PARAM, marker))
    return f'<{base_url.rstrip("/")}{path}?{urlencode(kept)}>; rel="next"'


def page_links(path: str, raw_query: str, number: int, pages: int) -> str | None:
    """pti-o2's ``Link``: relative first/prev/next/last URLs keeping the other parameters as sent
    (o2common/views/pagination_route.py ``link_header``); None on a single page."""
    kept = "&".join(q for q in raw_query.split("&") if q and q.split("=")[0] != _MARKER_PARAM)
    prefix = f"{path}?{kept}&" if kept else f"{path}?"
    links = []
    if number > 1:
        links += [f'<{prefix}{_MARKER_PARAM}=1>; rel="first"', f'<{prefix}{_MARKER_PARAM}={number - 1}>; rel="prev"']
    if number < pages:
        links += [f'<{prefix}{_MARKER_PARAM}={number + 1}>; rel="next"', f'<{prefix}{_MARKER_PARAM}={pages}>; rel="last"']
    return ",".join(links) or None


# -------------------------------------------------------------------------------------------------- parse


def _flag(param: str, value: str) -> bool:
    # SOL013 5.3.2: all_fields and exclude_default are used without a value; the openshift-kni definitions
    # give all_fields the default "false", so an explicit "false" turns the flag off.
    lowered = value.strip().lower()
    if lowered in ("", "true"):
        return True
    if lowered == "false":
        return False
    raise QueryError(param, f"takes no value (or true/false), got {value!r}")


def _check_combination(query: Query) -> None:
    # SOL013 5.3.2 table 5.3.2-2: all_fields stands alone. fields with exclude_fields is accepted because the
    # openshift-kni definitions document it (exclude_fields wins).
    if query.all_fields:
        others = [
            name for name, on in (("fields", query.fields), ("exclude_fields", query.exclude_fields),
                                  ("exclude_default", query.exclude_default)) if on
        ]
        if others:
            raise QueryError("all_fields", f"cannot be combined with {', '.join(others)}")


def parse_query(params: Iterable[tuple[str, str]], *, page_size: int | None = None, lenient: bool = False) -> Query:
    """The O2IMS query of a request's parameters (other parameters are ignored); QueryError when invalid.

    ``lenient`` accepts ``all_fields`` beside other selectors (pti-o2: all_fields wins) instead of a 400, and an
    empty ``filter`` as none.

    A repeated ``filter`` adds its terms (AND); repeated ``fields`` / ``exclude_fields`` add their paths.
    """
    owned = [(k, v) for k, v in params if k in QUERY_PARAMS]
    if not owned:
        return EMPTY_QUERY if page_size is None else replace(EMPTY_QUERY, page_size=page_size)
    filters: list[str] = []
    fields: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    flags = {"all_fields": False, "exclude_default": False}
    marker: str | None = None
    for key, value in owned:
        if key == "filter":
            if not value and lenient:
                continue  # pti-o2: an empty filter filters nothing
            filters.append(value)
        elif key == "fields":
            fields.extend(parse_fields(key, value))
        elif key == "exclude_fields":
            excluded.extend(parse_fields(key, value))
        elif key == _MARKER_PARAM:
            if not value:
                raise QueryError(key, "empty marker")
            marker = value
        else:
            flags[key] = _flag(key, value)
    terms = tuple(t for f in filters for t in parse_filter(f))
    query = Query(
        terms, ";".join(filters), tuple(fields), tuple(excluded), flags["all_fields"],
        flags["exclude_default"], marker, page_size,
    )
    if not lenient:
        _check_combination(query)
    return query
