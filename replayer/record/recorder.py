"""Recording: exchanges seen by the proxy -> redacted cassette interactions, under a record mode.

The mitmproxy addon (``replayer/record/addon.py``) hands every completed exchange to
``Recorder.record``; everything else lives here: option parsing (ValueError on bad input), the path
filter, notification detection, redaction, record modes, metadata and the flush policy.

Record modes are vcrpy's, translated to a proxy that always forwards (docs/recording.md):

- ``once``: record when the cassette is missing or empty; an existing non-empty cassette is never
  touched (traffic still flows, nothing is written).
- ``new_episodes``: keep the cassette and append exchanges whose request was recorded fewer times
  than it has now been seen (vcrpy plays each recorded response once, then records).
- ``all``: record everything into a fresh cassette. The old file stays until the first exchange
  is flushed; then it is kept beside it as ``<name>.bak`` and replaced atomically.
- ``none``: record nothing (a pass-through proxy).

Interactions are appended in the order responses complete; with concurrent clients that is
completion order, not request order.
"""

from __future__ import annotations

import http
import re
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from replayer import limits
from replayer import __version__
from replayer.cassettes.model import (
    Cassette,
    Headers,
    Interaction,
    InteractionKind,
    InteractionMeta,
    Request,
    Response,
    header_value,
    is_json_content,
    media_type,
    normalise_message,
)
from replayer.cassettes.files import CassetteWriter, atomic_write
from replayer.cassettes.load import load_cassette
from replayer.cassettes.guard import CassetteLock, remove_stale_temp_files, rescue_copy, writable_problem
from replayer.errors import CassetteError
from replayer.matching import request_key
from replayer.o2ims.routes import O2IMS_PATH_PREFIXES
from replayer.record.redact import RedactRules, default_rules, redact_interaction, redact_uri, rules_from_yaml
from replayer.record.scrub import scrub_interaction

__all__ = [
    "RecordMode",
    "FlushPolicy",
    "RecorderConfig",
    "Exchange",
    "Outcome",
    "Recorder",
    "parse_config",
    "parse_flush",
    "headers_from_pairs",
    "classify",
    "build_interaction",
    "build_checked_interaction",
    "api_version_of",
    "safe_target",
    "NOTIFICATION_MARKERS",
    "NOT_SAVED",
]


class RecordMode(StrEnum):
    """vcrpy's record modes, as a recording proxy applies them (see the module docstring)."""

    ONCE = "once"
    NEW_EPISODES = "new_episodes"
    ALL = "all"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class FlushPolicy:
    """When the cassette is rewritten: after every exchange (``interval == 0``) or every N seconds."""

    interval: float = 0.0

    @property
    def each(self) -> bool:
        """True when every recorded exchange is flushed at once."""
        return self.interval == 0


@dataclass(frozen=True, slots=True)
class RecorderConfig:
    """Everything the recorder needs, parsed once from the addon's options."""

    cassette: Path
    mode: RecordMode = RecordMode.ONCE
    paths: tuple[str, ...] = ()
    rules: RedactRules = field(default_factory=default_rules)
    flush: FlushPolicy = FlushPolicy()
    timing: bool = False
    notifications: bool = True
    notification_paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Exchange:
    """One completed HTTP exchange as the proxy saw it (bodies still content-encoded)."""

    method: str
    url: str
    request_headers: Headers
    request_body: bytes
    status: int
    reason: str
    response_headers: Headers
    response_body: bytes
    started: float = 0.0
    ended: float = 0.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``Recorder.record`` did with one exchange: ``index`` is set when it was written."""

    recorded: bool
    reason: str
    kind: InteractionKind | None = None
    index: int | None = None
    #: The redacted path and query, safe to log.
    target: str = ""
    #: What the scan detectors still found after redaction (and was redacted before the write).
    caught: tuple[str, ...] = ()


#: Logged when the final write failed (the session is in a rescue file); ``o2replay record`` then exits 1.
NOT_SAVED = "NOT SAVED: cannot write"

# --------------------------------------------------------------------------- option parsing

_FLUSH_RE = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*s?$")


def parse_flush(value: str) -> FlushPolicy:
    """``each`` (after every exchange) or a number of seconds such as ``5`` or ``2.5s``."""
    v = value.strip().lower()
    if v in ("each", "exchange", "always", "0", "0s"):
        return FlushPolicy(0.0)
    m = _FLUSH_RE.match(v)
    if not m or float(m.group("n")) <= 0:
        raise ValueError(f"cassette_flush must be 'each' or a number of seconds such as '5s', got {value!r}")
    return FlushPolicy(float(m.group("n")))


def _parse_paths(name: str, paths: Iterable[str]) -> tuple[str, ...]:
    out = []
    for p in paths:
        if not p.startswith("/"):
            raise ValueError(f"{name} entries must be path prefixes starting with '/', got {p!r}")
        out.append(p.rstrip("/") or "/")
    return tuple(out)


def parse_config(
    *,
    cassette: str,
    record_mode: str = "once",
    record_paths: Sequence[str] = (),
    redact_rules: str = "",
    redact_key: bytes | None = None,
    cassette_flush: str = "each",
    record_timing: bool = False,
    record_notifications: bool = True,
    notification_paths: Sequence[str] = (),
) -> RecorderConfig:
    """Parse the addon's option values; raises ValueError naming the option and the valid values."""
    if not cassette.strip():
        raise ValueError("cassette must be a file path such as cassettes/lab.yaml")
    path = Path(cassette).expanduser()
    if path.is_dir():
        raise ValueError(f"cassette {cassette} is a directory, expected a file path")
    try:
        mode = RecordMode(record_mode)
    except ValueError:
        raise ValueError(
            f"record_mode must be one of {', '.join(m.value for m in RecordMode)}, got {record_mode!r}"
        ) from None
    rules = default_rules()
    if redact_rules:
        rules = _load_rules(redact_rules, rules)
    if redact_key:
        rules = _with_key(rules, redact_key)
    return RecorderConfig(
        cassette=path,
        mode=mode,
        paths=_parse_paths("record_paths", record_paths),
        rules=rules,
        flush=parse_flush(cassette_flush),
        timing=record_timing,
        notifications=record_notifications,
        notification_paths=_parse_paths("notification_paths", notification_paths),
    )


