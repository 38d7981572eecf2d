"""Ed25519 key generation for Binance's "Self-generated" keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.keygen import generate_ed25519, public_pem_from_private
from wizard.parsing import InputError, normalize_private_key_pem
from wizard.secret import Secret


def test_generated_pair_is_ed25519_pkcs8_and_matches():
    from Crypto.PublicKey import ECC
    from Crypto.Signature import eddsa

    private, public = generate_ed25519()
    assert isinstance(private, Secret)
    pem = private.reveal()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n") and pem.endswith("-----END PRIVATE KEY-----")
    assert len(pem) <= 120  # python-binance treats longer PEM text as RSA
    assert public.startswith("-----BEGIN PUBLIC KEY-----\n") and public.strip().endswith("-----END PUBLIC KEY-----")
    assert "PRIVATE" not in public
    # The public key verifies what the private key signs: the pair Binance will check.
    signature = eddsa.new(ECC.import_key(pem), "rfc8032").sign(b"symbol=BTCUSDT&timestamp=1")
    eddsa.new(ECC.import_key(public), "rfc8032").verify(b"symbol=BTCUSDT&timestamp=1", signature)
    assert ECC.import_key(public).curve == "Ed25519"


def test_generated_private_key_is_already_canonical():
    private, public = generate_ed25519()
    assert normalize_private_key_pem(private) == private
    assert public_pem_from_private(private) == public


def test_pairs_are_unique_and_secret_stays_hidden():
    first, _ = generate_ed25519()
    second, _ = generate_ed25519()
    assert first != second
    assert first.reveal() not in repr(first) and "PRIVATE" not in f"{first}"


@settings(max_examples=10)
@given(st.sampled_from(["\r\n", "\n"]), st.sampled_from(["", "  "]))
def test_public_from_messy_private_paste(eol, indent):
    private, public = generate_ed25519()
    messy = eol.join(indent + line + " " for line in private.reveal().split("\n")) + eol
    assert public_pem_from_private(messy) == public


def test_public_from_bad_input_raises_input_error_without_echo():
    private, public = generate_ed25519()
    with pytest.raises(InputError, match="public key") as info:
        public_pem_from_private(public)
    assert public.split("\n")[1] not in str(info.value)
    with pytest.raises(InputError):
        public_pem_from_private(Secret("nonsense"))
