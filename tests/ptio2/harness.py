"""Start the O-RAN SC INF O2 service (pti-o2) on loopback: a real O2IMS to record from and to compare against.

    with start_ptio2() as ref:                  # PTIO2_SOURCE picks the source (see parse_source)
        ref.seed(render_oran_sc(model, ref.base_url))
        requests.get(ref.base_url + "/o2ims-infrastructureInventory/v1", headers=ref.auth())

What runs, all under one temporary folder and stopped by pid:
- PostgreSQL from Debian (``/usr/lib/postgresql/N/bin``) on a free loopback port: a fresh cluster, role and database
  ``o2ims`` as pti-o2 expects (``o2common/config/config.get_postgres_uri``). PostgreSQL refuses to run as root, so
  under root its processes run as the ``postgres`` user the Debian package creates.
- Redis from Debian on a free loopback port (pti-o2 publishes its events there, ``o2common/adapter``).
- pti-o2's API under gunicorn (``o2app.entrypoints.flask_application:app``, as ``charts/.../o2api_start.sh``) on a
  socket bound here and handed over, so its port is known and never raced for.

pti-o2's venv is built once from its own ``requirements.txt`` + ``constraints.txt`` and cached under
``~/.cache/o2ims-replay/pti-o2/`` keyed on those files and the interpreter version. Authentication cannot be turned
off in pti-o2 (``flask_application.AUTH_ENABLED``); its ``oauth2`` provider with ``oauth2_verify_type = jwt``
verifies RS256 tokens against a public key we generate, so ``auth()`` gives a valid bearer token.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = ["DEFAULT_SOURCE", "HarnessError", "PtiO2", "Source", "parse_source", "start_ptio2"]

#: pti-o2 at the commit these tests were written against (tag 2.3.0, "N Release").
DEFAULT_SOURCE = "https://github.com/o-ran-sc/pti-o2.git@32eb96776f75587806d1759e96cd3aabf1873b6f"
#: requirements-stx.txt lists git URLs on opendev.org (the StarlingX clients, replaced by import-only
#: stand-ins below) and elasticsearch, which pti-o2's PM client imports at start-up.
EXTRA_REQUIREMENTS = ("elasticsearch",)
INSIDE = Path(__file__).resolve().parent / "inside.py"
START_TIMEOUT_S = 60.0
INVENTORY = "/o2ims-infrastructureInventory/v1"

#: Import-only stand-ins for the StarlingX clients (not on PyPI). pti-o2 imports them at start-up; only its
#: watchers call them, and no watcher runs here.
STANDINS: dict[str, str] = {
    "cgtsclient/__init__.py": "",
    "cgtsclient/client.py": "def get_client(*a, **k):\n    raise RuntimeError('no StarlingX here')\n",
    "cgtsclient/exc.py": "class EndpointException(Exception):\n    pass\n",
    "dcmanagerclient/__init__.py": "",
    "dcmanagerclient/api/__init__.py": "",
    "dcmanagerclient/api/client.py": "def client(*a, **k):\n    raise RuntimeError('no StarlingX here')\n",
    "fmclient/__init__.py": "",
    "fmclient/client.py": "def get_client(*a, **k):\n    raise RuntimeError('no StarlingX here')\n",
    "fmclient/common/__init__.py": "",
    "fmclient/common/exceptions.py": "class HTTPNotFound(Exception):\n    pass\n\n\n"
                                     "class HttpServerError(Exception):\n    pass\n",
}

CONFIG = """\
[DEFAULT]
ocloud_global_id = {global_id}
smo_register_url = http://127.0.0.1:9/register
smo_token_data = o2ims-replay
auth_provider = oauth2

[OAUTH2]
oauth2_verify_type = jwt
oauth2_public_key = {public_key}
oauth2_algorithm = RS256
oauth2_introspection_endpoint =
oauth2_client_id =
oauth2_client_secret =

[OCLOUD]
OS_AUTH_URL =
OS_USERNAME =
OS_PASSWORD =
API_HOST_EXTERNAL_FLOATING =

[API]
DMS_SUPPORT_PROFILES =

[WATCHER]

[PUBSUB]

[PM]
ES_USERNAME = none
ES_PASSWORD = none
ES_PORT = 9
ES_PATH = /none
"""


class HarnessError(RuntimeError):
    """pti-o2 could not be prepared or started; the message says which step and shows its log."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where pti-o2's source comes from: a tarball, a folder, or a git URL at a commit."""

    kind: str  # "tarball" | "dir" | "git"
    location: str
    commit: str = ""