def _load_rules(path: str, base: RedactRules) -> RedactRules:
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"redact_rules {path}: cannot read: {e.strerror}") from None
    try:
        return rules_from_yaml(text, base)
    except ValueError as e:
        raise ValueError(f"redact_rules {path}: {e}") from None


def _with_key(rules: RedactRules, key: bytes) -> RedactRules:
    return replace(rules, key=key)


# --------------------------------------------------------------------------- pure helpers


def headers_from_pairs(pairs: Iterable[tuple[str, str]]) -> Headers:
    """Group header pairs by case-insensitive name, keeping the first spelling and value order."""
    out: Headers = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        key = spelling.setdefault(name.lower(), name)
        out.setdefault(key, []).append(value)
    return out


def _under(path: str, prefixes: Iterable[str]) -> bool:
    """True when ``path`` is one of the prefixes or below one, segment-wise."""
    return any(p == "/" or path == p or path.startswith(p + "/") for p in prefixes)


#: JSON members that mark a request body as an O2IMS notification (InventoryChangeNotification,
#: AlarmEventNotification, ClusterChangeNotification of the O2IMS API; CloudEvents of O2 events).
NOTIFICATION_MARKERS = frozenset({"notificationId", "notificationEventType", "alarmEventRecordId"})


def _looks_like_notification(exchange: Exchange) -> bool:
    if exchange.method != "POST" or not exchange.request_body:
        return False
    if not is_json_content(header_value(exchange.request_headers, "Content-Type")):
        return False
    try:
        _, body = normalise_message(exchange.request_headers, exchange.request_body)
        doc = limits.loads(body)
    except ValueError:
        return False
    items = doc if isinstance(doc, list) else [doc]
    return any(
        isinstance(d, dict) and (NOTIFICATION_MARKERS & d.keys() or {"specversion", "type", "data"} <= d.keys())
        for d in items
    )


def is_token_exchange(exchange: Exchange) -> bool:
    """An OAuth2 token request (RFC 6749 4.4.2: a form with ``grant_type``) or an answer carrying an
    ``access_token`` (RFC 6749 5.1): never recorded, whatever the paths, so no client secret or token is
    written and a replay cassette holds no credential exchange (the replay server issues its own tokens)."""
    if exchange.method != "POST":
        return False
    if media_type(header_value(exchange.request_headers, "Content-Type")) == "application/x-www-form-urlencoded":
        try:
            _, raw = normalise_message(exchange.request_headers, exchange.request_body)
            form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        except ValueError:
            form = {}
        if "grant_type" in form:
            return True
    if is_json_content(header_value(exchange.response_headers, "Content-Type")):
        try:
            _, body = normalise_message(exchange.response_headers, exchange.response_body)
            doc = limits.loads(body)
        except ValueError:
            return False
        return isinstance(doc, dict) and "access_token" in doc
    return False


