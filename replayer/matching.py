"""Request matching: normalised request keys, the cassette index, replay cursors and the closest miss.

A request key is a plain tuple of the normalised parts ``match_on`` selects (issue 3, §2):

- method, upper case;
- path normalised by ``replayer.o2ims.routes.normalise_path`` (unreserved percent-encodings decoded,
  ``//`` folded, no trailing slash);
- query parameters as a sorted tuple of pairs (order-insensitive);
- body: JSON re-encoded canonically (sorted keys, no whitespace), anything else as recorded;
- headers only when named (``headers:X-Foo``); host and scheme only when asked for.

``CassetteIndex`` maps keys to the recorded sequence in a dict, so lookup cost does not grow with the
number of interactions (vcrpy scans its list). ``Cursors`` keeps one position per (session, key)
(§3), and ``CassetteIndex.nearest`` ranks recorded requests for a miss, naming what differs (§5).
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlsplit

from replayer import limits
from replayer.cassettes.model import Interaction, InteractionKind, Request, header_value
from replayer.o2ims.routes import normalise_path

__all__ = [
    "DEFAULT_MATCH_ON",
    "MATCH_FIELDS",
    "MatchOn",
    "OnExhausted",
    "RequestKey",
    "Recorded",
    "NearMiss",
    "CassetteIndex",
    "Cursors",
    "canonical_body",
    "key_from_parts",
    "normalise_path",
    "normalise_query",
    "request_key",
]

T = TypeVar("T")

#: (method, path, query, body, headers, host, scheme); a part ``match_on`` leaves out is None.
RequestKey = tuple[Any, ...]

#: The names ``--match-on`` accepts, besides ``headers:NAME``.
MATCH_FIELDS = ("method", "path", "query", "body", "host", "scheme")


@dataclass(frozen=True, slots=True)
class MatchOn:
    """Which parts of a request must be equal for a recorded interaction to answer it."""

    method: bool = True
    path: bool = True
    query: bool = True
    body: bool = True
    host: bool = False
    scheme: bool = False
    headers: tuple[str, ...] = ()  # lower-case names

    @classmethod
    def parse(cls, spec: str | Iterable[str]) -> MatchOn:
        """Parse ``method,path,query,body,headers:X-Foo,host,scheme``; raise ValueError on an unknown part."""
        parts = [p.strip() for p in (spec.split(",") if isinstance(spec, str) else spec)]
        flags = dict.fromkeys(MATCH_FIELDS, False)
        headers: list[str] = []
        for part in filter(None, parts):
            name, _, arg = part.partition(":")
            if name.lower() in ("header", "headers") and arg.strip():
                headers.extend(h.strip().lower() for h in arg.split("+") if h.strip())
            elif name.lower() in flags and not arg:
                flags[name.lower()] = True
            else:
                raise ValueError(
                    f"unknown match_on part {part!r} (expected {', '.join(MATCH_FIELDS)} or headers:NAME)"
                )
        return cls(headers=tuple(dict.fromkeys(headers)), **flags)

    def __str__(self) -> str:
        names = [n for n in MATCH_FIELDS if getattr(self, n)]
        return ",".join(names + [f"headers:{h}" for h in self.headers])


DEFAULT_MATCH_ON = MatchOn()


class OnExhausted(StrEnum):
    """What a recorded sequence answers once every recorded response has been played (§3)."""

    REPEAT_LAST = "repeat-last"
    CYCLE = "cycle"
    NOT_FOUND = "404"


# --------------------------------------------------------------------------- normalisation


#: What every credential-like query value (access_token=..., per the default redaction rules) matches as.
SECRET_VALUE = "<secret>"


@functools.lru_cache(maxsize=1)
def _secret_param() -> Callable[[str], bool]:
    from replayer.record.redact import default_rules

    return functools.lru_cache(maxsize=1024)(default_rules().param_is_secret)


def normalise_query(query_string: str) -> tuple[tuple[str, str], ...]:
    """Query parameters decoded and sorted, so their order does not matter.

    A credential's value never takes part: the cassette holds a redaction placeholder where the consumer
    sends its real (and per-run) token, and both must match.
    """
    if not query_string:
        return ()
    secret = _secret_param()
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return tuple(sorted((k, SECRET_VALUE if secret(k) else v) for k, v in pairs))


def canonical_body(body: bytes) -> bytes:
    """JSON re-encoded with sorted keys and no whitespace; any other body unchanged."""
    if not body:
        return b""
    first = body.lstrip()[:1]
    if first in (b"{", b"[", b'"') or first.isdigit():
        try:
            doc = limits.loads(body)
        except ValueError:
            return body
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return body


def key_from_parts(
    match_on: MatchOn,
    method: str,
    path: str,
    query_string: str = "",
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    host: str = "",
    scheme: str = "",
) -> RequestKey:
    """The key of a request given as parts; ``headers`` maps lower-case names to values."""
    hdrs: tuple[tuple[str, str | None], ...] | None = None
    if match_on.headers:
        got = headers or {}
        hdrs = tuple((name, got.get(name)) for name in match_on.headers)
    return (
        method.upper() if match_on.method else None,
        normalise_path(path) if match_on.path else None,
        normalise_query(query_string) if match_on.query else None,
        canonical_body(body) if match_on.body else None,
        hdrs,
        host.lower() if match_on.host else None,
        scheme.lower() if match_on.scheme else None,
    )


def request_key(request: Request, match_on: MatchOn = DEFAULT_MATCH_ON) -> RequestKey:
    """The key of a recorded (or about to be recorded) request: equal keys replay each other."""
    parts = urlsplit(request.uri)
    headers: dict[str, str] = {}
    for name in match_on.headers:
        value = header_value(request.headers, name)
        if value is not None:
            headers[name] = value
    host = (parts.hostname or "") if match_on.host else ""
    return key_from_parts(match_on, request.method, parts.path, parts.query, request.body, headers, host,
                          parts.scheme)


# --------------------------------------------------------------------------- index


@dataclass(frozen=True, slots=True)
class Recorded(Generic[T]):
    """One recorded interaction in the index, with what the server prepared for it."""

    cassette: str
    index: int
    interaction: Interaction
    key: RequestKey
    payload: T

    @property
    def source(self) -> str:
        """``<file>#<index>``, as ``X-Replay-Interaction`` reports it."""
        return f"{self.cassette}#{self.index}"


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A recorded request close to a missed one, and what differs (§5)."""

    source: str
    method: str
    uri: str
    differences: tuple[str, ...]
    score: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used in the strict-miss ProblemDetails and the journal."""
        return {"interaction": self.source, "method": self.method, "uri": self.uri,
                "differences": list(self.differences)}


