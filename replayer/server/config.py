"""``ServeConfig``: the replay server's settings, from flags, the ``replay:`` section of ``.o2replay.yaml``
and defaults, in that order of precedence (a flag beats the file, the file beats the default).

Parsing helpers raise ValueError; ``serve_config`` re-raises them as UsageError naming the flag or the
config key, so a bad value is one clear line and exit code 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from replayer.errors import UsageError
from replayer.matching import DEFAULT_MATCH_ON, MatchOn, OnExhausted
from replayer.o2ims.dialect import Dialect, parse_dialect
from replayer.security.certs import DEFAULT_TLS_DIR
from replayer.security.clients import read_clients
from replayer.synthetic.callbacks import CallbackPolicy, parse_notify_allow

__all__ = [
    "LatencyMode",
    "Latency",
    "FaultRule",
    "ServeConfig",
    "parse_latency",
    "parse_fault",
    "read_tokens",
    "read_secret",
    "serve_config",
    "REPLAY_KEYS",
]


class LatencyMode(StrEnum):
    """How long to wait before answering (§7)."""

    NONE = "none"
    RECORDED = "recorded"
    FIXED = "fixed"
    RANGE = "range"


@dataclass(frozen=True, slots=True)
class Latency:
    """A latency setting; ``low_ms``/``high_ms`` hold the fixed value or the uniform range."""

    mode: LatencyMode = LatencyMode.NONE
    low_ms: float = 0.0
    high_ms: float = 0.0

    def __str__(self) -> str:
        if self.mode is LatencyMode.FIXED:
            return f"{self.low_ms:g}"
        if self.mode is LatencyMode.RANGE:
            return f"{self.low_ms:g}-{self.high_ms:g}"
        return self.mode.value


def parse_latency(text: str | int | float) -> Latency:
    """Parse ``none``, ``recorded``, ``<ms>`` or ``<min>-<max>`` (milliseconds)."""
    raw = str(text).strip().lower()
    if raw in ("none", "recorded"):
        return Latency(LatencyMode(raw))
    try:
        if "-" in raw.lstrip("-"):
            lo, hi = (float(x) for x in raw.split("-", 1))
            if 0 <= lo <= hi:
                return Latency(LatencyMode.RANGE, lo, hi)
        elif float(raw) >= 0:
            return Latency(LatencyMode.FIXED, float(raw), float(raw))
    except ValueError:
        pass
    raise ValueError(f"latency must be none, recorded, <ms> or <min>-<max> in milliseconds, got {text!r}")


@dataclass(frozen=True, slots=True)
class FaultRule:
    """A fault injected on requests whose path matches ``path`` (a glob) and method (§7)."""

    path: str = "*"
    method: str | None = None
    status: int | None = None
    delay_ms: float = 0.0
    reset: bool = False
    truncate: bool = False
    probability: float = 1.0
    times: int | None = None  # only the first N matching requests; None: every one

    def to_dict(self) -> dict[str, Any]:
        """The config-file form of this rule."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


_FAULT_TYPES: dict[str, tuple[type, ...]] = {
    "path": (str,), "method": (str,), "status": (int,), "delay_ms": (int, float), "reset": (bool,),
    "truncate": (bool,), "probability": (int, float), "times": (int,),
}


