"""An oracle for "may this be on a Binance key's IP allowlist?", independent of wizard.parsing.

The IP property tests used to filter their inputs with ``parse_ip`` itself, so
no property could notice a missing blocked range. This module decides from
Python's ``ipaddress`` flags and its own list of special-purpose ranges, typed
from the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
successors) and RFC 4291's global unicast space (2000::/3), with the
exceptions the wizard makes on purpose written down:

* **documentation ranges are accepted** (192.0.2.0/24, 198.51.100.0/24,
  203.0.113.0/24, 2001:db8::/32, 3fff::/20): every example in the README and
  the profiles uses them, and Binance's form takes them;
* **192.0.0.0/24 is refused whole**, stricter than the registry (which marks
  two /32s in it globally reachable) and than ``ipaddress``.

Strategies here also aim at the edges of every range (first and last address,
one outside each end), so a range dropped from the parser is found at once.
"""

from __future__ import annotations

import ipaddress

from hypothesis import strategies as st

MIN_PREFIX = {4: 16, 6: 32}

DOCUMENTATION = [ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",  # RFC 5737
    "2001:db8::/32", "3fff::/20",  # RFC 3849, RFC 9637
)]

# Not globally reachable (IANA registries), multicast, reserved and, for IPv6,
# everything outside global unicast 2000::/3.
BLOCKS = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8",        # "this network" (RFC 791)
    "10.0.0.0/8",       # private (RFC 1918)
    "100.64.0.0/10",    # shared address space, carrier-grade NAT (RFC 6598)
    "127.0.0.0/8",      # loopback (RFC 1122)
    "169.254.0.0/16",   # link local (RFC 3927)
    "172.16.0.0/12",    # private (RFC 1918)
    "192.0.0.0/24",     # IETF protocol assignments (RFC 6890), refused whole
    "192.168.0.0/16",   # private (RFC 1918)
    "198.18.0.0/15",    # benchmarking (RFC 2544)
    "224.0.0.0/4",      # multicast (RFC 5771)
    "240.0.0.0/4",      # reserved (RFC 1112), with 255.255.255.255
    "::/3",             # outside global unicast: ::, ::1, ::ffff:0:0/96, 64:ff9b::/96, 100::/64 ...
    "4000::/2",         # ... 5f00::/16 (SRv6) and the rest of the unassigned space
    "8000::/1",         # ... fc00::/7 unique local, fe80::/10 link local, ff00::/8 multicast
    "2001::/23",        # IETF protocol assignments: Teredo, benchmarking, ORCHID (RFC 2928)
)]


def _documented(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in net for net in DOCUMENTATION)


def public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """One address, by ``ipaddress`` flags plus the exceptions above."""
    if _documented(address):
        return True
    if not address.is_global or address.is_multicast or address.is_reserved:
        return False
    return address not in ipaddress.ip_network("192.0.0.0/24")


def allowlistable(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """A network the wizard must accept: narrow enough, and public from end to end."""
    if network.prefixlen < MIN_PREFIX[network.version]:
        return False
    if not (public_address(network.network_address) and public_address(network.broadcast_address)):
        return False
    return not any(network.version == b.version and network.overlaps(b) for b in BLOCKS)


def _edges(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> st.SearchStrategy:
    first, last = int(net.network_address), int(net.broadcast_address)
    top = (1 << net.max_prefixlen) - 1
    cls = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
    points = {max(0, first - 1), first, last, min(top, last + 1)}
    return st.sampled_from(sorted(points)).map(cls) | st.integers(first, last).map(cls)


# Addresses anywhere, and around and inside every special range.
addresses = st.ip_addresses() | st.sampled_from(BLOCKS + DOCUMENTATION).flatmap(_edges)


def _network(address, prefix: int):
    return ipaddress.ip_network(f"{address}/{min(prefix, address.max_prefixlen)}", strict=False)


# Single hosts and ranges; range prefixes cluster near the minimum and near the blocks' sizes.
networks = addresses.map(ipaddress.ip_network) | st.builds(
    _network, addresses, st.integers(8, 128) | st.sampled_from([15, 16, 17, 23, 24, 25, 31, 32, 33, 48, 64])
)
