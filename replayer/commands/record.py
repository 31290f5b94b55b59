"""`o2replay record`: run mitmdump with the recording addon, so users need no mitmproxy flags.

The proxy runs as a child process (the same Python); its log lines are read back to print the
listening address and a live count of recorded exchanges. Ctrl-C or SIGTERM stops it cleanly: the
addon's final flush completes the cassette before we exit. Flags > ``O2REPLAY_*`` environment
variables > ``record:`` in .o2replay.yaml > defaults.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit

import replayer
from replayer.project_file import load_config
from replayer.errors import UsageError
from replayer.record.recorder import NOT_SAVED, RecordMode, Recorder, parse_config, parse_flush

__all__ = ["register", "run", "addon_path", "RecordArgs", "mitmdump_argv", "parse_listen", "check_url"]

_HELP = """\
Start a recording proxy (mitmproxy) in front of an O2IMS and write every O2IMS exchange into a
cassette, with secrets redacted before anything touches disk.

  reverse mode (default): point your O2IMS client at the printed address instead of --upstream.
  regular mode:           set HTTP(S)_PROXY to the printed address (HTTPS needs the mitmproxy CA,
                          ~/.mitmproxy/mitmproxy-ca-cert.pem; see docs/recording.md).
  upstream mode:          like regular, but forward through the proxy given as --upstream.

A line per recorded exchange shows the running count. Ctrl-C (or SIGTERM) finishes the cassette.

