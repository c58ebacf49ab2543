"""Where Steward may connect: public unicast addresses only, checked on the socket itself.

The check runs in aiohttp's ``socket_factory``, which sees the resolved address of every new TCP
connection: literal IPs (which skip the resolver), each redirect hop, and a name that answered
public once and private the next time. A check on the URL before fetching could not see those.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
# Special-purpose blocks Python 3.11's is_global still calls global (the IANA registries say
# "not globally reachable"); the SSRF sweep found 192.0.0.8 answering as public.
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "192.0.0.0/24",
        "192.88.99.0/24",
        "100::/64",
        "fec0::/10",
        "2001:db8::/32",
    )
)
# Ports a feed lives on; anything else is more likely an internal service than a publisher.
WEB_PORTS = frozenset({80, 443, 8080, 8443})


class BlockedDestination(OSError):
    """The address is private, loopback, link-local, CGNAT, multicast or reserved."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"blocked destination {address}: {reason}")
        self.address = address
        self.reason = reason


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def refusal(ip: IP) -> str | None:
    """Why ``ip`` is no place to fetch from, or None when it is an ordinary public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return "a local NAT64 address"
        inner = _embedded_v4(ip)
        if inner is not None:
            why = refusal(inner)
            return f"wraps {inner}, {why}" if why else None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified or ip.is_reserved:
        return "a reserved address"
    if ip in ipaddress.ip_network("100.64.0.0/10"):
        return "a carrier-grade NAT address"
    if ip.is_private or not ip.is_global or any(ip in net for net in _NOT_GLOBAL):
        return "a private address"
    return None


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """The public internet, plus the networks an operator (or a test) explicitly allows."""

    allow: tuple[Network, ...] = ()
    ports: frozenset[int] | None = WEB_PORTS
    """The ports Steward connects to (None: any port, for tests on loopback)."""

    @classmethod
    def allowing(cls, networks: Iterable[str], *, any_port: bool = False) -> AddressPolicy:
        """A policy that also allows the given networks (``127.0.0.2/32``, ``10.0.0.0/8``)."""
        allow = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        return cls(allow, None if any_port else WEB_PORTS)

    def check(self, host: str, port: int) -> None:
        """Raise ``BlockedDestination`` unless Steward may connect to ``host`` on ``port``."""
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError as exc:
            raise BlockedDestination(host, "not an IP address") from exc
        if any(ip in net for net in self.allow):
            return
        why = refusal(ip)
        if why:
            raise BlockedDestination(str(ip), why)
        if self.ports is not None and port not in self.ports:
            raise BlockedDestination(f"{ip}:{port}", "not a web port")

    def socket_factory(self, addr_info: Any) -> socket.socket:
        """aiohttp's ``socket_factory``: refuse before the socket exists, else make it."""
        family, type_, proto, _canon, sockaddr = addr_info
        self.check(str(sockaddr[0]), int(sockaddr[1]))
        return socket.socket(family=family, type=type_, proto=proto)
