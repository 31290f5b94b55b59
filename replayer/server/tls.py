"""HTTPS and mutual TLS for the replay server: the SSL context, the client's certificate (for the access log).

``--tls auto`` makes (once) a local CA and a server certificate (replayer/security/certs.py); ``--tls-cert`` /
``--tls-key`` serve a given one. With ``--tls-client-ca`` the handshake requires a client certificate signed
by that CA (``auto``: the local CA), as an ingress with ``clientCertificatePolicy: Required`` does in an
openshift-kni deployment: a missing or untrusted certificate fails the handshake, no HTTP answer is sent.
"""

from __future__ import annotations

import contextvars
import hashlib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from replayer.security.certs import default_names, ensure_ca, ensure_server_cert
from replayer.server.config import ServeConfig

__all__ = ["ServerTLS", "resolve_tls", "ssl_context", "peer_subject", "peer_thumbprint", "CLIENT",
           "IDENTITY"]

#: The client of the request being handled (certificate subject, token principal), for the journal.
CLIENT: contextvars.ContextVar[tuple[str | None, str | None]] = contextvars.ContextVar(
    "o2replay_client", default=(None, None))
#: request[IDENTITY]: the token's principal, for the access log (a typed RequestKey where aiohttp has them).
IDENTITY: Any = (web.RequestKey("o2replay_principal", str) if hasattr(web, "RequestKey")
                 else "o2replay.principal")

_SHORT = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C",
          "localityName": "L", "stateOrProvinceName": "ST", "emailAddress": "emailAddress",
          "domainComponent": "DC"}


@dataclass(frozen=True, slots=True)
class ServerTLS:
    """Resolved TLS files: the server's chain and key, the client CA (None: no client certificates), and
    the CA consumers should trust when it is the local one."""

    cert: str
    key: str
    client_ca: str | None
    consumer_ca: Path | None


def resolve_tls(config: ServeConfig) -> ServerTLS | None:
    """The files to serve with (creating or reusing the local CA for ``auto``); ValueError when unusable."""
    if not (config.tls or config.tls_cert):
        return None
    consumer_ca = None
    if config.tls == "auto":
        auto = ensure_server_cert(config.tls_dir, default_names(config.host, config.tls_san))
        cert, key, consumer_ca = str(auto.server_cert), str(auto.server_key), auto.ca_cert
    else:
        assert config.tls_cert and config.tls_key
        cert, key = config.tls_cert, config.tls_key
    client_ca = config.tls_client_ca
    if client_ca == "auto":
        client_ca = str(ensure_ca(config.tls_dir).ca_cert)
    return ServerTLS(cert, key, client_ca, consumer_ca)


def ssl_context(tls: ServerTLS) -> ssl.SSLContext:
    """A TLS 1.2+ server context; client certificates required when a client CA is set."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(tls.cert, tls.key)
    except (ssl.SSLError, OSError) as e:
        raise ValueError(f"cannot use {tls.cert} with {tls.key}: {getattr(e, 'strerror', None) or e}") from None
    if tls.client_ca:
        try:
            ctx.load_verify_locations(cafile=tls.client_ca)
        except (ssl.SSLError, OSError) as e:
            raise ValueError(f"--tls-client-ca {tls.client_ca}: not a PEM CA bundle ({e})") from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def _ssl_object(request: web.BaseRequest) -> ssl.SSLObject | None:
    transport = request.transport
    obj = transport.get_extra_info("ssl_object") if transport is not None else None
    return obj if isinstance(obj, ssl.SSLObject) else None


def peer_subject(request: web.BaseRequest) -> str | None:
    """The verified client certificate's subject, RFC 4514 style (``CN=smo,O=lab``), or None."""
    obj = _ssl_object(request)
    cert = obj.getpeercert() if obj is not None else None
    if not cert:
        return None
    rdns = cert.get("subject", ())
    parts = [f"{_SHORT.get(k, k)}={v}" for rdn in reversed(rdns) for k, v in rdn]
    return ",".join(parts) or None


def peer_thumbprint(request: web.BaseRequest) -> str | None:
    """The RFC 8705 ``x5t#S256`` of the client certificate, or None."""
    import base64

    obj = _ssl_object(request)
    der = obj.getpeercert(binary_form=True) if obj is not None else None
    if not der:
        return None
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode("ascii")

