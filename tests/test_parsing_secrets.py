"""Parsers of secret input: the API key, the HMAC secret and the Ed25519 private key PEM.

Property tests for each, examples for every message that matters (split from test_parsing.py).
"""

from __future__ import annotations

import base64
import string

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.conftest import SENTINEL_SECRET
from wizard.parsing import InputError, clean_api_key, clean_hmac_secret, normalize_private_key_pem
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
