"""``o2replay serve``: answer O2IMS requests from cassettes (docs/replay.md).

Precedence: a flag beats its ``O2REPLAY_*`` environment variable, which beats ``replay:`` in
``.o2replay.yaml``, which beats the built-in default.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from replayer.project_file import load_config
from replayer.matching import OnExhausted

if TYPE_CHECKING:
    from replayer.server.config import ServeConfig

__all__ = ["register", "run", "settings", "FLAG_KEYS"]

_EPILOG = """\
examples:
  o2replay serve cassettes                          # 127.0.0.1:30205, synthetic fallback on misses
  o2replay serve cassettes --strict --synthetic off # CI: a miss is a 404 naming the nearest recordings
  o2replay serve cassettes --match-on method,path,query,body,headers:X-Tenant
  o2replay serve cassettes --latency recorded --watch --workers 2
  o2replay serve cassettes --dialect o-ran-sc        # answer like the O-RAN SC INF O2 service
  o2replay serve cassettes --tls auto                # HTTPS; prints the CA to give consumers
  o2replay serve cassettes --tls auto --tls-client-ca auto --auth oauth2   # mutual TLS and OAuth2 roles
  o2replay serve cassettes --notify-allow loopback,10.20.0.0/16,consumer.lab
"""

#: Flags whose value feeds ServeConfig (dest -> replay: key).
FLAG_KEYS = ("cassettes", "host", "port", "match_on", "on_exhausted", "strict", "miss_status", "synthetic",
             "profile", "latency", "workers", "watch", "log_format", "access_log", "admin_token", "auth",
             "auth_tokens", "journal_size", "page_size", "cache_dir", "admin_token_file", "ready_file",
             "dialect", "rewrite_urls", "run_id",
             "tls", "tls_cert", "tls_key", "tls_dir", "tls_san", "tls_client_ca",
             "oauth_clients", "oauth_issuer", "oauth_audience", "oauth_jwks", "oauth_roles_claim", "oauth_token_ttl",
             "max_connections", "header_timeout", "body_timeout",
             "notify_allow")


def register(subs: Any) -> None:
    """Add the ``serve`` subcommand."""
    p = subs.add_parser(
        "serve", help="answer O2IMS requests from cassettes (synthetic O-Cloud fallback)",
        description="Serve recorded O2IMS interactions: exact matches, O2IMS-aware derived answers "
                    "(filter, fields, paging, one element of a collection), then the synthetic O2IMS "
                    "or, with --strict, a 404 naming the nearest recorded requests.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cassettes", nargs="*", default=None, metavar="CASSETTE_OR_DIR",
                   help="cassette files or folders (default: replay.cassettes, else cassettes/)")
    p.add_argument("--config", metavar="FILE", help="config file (default: the nearest .o2replay.yaml)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1; the container image sets 0.0.0.0)")
    p.add_argument("--port", type=int, help="port (default 30205; 0 picks a free one)")
    p.add_argument("--strict", action=argparse.BooleanOptionalAction, default=None,
                   help="a miss gets --miss-status (404) ProblemDetails listing the nearest recorded requests")
    p.add_argument("--miss-status", type=int, help="status of a strict miss (default 404)")
    p.add_argument("--synthetic", choices=("on", "off"), help="fall back to the synthetic O2IMS (default on)")
    p.add_argument("--profile", metavar="FILE", help="synthetic O-Cloud profile (default: edge1-4)")
    p.add_argument("--match-on", metavar="PARTS",
                   help="what must be equal: method,path,query,body,host,scheme,headers:NAME "
                        "(default method,path,query,body)")
    p.add_argument("--on-exhausted", choices=[e.value for e in OnExhausted],
                   help="after the last recorded response of a sequence (default repeat-last)")
    p.add_argument("--latency", metavar="none|recorded|MS|MIN-MAX", help="added latency (default none)")
    p.add_argument("--workers", type=int, help="processes sharing the port with SO_REUSEPORT (default 1)")
    p.add_argument("--watch", action=argparse.BooleanOptionalAction, default=None,
                   help="reload when a cassette file changes")
    p.add_argument("--log-format", choices=("text", "json"), help="log line format on stderr (default text)")
    p.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=None, help="log every request")
    p.add_argument("--admin-token", metavar="TOKEN",
                   help="require this bearer token on /__admin/ (default: loopback clients only)")
    p.add_argument("--admin-token-file", metavar="FILE",
                   help="read the admin token from this file (a mounted Secret; not visible in ps or the pod spec)")
    p.add_argument("--auth", choices=("none", "bearer", "oauth2"),
                   help="require a bearer token on O2IMS requests: one of --auth-tokens, or an OAuth2 JWT with the "
                        "role the operation needs (embedded token endpoint, or --oauth-jwks)")
    p.add_argument("--auth-tokens", metavar="FILE", help="accepted bearer tokens, one per line")
    tls = p.add_argument_group("HTTPS and mutual TLS (docs/security.md)")
    tls.add_argument("--tls", choices=("auto", "off"),
                     help="auto: serve HTTPS with a local CA and server certificate made once in --tls-dir")
    tls.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate chain (PEM)")
    tls.add_argument("--tls-key", metavar="FILE", help="the private key of --tls-cert (PEM)")
    tls.add_argument("--tls-dir", metavar="DIR", help="folder of the local CA and certificates "
                                                      "(default ~/.o2replay/tls)")
    tls.add_argument("--tls-san", action="append", metavar="NAME",
                     help="another DNS name or IP for the --tls auto certificate (repeatable)")
    tls.add_argument("--tls-client-ca", metavar="FILE|auto",
                     help="require client certificates signed by this CA (auto: the local CA; "
                          "issue them with `o2replay tls client-cert NAME`)")
    oauth = p.add_argument_group("OAuth2 (--auth oauth2; docs/security.md)")
    oauth.add_argument("--oauth-clients", metavar="FILE",
                       help="clients of the embedded token endpoint (default: the profile's, one per role)")
    oauth.add_argument("--oauth-issuer", metavar="ISS", help="the tokens' iss (default: this server's URL)")
    oauth.add_argument("--oauth-audience", metavar="AUD", help="the aud tokens must carry (default o2ims-client)")
    oauth.add_argument("--oauth-jwks", metavar="URL",
                       help="validate tokens of an external identity provider with its JWKS (needs --oauth-issuer)")
    oauth.add_argument("--oauth-roles-claim", metavar="CLAIM",
                       help="top-level claim listing the roles (default roles, as openshift-kni's groupsClaim)")
    oauth.add_argument("--oauth-token-ttl", type=int, metavar="SECONDS",
                       help="lifetime of embedded tokens (default 300)")
    p.add_argument("--page-size", type=int,
                   help="page size of derived and synthetic collection answers, with nextpage_opaque_marker "
                        "(default: no paging for derived answers, the profile's paging for synthetic ones)")
    p.add_argument("--dialect", choices=("openshift-kni", "o-ran-sc"),
                   help="behave like this O2IMS implementation (default: the profile's dialect, else what the "
                        "cassettes recorded, else openshift-kni; see docs/dialects.md)")
    p.add_argument("--rewrite-urls", action=argparse.BooleanOptionalAction, default=None,
                   help="rewrite recorded absolute URLs to the address being served (default on)")
    p.add_argument("--run-id", metavar="TEXT",
                   help="salt of generated ids (subscription, notification ids); default: fresh per start, "
                        "so ids never repeat across restarts; fix it for byte-identical runs")
    p.add_argument("--ready-file", metavar="PATH",
                   help="once listening, write {\"url\", \"host\", \"port\", \"pid\", \"workers\"} as JSON here "
                        "(removed on exit); with --port 0 this is how a script learns the port")
    p.add_argument("--notify-allow", action="append", metavar="ENTRIES",
                   help="where subscription callbacks may point: loopback, private, any, an address, a CIDR "
                        "network, a host name or *.domain (repeatable or comma-separated; default "
                        "loopback,private; link-local and cloud metadata addresses are always refused)")
    p.add_argument("--journal-size", type=int, help="requests kept for /__admin/requests (default 1000)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="keep the load cache here instead of .o2replay-cache/ beside the cassettes "
                        "(for read-only cassette mounts)")
    p.add_argument("--no-cache", action="store_true", help="do not use or write .o2replay-cache/")
    p.add_argument("--max-connections", metavar="N",
                   help="client connections open at once; one more gets a 503 and is closed (default 1000)")
    p.add_argument("--header-timeout", metavar="SECONDS",
                   help="a new connection must send its request head within this time, else it is closed "
                        "(default 10)")
    p.add_argument("--body-timeout", metavar="SECONDS",
                   help="a request body must arrive within this time after its head, else 408 (default 30)")
    p.set_defaults(func=run)


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    flags = {k: getattr(args, k, None) for k in FLAG_KEYS}
    if not flags["cassettes"]:
        flags["cassettes"] = None
    return flags


def _prepare_security(config: ServeConfig) -> ServeConfig:
    """Make the local CA once (before any worker forks) and say where it is; one signing key for all workers."""
    from replayer.errors import UsageError
    from replayer.server.tls import resolve_tls

    try:
        tls = resolve_tls(config)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if tls is not None and tls.consumer_ca is not None:
        print(f"o2replay serve: HTTPS with the local CA {tls.consumer_ca}: give it to consumers "
              f"(curl --cacert, REQUESTS_CA_BUNDLE, SSL_CERT_FILE)", flush=True)
    if config.oauth and not config.oauth_jwks and config.workers > 1:
        from replayer.security.tokens import SigningKey

        config = replace(config, oauth_signing_key=SigningKey.generate().pem())
    return config


def settings(args: argparse.Namespace) -> ServeConfig:
    """The server's settings: flags > O2REPLAY_* variables (already in ``args``) > ``replay:`` > defaults."""
    from replayer.server.config import serve_config

    project = load_config(args.config)
    config = serve_config(_flags(args), project.section("replay"), config_path=project.path,
                          origins=getattr(args, "env_origins", None))
    return replace(config, use_cache=False) if args.no_cache else config


