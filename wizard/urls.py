"""The one rule for an exchange URL, wherever it comes from.

``--base-url`` on ``add``/``check``/``rotate`` and the interactive wizard, and a
``base_url`` read back from the registry or the keyring, all go through
:func:`parse_base_url`, so a stored value can't skip what a typed one must pass.

The rule: ``http`` or ``https``; a host (a DNS name or an IP literal); an
optional port 1–65535; an optional path; no user name or password (they would
be sent to the server, and are a phishing trick: ``https://api.binance.com@evil``);
no query or fragment; no spaces or control characters. Plain ``http`` only to
this machine (``localhost``, 127.0.0.0/8, ``::1``), because signed requests and
the API key would otherwise cross the network unencrypted.
No third-party imports: the first frame may need it.
"""

from __future__ import annotations

import ipaddress
import re

from wizard.parsing import InputError
from wizard.text import printable

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PATH = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*")
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?P<authority>[^/?#]*)"
    r"(?P<path>[^?#]*)"
    r"(?P<rest>[?#].*)?",
    re.S,
)
_FIX = "Give the server's root, e.g. https://api.binance.com, or http://127.0.0.1:8080 for the simulator."


class UrlError(InputError):
    """A URL that breaks the rule; ``id`` names which part (for --json findings)."""

    def __init__(self, id: str, message: str, fix: str = _FIX) -> None:
        super().__init__(message)
        self.id, self.message, self.fix = id, message, fix


def parse_base_url(text: object, *, what: str = "--base-url") -> str:
    """The normalised URL (lower-case scheme and host, no trailing "/"), or :class:`UrlError`.

    ``what`` names where the value came from in the message ("--base-url", or
    "the stored base_url").
    """
    if not isinstance(text, str):
        raise UrlError("base_url_invalid", f"{what} is not text (found {type(text).__name__}).")
    shown = f"{what} {printable(text, limit=80)!r}"
    url = text.strip()
    if not url:
        raise UrlError("base_url_invalid", f"{what} is empty: leave it out to use live Binance.")
    if any(ch.isspace() or not ch.isprintable() or ord(ch) > 0x7E for ch in url):
        raise UrlError("base_url_invalid", f"{shown} contains spaces, control or non-ASCII characters.")
    match = _URL.fullmatch(url)
    if match is None:
        raise UrlError("base_url_invalid", f"{shown} is not an http(s) URL.")
    scheme = match["scheme"].lower()
    if scheme not in ("http", "https"):
        raise UrlError("base_url_invalid", f"{shown} is not an http(s) URL.")
    if match["rest"]:
        raise UrlError("base_url_invalid", f"{shown} has a query or fragment ('?' or '#'): give only the root.")
    host, port = _authority(match["authority"], shown)
    path = match["path"].rstrip("/")
    if not _PATH.fullmatch(path):
        raise UrlError("base_url_invalid", f"{shown} has characters a URL path can't hold.")
    if scheme == "http" and not is_loopback_host(host):
        raise UrlError("base_url_insecure", f"{shown} would send signed requests unencrypted.",
                       "Use https:// (plain http is only accepted for 127.0.0.1 and localhost).")
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}{'' if port is None else f':{port}'}{path}"


def _authority(authority: str, shown: str) -> tuple[str, int | None]:
    """(host, port) from ``host[:port]``; user info, bad ports and bad hosts refused."""
    if "@" in authority:
        raise UrlError("base_url_invalid", f"{shown} has a user name or password in it ('@'): "
                       "the wizard never sends credentials in a URL.")
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise UrlError("base_url_invalid", f"{shown} has an unclosed '[' around its IPv6 address.")
        host, after = authority[1:end], authority[end + 1:]
        if after and not after.startswith(":"):
            raise UrlError("base_url_invalid", f"{shown} has text after its IPv6 address.")
        port_text = after[1:] if after else None
        if not _is_ipv6(host):
            raise UrlError("base_url_invalid", f"{shown} has no valid IPv6 address inside '[...]'.")
        return str(ipaddress.IPv6Address(host)), _port(port_text, shown)
    host, sep, port_text = authority.partition(":")
    host = host.lower().rstrip(".")
    if not host:
        raise UrlError("base_url_invalid", f"{shown} has no host name.")
    if not _is_hostname(host):
        raise UrlError("base_url_invalid", f"{shown} has no valid host name (letters, digits, '-' and '.').")
    return host, _port(port_text if sep else None, shown)


def _port(text: str | None, shown: str) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise UrlError("base_url_invalid", f"{shown} has no valid port: use a number from 1 to 65535.")
    return int(text)


def _is_ipv6(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return "%" not in host  # a zone index names this machine's interface: no use to a server


def _is_hostname(host: str) -> bool:
    if len(host) > 253:
        return False
    labels = host.split(".")
    if all(label.isdigit() for label in labels):  # looks like IPv4: must be one
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    return all(_LABEL.fullmatch(label) for label in labels)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1).

    Spelled out rather than ``is_loopback``: Python versions disagree on
    IPv4-mapped forms (``::ffff:127.0.0.1``), which are refused here.
    """
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.version == 4:
        return address in _LOOPBACK_V4
    return address == _LOOPBACK_V6


_LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")
_LOOPBACK_V6 = ipaddress.ip_address("::1")