def classify(exchange: Exchange, config: RecorderConfig) -> InteractionKind | None:
    """API, notification, or None (not recorded): paths first, then the notification body shape."""
    if exchange.method == "CONNECT":
        return None
    path = urlsplit(exchange.url).path or "/"
    if config.notification_paths and _under(path, config.notification_paths):
        return InteractionKind.NOTIFICATION if config.notifications else None
    recorded = _under(path, config.paths)
    if recorded and _under(path, O2IMS_PATH_PREFIXES):
        return InteractionKind.API
    if config.notifications and _looks_like_notification(exchange):  # callbacks live outside the O2IMS paths
        return InteractionKind.NOTIFICATION
    return InteractionKind.API if recorded else None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_interaction(exchange: Exchange, kind: InteractionKind, config: RecorderConfig) -> Interaction:
    """Decode, normalise and redact one exchange; raises ValueError for an undecodable body."""
    return build_checked_interaction(exchange, kind, config)[0]


def build_checked_interaction(exchange: Exchange, kind: InteractionKind,
                              config: RecorderConfig) -> tuple[Interaction, tuple[str, ...]]:
    """``build_interaction``, then the scan detectors over the result (``replayer.scrub``): the interaction
    as it may be written, and what the detectors caught that the rules had not redacted."""
    req_headers, req_body = normalise_message(exchange.request_headers, exchange.request_body)
    resp_headers, resp_body = normalise_message(exchange.response_headers, exchange.response_body)
    # A cassette holding a body nested deeper than the limit would not load again: refuse it here.
    for where, body in (("request.body", req_body), ("response.body", resp_body)):
        if body.lstrip()[:1] in (b"{", b"["):
            limits.check_json_depth(body, what=where)
    reason = exchange.reason or _phrase(exchange.status)
    meta = InteractionMeta(kind)
    if config.timing:
        meta = InteractionMeta(kind, _iso(exchange.started), max(0.0, exchange.ended - exchange.started))
    raw = Interaction(
        Request(exchange.method, exchange.url, req_headers, req_body),
        Response(exchange.status, reason, resp_headers, resp_body),
        meta,
    )
    redacted, caught = scrub_interaction(redact_interaction(raw, config.rules), config.rules)
    # Redaction may change a body's length: fix Content-Length again (normalise_message is idempotent).
    rh, rb = normalise_message(redacted.request.headers, redacted.request.body)
    sh, sb = normalise_message(redacted.response.headers, redacted.response.body)
    return Interaction(
        Request(redacted.request.method, redacted.request.uri, rh, rb),
        Response(redacted.response.status, redacted.response.reason, sh, sb),
        meta,
    ), tuple(caught)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


_API_RE = re.compile(r"^/(?:o2ims|O2ims)[-_](?P<api>[A-Za-z]+)/(?P<version>v\d+)(?:/|$)")


def api_version_of(path: str) -> tuple[str, str] | None:
    """``("infrastructureInventory", "v1")`` for ``/o2ims-infrastructureInventory/v1/...``."""
    m = _API_RE.match(path)
    return (m.group("api"), m.group("version")) if m else None


