"""Store URIs: the one parser for where a key lives.

::

    keyring                                  the OS keyring, service "binance-key-wizard"
    keyring:SERVICE                          the OS keyring under another service name
    systemd-creds:/ABSOLUTE/DIR              systemd credentials, DIR/LABEL.cred
    vault+https://HOST[:PORT]/MOUNT[/PREFIX...]   Vault/OpenBao KV v2, MOUNT/PREFIX/LABEL
    vault+http://127.0.0.1[:PORT]/MOUNT/...  plain http, only to this machine

A URI never holds a secret: user info (``token@host``), queries and fragments
are refused, so a token can't end up in argv, a profile or the registry.
:func:`parse_store_uri` returns a :class:`StoreURI` whose ``str()`` is the
canonical form; bad input raises :class:`StoreURIError` (a ValueError) whose
message says what to write instead (the CLI exits 2 with it).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

DEFAULT_SERVICE = "binance-key-wizard"
DEFAULT_VAULT_PORT = 8200
StoreKind = Literal["keyring", "systemd-creds", "vault"]

_SERVICE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_DIR_CHARS = re.compile(r"[A-Za-z0-9_.@+=,/-]+")  # nothing a unit file or a shell would mangle
_HOSTNAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
_EXAMPLES = ("keyring, keyring:SERVICE, systemd-creds:/etc/binance-key-wizard/creds, or "
             "vault+https://vault.example:8200/secret/bots")


class StoreURIError(ValueError):
    """A store URI that can't be used; the message says what to write instead."""


@dataclass(frozen=True)
class StoreURI:
    """A parsed store URI. ``service`` for keyring; ``directory`` for systemd-creds;
    ``scheme``/``host``/``port``/``mount``/``prefix`` for vault."""

    kind: StoreKind
    service: str = DEFAULT_SERVICE
    directory: str = ""
    scheme: str = "https"
    host: str = ""
    port: int = DEFAULT_VAULT_PORT
    mount: str = ""
    prefix: str = ""

    def __str__(self) -> str:
        if self.kind == "keyring":
            return "keyring" if self.service == DEFAULT_SERVICE else f"keyring:{self.service}"
        if self.kind == "systemd-creds":
            return f"systemd-creds:{self.directory}"
        path = "/".join(p for p in (self.mount, self.prefix) if p)
        return f"vault+{self.scheme}://{self._netloc()}:{self.port}/{path}"

    def _netloc(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def server_url(self) -> str:
        """``https://HOST:PORT`` for the Vault client."""
        return f"{self.scheme}://{self._netloc()}:{self.port}"


def parse_store_uri(text: str) -> StoreURI:
    """Parse ``text`` (surrounding whitespace ignored); StoreURIError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise StoreURIError(f"No store given. Use one of: {_EXAMPLES}.")
    uri = text.strip()
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch.isspace() for ch in uri):
        raise StoreURIError("A store URI has no spaces or control characters.")
    if uri == "keyring":
        return StoreURI("keyring")
    if uri.startswith("keyring:"):
        return _keyring(uri[len("keyring:"):])
    if uri.startswith("systemd-creds:"):
        return StoreURI("systemd-creds", directory=_directory(uri[len("systemd-creds:"):]))
    if uri.startswith(("vault+https://", "vault+http://")):
        return _vault(uri)
    if uri.startswith(("https://", "http://", "vault://", "openbao")):
        raise StoreURIError(f"{_shown(uri)} is not a store URI: a Vault/OpenBao store is written "
                            "vault+https://HOST:PORT/MOUNT/PREFIX.")
    raise StoreURIError(f"Unknown store {_shown(uri)}. Use one of: {_EXAMPLES}.")


def _shown(uri: str) -> str:
    return repr(uri if len(uri) <= 80 else uri[:77] + "...")


def _keyring(service: str) -> StoreURI:
    if not _SERVICE.fullmatch(service):
        raise StoreURIError("keyring:SERVICE needs a service name of 1-64 letters, digits, '.', '_' or '-'.")
    return StoreURI("keyring", service=service)


def _directory(path: str) -> str:
    if not path.startswith("/"):
        raise StoreURIError("systemd-creds:DIR needs an absolute directory, e.g. "
                            "systemd-creds:/etc/binance-key-wizard/creds (a unit file can only name absolute paths).")
    if not _DIR_CHARS.fullmatch(path):
        raise StoreURIError("systemd-creds:DIR may only hold letters, digits and _ . @ + = , / - "
                            "(a systemd unit line can't carry other characters safely).")
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise StoreURIError("systemd-creds:DIR must not contain '.' or '..': give the directory's real path.")
    return "/" + "/".join(parts)


def _vault(uri: str) -> StoreURI:
    scheme, rest = uri[len("vault+"):].split("://", 1)
    if "?" in rest or "#" in rest:
        raise StoreURIError("A vault+https:// store URI has no query or fragment: the token comes from "
                            "VAULT_TOKEN/BAO_TOKEN or an AppRole login, never from the URI.")
    netloc, _, path = rest.partition("/")
    if "@" in netloc:
        raise StoreURIError("Never put a token or password in the store URI (it would end up in shell history "
                            "and process lists): set VAULT_TOKEN or VAULT_ROLE_ID/VAULT_SECRET_ID instead.")
    host, port = _host_port(netloc)
    if scheme == "http" and not _is_loopback(host):
        raise StoreURIError(f"vault+http:// would send the key unencrypted to {host}: use vault+https:// "
                            "(plain http is only accepted for 127.0.0.1, ::1 and localhost).")
    segments = path.split("/") if path else []
    if segments and segments[-1] == "":
        segments.pop()  # one trailing slash is harmless
    if not segments:
        raise StoreURIError("A vault+https:// store URI needs the KV v2 mount, e.g. "
                            "vault+https://vault.example:8200/secret/bots.")
    for segment in segments:
        if not _SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise StoreURIError(f"The vault path segment {_shown(segment)} is not allowed: use 1-64 letters, "
                                "digits, '.', '_' or '-' per segment (not '.' or '..').")
    return StoreURI("vault", scheme=scheme, host=host, port=port, mount=segments[0], prefix="/".join(segments[1:]))


def _host_port(netloc: str) -> tuple[str, int]:
    port_text = ""
    if netloc.startswith("["):
        host, sep, after = netloc[1:].partition("]")
        if not sep or (after and not after.startswith(":")):
            raise StoreURIError("An IPv6 address in a store URI is written in brackets: vault+https://[::1]:8200/...")
        port_text = after[1:] if after else ""
        try:
            host = str(ipaddress.IPv6Address(host))
        except ValueError:
            raise StoreURIError(f"{_shown(host)} is not an IPv6 address.") from None
    else:
        host, sep, port_text = netloc.partition(":")
        if sep and not port_text:
            raise StoreURIError("A ':' after the host needs a port number, e.g. :8200.")
        if not _HOSTNAME.fullmatch(host):
            raise StoreURIError(f"{_shown(host)} is not a host name or IP address.")
        host = host.lower()
    if not port_text:
        return host, DEFAULT_VAULT_PORT
    if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise StoreURIError(f"{_shown(port_text)} is not a port: use a number from 1 to 65535.")
    return host, int(port_text)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
