"""One URL rule (wizard/urls.py) for typed and stored exchange URLs.

The property test builds URLs from parts and decides acceptance with its own
rules (scheme, host, port 1-65535, no user info, no query or fragment, https
except to loopback), never by asking the parser; the stdlib's ``urlsplit``
cross-checks what an accepted URL means. Then every place a URL enters:
``add``/``check``/``rotate`` flags, the interactive wizard, the registry and
the keyring document.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.cli_helpers import LABEL, add_key, cli, store, use_keyring  # noqa: F401
from wizard.urls import UrlError, parse_base_url

# --- the oracle's parts -------------------------------------------------------------------

label_chars = "abcdefghijklmnopqrstuvwxyz0123456789"
dns_label = st.builds(
    lambda first, middle, last: first + middle + last,
    st.sampled_from(label_chars), st.text(alphabet=label_chars + "-", max_size=20), st.sampled_from(label_chars),
) | st.sampled_from(label_chars)
dns_name = st.lists(dns_label, min_size=1, max_size=4).map(".".join).filter(
    lambda h: not all(part.isdigit() for part in h.split(".")))
good_hosts = st.one_of(
    dns_name.map(lambda h: (h, h)),
    st.just(("localhost", "localhost")),
    st.ip_addresses(v=4).map(lambda a: (str(a), str(a))),
    st.ip_addresses(v=6).map(lambda a: (f"[{a}]", str(a))),
    st.sampled_from([("127.0.0.1", "127.0.0.1"), ("127.8.9.10", "127.8.9.10"), ("[::1]", "::1")]),
)
bad_hosts = st.sampled_from(["", "-bad.example", "bad-.example", "ex_ample.com", "exa mple.com", "[::1",
                             "[not-v6]", "300.1.2.3", "1.2.3", "a..b", "[fe80::1%eth0]", "xn--é.com"])
schemes = st.sampled_from(["http", "https", "HTTPS", "Http", "ftp", "file", "ws", "javascript", "httpx"])
ports = st.none() | st.integers(-5, 70000).map(str) | st.sampled_from(["", "abc", "80a", "0", "65535", "65536"])
userinfo = st.none() | st.sampled_from(["user", "user:pw", "api.binance.com", ""])
paths = st.sampled_from(["", "/", "/proxy", "/a/b/", "/x%20y", "/a b"])
tails = st.sampled_from(["", "?a=1", "#frag", "?", "#"])


def oracle_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.version == 4:
        return str(address).startswith("127.")
    return address == ipaddress.IPv6Address("::1")


@given(schemes, userinfo, st.one_of(good_hosts.map(lambda h: (*h, True)), bad_hosts.map(lambda h: (h, h, False))),
       ports, paths, tails)
@example("http", None, ("127.0.0.1", "127.0.0.1", True), "99999", "", "")
@example("https", "api.binance.com", ("evil.example", "evil.example", True), None, "", "")
def test_urls_built_from_parts_are_judged_by_the_rule(scheme, user, host_parts, port, path, tail):
    host_text, host, host_ok = host_parts
    url = f"{scheme}://{'' if user is None else user + '@'}{host_text}{'' if port is None else ':' + port}{path}{tail}"
    accept = (
        scheme.lower() in ("http", "https")
        and user is None
        and host_ok
        and (port is None or (port.isdigit() and 1 <= int(port) <= 65535))
        and " " not in path
        and tail == ""
        and (scheme.lower() == "https" or oracle_loopback(host))
    )
    try:
        result = parse_base_url(url)
    except UrlError as exc:
        assert not accept, f"{url!r} refused: {exc}"
        assert exc.id in ("base_url_invalid", "base_url_insecure") and exc.fix
        return
    assert accept, f"{url!r} accepted as {result!r}"
    parts = urlsplit(result)  # the stdlib reads the accepted URL the same way
    assert parts.scheme == scheme.lower()
    assert parts.hostname == host.lower()
    assert parts.port == (None if port is None else int(port))
    assert parts.username is None and not parts.query and not parts.fragment
    assert not result.endswith("/")
    assert parse_base_url(result) == result  # normal form is stable


@given(st.text(max_size=80))
def test_any_text_is_a_url_or_a_url_error(text):
    try:
        result = parse_base_url(text)
    except UrlError as exc:
        assert "\x1b" not in str(exc) and "\n" not in str(exc)
    else:
        assert result.startswith(("http://", "https://"))


@pytest.mark.parametrize("value", [None, 8080, ["https://x.example"], {"u": 1}])
def test_a_stored_base_url_that_is_not_text_is_refused(value):
    with pytest.raises(UrlError, match="not text"):
        parse_base_url(value, what="the stored base_url")


# --- every door a URL comes in ---------------------------------------------------------------


@pytest.mark.parametrize(("url", "finding"), [
    ("", "base_url_invalid"),  # used to mean live Binance, silently
    ("   ", "base_url_invalid"),
    ("https://api.example.com:99999", "base_url_invalid"),  # used to exit 5
    ("https://api.example.com:0", "base_url_invalid"),
    ("https://api.binance.com@evil.example", "base_url_invalid"),
    ("https://api.example.com/?x=1", "base_url_invalid"),
])
def test_add_refuses_malformed_base_urls_with_exit_2(cli, sim, url, finding):  # noqa: F811
    key = sim.keys["read_only"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", url, "--json", stdin=key.secret)
    assert result.code == 2, result.out
    assert result.ids() == {finding}
    assert sim.request_log == []


def test_check_refuses_an_empty_base_url_instead_of_using_the_recorded_one(add_key, cli, sim):  # noqa: F811
    assert add_key("read_only").code == 0
    result = cli("check", LABEL, "--base-url", "", "--json")
    assert result.code == 2


def _edit_registry(field: str, value: object) -> None:
    from wizard.registry import Registry

    path = Registry().path
    doc = json.loads(path.read_text())
    doc["keys"][LABEL][field] = value
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("url", ["http://evil.example", "https://x.example:99999", "", "ftp://127.0.0.1"])
def test_a_registry_base_url_obeys_the_same_rule(add_key, cli, sim, url):  # noqa: F811
    assert add_key("read_only").code == 0
    before = len(sim.request_log)
    _edit_registry("base_url", url)
    result = cli("check", LABEL, "--json")
    assert result.code == 3, result.out
    # An empty one the registry itself already refuses as damaged; the others reach the URL rule.
    assert result.ids() == ({"registry_unusable"} if url == "" else {"stored_environment_invalid"})
    assert len(sim.request_log) == before  # nothing was sent anywhere


def test_a_keyring_base_url_obeys_the_same_rule(add_key, cli, store):  # noqa: F811
    from wizard.secret import Secret
    from wizard.stored_key import StoredKey
    from wizard.vault import SERVICE

    assert add_key("read_only").code == 0
    doc = json.loads(store.get_password(SERVICE, LABEL))
    doc["base_url"] = "http://evil.example"
    store.set_password(SERVICE, LABEL, json.dumps(doc))
    with pytest.raises(ValueError, match="unencrypted"):
        StoredKey.from_json(Secret(store.get_password(SERVICE, LABEL)))
    result = cli("check", LABEL)
    assert result.code == 3


def test_the_wizard_refuses_a_malformed_base_url_like_add(cli, sim):  # noqa: F811
    url = "https://api.example.com:99999"
    key = sim.keys["read_only"]
    add = cli("add", LABEL, "--api-key", key.api_key, "--base-url", url, stdin=key.secret)
    # The interactive wizard, in a child with no terminal: it must refuse before starting.
    wizard = subprocess.run([sys.executable, "-m", "wizard", "--base-url", url], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=30)
    assert (add.code, wizard.returncode) == (2, 2)
    assert wizard.stderr == add.err and "1 to 65535" in add.err
