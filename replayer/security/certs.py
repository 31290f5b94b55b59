"""A local certificate authority for ``serve --tls auto`` and ``o2replay tls client-cert`` (like mitmproxy's CA).

The folder (default ``~/.o2replay/tls/``) holds::

    ca.pem  ca-key.pem               the local CA (created once, reused; give ca.pem to consumers)
    server.pem  server-key.pem       the server certificate, reissued when a name is missing or it expires
    clients/NAME.pem  NAME-key.pem   client certificates for mutual TLS

Keys are ECDSA P-256 (fast to make, accepted by every TLS stack we test with: OpenSSL, curl, requests,
aiohttp); private keys are written 0600. Everything uses ``cryptography``'s X.509 builder: nothing is
hand-rolled.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "DEFAULT_TLS_DIR",
    "AutoTLS",
    "ensure_ca",
    "ensure_server_cert",
    "issue_client_cert",
    "subject_of",
    "thumbprint",
    "default_names",
]

DEFAULT_TLS_DIR = "~/.o2replay/tls"
_CA_NAME = "o2ims-replay local CA"
_CA_DAYS = 3650
_LEAF_DAYS = 825  # the longest validity Apple and browsers accept for a leaf
_RENEW_BEFORE = dt.timedelta(days=30)
_CLIENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class AutoTLS:
    """Where the local CA and the server certificate live."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca-key.pem"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server-key.pem"

    def client_paths(self, name: str) -> tuple[Path, Path]:
        """The certificate and key files of client ``name``."""
        return self.folder / "clients" / f"{name}.pem", self.folder / "clients" / f"{name}-key.pem"


def default_names(host: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The names a server certificate covers: the listen host, ``localhost``, ``127.0.0.1`` and ``extra``."""
    names: list[str] = []
    for name in (host, "localhost", "127.0.0.1", *extra):
        if name and name not in ("0.0.0.0", "::") and name not in names:
            names.append(name)
    return tuple(names)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _write(path: Path, data: bytes, private: bool) -> None:
    """Write atomically; private keys are 0600 from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600 if private else 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load(folder: AutoTLS) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate(folder.ca_cert.read_bytes())
    key = serialization.load_pem_private_key(folder.ca_key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{folder.ca_key}: not an EC private key (delete the folder to start a new CA)")
    return cert, key


def ensure_ca(folder: str | Path) -> AutoTLS:
    """The CA in ``folder``: created on first use, reused afterwards; raise ValueError when unreadable."""
    tls = AutoTLS(Path(folder).expanduser())
    if tls.ca_cert.is_file() and tls.ca_key.is_file():
        try:
            _load(tls)
        except (ValueError, OSError) as e:
            raise ValueError(f"{tls.folder}: the local CA cannot be read ({e}); delete the folder to create "
                             f"a new one") from None
        return tls
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _CA_NAME),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "o2ims-replay")])
    now = _now()
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=_CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(tls.ca_key, _key_pem(key), private=True)
    _write(tls.ca_cert, cert.public_bytes(serialization.Encoding.PEM), private=False)
    return tls


def _san(names: Iterable[str]) -> x509.SubjectAlternativeName:
    general: list[x509.GeneralName] = []
    for name in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(general)


def _leaf(tls: AutoTLS, subject: x509.Name, usage: x509.ObjectIdentifier,
          names: Iterable[str] = ()) -> tuple[bytes, bytes]:
    """A certificate signed by the CA (PEM) and its new private key (PEM)."""
    ca_cert, ca_key = _load(tls)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=_LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    names = tuple(names)
    if names:
        builder = builder.add_extension(_san(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _covers(path: Path, names: Iterable[str]) -> bool:
    """True when the certificate at ``path`` names every one of ``names`` and is not about to expire."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    have = {str(v) for v in san.get_values_for_type(x509.IPAddress)} | set(san.get_values_for_type(x509.DNSName))
    return set(names) <= have and cert.not_valid_after_utc - _RENEW_BEFORE > _now()


def ensure_server_cert(folder: str | Path, names: Iterable[str]) -> AutoTLS:
    """The CA plus a server certificate for ``names``: reused when it covers them, reissued otherwise."""
    tls = ensure_ca(folder)
    names = tuple(names)
    if tls.server_key.is_file() and _covers(tls.server_cert, names):
        return tls
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "localhost")])
    cert, key = _leaf(tls, subject, ExtendedKeyUsageOID.SERVER_AUTH, names or ("localhost",))
    _write(tls.server_key, key, private=True)
    _write(tls.server_cert, cert, private=False)
    return tls


def issue_client_cert(folder: str | Path, name: str) -> tuple[Path, Path]:
    """A new client certificate (CN=``name``) signed by the local CA; returns its certificate and key files."""
    if not _CLIENT_NAME.match(name):
        raise ValueError(f"client name must be letters, digits, '.', '_' or '-' (at most 64), got {name!r}")
    tls = ensure_ca(folder)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "o2ims-replay clients")])
    cert, key = _leaf(tls, subject, ExtendedKeyUsageOID.CLIENT_AUTH)
    cert_path, key_path = tls.client_paths(name)
    _write(key_path, key, private=True)
    _write(cert_path, cert, private=False)
    return cert_path, key_path


def subject_of(der: bytes) -> str:
    """The RFC 4514 subject of a DER certificate (``CN=smo,O=...``)."""
    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


def thumbprint(der: bytes) -> str:
    """The ``x5t#S256`` thumbprint of a DER certificate (RFC 8705 3.1: base64url SHA-256, no padding)."""
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode("ascii")
