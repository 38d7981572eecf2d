"""The store-URI parser, against an independent oracle, and the CLI's exit 2 for a bad URI."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from wizard.stores import StoreURIError, parse_store_uri

# --- the oracle: the grammar in the README, written out step by step (no code shared with the parser) ---

SERVICE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
DIR_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@+=,/-")
SEGMENT_CHARS = SERVICE_CHARS


def oracle(text: str) -> str | None:
    """The canonical form of a valid store URI, or None when it must be refused."""
    text = text.strip()
    if text == "keyring":
        return "keyring"
    if text.startswith("keyring:"):
        service = text[8:]
        ok = 1 <= len(service) <= 64 and set(service) <= SERVICE_CHARS
        return (("keyring" if service == "binance-key-wizard" else "keyring:" + service) if ok else None)
    if text.startswith("systemd-creds:"):
        path = text[14:]
        if not path.startswith("/") or not set(path) <= DIR_CHARS:
            return None
        parts = [p for p in path.split("/") if p != ""]
        if "." in parts or ".." in parts:
            return None
        return "systemd-creds:/" + "/".join(parts)
    for scheme in ("https", "http"):
        head = f"vault+{scheme}://"
        if text.startswith(head):
            return _oracle_vault(scheme, text[len(head):])
    return None


def _oracle_vault(scheme: str, rest: str) -> str | None:
    if "/" not in rest:
        return None
    netloc, path = rest.split("/", 1)
    host, port = _oracle_host_port(netloc)
    if host is None:
        return None
    if scheme == "http" and not (host == "localhost" or _is_loopback_ip(host)):
        return None
    if path.endswith("/"):
        path = path[:-1]
    segments = path.split("/")
    for seg in segments:
        if not 1 <= len(seg) <= 64 or not set(seg) <= SEGMENT_CHARS or seg in (".", ".."):
            return None
    shown = f"[{host}]" if ":" in host else host
    return f"vault+{scheme}://{shown}:{port}/{'/'.join(segments)}"


def _oracle_host_port(netloc: str) -> tuple[str | None, int]:
    port = "8200"
    if netloc.startswith("["):
        if "]" not in netloc:
            return None, 0
        inside, after = netloc[1:].split("]", 1)
        if after:
            if not after.startswith(":"):
                return None, 0
            port = after[1:]
        try:
            host = str(ipaddress.IPv6Address(inside))
        except ValueError:
            return None, 0
    else:
        if netloc.count(":") > 1:
            return None, 0
        host = netloc
        if ":" in netloc:
            host, port = netloc.split(":")
        if not _oracle_hostname(host):
            return None, 0
        host = host.lower()
    if not re.fullmatch(r"[0-9]+", port) or not 1 <= int(port) <= 65535:
        return None, 0
    return host, int(port)


def _oracle_hostname(host: str) -> bool:
    if not 1 <= len(host) <= 253:
        return False
    for label in host.split("."):
        if not 1 <= len(label) <= 63 or label[0] == "-" or label[-1] == "-":
            return False
        if not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in label):
            return False
    return True


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- properties --------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(["keyring", "keyring:", "systemd-creds:", "systemd-creds:/", "vault+https://",
                             "vault+http://", "vault+http://127.0.0.1", "vault+https://[::1]", "https://", ""])
NOISE = st.text(alphabet="abcXYZ019._-/:@[]?#% \t~+=,", max_size=40)


@settings(max_examples=600, deadline=None)
@given(FRAGMENTS, NOISE)
@example("vault+https://tok@host/secret", "")
@example("vault+http://[::1]:8200/kv/a/", "")
@example("systemd-creds:/etc/../x", "")
@example("keyring:binance-key-wizard", "")
def test_parser_agrees_with_the_oracle_on_any_text(head, tail):
    text = head + tail
    expected = oracle(text)
    try:
        got = str(parse_store_uri(text))
    except StoreURIError as exc:
        assert expected is None, f"{text!r} refused ({exc}) but the oracle accepts {expected!r}"
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert got == expected, f"{text!r}: parser {got!r}, oracle {expected!r}"


HOSTS = st.one_of(
    st.from_regex(r"[a-z][a-z0-9]{0,10}(\.[a-z][a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
)
SEGMENTS = st.lists(st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,20}", fullmatch=True), min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(HOSTS, st.integers(1, 65535), SEGMENTS)
def test_every_well_formed_vault_uri_parses_to_its_parts(host, port, segments):
    uri = parse_store_uri(f"vault+https://{host}:{port}/{'/'.join(segments)}")
    assert (uri.kind, uri.port, uri.mount, uri.prefix) == ("vault", port, segments[0], "/".join(segments[1:]))
    assert parse_store_uri(str(uri)) == uri  # the canonical form reads back the same


@pytest.mark.parametrize("text, words", [
    ("vault+http://vault.example.com/secret/bots", "unencrypted"),
    ("vault+https://s.mytoken@vault.example/secret", "Never put a token"),
    ("vault+https://vault.example/secret?token=x", "never from the URI"),
    ("systemd-creds:relative/dir", "absolute"),
    ("https://vault.example/secret", "vault+https://"),
    ("plaintext:/tmp/keys.json", "Unknown store"),
    ("vault+https://vault.example:99999/secret", "port"),
    ("vault+https://vault.example", "mount"),
])
def test_bad_uris_say_what_to_write(text, words):
    with pytest.raises(StoreURIError, match=re.escape(words)):
        parse_store_uri(text)


def test_plain_http_is_accepted_to_this_machine_only():
    for host in ("127.0.0.1", "localhost", "[::1]", "127.8.9.10"):
        assert parse_store_uri(f"vault+http://{host}:8200/secret/x").scheme == "http"


from tests.cli_helpers import cli, store, use_keyring  # noqa: E402,F401 - fixtures


@pytest.mark.parametrize("command", [("add", "tracker-laptop", "--api-key", "A" * 64), ("check",), ("review",),
                                     ("exec", "tracker-laptop")])
def test_the_cli_refuses_a_bad_store_uri_with_exit_2(cli, command):
    tail = ("--", "true") if command[0] == "exec" else ()
    result = cli(*command, "--store", "vault+http://vault.example.com/secret/bots", *tail, stdin="x" * 64 + "\n")
    assert result.code == 2
    assert "unencrypted" in result.err + result.out


def test_the_wizard_refuses_a_bad_store_uri_with_exit_2(cli):
    result = cli("--store", "systemd-creds:not/absolute")
    assert result.code == 2 and "absolute" in result.err
