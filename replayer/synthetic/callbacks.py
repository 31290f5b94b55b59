"""Where notifications may go: the ``--notify-allow`` policy for subscription callbacks. Pure (no DNS here).

Anyone who can reach the replay server can subscribe, so a callback URL is a request the server will make on
their behalf (server-side request forgery). The policy is checked twice: when a subscription is created (a
literal address, ``localhost`` or a refused name gives 400) and on every delivery against the addresses the
callback's name resolves to at that moment, which are the addresses connected to (docs/security.md).

Entries: ``loopback`` (127.0.0.0/8, ::1), ``private`` (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16,
fc00::/7), an address or a CIDR network, a host name or ``*.domain``, or ``any``. The default is
``loopback`` and ``private``. Link-local addresses (169.254.0.0/16, fe80::/10), cloud metadata endpoints
and unspecified, multicast and broadcast addresses are refused whatever the entries say.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["ALWAYS_REFUSED", "CallbackPolicy", "DEFAULT_ALLOW", "LOOPBACK_ONLY_ENV", "default_policy",
           "parse_notify_allow"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_PRIVATE = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
#: Cloud instance metadata services (AWS, GCP, Azure, OpenStack: 169.254.169.254; AWS IPv6; ECS task
#: metadata; Alibaba; the Azure wire server): they hand out credentials to whoever asks from the host.
_METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200", "168.63.129.16"))
_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "metadata.azure.internal", "instance-data",
                             "instance-data.ec2.internal"})
#: What no entry can allow, for the docs and error messages.
ALWAYS_REFUSED = "link-local and cloud metadata addresses"
DEFAULT_ALLOW = ("loopback", "private")


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    """Allowed callback networks and host names; ``resolve`` False refuses names other than ``localhost``."""

    networks: tuple[Network, ...] = _LOOPBACK + _PRIVATE
    hosts: tuple[str, ...] = ()
    any: bool = False
    resolve: bool = True
    source: str = "--notify-allow"

    def refuse_address(self, address: str) -> str | None:
        """Why a callback may not connect to ``address`` (an IP literal), or None."""
        try:
            ip: Address = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address!r} is not an IP address"
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip in _METADATA:
            return f"{ip} is a cloud metadata address (always refused)"
        if ip.is_link_local:
            return f"{ip} is a link-local address (always refused)"
        if ip.is_unspecified or ip.is_multicast or ip == ipaddress.ip_address("255.255.255.255"):
            return f"{ip} is not a unicast address (always refused)"
        if self.any or any(ip in n for n in self.networks if n.version == ip.version):
            return None
        return f"{ip} is outside {self.source} ({self.describe()})"

    def refuse_name(self, host: str) -> str | None:
        """Why a host name may not be a callback before it is resolved, or None (addresses are checked later)."""
        host = host.lower().rstrip(".")
        if host in _METADATA_NAMES:
            return f"{host} is a cloud metadata name (always refused)"
        if host == "localhost" or host.endswith(".localhost"):
            return self.refuse_address("127.0.0.1")
        if not self.resolve and not self.names_allowed(host):
            return f"{host} is not resolved ({self.source} allows loopback callbacks only)"
        return None

    def names_allowed(self, host: str) -> bool:
        """True when a name entry (or ``any``) allows ``host`` itself."""
        return self.any or any(fnmatch.fnmatchcase(host.lower(), h) for h in self.hosts)

    def refuse_url(self, url: str) -> str | None:
        """Why a callback URL is refused without a DNS lookup (scheme, literal address, name), or None."""
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError as e:
            return f"not a valid URL: {e}"
        if parts.scheme not in ("http", "https") or not host:
            return "expected an absolute http(s) URL"
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return self.refuse_name(host)
        return self.refuse_address(host)

    def refuse_resolved(self, host: str, addresses: Iterable[str]) -> str | None:
        """Why none of the addresses ``host`` resolved to may be connected to, or None when one may."""
        reasons = [self.refuse_resolved_one(host, a) for a in addresses]
        if not reasons:
            return f"{host} did not resolve"
        return None if any(r is None for r in reasons) else f"{host}: {next(r for r in reasons if r)}"

    def refuse_resolved_one(self, host: str, address: str) -> str | None:
        """Why ``host`` may not be reached at ``address``: a name entry allows any address but the always
        refused ones."""
        reason = self.refuse_address(address)
        if reason and "always refused" not in reason and self.names_allowed(host):
            return None
        return reason

    def describe(self) -> str:
        """The entries, for messages."""
        if self.any:
            return "any"
        names = {_LOOPBACK: "loopback", _PRIVATE: "private"}
        out, nets = [], list(self.networks)
        for group, name in names.items():
            if all(n in nets for n in group):
                out.append(name)
                nets = [n for n in nets if n not in group]
        return ", ".join([*out, *(str(n) for n in nets), *self.hosts]) or "nothing"


def parse_notify_allow(entries: Iterable[str], *, source: str = "--notify-allow") -> CallbackPolicy:
    """A policy from entries (comma-separated items allowed); raises ValueError naming the bad entry."""
    networks: list[Network] = []
    hosts: list[str] = []
    anything = False
    items = [i.strip() for e in entries for i in e.split(",") if i.strip()]
    if not items:
        raise ValueError("expected loopback, private, any, an address, a CIDR network or a host name")
    for item in items:
        low = item.lower()
        if low == "any":
            anything = True
        elif low == "loopback":
            networks.extend(_LOOPBACK)
        elif low == "private":
            networks.extend(_PRIVATE)
        elif "/" in item or ":" in item or item[-1:].isdigit():
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{item!r} is not an address or CIDR network (expected loopback, private, any, "
                                 "10.1.0.0/16, 192.0.2.7, consumer.lab or *.lab.example)") from None
        elif all(c.isalnum() or c in "-.*_" for c in item):
            hosts.append(low)
        else:
            raise ValueError(f"{item!r} is not a host name (expected loopback, private, any, 10.1.0.0/16, "
                             "192.0.2.7, consumer.lab or *.lab.example)")
    return CallbackPolicy(tuple(dict.fromkeys(networks)), tuple(dict.fromkeys(hosts)), anything, True, source)


#: ``O2REPLAY_NOTIFY_LOOPBACK_ONLY=1``: loopback callbacks only, and no name but ``localhost`` is resolved (the
#: test suite sets it, so that fuzzed subscriptions never make the server connect, or resolve names, elsewhere).
LOOPBACK_ONLY_ENV = "O2REPLAY_NOTIFY_LOOPBACK_ONLY"


def default_policy(environ: Mapping[str, str]) -> CallbackPolicy:
    """The policy when ``--notify-allow`` is not given: loopback and private, or loopback only (see above)."""
    if environ.get(LOOPBACK_ONLY_ENV) == "1":
        return CallbackPolicy(_LOOPBACK, resolve=False, source=f"{LOOPBACK_ONLY_ENV}=1")
    return CallbackPolicy()
