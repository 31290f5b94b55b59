"""Differences between pti-o2 and the o-ran-sc dialect that are on purpose: each is a row of docs/dialects.md
("Checked against pti-o2") with its reason. A differential test fails on any difference not matched here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tests.ptio2.compare import Difference


@dataclass(frozen=True, slots=True)
class Explained:
    """A known difference: its row name in docs/dialects.md and which differences it covers."""

    row: str
    matches: Callable[[Difference], bool]


def _query(pattern: str) -> Callable[[Difference], bool]:
    rx = re.compile(pattern)
    return lambda d: rx.search(str(d.query.path)) is not None


def _is_500(d: Difference) -> bool:
    return d.aspect != "status" and _real_status(d) == 500 or d.aspect == "status" and d.real == 500


def _real_status(d: Difference) -> int | None:
    body = d.real
    return body.get("status") if isinstance(body, dict) and isinstance(body.get("status"), int) else None


EXPLAINED: tuple[Explained, ...] = (
    # pti-o2: int() of the marker, unguarded (o2common/views/pagination_view.py Pagination.__init__).
    Explained("a marker that is not a page number", lambda d: _query(r"nextpage_opaque_marker=[^0-9-]")(d)),
    # pti-o2: a filter on an attribute that is a relationship or has no column reaches SQLAlchemy
    # (o2common/views/view.py gen_orm_filter) and fails there: an internal error.
    Explained("a filter on an attribute that is not a column", _is_500),
)


def explain(d: Difference) -> Explained | None:
    """The row explaining ``d``, or None."""
    return next((e for e in EXPLAINED if e.matches(d)), None)


#: Derived answers only: the row of docs/dialects.md for what a recording cannot hold.
UNRECORDED = "attributes a plain list does not show, in a derived answer"


def shows_what_was_recorded(d: Difference, recorded_keys: frozenset[str]) -> bool:
    """pti-o2 shows attributes its plain lists leave out (``all_fields``, ``exclude_fields``, ``fields`` of a
    non-default attribute); an answer derived from a recorded plain list can only show what was recorded. True
    when ``ours`` is exactly pti-o2's answer without the attributes the recording never held."""
    if d.aspect != "body":
        return False

    def strip(doc: object) -> object:
        if isinstance(doc, list):
            return [strip(x) for x in doc]
        if isinstance(doc, dict):
            return {k: v for k, v in doc.items() if k in recorded_keys}
        return doc

    return strip(d.real) == d.ours and d.real != d.ours
