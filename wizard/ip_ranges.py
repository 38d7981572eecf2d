"""The address ranges no IP allowlist entry may touch, each with the reason shown to the user.

Binance sees a request's public egress address: private, loopback, shared
(carrier-grade NAT), link-local, multicast, reserved and protocol ranges can
never be it. Typed from the IANA IPv4/IPv6 Special-Purpose Address Registries;
documentation ranges (203.0.113.0/24, 2001:db8::/32, ...) are deliberately
absent: every example uses them. Used by :func:`wizard.parsing.parse_ip`;
tests/ip_oracle.py checks it against an independent list.
"""

from __future__ import annotations

import ipaddress

NOT_PUBLIC: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(cidr), why)
    for cidr, why in (
        ("0.0.0.0/8", "an unspecified ('this network') address"),
        ("10.0.0.0/8", "a private (LAN) address"),
        ("100.64.0.0/10", "a carrier-grade NAT address shared behind your provider"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private (LAN) address"),
        ("192.0.0.0/24", "a reserved protocol address"),
        ("192.168.0.0/16", "a private (LAN) address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("::ffff:0:0/96", "an IPv4-mapped IPv6 address (write it as plain IPv4)"),
        ("100::/64", "a discard-only address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("ff00::/8", "a multicast address"),
        ("2001::/23", "an IETF protocol address (Teredo, benchmarking, ORCHID)"),
        # Whatever the entries above leave outside 2000::/3 (global unicast,
        # RFC 4291) is unassigned or special: NAT64, SRv6, reserved space.
        ("::/3", "not a global unicast IPv6 address (those start with 2 or 3)"),
        ("4000::/2", "not a global unicast IPv6 address (those start with 2 or 3)"),
        ("8000::/1", "not a global unicast IPv6 address (those start with 2 or 3)"),
    )
)