example:
  o2replay record --upstream https://o2ims.example:443 --cassette cassettes/lab.yaml --listen 127.0.0.1:8080
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/o2ims-infrastructureInventory/v1
"""

_MODES = ("reverse", "regular", "upstream")
#: Options `record` sets itself; `--set` may not override them (mitmproxy would silently get two values).
_MANAGED = frozenset({"mode", "listen_host", "listen_port", "connection_strategy", "cassette", "record_mode",
                      "record_paths", "redact_rules", "cassette_flush", "record_timing", "record_notifications",
                      "notification_paths", "ssl_insecure", "client_certs", "flow_detail",
                      "ssl_verify_upstream_trusted_ca"})
_DEFAULT_LISTEN = "127.0.0.1:8080"
#: Flags that may also come from the ``record:`` section of .o2replay.yaml.
_CONFIG_KEYS = ("upstream", "cassette", "listen", "mode", "record_mode", "record_paths", "redact_rules",
                "insecure", "client_cert", "client_key", "upstream_ca", "timing", "flush", "notifications",
                "notification_paths")
_PATH_KEYS = ("cassette", "redact_rules", "client_cert", "client_key", "upstream_ca")


def register(subs: Any) -> None:
    """Add the `record` subcommand."""
    p = subs.add_parser("record", help="record O2IMS traffic through a proxy into a cassette",
                        description=_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--upstream", metavar="URL",
                   help="the O2IMS base URL (reverse mode) or the next proxy (upstream mode), http(s)://host[:port]")
    p.add_argument("--cassette", metavar="PATH", help="cassette file to write (vcrpy YAML), e.g. cassettes/lab.yaml")
    p.add_argument("--listen", metavar="HOST:PORT", help=f"where the proxy listens (default {_DEFAULT_LISTEN}; port 0 "
                   "picks a free one; the container image sets 0.0.0.0:8080)")
    p.add_argument("--mode", choices=_MODES, help="proxy mode (default reverse)")
    p.add_argument("--record-mode", choices=[m.value for m in RecordMode],
                   help="once (default): only a missing/empty cassette; new_episodes: append unrecorded requests; "
                   "all: replace the cassette, old one kept as .bak; none: record nothing")
    p.add_argument("--record-path", dest="record_paths", action="append", metavar="PREFIX",
                   help="path prefix to record (repeatable; default: the O2IMS API prefixes; '/' = everything)")
    p.add_argument("--redact-rules", metavar="FILE", help="YAML file extending the default redaction rules")
    p.add_argument("--insecure", action="store_true", default=None,
                   help="do not verify the upstream's TLS certificate (mitmproxy ssl_insecure)")
    p.add_argument("--client-cert", metavar="PEM",
                   help="client certificate for mTLS upstreams (PEM; with its key unless --client-key is given; "
                        "mitmproxy client_certs)")
    p.add_argument("--client-key", metavar="PEM", help="the private key of --client-cert when it is a separate file")
    p.add_argument("--upstream-ca", metavar="PEM",
                   help="CA bundle that verifies the upstream's certificate, e.g. a lab CA "
                        "(mitmproxy ssl_verify_upstream_trusted_ca)")
    p.add_argument("--timing", action="store_true", default=None,
                   help="store recorded_at/duration per interaction (cassettes then differ between runs)")
    p.add_argument("--flush", metavar="POLICY", help="'each' exchange (default) or every N seconds, e.g. '5s'")
    p.add_argument("--no-notifications", dest="notifications", action="store_false", default=None,
                   help="do not record O2IMS notifications")
    p.add_argument("--notification-path", dest="notification_paths", action="append", metavar="PREFIX",
                   help="path prefix of a notification callback (repeatable)")
    p.add_argument("--set", dest="extra", action="append", default=[], metavar="OPTION=VALUE",
                   help="pass any other mitmproxy option through (repeatable)")
    p.add_argument("--verbose", action="store_true", help="show every mitmproxy log line")
    p.set_defaults(func=run)


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True, slots=True)
class RecordArgs:
    """Validated arguments of one `record` run."""

    cassette: Path
    mode: str
    upstream: str | None
    host: str
    port: int
    record_mode: str
    record_paths: tuple[str, ...]
    redact_rules: str
    insecure: bool
    client_cert: str
    timing: bool
    flush: str
    notifications: bool
    notification_paths: tuple[str, ...]
    extra: tuple[str, ...] = ()
    client_key: str = ""
    upstream_ca: str = ""


def check_url(url: str, what: str = "--upstream") -> str:
    """An http(s) URL with a host and a valid port; raises UsageError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what} must be an http:// or https:// URL with a host, got {url!r}")
    try:
        parts.port
    except ValueError:
        raise UsageError(f"{what} has an invalid port: {url!r}") from None
    if parts.path not in ("", "/") or parts.query:
        raise UsageError(f"{what} must be scheme://host[:port] without a path (mitmproxy forwards paths as sent), "
                         f"got {url!r}")
    return url.rstrip("/")


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6); raises UsageError."""
    m = re.fullmatch(r"\[(?P<h6>[0-9A-Fa-f:.]+)\]:(?P<p6>\d+)|(?P<h>[^:\[\]]*):(?P<p>\d+)", value.strip())
    if not m:
        raise UsageError(f"--listen must be HOST:PORT such as 127.0.0.1:8080, got {value!r}")
    host = m.group("h6") or m.group("h") or ""
    port = int(m.group("p6") or m.group("p"))
    if not 0 <= port <= 65535:
        raise UsageError(f"--listen port must be 0-65535, got {port}")
    if m.group("h6"):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise UsageError(f"--listen has an invalid IPv6 address {host!r}") from None
    return host, port


def _merged(args: argparse.Namespace) -> dict[str, Any]:
    """Flags (and O2REPLAY_* variables, already in ``args``) over the ``record:`` section over defaults."""
    project = load_config()
    section = project.section("record")
    where = project.path or ".o2replay.yaml"
    unknown = sorted(set(section) - set(_CONFIG_KEYS))
    if unknown:
        raise UsageError(f"{where}: record.{unknown[0]} is not a record option "
                         f"(expected one of {', '.join(_CONFIG_KEYS)})")
    out = {k: section.get(k) for k in _CONFIG_KEYS}
    # As in the replay: section, files named in the config file are relative to the config file.
    base = project.path.parent if project.path else Path(".")
    for key in _PATH_KEYS:
        value = out[key]
        if isinstance(value, str) and value and not Path(value).is_absolute():
            out[key] = str(base / value)
    for key in ("record_paths", "notification_paths"):
        if isinstance(out[key], str):
            out[key] = [out[key]]
    out.update({k: getattr(args, k) for k in _CONFIG_KEYS if getattr(args, k, None) is not None})
    return out


def validate(args: argparse.Namespace) -> RecordArgs:
    """Check every argument (files exist, URL, port, cassette usable); raises UsageError with one line."""
    v = _merged(args)
    mode = v["mode"] or "reverse"
    if mode not in _MODES:
        raise UsageError(f"mode must be one of {', '.join(_MODES)}, got {mode!r}")
    upstream = check_url(v["upstream"]) if v["upstream"] else None
    if mode != "regular" and upstream is None:
        raise UsageError(f"--upstream URL is required in {mode} mode (the O2IMS base URL, e.g. https://o2ims:443)")
    if not v["cassette"]:
        raise UsageError("--cassette PATH is required (e.g. cassettes/lab.yaml)")
    for flag, key in (("--client-cert", "client_cert"), ("--client-key", "client_key"),
                      ("--upstream-ca", "upstream_ca"), ("--redact-rules", "redact_rules")):
        if v[key] and not Path(v[key]).is_file():
            raise UsageError(f"{flag} {v[key]}: no such file")
    if v["client_key"] and not v["client_cert"]:
        raise UsageError("--client-key goes with --client-cert (the certificate it belongs to)")
    if v["upstream_ca"] and v["insecure"]:
        raise UsageError("--upstream-ca and --insecure contradict each other: verify with the CA, or do not verify")
    host, port = parse_listen(str(v["listen"] or _DEFAULT_LISTEN))
    record_paths = tuple(v["record_paths"] or ())
    ra = RecordArgs(
        cassette=Path(v["cassette"]), mode=mode, upstream=upstream, host=host, port=port,
        record_mode=v["record_mode"] or RecordMode.ONCE.value, record_paths=record_paths,
        redact_rules=v["redact_rules"] or "", insecure=bool(v["insecure"]), client_cert=v["client_cert"] or "",
        timing=bool(v["timing"]), flush=str(v["flush"] or "each"),
        notifications=v["notifications"] is not False,
        notification_paths=tuple(v["notification_paths"] or ()), extra=tuple(args.extra),
        client_key=v["client_key"] or "", upstream_ca=v["upstream_ca"] or "",
    )
    _check_recorder(ra)
    for extra in ra.extra:
        key = extra.partition("=")[0]
        if "=" not in extra or not key:
            raise UsageError(f"--set takes OPTION=VALUE (a mitmproxy option), got {extra!r}")
        if key in _MANAGED:
            raise UsageError(f"--set {key}=... is set by o2replay record; use its own flag instead (see --help)")
    return ra


def _check_recorder(ra: RecordArgs) -> None:
    """Parse the recorder's options here, so a bad value fails before any proxy starts."""
    from replayer.o2ims.routes import O2IMS_PATH_PREFIXES

    try:
        parse_flush(ra.flush)
        config = parse_config(
            cassette=str(ra.cassette), record_mode=ra.record_mode,
            record_paths=ra.record_paths or O2IMS_PATH_PREFIXES, redact_rules=ra.redact_rules,
            cassette_flush=ra.flush, record_timing=ra.timing, record_notifications=ra.notifications,
            notification_paths=ra.notification_paths,
        )
        recorder = Recorder(config)  # the pre-flight: folder writable, space left, cassette not locked
        recorder.close()  # nothing recorded: releases the lock for the proxy's own recorder
    except (ValueError, OSError) as e:
        raise UsageError(str(e)) from None
    if ra.record_mode == RecordMode.ONCE and not recorder.active:
        raise UsageError(recorder.note)