class CassetteIndex(Generic[T]):
    """Recorded API interactions keyed on the normalised request; sequences keep recorded order."""

    def __init__(
        self,
        cassettes: Iterable[tuple[str, Sequence[Interaction]]],
        match_on: MatchOn = DEFAULT_MATCH_ON,
        prepare: Callable[[str, int, Interaction], T] | None = None,
    ) -> None:
        self.match_on = match_on
        self.counts: dict[str, int] = {}
        seqs: dict[RequestKey, list[Recorded[T]]] = {}
        for name, interactions in cassettes:
            self.counts[name] = len(interactions)
            for i, inter in enumerate(interactions):
                if inter.meta.kind is InteractionKind.NOTIFICATION:
                    continue  # sent by the O2IMS to a consumer: nothing a client asks us for
                key = request_key(inter.request, match_on)
                payload: Any = prepare(name, i, inter) if prepare else None
                seqs.setdefault(key, []).append(Recorded(name, i, inter, key, payload))
        self.sequences: dict[RequestKey, tuple[Recorded[T], ...]] = {k: tuple(v) for k, v in seqs.items()}
        self._by_path: dict[Any, list[RequestKey]] | None = None  # built on the first miss
        self._by_parent: dict[Any, list[RequestKey]] = {}

    def _paths(self) -> dict[Any, list[RequestKey]]:
        """Keys by path and by parent path (one segment up), so a miss looks at its neighbours first."""
        if self._by_path is None:
            self._by_path = {}
            for key in self.sequences:
                self._by_path.setdefault(key[1], []).append(key)
                self._by_parent.setdefault(_parent(key[1]), []).append(key)
        return self._by_path

    def __len__(self) -> int:
        return sum(len(s) for s in self.sequences.values())

    def lookup(self, key: RequestKey) -> tuple[Recorded[T], ...] | None:
        """The recorded sequence for a key, or None."""
        return self.sequences.get(key)

    def entries(self) -> Iterable[Recorded[T]]:
        """Every indexed interaction."""
        for seq in self.sequences.values():
            yield from seq

    def nearest(self, key: RequestKey, *, limit: int = 3, scan_cap: int = 2000) -> list[NearMiss]:
        """The recorded requests closest to ``key``, ranked, each with what differs."""
        keys = list(self._paths().get(key[1], ()))
        if len(keys) < limit:  # same collection, a sibling id: the usual typo
            keys += self._by_parent.get(_parent(key[1]), ())[:scan_cap]
            keys += self._by_parent.get(key[1], ())[:scan_cap]
        if len(keys) < limit:
            for i, other in enumerate(self.sequences):
                if i >= scan_cap:
                    break
                keys.append(other)
        seen: set[RequestKey] = set()
        ranked: list[NearMiss] = []
        for other in keys:
            if other in seen or other == key:
                continue
            seen.add(other)
            first = self.sequences[other][0]
            diffs, score = _differences(key, other)
            req = first.interaction.request
            ranked.append(NearMiss(first.source, req.method, req.uri, tuple(diffs), score))
        ranked.sort(key=lambda n: (n.score, n.source))
        return ranked[:limit]


