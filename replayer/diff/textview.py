"""The semantic view of a cassette that ``o2replay textconv`` prints for ``git diff``.

One line per fact, sorted so that only meaning changes the text: interactions ordered by request,
volatile headers dropped, JSON bodies flattened to ``path = value`` lines with arrays keyed by identity
(``body[resourcePoolId=p1].name = "A"``), values covered by ignore rules shown as ``<ignored>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from replayer.cassettes.model import Cassette, Interaction, InteractionKind
from replayer.diff.config import DiffConfig
from replayer.diff.engine import header_values, json_body
from replayer.diff.identity import endpoint_keys_for, prepare
from replayer.diff.pairing import endpoint_of
from replayer.diff.rules import ItemKey, ScalarKey, path_tokens, render_path

__all__ = ["semantic_view"]


def semantic_view(cassette: Cassette, config: DiffConfig, *, name: str = "") -> str:
    """The stable text of a cassette (ends with a newline)."""
    count = f"{len(cassette)} interaction" + ("" if len(cassette) == 1 else "s")
    lines = [f"# o2replay textconv {name}".rstrip() + f" ({count})"]
    for key in sorted(cassette.metadata):
        if key != "recorded_at":
            lines.append(f"metadata.{key} = {json.dumps(cassette.metadata[key], sort_keys=True, default=str)}")
    ordered = sorted(cassette.interactions, key=lambda i: (i.meta.kind.value, i.request.method, _target(i)))
    for interaction in ordered:
        lines.append("")
        lines += list(_interaction(interaction, config))
    return "\n".join(lines) + "\n"


def _target(interaction: Interaction) -> str:
    """Path and query: the origin is where the recording ran (a proxy port), not what the API did."""
    parts = urlsplit(interaction.request.uri)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _interaction(interaction: Interaction, config: DiffConfig) -> Iterator[str]:
    req, resp = interaction.request, interaction.response
    endpoint = endpoint_of(req)
    notification = interaction.meta.kind is InteractionKind.NOTIFICATION
    yield f"== {'notification ' if notification else ''}{req.method} {_target(interaction)}"
    if req.body:
        ok, doc = json_body(req.body, req.headers)
        if notification and ok:
            yield from _facts(doc, "notification", endpoint, config)
        elif ok:
            yield f"request.body = {json.dumps(doc, sort_keys=True, ensure_ascii=False)}"
        else:
            yield "request.body = " + json.dumps(req.body.decode("utf-8", "replace"))
    yield f"status = {resp.status}"
    for name in sorted({k.lower() for k in resp.headers}):
        if name in config.headers:
            yield f"headers.{name} = {', '.join(header_values(resp.headers, name))}"
    ok, doc = json_body(resp.body, resp.headers)
    if not ok:
        yield "body = " + json.dumps(resp.body.decode("utf-8", "replace"))
        return
    yield from _facts(doc, "body", endpoint, config)


def _facts(doc: Any, root: str, endpoint: str, config: DiffConfig) -> Iterator[str]:
    for tokens, value in _flatten(prepare(doc, endpoint_keys_for(config, endpoint)), (root,)):
        shown = "<ignored>" if any(r.applies(endpoint, "value_changed", tokens) for r in config.ignores) \
            else json.dumps(value, ensure_ascii=False, sort_keys=True)
        yield f"{render_path(tokens)} = {shown}"


def _sort_key(key: Any) -> tuple[int, str]:
    if isinstance(key, (ItemKey, ScalarKey)):
        return (1, key.token())
    return (0, str(key))


def _flatten(doc: Any, tokens: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(doc, dict) and doc:
        for key in sorted(doc, key=_sort_key):
            yield from _flatten(doc[key], tokens + path_tokens([key]))
    elif isinstance(doc, list) and doc:
        for i, item in enumerate(doc):
            yield from _flatten(item, tokens + (f"[{i}]",))
    else:
        yield tokens, doc
