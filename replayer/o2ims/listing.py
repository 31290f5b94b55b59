"""Answering a collection or one object of it the way one O2IMS implementation does: the selectors, order and
paging of ``query`` with the variant ``dialect`` names. The synthetic model and answers derived from recorded
collections both go through here, so the two never disagree.

    view = view_of(Dialect.O_RAN_SC, route)
    body, headers = list_answer(pools, [("fields", "extensions")], view, path=path)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from replayer.o2ims import query as oq
from replayer.o2ims.dialect import (
    DEFAULT_DIALECT,
    Dialect,
    Paging,
    default_attributes,
    has_default_set,
    model_attributes,
    rules,
)
from replayer.o2ims.routes import Route, always_kept, default_excluded, kept_with_fields

__all__ = ["View", "item_answer", "list_answer", "view_of"]


@dataclass(frozen=True, slots=True)
class View:
    """How the objects of one route are presented in one dialect."""

    dialect: Dialect
    shape: oq.Shape
    order_by: str | None = None
    page_numbers: bool = False
    page_size: int | None = None
    attributes: tuple[str, ...] | None = None  # all an object can show (o-ran-sc models); None: no limit

    def limit(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """``obj`` with exactly the attributes this view's objects have: flask-restx ``marshal`` writes every
        attribute of the model, ``null`` where the object has none."""
        if self.attributes is None:
            return obj
        return {k: obj.get(k) for k in self.attributes}


def view_of(dialect: Dialect = DEFAULT_DIALECT, route: Route | None = None, *, identity_key: str | None = None,
            excluded: tuple[str, ...] | None = None, page_size: int | None = None) -> View:
    """The view of ``route`` (None: a path the route table does not know; pass its ``identity_key``)."""
    r = rules(dialect)
    key = identity_key if identity_key is not None else (route.identity_key if route is not None else None)
    keep = kept_with_fields(key) if route is None or identity_key is not None else always_kept(route)
    drop = excluded if excluded is not None else default_excluded(route)
    if dialect is Dialect.O_RAN_SC:
        shape = oq.Shape(drop, keep, sol013=True, defaults=default_attributes(dialect, route),
                         selectable=has_default_set(dialect, route), attributes=model_attributes(dialect, route))
    else:
        shape = oq.Shape(drop, keep)
    order = key if r.sort_lists and key and "/" not in key else None
    numbers = r.paging is Paging.PAGE_NUMBER
    return View(dialect, shape, order, numbers, page_size if page_size is not None else r.default_page_size,
                model_attributes(dialect, route))


def _parse(pairs: Sequence[tuple[str, str]], view: View) -> oq.Query:
    return oq.parse_query(pairs, lenient=view.dialect is Dialect.O_RAN_SC)


def list_answer(items: Sequence[Mapping[str, Any]], pairs: Sequence[tuple[str, str]], view: View, *, path: str,
                raw_query: str = "", base_url: str = "", scope: str | None = None
                ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The list body and its paging headers for ``GET path?pairs``; QueryError for a bad query."""
    q = _parse(pairs, view)
    if view.attributes is not None:
        items = [view.limit(i) for i in items]
    page = oq.select(items, q, page_size=view.page_size, scope=path if scope is None else scope,
                     shape=view.shape, page_numbers=view.page_numbers, order_by=view.order_by)
    headers: list[tuple[str, str]] = []
    if view.page_numbers:
        assert page.number is not None and page.pages is not None
        headers.append(("X-Total-Count", str(page.total)))
        link = oq.page_links(path, raw_query, page.number, page.pages) if page.total else None
        if link:
            headers.append(("Link", link))
    elif page.next_marker is not None:
        headers.append(("Link", oq.next_link(base_url, path, pairs, page.next_marker)))
    return page.items, headers


def item_answer(obj: Mapping[str, Any], pairs: Sequence[tuple[str, str]], view: View) -> dict[str, Any]:
    """One object with the selectors applied; QueryError for a bad query."""
    q = _parse(pairs, view)
    if not view.shape.sol013 and not q.has_selection:
        return dict(obj)
    return oq.project(view.limit(obj), q, shape=view.shape)
