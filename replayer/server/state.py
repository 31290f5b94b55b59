"""The loaded cassette set: index, pre-built responses and derived collections, swapped as one object.

Everything a cassette hit needs is prepared here at load time (issue 3, §10): the body bytes, the
headers to replay (hop-by-hop ones dropped, Date refreshed by aiohttp, Content-Length recomputed) plus
``X-Replay-Source``; the handler adds ``X-Replay-Interaction``. A reload builds a
new ``LoadedSet`` completely before the server swaps it in, so no request sees a half-loaded set (§6).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from multidict import CIMultiDict, CIMultiDictProxy

from replayer.cassettes.load import load_cassettes
from replayer.cassettes.model import Interaction
from replayer.cassettes.yaml import gc_paused
from replayer.matching import CassetteIndex, MatchOn
from replayer.o2ims.dialect import Inference, infer_dialect
from replayer.o2ims.routes import normalise_path, template_of
from replayer.server.derived import Derived, build_derived
from replayer.server.rewrite import base_of, mentions

__all__ = ["HOP_BY_HOP", "Prepared", "CassetteInfo", "LoadedSet", "prepare", "load_set"]

#: RFC 9110 §7.6.1 hop-by-hop headers, never replayed.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
    "trailer", "trailers", "transfer-encoding", "upgrade",
})
#: Also dropped: recomputed (Content-Length), refreshed (Date) or no longer true (Content-Encoding:
#: cassettes hold decoded bodies).
_DROPPED = HOP_BY_HOP | {"content-length", "date", "content-encoding"}


@dataclass(slots=True)
class Prepared:
    """A recorded response ready to send.

    Not frozen for one reason: ``template`` (for metrics) is computed on the first hit, so loading
    100k interactions does not run the route matcher 100k times.
    """

    status: int
    reason: str | None
    headers: CIMultiDictProxy[str]  # shared between interactions with the same recorded headers
    body: bytes
    uri: str
    duration: float | None
    interaction: str
    template: str | None = None
    #: The recorded base URL when the body or a URL header names it (rewritten on the way out), else "".
    recorded_base: str = ""

    def route(self) -> str:
        """The route template of the recorded request (memoised)."""
        if self.template is None:
            self.template = template_of(normalise_path(urlsplit(self.uri).path or "/"))
        return self.template


class _Preparer:
    """Builds ``Prepared`` responses, sharing one header set between interactions that recorded the same."""

    def __init__(self) -> None:
        self._headers: dict[tuple[tuple[str, str], ...], CIMultiDictProxy[str]] = {}

    def __call__(self, cassette: str, index: int, inter: Interaction) -> Prepared:
        resp = inter.response
        items = tuple((name, v) for name, values in resp.headers.items() if name.lower() not in _DROPPED
                      for v in values)
        headers = self._headers.get(items)
        if headers is None:
            headers = self._headers[items] = CIMultiDictProxy(CIMultiDict(items))
        base = base_of(inter.request.uri)
        named = base if mentions(base, resp.body, (v for _, v in items)) else ""
        return Prepared(resp.status, resp.reason or None, headers, resp.body, inter.request.uri,
                        inter.meta.duration, f"{cassette}#{index}", recorded_base=named)


def prepare(cassette: str, index: int, inter: Interaction) -> Prepared:
    """Pre-build what a cassette hit sends for one interaction."""
    return _Preparer()(cassette, index, inter)


@dataclass(frozen=True, slots=True)
class CassetteInfo:
    """One loaded cassette file, for the admin API and the banner."""

    name: str
    path: str
    digest: str
    interactions: int


@dataclass(frozen=True, slots=True)
class LoadedSet:
    """An immutable snapshot of every loaded cassette."""

    index: CassetteIndex[Prepared]
    derived: Derived
    cassettes: tuple[CassetteInfo, ...]
    loaded_at: float
    inferred: Inference = Inference(None)  # the dialect the recorded answers point at

    @property
    def interactions(self) -> int:
        """How many interactions the cassettes hold."""
        return sum(c.interactions for c in self.cassettes)


def load_set(paths: Iterable[str | Path], match_on: MatchOn, *, use_cache: bool = True,
             page_size: int | None = None, cache_dir: str | None = None) -> LoadedSet:
    """Load, index and prepare every cassette under ``paths``; raises CassetteError on a bad file."""
    loaded = load_cassettes(list(paths), use_cache=use_cache, cache_dir=cache_dir)
    # Indexing builds several objects per interaction and none holds a cycle: with the cyclic GC on, its
    # collections walk everything loaded so far again and again (100k interactions: 3.3 s instead of 1.4 s).
    with gc_paused():
        index = CassetteIndex(((lc.name, lc.cassette.interactions) for lc in loaded), match_on, _Preparer())
        derived = build_derived(
            ((f"{lc.name}#{i}", inter) for lc in loaded for i, inter in enumerate(lc.cassette.interactions)),
            page_size)
    infos = tuple(CassetteInfo(lc.name, str(lc.path), lc.digest, len(lc.cassette)) for lc in loaded)
    inferred = infer_dialect(
        (i.request.uri, i.response.status,
         {k.lower(): v[0] for k, v in i.response.headers.items() if v}, i.response.body)
        for lc in loaded for i in lc.cassette.interactions)
    return LoadedSet(index, derived, infos, time.time(), inferred)


def empty_set(match_on: MatchOn) -> LoadedSet:
    """A set with no cassette (the synthetic model answers everything)."""
    return LoadedSet(CassetteIndex((), match_on, prepare), Derived(), (), time.time())
