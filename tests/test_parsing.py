"""Parsers of user input: property tests for each, examples for every message that matters."""

from __future__ import annotations

import base64
import ipaddress
import re
import string
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests import ip_oracle
from tests.conftest import SENTINEL_SECRET
from wizard.labels import GENERIC_WORDS, host_slug, label_names, slugify, specific_words
from wizard.parsing import (
    LABEL_MAX_LENGTH,
    LABEL_MIN_LENGTH,
    MAX_IPS,
    InputError,
    clean_api_key,
    clean_hmac_secret,
    format_ip_list,
    normalize_private_key_pem,
    parse_ip,
    parse_ip_list,
    parse_symbol,
    suggest_label,
    validate_label,
)
from wizard.secret import Secret

ALNUM = string.ascii_letters + string.digits
# The suite's sentinel, made exactly 64 characters whatever its length in conftest.
SECRET64 = SENTINEL_SECRET.ljust(64, "Q")[:64]
key64 = st.text(alphabet=ALNUM, min_size=64, max_size=64)
paste_noise = st.sampled_from([" ", "\n", "\r\n", "\t", "  ", "\u200b", "\ufeff"])


def with_noise(draw, core: str) -> str:
    """Insert whitespace/invisible characters around and inside ``core``."""
    cut = draw(st.lists(st.integers(0, len(core)), max_size=4, unique=True))
    out, last = [], 0
    for pos in sorted(cut):
        out.append(core[last:pos])
        out.append(draw(paste_noise))
        last = pos
    out.append(core[last:])
    return draw(paste_noise) + "".join(out) + draw(paste_noise)


@st.composite
def noisy_key(draw) -> tuple[str, str]:
    core = draw(key64)
    return core, with_noise(draw, core)


# --- API key and HMAC secret -------------------------------------------------------------


@given(noisy_key())
def test_api_key_survives_paste_noise(pair):
    core, pasted = pair
    assert clean_api_key(pasted) == core


@given(noisy_key())
def test_hmac_secret_survives_paste_noise_and_stays_wrapped(pair):
    core, pasted = pair
    secret = clean_hmac_secret(pasted)
    assert isinstance(secret, Secret)
    assert secret.reveal() == core
    assert core not in repr(secret)


@given(key64, st.sampled_from(["'", '"']))
def test_surrounding_quotes_are_dropped(core, quote):
    assert clean_api_key(f"{quote}{core}{quote}\n") == core


@st.composite
def broken_secret(draw) -> str:
    """A secret-like string that is wrong: bad length or unexpected characters."""
    core = draw(st.text(alphabet=ALNUM, min_size=12, max_size=100))
    if draw(st.booleans()):
        pos = draw(st.integers(0, len(core)))
        core = core[:pos] + draw(st.sampled_from(list("/+=:;,!#$%&*é€"))) + core[pos:]
    assume(len(core) != 64 or not core.isalnum() or not core.isascii())
    return core


@settings(max_examples=200)
@given(broken_secret())
@example(SECRET64[:-1])
@example(SECRET64 + "x")
@example(SECRET64[:30] + "/" + SECRET64[31:])
def test_rejected_secret_never_appears_in_the_message(bad):
    for parse in (clean_hmac_secret, clean_api_key):
        with pytest.raises(InputError) as info:
            parse(bad)
        message = str(info.value)
        assert bad not in message
        # Not even a recognisable chunk of it.
        chunks = [bad[i : i + 10] for i in range(0, max(len(bad) - 9, 1))]
        assert not any(chunk in message for chunk in chunks if len(chunk) == 10)
        assert info.value.__cause__ is None and info.value.__context__ is None


def test_secret_messages_say_what_is_wrong():
    with pytest.raises(InputError, match="63 characters instead of 64"):
        clean_hmac_secret(SECRET64[:-1])
    with pytest.raises(InputError, match="65 characters instead of 64"):
        clean_api_key(SECRET64 + "A")
    with pytest.raises(InputError, match="1 unexpected character .first at position 3"):
        clean_api_key("ab/" + SECRET64[3:])
    with pytest.raises(InputError, match="Paste the API key"):
        clean_api_key("  \n ")
    with pytest.raises(InputError, match="looks like a PEM key"):
        clean_hmac_secret("-----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----")
    with pytest.raises(InputError, match="delete the key and create a new one"):
        clean_hmac_secret("short")


def test_secret_accepts_a_secret():
    assert clean_hmac_secret(Secret(f" {SECRET64}\n")).reveal() == SECRET64


# --- Ed25519 private key PEM -------------------------------------------------------------


@pytest.fixture(scope="module")
def ed25519_pems() -> list[str]:
    from Crypto.PublicKey import ECC

    return [ECC.generate(curve="ed25519").export_key(format="PEM") for _ in range(5)]


