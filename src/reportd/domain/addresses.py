"""Which IP addresses reportd may send a tenant's request to: the outbound policy's rule.

A webhook, a ``callback_url`` or a delivery destination is a URL a tenant chose, fetched from
inside the operator's network. Unless the rule stops it, a tenant can make reportd POST to
the metadata service (169.254.169.254), the database on 10.0.0.5, or reportd itself on
127.0.0.1, and read the delivery log as a port scanner. So every address a host resolves to
must be a global unicast address, or inside a network the operator allow-listed
(``[webhooks] allow_private``). Addresses that hide an IPv4 address inside an IPv6 one
(IPv4-mapped ``::ffff:127.0.0.1``, 6to4, NAT64, IPv4-compatible) are judged by the IPv4
address they carry. Resolving names and connecting is the adapter's job
(``reportd.adapters.outbound``); this module is the pure rule, shared by all of it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

__all__ = ["Address", "Network", "embedded_ipv4", "parse_networks", "refusal"]

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix
_IPV4_COMPATIBLE = IPv6Network("::/96")  # deprecated ::a.b.c.d (::1 and :: are in it too)


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``["10.1.2.0/24", "127.0.0.1"]`` as networks; a bare address is a network of one.

    Host bits set (``10.1.2.5/24``) are refused: the operator meant something else.
    """
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=True))
        except ValueError as exc:
            raise ValueError(f"allow_private: {value!r} is not a network ({exc})") from exc
    return tuple(networks)


def embedded_ipv4(address: Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it stands for one."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: Address, allowed: Sequence[Network] = ()) -> str | None:
    """Why the policy refuses ``address`` (a short phrase for the operator's log), or None.

    The unspecified address and multicast are refused even when allow-listed: neither is
    one machine (0.0.0.0 reaches the local host on Linux).
    """
    inner = embedded_ipv4(address)
    if inner is not None:
        return refusal(inner, allowed)
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if any(address in network for network in allowed):
        return None
    if isinstance(address, IPv6Address) and address.teredo is not None:
        return "teredo"
    for kind in ("loopback", "link_local", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if not address.is_global:  # 100.64.0.0/10 (shared), 192.0.0.0/24 and the like
        return "not global"
    return None
