"""``o2replay tls``: the local CA of ``serve --tls auto`` and client certificates for mutual TLS (docs/security.md)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  o2replay tls ca                                  # create (once) and print the local CA
  o2replay tls client-cert smo                     # clients/smo.pem + clients/smo-key.pem, signed by it
  curl --cacert ~/.o2replay/tls/ca.pem --cert ~/.o2replay/tls/clients/smo.pem \\
       --key ~/.o2replay/tls/clients/smo-key.pem https://127.0.0.1:30205/o2ims-infrastructureInventory/v1
"""


def register(subs: Any) -> None:
    """Add the ``tls`` subcommand."""
    p = subs.add_parser("tls", help="the local CA for serve --tls auto; client certificates for mutual TLS",
                        description="Manage the local certificate authority that `o2replay serve --tls auto` "
                                    "serves with and `--tls-client-ca auto` trusts.",
                        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=("ca", "client-cert"), help="ca: print the CA path; client-cert: issue one")
    p.add_argument("name", nargs="?", help="client-cert: the certificate's common name (e.g. smo)")
    p.add_argument("--tls-dir", metavar="DIR", default=None,
                   help="folder of the local CA (default ~/.o2replay/tls, as serve --tls-dir)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the CA path, or issue a client certificate and print its files."""
    from replayer.errors import UsageError
    from replayer.security.certs import DEFAULT_TLS_DIR, ensure_ca, issue_client_cert

    folder = args.tls_dir or DEFAULT_TLS_DIR
    try:
        if args.what == "ca":
            if args.name:
                raise UsageError("o2replay tls ca takes no name")
            print(ensure_ca(folder).ca_cert)
            return 0
        if not args.name:
            raise UsageError("o2replay tls client-cert needs a NAME (the certificate's common name)")
        cert, key = issue_client_cert(folder, args.name)
    except ValueError as e:
        raise UsageError(str(e)) from None
    print(f"certificate: {cert}")
    print(f"key:         {key}")
    print(f"CA:          {ensure_ca(folder).ca_cert}")
    return 0
