"""Pairing: which old interaction is compared with which new one (issue 5, section 1).

Two interactions pair when their request keys are equal: method, path template (ids replaced by
``{param}``, so a re-created pool with a new id still pairs), canonical query (sorted) and canonical
body (JSON re-encoded with sorted keys). Repeated requests with one key pair by position in their
sequence (the 1st old poll with the 1st new poll...). Notifications pair by callback path and position,
since their bodies are what we compare.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from replayer import limits
from replayer.cassettes.model import Interaction, InteractionKind, Request
from replayer.o2ims.routes import template_of

__all__ = ["Pair", "Pairing", "RequestKey", "endpoint_of", "request_key", "pair_interactions"]

RequestKey = tuple[str, str, str, str, str]


def endpoint_of(request: Request) -> str:
    """``METHOD /path/template`` of a request: the unit findings are grouped by."""
    return _endpoint(request.method, request.uri)


@functools.lru_cache(maxsize=65536)
def _endpoint(method: str, uri: str) -> str:
    return f"{method} {template_of(urlsplit(uri).path or '/')}"


def _canonical_query(request: Request) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(request.query))


def _canonical_body(body: bytes) -> str:
    if not body:
        return ""
    try:
        return json.dumps(limits.loads(body), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return body.decode("utf-8", "replace")


def request_key(interaction: Interaction) -> RequestKey:
    """The key two interactions must share to be compared."""
    req = interaction.request
    endpoint = endpoint_of(req)
    if interaction.meta.kind is InteractionKind.NOTIFICATION:
        return ("notification", endpoint, "", "", "")
    return ("api", endpoint, _canonical_query(req), _canonical_body(req.body), "")


@dataclass(frozen=True, slots=True)
class Pair:
    """An old and a new interaction with the same request key (either side None when unmatched)."""

    endpoint: str
    old: Interaction | None
    new: Interaction | None
    old_index: int | None
    new_index: int | None


def _group(interactions: Iterable[Interaction]) -> dict[RequestKey, list[tuple[int, Interaction]]]:
    groups: dict[RequestKey, list[tuple[int, Interaction]]] = defaultdict(list)
    for index, interaction in enumerate(interactions):
        groups[request_key(interaction)].append((index, interaction))
    return groups


@dataclass(frozen=True, slots=True)
class Pairing:
    """The pairs of two interaction lists, and the endpoints each list recorded."""

    pairs: list[Pair]
    old_endpoints: frozenset[str]
    new_endpoints: frozenset[str]


def pair_interactions(old: Sequence[Interaction], new: Sequence[Interaction]) -> Pairing:
    """Pair two interaction lists by request key, then by position among equal keys; ordered by first index."""
    old_groups, new_groups = _group(old), _group(new)
    pairs: list[Pair] = []
    for key in dict.fromkeys([*old_groups, *new_groups]):
        olds, news = old_groups.get(key, []), new_groups.get(key, [])
        for n in range(max(len(olds), len(news))):
            o = olds[n] if n < len(olds) else None
            w = news[n] if n < len(news) else None
            pairs.append(Pair(key[1], o[1] if o else None, w[1] if w else None,
                              o[0] if o else None, w[0] if w else None))
    pairs.sort(key=lambda p: (p.new_index if p.new_index is not None else -1,
                              p.old_index if p.old_index is not None else -1))
    return Pairing(pairs, frozenset(k[1] for k in old_groups), frozenset(k[1] for k in new_groups))
