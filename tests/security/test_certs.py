"""The local CA: made once, reused, server certificates reissued for new names, client certificates."""

from __future__ import annotations

import base64
import hashlib
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from replayer.security.certs import (default_names, ensure_ca, ensure_server_cert, issue_client_cert, subject_of,
                                     thumbprint)


def _sans(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(v) for v in san.get_values_for_type(x509.IPAddress)} | set(san.get_values_for_type(x509.DNSName))


def test_the_ca_is_made_once_and_reused(tmp_path: Path) -> None:
    first = ensure_ca(tmp_path / "tls")
    ca = first.ca_cert.read_bytes()
    key = first.ca_key.read_bytes()
    again = ensure_ca(tmp_path / "tls")
    assert again.ca_cert.read_bytes() == ca and again.ca_key.read_bytes() == key
    cert = x509.load_pem_x509_certificate(ca)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert stat.S_IMODE(first.ca_key.stat().st_mode) == 0o600


def test_server_certificate_covers_the_names_and_is_reissued_for_a_new_one(tmp_path: Path) -> None:
    tls = ensure_server_cert(tmp_path, default_names("127.0.0.1"))
    assert _sans(tls.server_cert) == {"localhost", "127.0.0.1"}
    pem = tls.server_cert.read_bytes()
    assert ensure_server_cert(tmp_path, ["localhost"]).server_cert.read_bytes() == pem  # covered: reused
    ca = tls.ca_cert.read_bytes()
    wider = ensure_server_cert(tmp_path, default_names("127.0.0.1", ["o2ims.lab", "10.1.2.3"]))
    assert _sans(wider.server_cert) == {"localhost", "127.0.0.1", "o2ims.lab", "10.1.2.3"}
    assert wider.ca_cert.read_bytes() == ca  # the CA consumers trust does not change
    assert stat.S_IMODE(wider.server_key.stat().st_mode) == 0o600
    # OpenSSL verifies the chain for every name
    ctx = ssl.create_default_context(cafile=str(wider.ca_cert))
    ctx.load_cert_chain(wider.server_cert, wider.server_key)  # the key matches the certificate


def test_default_names_skip_wildcard_addresses_and_duplicates() -> None:
    assert default_names("0.0.0.0", ["localhost", "o2ims"]) == ("localhost", "127.0.0.1", "o2ims")
    assert default_names("o2ims.lab") == ("o2ims.lab", "localhost", "127.0.0.1")


def test_client_certificate_is_for_client_auth_and_names_the_client(tmp_path: Path) -> None:
    cert_path, key_path = issue_client_cert(tmp_path, "smo")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "smo"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    issuer = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    cert.verify_directly_issued_by(issuer)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert subject_of(der) == "O=o2ims-replay clients,CN=smo"
    assert thumbprint(der) == base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")


@pytest.mark.parametrize("name", ["", "../etc", "a b", "x" * 65])
def test_client_names_are_checked(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="client name must be"):
        issue_client_cert(tmp_path, name)


def test_an_unreadable_ca_is_one_clear_error(tmp_path: Path) -> None:
    tls = ensure_ca(tmp_path)
    tls.ca_key.write_text("not a key")
    with pytest.raises(ValueError, match="the local CA cannot be read.*delete the folder"):
        ensure_ca(tmp_path)
