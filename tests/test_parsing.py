"""Parsers of user input: property tests for each, examples for every message that matters.

Labels, IP lists and symbols here; the API key, HMAC secret and PEM in test_parsing_secrets.py.
"""

from __future__ import annotations

import ipaddress
import re
import string
from datetime import date

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from tests import ip_oracle
from tests.conftest import SENTINEL_SECRET
from wizard.labels import GENERIC_WORDS, host_slug, label_names, slugify, specific_words
from wizard.parsing import (
    LABEL_MAX_LENGTH,
    LABEL_MIN_LENGTH,
    MAX_IPS,
    InputError,
    format_ip_list,
    parse_ip,
    parse_ip_list,
    parse_symbol,
    suggest_label,
    validate_label,
)

ALNUM = string.ascii_letters + string.digits
# The suite's sentinel, made exactly 64 characters whatever its length in conftest.
SECRET64 = SENTINEL_SECRET.ljust(64, "Q")[:64]


# --- labels -----------------------------------------------------------------------------------

label_text = st.text(alphabet=ALNUM + " -_.", min_size=1, max_size=40)


@given(label_text)
def test_valid_labels_are_trimmed_and_idempotent(text):
    try:
        label = validate_label(text)
    except InputError:
        return
    assert LABEL_MIN_LENGTH <= len(label) <= LABEL_MAX_LENGTH
    assert label == label.strip() and "  " not in label
    assert any(ch.isalpha() for ch in label)
    assert validate_label(label) == label
    assert validate_label(f"  {label}\t") == label


@given(st.text(max_size=60))
def test_any_text_either_validates_or_raises_input_error(text):
    try:
        validate_label(text)
    except InputError as exc:
        assert str(exc)


@given(
    st.sampled_from(["bot", "test", "key", "api", "apikey", "binance", "my key", "trading", "Trading Bot", "API-Key"]),
    st.sampled_from(["", "1", "2", "42", " 3", "_7", "-10"]),
    st.sampled_from(["", " ", "  "]),
)
def test_generic_labels_are_rejected(word, suffix, pad):
    text = pad + word + suffix + pad
    with pytest.raises(InputError) as info:
        validate_label(text)
    assert "too generic" in str(info.value) or "too short" in str(info.value)


def test_label_messages():
    with pytest.raises(InputError, match="Give the key a label"):
        validate_label("   ")
    with pytest.raises(InputError, match=r"too short \(3 characters"):
        validate_label("abc")
    with pytest.raises(InputError, match=rf"too long \(40 characters; at most {LABEL_MAX_LENGTH}"):
        validate_label("a" * 40)
    with pytest.raises(InputError, match=r"remove '/'"):
        validate_label("tracker/laptop")
    with pytest.raises(InputError, match="not just numbers"):
        validate_label("2026-11-24")
    with pytest.raises(InputError, match="'bot1' is too generic"):
        validate_label("bot1")
    assert validate_label("  3commas   read  laptop ") == "3commas read laptop"
    assert validate_label("koinly-tax-laptop") == "koinly-tax-laptop"


@given(st.text(max_size=80), st.sampled_from(["read", "spot"]) | st.text(max_size=10), st.text(max_size=80), st.dates())
@example("3commas", "read", "myhost", date(2026, 11, 24))
def test_suggested_labels_always_validate(tool, purpose, host, day):
    label = suggest_label(tool, purpose, host, day)
    if label:
        assert validate_label(label) == label
        assert day.isoformat() in label
    else:  # nothing to suggest only when neither the tool nor the host names anything specific
        assert not specific_words(f"{slugify(tool)} {host_slug(host)}")


@given(st.sampled_from(["", "tracker", "bot"]), st.sampled_from(["read", "spot"]),
       st.sampled_from(["vm", "laptop", "vps1", "build-server-42.internal"]), st.dates())
def test_no_suggestion_claims_a_generic_word_is_the_tool(tool, purpose, host, day):
    """bot-spot-vm-<date> was praised as naming the tool: a suggestion never leans on 'bot'."""
    label = suggest_label(tool, purpose, host, day)
    assert validate_label(label) == label
    names = label_names(label, host=host)
    assert not names.tool and not names.other and names.machine  # only the machine is specific
    assert "bot" not in label.split("-") and "tracker" not in label.split("-")


@pytest.mark.parametrize("label", ["bot-spot-2026-12-01", "test-key-1", "api_trading_2", "binance bot 3"])
def test_labels_naming_nothing_specific_are_refused(label):
    with pytest.raises(InputError, match="names no tool or machine"):
        validate_label(label)


@given(label_text)
def test_label_rule_matches_an_independent_word_oracle(text):
    """A label passes only if some word is neither generic nor a number (oracle: plain splitting)."""
    words = [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]
    has_specific = any(not w.isdigit() and w not in GENERIC_WORDS for w in words)
    try:
        validate_label(text)
    except InputError:
        return
    assert has_specific


def test_label_names_what_it_contains():
    names = label_names("acme-bot-vm-2026-12-01", host="vm", product="acme-spot-bot")
    assert names.described() == "the tool (acme), this machine (vm) and the date"
    assert label_names("spot-vm-2026-12-01", host="vm").described() == (
        "this machine (vm), the purpose (spot) and the date")


def test_suggest_label_example():
    assert suggest_label("3commas", "read", "myhost", date(2026, 11, 24)) == "3commas-read-myhost-2026-11-24"
    long = suggest_label("Extremely Long Tool Name", "spot", "build-server-42.internal", date(2026, 1, 2))
    assert long == "extreme-spot-build-se-2026-01-02"  # tool and host shortened, purpose and date kept