def parse_fault(raw: Any, where: str = "fault") -> FaultRule:
    """A FaultRule from a mapping; raise ValueError naming the bad field."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be a mapping with path, method, status, delay_ms, reset, truncate")
    unknown = sorted(set(raw) - set(_FAULT_TYPES))
    if unknown:
        raise ValueError(f"{where}.{unknown[0]} is not a fault field (expected {', '.join(_FAULT_TYPES)})")
    for name, value in raw.items():
        ok = value is None or (isinstance(value, _FAULT_TYPES[name])
                               and (name in ("reset", "truncate") or not isinstance(value, bool)))
        if not ok:
            raise ValueError(f"{where}.{name} has the wrong type: {value!r}")
    rule = FaultRule(**{k: v for k, v in raw.items() if v is not None or k in ("method", "status", "times")})
    if rule.status is not None and not 100 <= rule.status <= 599:
        raise ValueError(f"{where}.status must be between 100 and 599, got {rule.status}")
    if not 0 <= rule.probability <= 1:
        raise ValueError(f"{where}.probability must be between 0 and 1, got {rule.probability}")
    if rule.delay_ms < 0 or (rule.times is not None and rule.times < 1):
        raise ValueError(f"{where}: delay_ms must be >= 0 and times >= 1")
    if rule.status is None and not (rule.delay_ms or rule.reset or rule.truncate):
        raise ValueError(f"{where} does nothing: give status, delay_ms, reset or truncate")
    return replace(rule, method=rule.method.upper() if rule.method else None)


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """Everything ``o2replay serve`` and ``create_app`` need, parsed once."""

    paths: tuple[str, ...] = ("cassettes",)
    host: str = "127.0.0.1"
    port: int = 30205
    match_on: MatchOn = DEFAULT_MATCH_ON
    on_exhausted: OnExhausted = OnExhausted.REPEAT_LAST
    strict: bool = False
    miss_status: int = 404
    synthetic: bool = True
    profile: str | None = None
    latency: Latency = field(default_factory=Latency)
    faults: tuple[FaultRule, ...] = ()
    workers: int = 1
    watch: bool = False
    watch_interval: float = 1.0
    log_format: str = "text"
    access_log: bool = False
    admin_token: str | None = None
    auth_tokens: frozenset[str] | None = None  # None: no authentication
    journal_size: int = 1000
    page_size: int | None = None  # derived collection answers: None serves every match on one page
    use_cache: bool = True
    dialect: Dialect | None = None  # None: the profile's, else inferred from the cassettes, else openshift-kni
    rewrite_urls: bool = True  # recorded absolute URLs name the serving address
    run_id: str | None = None  # salts generated ids (None: a fresh one per start)
    cache_dir: str | None = None  # None: .o2replay-cache/ beside the cassettes
    ready_file: str | None = None  # written once listening: {"url", "host", "port", ...}
    # HTTPS and mutual TLS (docs/security.md)
    tls: str | None = None  # "auto": a local CA and server certificate in tls_dir
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_dir: str = DEFAULT_TLS_DIR
    tls_san: tuple[str, ...] = ()
    tls_client_ca: str | None = None  # a CA file, or "auto" (the local CA): client certificates required
    # OAuth2 (docs/security.md)
    oauth: bool = False
    oauth_clients: str | None = None  # clients file; None: the profile's clients
    oauth_issuer: str | None = None  # None: the server's own URL
    oauth_audience: str = "o2ims-client"
    oauth_jwks: str | None = None  # an external identity provider's JWKS URL: no embedded token endpoint
    oauth_roles_claim: str = "roles"
    oauth_token_ttl: int = 300
    oauth_signing_key: bytes | None = field(default=None, repr=False)  # PEM; None: a new key per start
    # Connection and read limits (server/inbound.py, docs/replay.md#limits-and-hostile-input)
    max_connections: int = 1000
    header_timeout: float = 10.0
    body_timeout: float = 30.0

    @property
    def scheme(self) -> str:
        """``https`` when serving TLS."""
        return "https" if self.tls or self.tls_cert else "http"
    callbacks: CallbackPolicy | None = None  # --notify-allow; None: the default (loopback and private)

    @property
    def mode(self) -> str:
        """One word for the banner: strict, or which fallback answers a miss."""
        if self.strict:
            return "strict"
        return "synthetic fallback" if self.synthetic else "cassettes only"


#: ``replay:`` keys of ``.o2replay.yaml`` and the ServeConfig field each sets.
REPLAY_KEYS = (
    "cassettes", "host", "port", "match_on", "on_exhausted", "strict", "miss_status", "synthetic", "profile",
    "latency", "faults", "workers", "watch", "watch_interval", "log_format", "access_log", "admin_token",
    "auth", "auth_tokens", "journal_size", "page_size", "cache_dir", "admin_token_file", "ready_file",
    "dialect", "rewrite_urls", "run_id",
    "tls", "tls_cert", "tls_key", "tls_dir", "tls_san", "tls_client_ca",
    "oauth_clients", "oauth_issuer", "oauth_audience", "oauth_jwks", "oauth_roles_claim", "oauth_token_ttl",
    "max_connections", "header_timeout", "body_timeout",
    "notify_allow",
)


def read_tokens(path: str | Path) -> frozenset[str]:
    """Accepted bearer tokens, one per line (blank lines and ``#`` comments skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"{path}: cannot read tokens: {e.strerror}") from None
    tokens = frozenset(t.strip() for t in text.splitlines() if t.strip() and not t.lstrip().startswith("#"))
    if not tokens:
        raise ValueError(f"{path}: no token in file (one token per line)")
    return tokens


def read_secret(path: str | Path) -> str:
    """A secret kept in a file (a mounted Kubernetes Secret): its content without surrounding whitespace."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    if not text or "\n" in text:
        raise ValueError(f"{path}: expected one secret on one line, got {'nothing' if not text else 'several lines'}")
    return text


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("on", "true", "yes", "1"):
        return True
    if str(value).lower() in ("off", "false", "no", "0"):
        return False
    raise ValueError(f"{where} must be on or off, got {value!r}")


def _int(value: Any, where: str, low: int, high: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = low - 1
    if isinstance(value, bool) or not low <= n <= high:
        raise ValueError(f"{where} must be an integer from {low} to {high}, got {value!r}")
    return n


def _seconds(value: Any, where: str) -> float:
    try:
        seconds = float(value) if not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        seconds = 0.0
    if not 0 < seconds < 1e6:  # also refuses nan and inf
        raise ValueError(f"{where} must be a positive number of seconds, got {value!r}")
    return seconds


def _choice(value: Any, where: str, choices: tuple[str, ...]) -> str:
    if str(value) not in choices:
        raise ValueError(f"{where} must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _apply(cfg: dict[str, Any], key: str, value: Any, where: str, base: Path) -> None:
    """Set one setting (from a flag or a config key) into ``cfg``; raise ValueError naming ``where``."""
    if key == "cassettes":
        items = [value] if isinstance(value, str) else list(value)
        cfg["paths"] = tuple(str(base / p) if not Path(p).is_absolute() else str(p) for p in items)
    elif key == "match_on":
        cfg["match_on"] = MatchOn.parse(value)
    elif key == "on_exhausted":
        cfg["on_exhausted"] = OnExhausted(_choice(value, where, tuple(e.value for e in OnExhausted)))
    elif key in ("strict", "synthetic", "watch", "access_log", "rewrite_urls"):
        cfg[key] = _bool(value, where)
    elif key == "port":
        cfg["port"] = _int(value, where, 0, 65535)
    elif key == "miss_status":
        cfg["miss_status"] = _int(value, where, 400, 599)
    elif key == "workers":
        cfg["workers"] = _int(value, where, 1, 256)
    elif key == "page_size":
        cfg["page_size"] = _int(value, where, 1, 1_000_000)
    elif key == "journal_size":
        cfg["journal_size"] = _int(value, where, 0, 1_000_000)
    elif key == "max_connections":
        cfg["max_connections"] = _int(value, where, 1, 1_000_000)
    elif key in ("watch_interval", "header_timeout", "body_timeout"):
        cfg[key] = _seconds(value, where)
    elif key == "latency":
        cfg["latency"] = parse_latency(value)
    elif key == "log_format":
        cfg["log_format"] = _choice(value, where, ("text", "json"))
    elif key == "auth":
        cfg["_auth"] = _choice(value, where, ("none", "bearer", "oauth2"))
    elif key == "auth_tokens":
        p = Path(str(value))
        cfg["auth_tokens"] = read_tokens(p if p.is_absolute() else base / p)
    elif key == "faults":
        if not isinstance(value, list):
            raise ValueError(f"{where} must be a list of fault rules")
        cfg["faults"] = tuple(parse_fault(r, f"{where}[{i}]") for i, r in enumerate(value))
    elif key in ("profile", "cache_dir", "ready_file"):  # like cassettes: relative to the config file
        cfg[key] = None if value is None else str(base / str(value))
    elif key == "dialect":
        cfg["dialect"] = None if value is None else parse_dialect(str(value))
    elif key == "admin_token_file":
        p = Path(str(value))
        cfg["admin_token"] = read_secret(p if p.is_absolute() else base / p)
    elif key == "notify_allow":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueError("expected a list of entries such as [loopback, private, 10.1.0.0/16, consumer.lab]")
        cfg["callbacks"] = parse_notify_allow(items, source=where)
    elif key in ("host", "admin_token", "run_id"):
        cfg[key] = None if value is None else str(value)
    elif key.startswith(("tls", "oauth")):
        _apply_security(cfg, key, value, where, base)
    else:
        raise ValueError(f"unknown key (expected one of {', '.join(REPLAY_KEYS)})")


def _file(value: Any, where: str, base: Path) -> str:
    p = Path(str(value)).expanduser()
    p = p if p.is_absolute() else base / p
    if not p.is_file():
        raise ValueError(f"{where}: no such file: {p}")
    return str(p)


def _apply_security(cfg: dict[str, Any], key: str, value: Any, where: str, base: Path) -> None:
    """The TLS and OAuth2 settings; files are relative to the config file (or the working folder)."""
    if key == "tls":
        cfg["tls"] = None if _choice(value, where, ("auto", "off")) == "off" else "auto"
    elif key in ("tls_cert", "tls_key", "oauth_clients"):
        cfg[key] = _file(value, where, base)
        if key == "oauth_clients":
            read_clients(cfg[key])  # a bad clients file is a usage error now, not when the server starts
    elif key == "tls_client_ca":
        cfg[key] = "auto" if str(value) == "auto" else _file(value, where, base)
    elif key == "tls_dir":
        p = Path(str(value)).expanduser()
        cfg[key] = str(p if p.is_absolute() else base / p)
    elif key == "tls_san":
        items = [value] if isinstance(value, str) else list(value)
        names = tuple(str(n).strip() for n in items for n in str(n).split(",") if str(n).strip())
        cfg[key] = names
    elif key == "oauth_token_ttl":
        cfg[key] = _int(value, where, 1, 86_400)
    elif key == "oauth_jwks":
        url = str(value)
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{where} must be an http:// or https:// URL, got {value!r}")
        cfg[key] = url
    elif key in ("oauth_issuer", "oauth_audience", "oauth_roles_claim"):
        if not str(value).strip():
            raise ValueError(f"{where} must not be empty")
        cfg[key] = str(value).strip()
    else:
        raise ValueError(f"unknown key (expected one of {', '.join(REPLAY_KEYS)})")


def _check_security(cfg: dict[str, Any], auth: str | None) -> None:
    """Combinations of TLS and OAuth2 settings that cannot work, as one line each."""
    if bool(cfg.get("tls_cert")) != bool(cfg.get("tls_key")):
        raise UsageError("--tls-cert and --tls-key go together (the certificate chain and its private key)")
    if cfg.get("tls") and cfg.get("tls_cert"):
        raise UsageError("--tls auto and --tls-cert are alternatives: give one of them")
    if cfg.get("tls_client_ca") and not (cfg.get("tls") or cfg.get("tls_cert")):
        raise UsageError("--tls-client-ca needs HTTPS: add --tls auto or --tls-cert/--tls-key")
    oauth_keys = [k for k in ("oauth_clients", "oauth_jwks", "oauth_issuer") if cfg.get(k)]
    if oauth_keys and auth != "oauth2":
        raise UsageError(f"--{oauth_keys[0].replace('_', '-')} needs --auth oauth2")
    if cfg.get("oauth_jwks") and not cfg.get("oauth_issuer"):
        raise UsageError("--oauth-jwks needs --oauth-issuer (the iss every token from that provider carries)")
    if cfg.get("oauth_jwks") and cfg.get("oauth_clients"):
        raise UsageError("--oauth-clients is for the embedded token endpoint; with --oauth-jwks the identity "
                         "provider issues the tokens")


def _usage(where: str, e: ValueError) -> UsageError:
    """One line naming the flag or config key once, whether or not the helper already named it."""
    message = str(e)
    return UsageError(message if message.startswith(where) else f"{where}: {message}")


def serve_config(
    flags: Mapping[str, Any], section: Mapping[str, Any] | None = None, *, config_path: Path | None = None,
    origins: Mapping[str, str] | None = None,
) -> ServeConfig:
    """Merge flags (None: not given) over the ``replay:`` section over defaults; raise UsageError.

    ``origins`` names the environment variable a flag's value came from (errors then name it).
    """
    cfg: dict[str, Any] = {}
    file_base = config_path.parent if config_path else Path(".")
    where_file = f"{config_path or '.o2replay.yaml'}: replay."
    for key, value in (section or {}).items():
        where = f"{where_file}{key}"
        try:
            _apply(cfg, str(key), value, where, file_base)
        except ValueError as e:
            raise _usage(where, e) from None
    for key, value in flags.items():
        if value is None:
            continue
        where = (origins or {}).get(key) or "--" + key.replace("_", "-")
        try:
            _apply(cfg, key, value, where, Path("."))
        except ValueError as e:
            raise _usage(where, e) from None
    auth = cfg.pop("_auth", None)
    _check_security(cfg, auth)
    if auth == "bearer" and not cfg.get("auth_tokens"):
        raise UsageError("--auth bearer needs --auth-tokens FILE (one accepted token per line)")
    if auth in ("none", "oauth2"):
        cfg["auth_tokens"] = None  # tokens alone (flag or file) turn bearer authentication on
    cfg["oauth"] = auth == "oauth2"
    return ServeConfig(**cfg)