# --------------------------------------------------------------------------- closest miss


def _parent(path: Any) -> Any:
    return path.rsplit("/", 1)[0] if isinstance(path, str) else path

_WEIGHTS = {"method": 4, "path": 6, "host": 2, "scheme": 2}


def _differences(asked: RequestKey, recorded: RequestKey) -> tuple[list[str], int]:
    """What differs between two keys, as readable lines, and a score (lower is closer)."""
    diffs: list[str] = []
    score = 0
    for pos, name in ((0, "method"), (1, "path"), (5, "host"), (6, "scheme")):
        if asked[pos] != recorded[pos]:
            diffs.append(f"{name}: {asked[pos]!s}, recorded {recorded[pos]!s}")
            score += _WEIGHTS[name] + (_path_distance(asked[pos], recorded[pos]) if name == "path" else 0)
    q_diffs = _query_differences(asked[2], recorded[2])
    b_diffs = _body_differences(asked[3], recorded[3])
    h_diffs = [f"header {n}: {a!r}, recorded {r!r}" for (n, a), (_, r) in zip(asked[4] or (), recorded[4] or ())
               if a != r]
    diffs += q_diffs + b_diffs + h_diffs
    return diffs, score + len(q_diffs) + len(b_diffs) + len(h_diffs)


def _path_distance(a: Any, b: Any) -> int:
    sa, sb = str(a).split("/"), str(b).split("/")
    common = sum(1 for x, y in zip(sa, sb) if x == y)
    return max(len(sa), len(sb)) - common


def _query_differences(asked: Any, recorded: Any) -> list[str]:
    if asked is None or asked == recorded:
        return []
    a, r = _multi(asked), _multi(recorded)
    out = []
    for name in sorted(set(a) | set(r)):
        if name not in r:
            out.append(f"query parameter {name}: {_one(a[name])!r} not recorded")
        elif name not in a:
            out.append(f"query parameter {name}: missing, recorded {_one(r[name])!r}")
        elif a[name] != r[name]:
            out.append(f"query parameter {name}: {_one(a[name])!r}, recorded {_one(r[name])!r}")
    return out


def _multi(pairs: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def _one(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _body_differences(asked: Any, recorded: Any) -> list[str]:
    if asked is None or asked == recorded:
        return []
    try:
        a, r = limits.loads(asked or b"null"), limits.loads(recorded or b"null")
    except ValueError:
        return ["body differs (not JSON)"]
    out: list[str] = []
    _json_diff(a, r, "", out)
    return out[:10] or ["body differs"]


def _json_diff(a: Any, r: Any, where: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(r, dict):
        for k in sorted(set(a) | set(r)):
            sub = f"{where}.{k}" if where else str(k)
            if k not in r:
                out.append(f"body field {sub}: {_short(a[k])} not recorded")
            elif k not in a:
                out.append(f"body field {sub}: missing, recorded {_short(r[k])}")
            else:
                _json_diff(a[k], r[k], sub, out)
    elif a != r:
        out.append(f"body field {where or '(root)'}: {_short(a)}, recorded {_short(r)}")


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- cursors


@dataclass(slots=True)
class Cursors:
    """Replay positions per session and key (§3); sessions beyond ``max_sessions`` evict the oldest."""

    on_exhausted: OnExhausted = OnExhausted.REPEAT_LAST
    max_sessions: int = 10_000
    _sessions: OrderedDict[str, dict[RequestKey, int]] = field(default_factory=OrderedDict)

    def pick(self, session: str, key: RequestKey, seq: Sequence[Recorded[T]]) -> Recorded[T] | None:
        """The next recorded answer of ``seq`` for this session, or None when exhausted under ``404``."""
        if len(seq) == 1 and self.on_exhausted is not OnExhausted.NOT_FOUND:
            return seq[0]  # the common case: nothing to count
        positions = self._sessions.get(session)
        if positions is None:
            positions = self._sessions[session] = {}
            if len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        n = positions.get(key, 0)
        positions[key] = n + 1
        if n < len(seq):
            return seq[n]
        if self.on_exhausted is OnExhausted.CYCLE:
            return seq[n % len(seq)]
        if self.on_exhausted is OnExhausted.REPEAT_LAST:
            return seq[-1]
        return None

    def reset(self, session: str | None = None) -> None:
        """Rewind one session, or every session when ``session`` is None."""
        if session is None:
            self._sessions.clear()
        else:
            self._sessions.pop(session, None)

    def sessions(self) -> list[str]:
        """The sessions that have a cursor."""
        return list(self._sessions)