# --- IP lists ---------------------------------------------------------------------------------


def parser_accepts(net) -> bool:
    """What the code under test says (compared with the oracle, never used to filter)."""
    try:
        parse_ip(str(net))
    except InputError:
        return False
    return True


@settings(max_examples=400)
@given(ip_oracle.networks)
@example(ipaddress.ip_network("198.18.0.0/32"))
@example(ipaddress.ip_network("198.19.255.255/32"))
@example(ipaddress.ip_network("198.16.0.0/14"))
def test_the_parser_agrees_with_the_independent_oracle(net):
    assert parser_accepts(net) == ip_oracle.allowlistable(net), net


@pytest.mark.parametrize("block", ip_oracle.BLOCKS, ids=str)
def test_every_special_range_is_refused_at_both_ends(block):
    for address in (block.network_address, block.broadcast_address):
        assert not parser_accepts(ipaddress.ip_network(address)), address


allowed = ip_oracle.networks.filter(ip_oracle.allowlistable)
networks = st.lists(allowed, max_size=MAX_IPS)
separators = st.sampled_from([",", ", ", "\n", " ", "\t", ";", " ,\n"])


@settings(max_examples=150)
@given(networks, st.data())
def test_ip_list_round_trip(nets, data):
    # Duplicates are dropped in order of first appearance.
    expected = list(dict.fromkeys(nets))
    pieces = []
    for net in nets + nets[:2]:
        text = str(net.network_address) if net.num_addresses == 1 and data.draw(st.booleans()) else str(net)
        pieces.append(text)
        pieces.append(data.draw(separators))
    assume(len(expected) <= MAX_IPS)
    parsed = parse_ip_list("".join(pieces))
    assert parsed == expected
    assert parse_ip_list(format_ip_list(parsed)) == parsed


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.20.0.1", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.1.1", "link-local"),
        ("100.64.3.4", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("255.255.255.255", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fd00::1", "private"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("::ffff:203.0.113.9", "IPv4-mapped"),
        ("0.0.0.0/0", "too broad"),
        ("8.0.0.0/8", "too broad"),
        ("192.0.0.0/16", "not public"),
        ("2001::/16", "too broad"),
        ("203.0.113.10/24", "did you mean 203.0.113.0/24"),
        ("300.1.2.3", "not an IPv4 or IPv6 address"),
        ("example.com", "not an IPv4 or IPv6 address"),
    ],
)
def test_bad_ip_entries_are_named(entry, reason):
    with pytest.raises(InputError, match=reason) as info:
        parse_ip_list(f"203.0.113.5, {entry}")
    assert entry in str(info.value)


def test_ip_list_examples():
    parsed = parse_ip_list(" 203.0.113.10,\n2001:db8::/64  [2001:db8::5]\n\n203.0.113.10/32 ")
    assert [str(n) for n in parsed] == ["203.0.113.10/32", "2001:db8::/64", "2001:db8::5/128"]
    assert format_ip_list(parsed) == "203.0.113.10, 2001:db8::/64, 2001:db8::5"
    assert parse_ip_list("") == [] and parse_ip_list(" ,\n ") == []
    assert parse_ip_list("127.0.0.1", allow_private=True) == [ipaddress.ip_network("127.0.0.1/32")]
    too_many = ", ".join(f"203.0.113.{i}" for i in range(1, MAX_IPS + 2))
    with pytest.raises(InputError, match=f"at most {MAX_IPS}"):
        parse_ip_list(too_many)


@given(st.text(max_size=100))
def test_ip_garbage_only_raises_input_error(text):
    try:
        for net in parse_ip_list(text):
            assert not net.is_loopback
    except InputError:
        pass


# --- symbols ----------------------------------------------------------------------------------


@given(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=5, max_size=20), st.booleans())
def test_symbols_round_trip(symbol, lower):
    assert parse_symbol(f" {symbol.lower() if lower else symbol} ") == symbol


@given(st.text(max_size=30))
def test_symbol_garbage(text):
    try:
        symbol = parse_symbol(text)
    except InputError as exc:
        assert "BTCUSDT" in str(exc)
    else:
        assert symbol.isalnum() and symbol.isupper() or symbol.isdigit()
        assert 5 <= len(symbol) <= 20


def test_symbol_examples():
    assert parse_symbol("btc/usdt") == "BTCUSDT"
    for bad in ("BTC", "BTC USDT", "A" * 21, "ÉTHUSDT"):
        with pytest.raises(InputError):
            parse_symbol(bad)


# --- secrets pasted into the wrong field ------------------------------------------------------


@settings(max_examples=100)
@given(st.text(alphabet=ALNUM, min_size=17, max_size=100) | st.just(SECRET64))
def test_secret_pasted_into_a_non_secret_field_is_not_echoed(secret):
    assume(not set(secret) <= set("0123456789abcdefABCDEF"))  # could be an IPv6-ish run of hex
    for parse in (parse_ip_list, parse_symbol, validate_label):
        try:
            parse(secret)
        except InputError as exc:
            assert secret[:17] not in str(exc)


def test_parsers_import_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys, wizard.parsing, wizard.policy, wizard.profiles, wizard.keygen\n"
        "heavy = [m for m in ('Crypto', 'binance', 'keyring', 'qrcode', 'textual', 'aiohttp') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