def run(args: argparse.Namespace) -> int:
    """Run ``o2replay serve``; CassetteError and UsageError reach the CLI (one line, exit 2)."""
    from replayer.server.announce import ReadyFile, banner
    from replayer.server.logs import configure_logging
    from replayer.server.state import load_set
    from replayer.server.workers import run_workers, serve_forever

    config = settings(args)
    configure_logging(config.log_format, access_log=config.access_log)
    if config.paths == ("cassettes",) and not Path("cassettes").exists():
        # The default folder is optional (serve the synthetic model alone), but say so: running from the
        # wrong folder is otherwise easy to miss.
        print(f"o2replay serve: note: no cassettes/ folder in {Path.cwd()}; nothing recorded is loaded",
              file=sys.stderr, flush=True)
        config = replace(config, paths=())
    if config.run_id is None:  # one salt for every worker of this start
        config = replace(config, run_id=secrets.token_hex(8))
    config = _prepare_security(config)
    live = load_set(config.paths, config.match_on, use_cache=config.use_cache,
                     page_size=config.page_size, cache_dir=config.cache_dir)
    ready_file = ReadyFile(config)
    try:
        if config.workers > 1:
            return run_workers(config, live, ready_file.announce)

        def ready(url: str, docs: bool) -> None:
            ready_file.announce(banner(config, live, url, docs))

        asyncio.run(serve_forever(config, live, on_ready=ready))
        return 0
    finally:
        ready_file.remove()