def mangle(pem: str, eol: str, indent: str, trailing: str, width: int, blank: bool) -> str:
    """Re-wrap and decorate a PEM the ways pastes and editors do."""
    lines = pem.strip().split("\n")
    body = "".join(lines[1:-1])
    body_lines = [body[i : i + width] for i in range(0, len(body), width)]
    out = [lines[0], *body_lines, lines[-1]]
    text = eol.join(indent + line + trailing for line in out)
    return ("\n\n" if blank else "") + text + eol + (eol if blank else "")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.integers(0, 4),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["", " ", "    ", "\t"]),
    st.sampled_from(["", " ", "  \t"]),
    st.integers(8, 80),
    st.booleans(),
)
def test_pem_variants_round_trip_to_the_same_key(ed25519_pems, index, eol, indent, trailing, width, blank):
    pem = ed25519_pems[index]
    canonical = normalize_private_key_pem(mangle(pem, eol, indent, trailing, width, blank))
    assert isinstance(canonical, Secret)
    assert canonical.reveal() == pem
    assert len(canonical.reveal()) <= 120  # python-binance assumes RSA above 120 characters
    assert normalize_private_key_pem(canonical) == canonical  # idempotent


def test_pem_works_with_python_binance_signing(ed25519_pems):
    from binance.client import Client

    messy = mangle(ed25519_pems[0], "\r\n", "  ", " ", 40, True)
    from Crypto.PublicKey import ECC

    client = Client("k" * 64, private_key=normalize_private_key_pem(messy).reveal(), ping=False)
    assert isinstance(client.PRIVATE_KEY, ECC.EccKey)  # the Ed25519 path, not "RSA key format"
    assert client._generate_signature({"a": 1})


def test_pem_in_a_key_pair_file_picks_the_private_block(ed25519_pems):
    from wizard.keygen import public_pem_from_private

    pem = ed25519_pems[1]
    both = public_pem_from_private(Secret(pem)) + "\n" + pem
    assert normalize_private_key_pem(both).reveal() == pem


def test_pkcs8_v2_with_public_key_is_shortened_for_python_binance(ed25519_pems):
    from Crypto.PublicKey import ECC

    key = ECC.import_key(ed25519_pems[2])
    der = key.export_key(format="DER")
    raw_public = key.public_key().export_key(format="raw")
    body = bytes.fromhex("020101300506032b6570") + der[12:48] + bytes([0x81, 0x21, 0x00]) + raw_public
    v2 = base64.b64encode(bytes([0x30, len(body)]) + body).decode()
    pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(v2[i : i + 64] for i in range(0, len(v2), 64))
    pem += "\n-----END PRIVATE KEY-----\n"
    assert len(pem) > 120
    assert normalize_private_key_pem(pem).reveal() == ed25519_pems[2]


def test_pem_rejections_say_what_to_do(ed25519_pems):
    from Crypto.PublicKey import ECC, RSA

    key = ECC.import_key(ed25519_pems[0])
    encrypted = key.export_key(
        format="PEM", passphrase="pw", protection="PBKDF2WithHMAC-SHA512AndAES256-CBC",
        prot_params={"iteration_count": 1000},
    )
    rsa = RSA.generate(1024)
    cases = {
        encrypted: "encrypted with a passphrase",
        rsa.export_key(pkcs=8).decode(): "RSA private keys are not supported: too large for Windows Credential Manager",
        rsa.export_key().decode(): "RSA private keys are not supported",
        key.public_key().export_key(format="PEM"): "This is a public key",
        ECC.generate(curve="p256").export_key(format="PEM"): "Only Ed25519",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----": "OpenSSH",
        "-----BEGIN PRIVATE KEY-----\nnot base64 !!\n-----END PRIVATE KEY-----": "not valid base64",
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----": "could not be read",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PUBLIC KEY-----": "do not match",
        "hello": "not a PEM private key",
        "": "Paste the private key",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----": "not a private key",
    }
    for text, expected in cases.items():
        with pytest.raises(InputError, match=expected):
            normalize_private_key_pem(text)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_damaged_pem_is_rejected_without_echoing_it(ed25519_pems, data):
    pem = ed25519_pems[3]
    body = pem.split("\n")[1]
    pos = data.draw(st.integers(0, len(body) - 1))
    replacement = data.draw(st.sampled_from(list("!*~") + [""]))
    broken = pem.replace(body, body[:pos] + replacement + body[pos + 1 :])
    try:
        result = normalize_private_key_pem(broken)
    except InputError as exc:
        assert body[:12] not in str(exc) and body[-12:] not in str(exc)
        assert exc.__cause__ is None and exc.__context__ is None
    else:  # a base64 change can still decode to a valid (different) key: fine, never the old one
        assert result.reveal() != pem or replacement == body[pos]


@given(st.text(max_size=300))
def test_garbage_pem_only_ever_raises_input_error(text):
    try:
        normalize_private_key_pem(text)
    except InputError:
        pass


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