def _target(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def safe_target(url: str, rules: RedactRules) -> str:
    """The path and query of a URL with secrets redacted, for log lines."""
    return _target(redact_uri(url, rules))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# --------------------------------------------------------------------------- the recorder


class Recorder:
    """Applies a RecorderConfig to a stream of exchanges and keeps the cassette on disk current."""

    def __init__(self, config: RecorderConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._last_flush = clock()
        self._recorded = 0
        self._caught = 0
        self._seen: Counter[Hashable] = Counter()
        self._existing: Counter[Hashable] = Counter()
        self._backup_pending = False
        self.active, self.note = True, ""
        self._lock: CassetteLock | None = None
        self._writer = self._open()
        if self.active:
            self._prepare()

    def _open(self) -> CassetteWriter:
        cfg, path = self.config, self.config.cassette
        tool = {"tool": f"o2ims-replay {__version__}"}
        if cfg.mode is RecordMode.NONE:
            self.active, self.note = False, "record_mode none: nothing is recorded"
            return CassetteWriter(path, metadata=tool)
        if cfg.mode is RecordMode.ALL:
            self._backup_pending = path.exists()
            return CassetteWriter(path, metadata=tool)
        existing = _load_existing(path)
        if cfg.mode is RecordMode.ONCE:
            if existing is not None and len(existing):
                self.active = False
                n = len(existing)
                self.note = (f"record_mode once: {path} already holds {n} interaction{'s' * (n != 1)} and is "
                             "left untouched; use record_mode new_episodes or all to add to it or replace it")
            return CassetteWriter(path, metadata=tool)
        # NEW_EPISODES
        if existing is not None:
            # the replay server's key (issue 3): method, normalised path, query in any order, canonical JSON
            self._existing.update(request_key(i.request) for i in existing.interactions)
        writer = CassetteWriter(path, metadata=tool, existing=existing)
        writer.update_metadata(**tool)
        return writer

    def _prepare(self) -> None:
        """Pre-flight, before any traffic: the cassette can be written, and no other recorder holds it."""
        path = self.config.cassette
        problem = writable_problem(path)
        if problem:
            raise ValueError(f"cannot record into {path}: {problem}")
        self._lock = CassetteLock(path)
        try:
            self._lock.acquire()
        except OSError as e:
            raise ValueError(f"cannot record into {path}: cannot create files in {path.parent}: "
                             f"{e.strerror or e}") from None
        remove_stale_temp_files(path)

    @property
    def recorded(self) -> int:
        """Exchanges written (or pending a timed flush) in this session."""
        return self._recorded

    @property
    def caught(self) -> int:
        """Secrets the scan detectors found after redaction (and redacted) in this session."""
        return self._caught

    @property
    def size(self) -> int:
        """Interactions in the cassette (kept ones included, in new_episodes)."""
        return len(self._writer)

    def record(self, exchange: Exchange) -> Outcome:
        """Record one exchange if the mode and filters say so; flushes per the policy."""
        if not self.active:
            return Outcome(False, self.note)
        if is_token_exchange(exchange):
            return Outcome(False, "an OAuth2 token exchange is never recorded")
        kind = classify(exchange, self.config)
        if kind is None:
            return Outcome(False, "path not recorded (see record_paths)")
        try:
            interaction, caught = build_checked_interaction(exchange, kind, self.config)
        except ValueError as e:
            return Outcome(False, f"not recorded: {e}", kind)
        if self.config.mode is RecordMode.NEW_EPISODES:
            key = request_key(interaction.request)
            self._seen[key] += 1
            if self._seen[key] <= self._existing[key]:
                return Outcome(False, "already recorded (record_mode new_episodes)", kind, None,
                               _target(interaction.request.uri))
        self._writer.append(interaction)
        self._recorded += 1
        self._caught += len(caught)
        self._update_metadata(exchange, kind)
        if self.config.flush.each:
            self.flush()
        else:
            self.tick()
        return Outcome(True, "recorded", kind, len(self._writer) - 1, _target(interaction.request.uri), caught)

    def _update_metadata(self, exchange: Exchange, kind: InteractionKind) -> None:
        meta: dict[str, Any] = {}
        if kind is InteractionKind.API:
            origins = set(filter(None, str(self._writer.metadata.get("upstream", "")).split(", ")))
            origins.add(_origin(exchange.url))
            meta["upstream"] = ", ".join(sorted(origins))
            av = api_version_of(urlsplit(exchange.url).path)
            if av:
                versions = {k: list(v) for k, v in dict(self._writer.metadata.get("api_versions") or {}).items()}
                versions[av[0]] = sorted(set(versions.get(av[0], [])) | {av[1]})
                meta["api_versions"] = {k: versions[k] for k in sorted(versions)}
        if self.config.timing and self._recorded == 1:
            meta["recorded_at"] = _iso(exchange.started)
        self._writer.update_metadata(**meta)

    def tick(self) -> None:
        """Flush when the timed policy's interval has passed (call it now and then)."""
        if self._clock() - self._last_flush >= self.config.flush.interval:
            self.flush()

    def flush(self) -> None:
        """Write the cassette now if anything was recorded (the first write of ``all`` keeps a .bak)."""
        self._last_flush = self._clock()
        if not self._recorded or not self._writer.dirty:
            return
        path = self.config.cassette
        if self._backup_pending and path.exists():
            atomic_write(path.with_name(path.name + ".bak"), path.read_bytes())
        self._backup_pending = False
        self._writer.flush()

    def close(self) -> None:
        """Final flush, then release the cassette's lock.

        When the cassette cannot be written (disk full, folder gone read-only), the exchanges are not
        dropped: they go to a rescue file elsewhere, and the OSError raised names it.
        """
        try:
            self.flush()
        except OSError as e:
            rescue = rescue_copy(self.config.cassette, self._writer.text())
            where = f"kept in {rescue}" if rescue else "no rescue file could be written either"
            raise OSError(e.errno, f"{e.strerror or e}; the {self._recorded} exchanges of this session are {where}") \
                from None
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None


def _load_existing(path: Path) -> Cassette | None:
    """The cassette at ``path``, or None when it is missing or an empty file."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        return load_cassette(path)
    except CassetteError as e:
        raise ValueError(f"cannot add to {e}") from None