# --------------------------------------------------------------------------- the child process


def addon_path() -> Path:
    """The addon script: the checkout's ``addons/o2ims_recorder.py``, else the installed package's entry."""
    package = Path(replayer.__file__).resolve().parent
    checkout = package.parent / "addons" / "o2ims_recorder.py"
    return checkout if checkout.is_file() else package / "record" / "addon.py"


#: The child: stop cleanly when this process dies (a watchdog on the stdin pipe it holds), then mitmdump.
_CHILD = ("import os; from replayer.lifetime import watch_parent_pipe; "
          "os.getppid() == {parent} or os._exit(1); watch_parent_pipe(0); "
          "from mitmproxy.tools.main import mitmdump; mitmdump()")


def _child_env() -> dict[str, str]:
    """The environment, with this ``replayer`` importable by the child however it was started."""
    env = dict(os.environ)
    root = str(Path(replayer.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def mitmdump_argv(ra: RecordArgs) -> list[str]:
    """The mitmdump command line for these arguments."""
    mode = {"reverse": f"reverse:{ra.upstream}", "regular": "regular", "upstream": f"upstream:{ra.upstream}"}[ra.mode]
    sets = {
        "connection_strategy": "lazy",  # reverse mode with a down upstream still answers 502
        "flow_detail": "0",
        "cassette": str(ra.cassette),
        "record_mode": ra.record_mode,
        "cassette_flush": ra.flush,
        "record_timing": str(ra.timing).lower(),
        "record_notifications": str(ra.notifications).lower(),
    }
    if ra.redact_rules:
        sets["redact_rules"] = ra.redact_rules
    if ra.insecure:
        sets["ssl_insecure"] = "true"
    if ra.client_cert:
        sets["client_certs"] = ra.client_cert
    if ra.upstream_ca:
        sets["ssl_verify_upstream_trusted_ca"] = ra.upstream_ca
    argv = [sys.executable, "-c", _CHILD.format(parent=os.getpid()),
            "-s", str(addon_path()), "--mode", mode, "--listen-host", ra.host, "--listen-port", str(ra.port)]
    for key, value in sets.items():
        argv += ["--set", f"{key}={value}"]
    for prefix in ra.record_paths:
        argv += ["--set", f"record_paths={prefix}"]
    for prefix in ra.notification_paths:
        argv += ["--set", f"notification_paths={prefix}"]
    for extra in ra.extra:
        argv += ["--set", extra]
    return argv


_LISTEN_RE = re.compile(r"(?P<what>.+?) listening at (?P<addr>\S+?)\.?$")
_RECORDED_RE = re.compile(r"o2ims-recorder: recorded #(?P<n>\d+) (?P<kind>\w+) (?P<rest>.*)$")
_CLOSED_RE = re.compile(r"o2ims-recorder: closed .*: \d+ exchanges recorded, (?P<caught>\d+) caught")
_NOISE_RE = re.compile(r"\] ?(client|server) (connect|disconnect)|Loading script|^\s*$")
_STAMP_RE = re.compile(r"^\[[0-9:.]+\](\[[^\]]*\])?\s*")


def _lines(stream: IO[str]) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\n")


def _url_of(addr: str) -> str:
    host, _, port = addr.rpartition(":")
    host = "127.0.0.1" if host in ("*", "0.0.0.0") else host
    return f"http://{host}:{port}"


def _show(line: str, verbose: bool, out: IO[str]) -> None:
    msg = _STAMP_RE.sub("", line)
    m = _RECORDED_RE.search(msg)
    if m:
        kind = "" if m.group("kind") == "api" else f"{m.group('kind')} "
        print(f"[{m.group('n')}] {kind}{m.group('rest')}", file=out, flush=True)
    elif verbose or not _NOISE_RE.search(line):
        print(msg.replace("o2ims-recorder: ", ""), file=out, flush=True)


def _startup_error(lines: list[str]) -> str:
    """The most telling line of a failed start: our option error, a bind failure, any error."""
    msgs = [_STAMP_RE.sub("", line).strip() for line in lines if line.strip()]
    for needle in ("o2ims recorder:", "failed to listen", "rror", "nknown option"):
        hit = next((m for m in msgs if needle in m), None)
        if hit:
            hit = re.sub(r"^(\[Errno \d+\] )+", "", hit)
            return hit[hit.index("o2ims recorder:"):] if needle == "o2ims recorder:" else hit
    return msgs[-1] if msgs else ""


def _have_mitmproxy() -> bool:
    try:
        return importlib.util.find_spec("mitmproxy") is not None
    except ImportError:  # a finder that refuses it says so by raising
        return False


def _client_pem(ra: RecordArgs, folder: Path) -> RecordArgs:
    """mitmproxy wants the client certificate and its key in one PEM: join separate files into a private one."""
    if not ra.client_key:
        return ra
    joined = folder / "client.pem"
    joined.touch(mode=0o600)
    joined.write_bytes(Path(ra.client_cert).read_bytes().rstrip(b"\n") + b"\n" + Path(ra.client_key).read_bytes())
    return replace(ra, client_cert=str(joined), client_key="")


def run(args: argparse.Namespace) -> int:
    """Run `o2replay record`."""
    with tempfile.TemporaryDirectory(prefix="o2replay-record-") as private:
        ra = _client_pem(validate(args), Path(private))
        if not _have_mitmproxy():
            raise UsageError("recording needs mitmproxy, which is not installed here (the serve image has none: "
                             "use the record image, or pip install o2ims-replay)")
        return _run(ra, args.verbose)


def _run(ra: RecordArgs, verbose: bool) -> int:
    out = sys.stdout
    # stdin is a pipe we never write: the child's watchdog sees it close when this process dies.
    proc = subprocess.Popen(mitmdump_argv(ra), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True, bufsize=1,
                            env=_child_env())
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if proc.poll() is not None:
            return
        if stopping.is_set():  # a second Ctrl-C: do not wait (writes are atomic, the cassette stays valid)
            proc.kill()
            return
        stopping.set()
        proc.send_signal(signal.SIGTERM)  # mitmdump shuts down cleanly; the addon flushes in done()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _follow(proc, ra, verbose, out, stopping)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _follow(proc: subprocess.Popen[str], ra: RecordArgs, verbose: bool, out: IO[str],
            stopping: threading.Event) -> int:
    assert proc.stdout is not None
    listening, count, caught = False, 0, 0
    not_saved = ""
    early: list[str] = []  # the first lines: shown only if the proxy fails to start or stops by itself
    for line in _lines(proc.stdout):
        if NOT_SAVED in line:
            not_saved = _STAMP_RE.sub("", line).replace("o2ims-recorder: ", "").strip()
        if len(early) < 200:
            early.append(line)
        m = _LISTEN_RE.search(_STAMP_RE.sub("", line))
        if m and not listening:
            listening = True
            print(f"o2replay record: {m.group('what')} listening on {_url_of(m.group('addr'))}", file=out)
            print(f"o2replay record: recording into {ra.cassette} (record mode {ra.record_mode}); "
                  "Ctrl-C to stop", file=out, flush=True)
            continue
        rec = _RECORDED_RE.search(line)
        if rec:
            count = int(rec.group("n"))
        closed = _CLOSED_RE.search(line)
        if closed:
            caught = int(closed.group("caught"))
        if "o2ims-recorder: closed" in line or "o2ims-recorder: recording into" in line:
            continue
        if stopping.is_set() and not verbose and "o2ims-recorder" not in line:
            continue  # mitmproxy's shutdown noise (cancelled connection tasks)
        if not listening and not verbose:
            continue
        _show(line, verbose, out)
    code = proc.wait(30)
    if code != 0 and not stopping.is_set():
        what = "stopped" if listening else "did not start"
        raise UsageError(f"the proxy {what}: {_startup_error(early) or f'exit code {code}'}")
    if not_saved:
        print(f"o2replay record: error: {not_saved}", file=sys.stderr, flush=True)
        return 1
    noun = "exchange" if count == 1 else "exchanges"
    scan = ("no secret left after redaction" if not caught else
            f"{caught} secret{'s' * (caught != 1)} the rules missed caught by the scan and redacted")
    print(f"o2replay record: {count} {noun} recorded into {ra.cassette}; {scan}", file=out, flush=True)
    return 0