def parse_source(text: str | None) -> Source:
    """``PTIO2_SOURCE``: a ``.tar.gz`` path, a source folder, or ``URL@COMMIT`` (default: the pinned commit)."""
    text = (text or "").strip() or DEFAULT_SOURCE
    if "://" in text or text.startswith("git@"):
        url, sep, commit = text.rpartition("@")
        if not sep or not url or "/" in commit or not commit:
            raise HarnessError(f"PTIO2_SOURCE {text!r}: a git source is URL@COMMIT, e.g. {DEFAULT_SOURCE}")
        return Source("git", url.removeprefix("git+"), commit)
    path = Path(text).expanduser()
    if path.is_dir():
        return Source("dir", str(path.resolve()))
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
        return Source("tarball", str(path.resolve()))
    raise HarnessError(f"PTIO2_SOURCE {text!r}: not a .tar.gz file, a folder, or URL@COMMIT")


def cache_root() -> Path:
    """``$O2REPLAY_CACHE`` or ``$XDG_CACHE_HOME/o2ims-replay`` (default ``~/.cache/o2ims-replay``), then pti-o2/."""
    base = os.environ.get("O2REPLAY_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "o2ims-replay")
    root = Path(base) / "pti-o2"
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (concurrent test sessions build one cache entry once)."""
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "big"))
        h.update(p)
    return h.hexdigest()[:16]


def materialise_source(src: Source, cache: Path, log: Callable[[str], None]) -> Path:
    """A folder holding pti-o2's source tree (``o2app/``...), unpacked or cloned into the cache once."""
    if src.kind == "dir":
        return Path(src.location)
    key = _sha(Path(src.location).read_bytes()) if src.kind == "tarball" else _sha(src.location.encode(),
                                                                                   src.commit.encode())
    target = cache / f"src-{key}"
    with _locked(cache / f"src-{key}.lock"):
        if (target / ".complete").exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        if src.kind == "tarball":
            log(f"unpacking {src.location}")
            _untar(Path(src.location), target)
        else:
            log(f"fetching {src.location} at {src.commit}")
            _git(["init", "-q"], target)
            _git(["fetch", "-q", "--depth", "1", src.location, src.commit], target)
            _git(["checkout", "-q", "FETCH_HEAD"], target)
        if not (target / "o2app" / "entrypoints" / "flask_application.py").is_file():
            raise HarnessError(f"{src.location}: no o2app/entrypoints/flask_application.py: not a pti-o2 source")
        (target / ".complete").touch()
    return target


def _untar(tarball: Path, target: Path) -> None:
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
        tops = {m.name.split("/", 1)[0] for m in members}
        strip = len(tops) == 1
        for m in members:
            if strip:
                m.name = m.name.split("/", 1)[1] if "/" in m.name else ""
            if m.name:
                tar.extract(m, target, filter="data")


def _git(args: list[str], cwd: Path) -> None:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise HarnessError(f"git {' '.join(args)} failed: {done.stderr.strip()[-500:]}")


def ensure_venv(src_dir: Path, cache: Path, log: Callable[[str], None]) -> Path:
    """The python of pti-o2's venv, built from its requirements once per (requirements, interpreter) key."""
    req, con = src_dir / "requirements.txt", src_dir / "constraints.txt"
    version = f"{sys.implementation.name}-{sys.version_info.major}.{sys.version_info.minor}"
    key = _sha(req.read_bytes(), con.read_bytes(), " ".join(EXTRA_REQUIREMENTS).encode(), version.encode())
    venv = cache / f"venv-{key}"
    python = venv / "bin" / "python"
    with _locked(cache / f"venv-{key}.lock"):
        if (venv / ".complete").exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        log(f"building pti-o2's venv in {venv} (once; about 25 s)")
        base = getattr(sys, "_base_executable", sys.executable)
        _run([base, "-m", "venv", str(venv)], "python -m venv")
        _run([str(python), "-m", "pip", "install", "-q", "-r", str(req), *EXTRA_REQUIREMENTS, "-c", str(con)],
             "pip install of pti-o2's requirements", timeout=900)
        (venv / ".complete").touch()
    return python


def _run(cmd: list[str], what: str, timeout: float = 120, **kw: Any) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if done.returncode != 0:
        raise HarnessError(f"{what} failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-1500:]}")
    return done.stdout


def postgres_bin() -> Path:
    """The newest Debian PostgreSQL server binaries (``/usr/lib/postgresql/N/bin``)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name)
                   if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise HarnessError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): "
                           "run `make reference-deps`")
    return found[-1].parent


def free_port() -> int:
    """A port free on 127.0.0.1 right now (for servers that cannot be handed a bound socket)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PtiO2:
    """A running pti-o2: its base URL, a valid token, and its folder; ``stop()`` ends what was started."""

    base_url: str
    workdir: Path
    source_dir: Path
    python: Path
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def token(self) -> str:
        """A valid RS256 bearer token (a year long)."""
        return self.tokens["valid"]

    def auth(self, kind: str = "valid") -> dict[str, str]:
        """An ``Authorization`` header: ``valid``, ``expired`` or ``foreign`` (signed by an unknown key)."""
        return {"Authorization": f"Bearer {self.tokens[kind]}"}

    def inside(self, *args: str, timeout: float = 120) -> str:
        """Run ``inside.py`` with pti-o2's interpreter and environment; its stdout."""
        return _run([str(self.python), str(INSIDE), *args], f"inside.py {args[0]}", timeout=timeout,
                    cwd=self.source_dir, env=self.env)

    def seed(self, document: Mapping[str, Any]) -> dict[str, int]:
        """Replace the whole inventory with ``document`` (``render_oran_sc``); the row count per table."""
        path = self.workdir / "seed.json"
        path.write_text(json.dumps(document, sort_keys=True))
        return dict(json.loads(self.inside("seed", str(path)).strip().splitlines()[-1]))

    def change(self, changes: list[Mapping[str, Any]], timestamp: str) -> None:
        """Apply domain changes (``add_resource``, ``rename_pool``, ``acknowledge_alarm``...) through pti-o2."""
        path = self.workdir / "change.json"
        path.write_text(json.dumps({"timestamp": timestamp, "changes": changes}, sort_keys=True))
        self.inside("change", str(path))

    def stop(self) -> None:
        """Stop the API, Redis and PostgreSQL (by pid, in that order) and remove the folder."""
        for name in ("api", "redis", "postgres"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                _terminate(proc, STOP_SIGNALS[name])
        shutil.rmtree(self.workdir, ignore_errors=True)


def _die_with_parent(sig: int) -> Callable[[], None] | None:
    """A preexec_fn: the child gets ``sig`` when the process that started it dies (Linux PR_SET_PDEATHSIG), so a
    test run killed before its teardown leaves no server behind. None where there is no prctl."""
    try:
        import ctypes  # loaded here: the child may run as another user, who cannot read our interpreter's files

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None  # not Linux: the teardown alone stops the servers

    def arm() -> None:
        prctl(1, int(sig))  # 1 = PR_SET_PDEATHSIG

    return arm


#: The signal each server stops on quickly: PostgreSQL's fast shutdown, gunicorn's quick one.
STOP_SIGNALS = {"postgres": signal.SIGINT, "redis": signal.SIGTERM, "api": signal.SIGINT}


def _terminate(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait(check: Callable[[], bool], what: str, proc: subprocess.Popen[bytes], log_path: Path,
          timeout: float = START_TIMEOUT_S) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise HarnessError(f"{what} exited with {proc.returncode}:\n{_log_tail(log_path)}")
        if check():
            return
        time.sleep(0.1)
    raise HarnessError(f"{what} not ready after {timeout:.0f} s:\n{_log_tail(log_path)}")


class _Starter:
    """Starts the three servers of one pti-o2 instance into ``ref.procs``."""

    def __init__(self, ref: PtiO2, log: Callable[[str], None]) -> None:
        self.ref, self.log = ref, log
        self.logs = ref.workdir / "logs"
        self.logs.mkdir()

    def _popen(self, name: str, cmd: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        out: IO[bytes] = open(self.logs / f"{name}.log", "ab")
        with out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=_die_with_parent(STOP_SIGNALS[name]), **kw)
        self.ref.procs[name] = proc
        return proc

    def postgres(self) -> int:
        pg = postgres_bin()
        data = self.ref.workdir / "pg"
        data.mkdir()
        as_user: dict[str, Any] = {}
        if os.geteuid() == 0:  # PostgreSQL refuses root: run it as the Debian package's postgres user
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise HarnessError("running as root and there is no postgres user to run PostgreSQL as") from None
            os.chown(data, pw.pw_uid, pw.pw_gid)
            as_user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        _run([str(pg / "initdb"), "-D", str(data / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
              "--no-sync", "--no-instructions"], "initdb", cwd=data, **as_user)
        port = free_port()
        proc = self._popen("postgres", [
            str(pg / "postgres"), "-D", str(data / "data"), "-p", str(port), "-k", str(data),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off"], cwd=data, **as_user)
        psql = [str(pg / "psql"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres"]

        def ready() -> bool:
            return subprocess.run([*psql, "-c", "select 1"], capture_output=True, timeout=10).returncode == 0

        _wait(ready, "PostgreSQL", proc, self.logs / "postgres.log")
        _run([*psql, "-c", "CREATE ROLE o2ims LOGIN PASSWORD 'o2ims123'", "-c",
              "CREATE DATABASE o2ims OWNER o2ims"], "creating the o2ims role and database")
        return port

    def redis(self) -> int:
        server = shutil.which("redis-server")
        if server is None:
            raise HarnessError("redis-server is not installed: run `make reference-deps`")
        port = free_port()
        proc = self._popen("redis", [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                     "--appendonly", "no", "--dir", str(self.ref.workdir)])

        def ready() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        _wait(ready, "Redis", proc, self.logs / "redis.log")
        return port

    def api(self, host: str, port: int) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as e:
            sock.close()
            raise HarnessError(f"pti-o2's API cannot listen on {host}:{port}: {e.strerror}") from None
        sock.listen(128)
        with sock:
            proc = self._popen("api", [
                str(self.ref.python), "-m", "gunicorn", "--workers", "1", "--bind", f"fd://{sock.fileno()}",
                "--access-logfile", "-", "o2app.entrypoints.flask_application:app",
            ], cwd=self.ref.source_dir, env=self.ref.env, pass_fds=(sock.fileno(),))
            self.ref.base_url = f"http://{host}:{sock.getsockname()[1]}"
        url = self.ref.base_url + INVENTORY

        def ready() -> bool:
            req = urllib.request.Request(url, headers=self.ref.auth())
            try:
                with urllib.request.urlopen(req, timeout=2) as resp:
                    return int(resp.status) in (200, 404)
            except urllib.error.HTTPError as e:
                return e.code == 404  # up, with no O-Cloud yet
            except OSError:
                return False

        _wait(ready, "pti-o2's API", proc, self.logs / "api.log")


def _environment(ref: PtiO2, pg_port: int, redis_port: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return {
        **keep,
        "O2APP_CONFIG": str(ref.workdir / "o2app.conf"),
        "ALARM_YAML": str(ref.source_dir / "configs" / "alarm.yaml"),
        "EVENTS_YAML": str(ref.source_dir / "configs" / "events.yaml"),
        "DB_HOST": "127.0.0.1", "DB_PORT": str(pg_port), "DB_PASSWORD": "o2ims123",
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_port),
        "PYTHONPATH": f"{ref.source_dir}{os.pathsep}{ref.workdir / 'standins'}",
        "PYTHONUNBUFFERED": "1",
        "LOGGING_CONFIG_LEVEL": os.environ.get("PTIO2_LOG_LEVEL", "WARNING"),
    }


def _prepare(ref: PtiO2, global_id: str) -> None:
    for rel, text in STANDINS.items():
        path = ref.workdir / "standins" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    keys = ref.workdir / "keys"
    keys.mkdir()
    _run([str(ref.python), str(INSIDE), "keys", str(keys)], "generating RSA keys")
    public = "".join(line for line in (keys / "jwt_public.pem").read_text().splitlines() if "-----" not in line)
    (ref.workdir / "o2app.conf").write_text(CONFIG.format(global_id=global_id, public_key=public))
    for kind in ("valid", "expired", "foreign"):
        ref.tokens[kind] = _run([str(ref.python), str(INSIDE), "token", str(keys), kind], "signing a token").strip()


@contextmanager
def start_ptio2(source: str | None = None, *, host: str = "127.0.0.1", port: int = 0,
                global_id: str = "00000000-0000-4000-8000-000000000000",
                log: Callable[[str], None] = lambda m: print(f"pti-o2: {m}", file=sys.stderr)) -> Iterator[PtiO2]:
    """Start pti-o2 (empty inventory); stop everything on exit. ``source`` defaults to ``$PTIO2_SOURCE``."""
    src = parse_source(source if source is not None else os.environ.get("PTIO2_SOURCE"))
    cache = cache_root()
    src_dir = materialise_source(src, cache, log)
    python = ensure_venv(src_dir, cache, log)
    workdir = Path(tempfile.mkdtemp(prefix="o2replay-ptio2-"))
    workdir.chmod(0o755)  # the postgres user must reach its data folder inside
    ref = PtiO2(base_url="", workdir=workdir, source_dir=src_dir, python=python, env={})
    try:
        _prepare(ref, global_id)
        starter = _Starter(ref, log)
        pg_port = starter.postgres()
        redis_port = starter.redis()
        ref.env = _environment(ref, pg_port, redis_port)
        starter.api(host, port)
        log(f"O2IMS API on {ref.base_url} (PostgreSQL :{pg_port}, Redis :{redis_port}, folder {workdir})")
        yield ref
    finally:
        ref.stop()
