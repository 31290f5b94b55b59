"""Rewriting recorded absolute URLs to the address being served.

A recording made against ``http://127.0.0.1:38600`` holds that address in ``OCloudInfo.serviceUri``, in
``Link`` and ``Location`` headers and in any string naming a resource. Replayed as is, a client that follows
them leaves the replay server. The recorded base URL is the scheme and authority of the recorded request; every
occurrence of it that is the whole string or followed by ``/``, ``?``, ``#`` or a closing quote becomes the base
URL the client used (``replay.rewrite_urls: false`` or ``--no-rewrite-urls`` turns this off).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["REWRITTEN_HEADERS", "base_of", "mentions", "rewrite_body", "rewrite_headers"]

#: Response headers whose values are URLs.
REWRITTEN_HEADERS = ("Location", "Content-Location", "Link")


def base_of(uri: str) -> str:
    """``scheme://authority`` of an absolute URI, or "" for a relative one."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@functools.lru_cache(maxsize=64)
def _pattern(old: str) -> re.Pattern[bytes]:
    return re.compile(re.escape(old.encode()) + rb'(?=[/?#"\\>;,\s]|$)')


def mentions(old: str, body: bytes, header_values: Iterable[str]) -> bool:
    """Whether a recorded answer holds the recorded base URL anywhere rewriting would change it."""
    if not old:
        return False
    return bool(_pattern(old).search(body)) or any(_pattern(old).search(v.encode()) for v in header_values)


def rewrite_body(body: bytes, old: str, new: str) -> bytes:
    """``body`` with the recorded base URL ``old`` replaced by ``new``."""
    return _pattern(old).sub(new.encode().replace(b"\\", b"\\\\"), body)


def rewrite_headers(headers: CIMultiDictProxy[str], old: str, new: str) -> CIMultiDict[str]:
    """A copy of ``headers`` whose URL-valued headers name ``new`` instead of ``old``."""
    out: CIMultiDict[str] = CIMultiDict()
    pattern = _pattern(old)
    for name, value in headers.items():
        if name.title() in REWRITTEN_HEADERS or name in REWRITTEN_HEADERS:
            value = pattern.sub(new.encode(), value.encode()).decode()
        out.add(name, value)
    return out
