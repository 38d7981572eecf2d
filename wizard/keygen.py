"""Ed25519 key pairs for Binance's "Self-generated" API keys.

Binance recommends Ed25519: the user registers the public key in API
Management and gets an API key back; the private key never leaves this
machine except into the OS keyring. pycryptodome (a python-binance
dependency) is imported lazily so the TUI starts fast.
"""

from __future__ import annotations

from wizard.parsing import InputError, normalize_private_key_pem
from wizard.secret import Secret


def generate_ed25519() -> tuple[Secret, str]:
    """Return a new key pair: the private key (unencrypted PKCS#8 PEM) and the public PEM.

    The private PEM is in the canonical 118-character form python-binance
    accepts as Ed25519; the public PEM (SubjectPublicKeyInfo,
    ``-----BEGIN PUBLIC KEY-----``) is what Binance's "Self-generated" form takes.
    """
    from Crypto.PublicKey import ECC

    key = ECC.generate(curve="ed25519")
    private = Secret(key.export_key(format="PEM"))
    return private, key.public_key().export_key(format="PEM")


def public_pem_from_private(private_key: Secret | str) -> str:
    """The public PEM for a private Ed25519 key (e.g. to re-register or to show again).

    Raises :class:`~wizard.parsing.InputError` (never echoing the key) when
    the text is not a usable Ed25519 private key.
    """
    from Crypto.PublicKey import ECC

    canonical = normalize_private_key_pem(private_key)
    try:
        key = ECC.import_key(canonical.reveal())
    except Exception:  # noqa: BLE001 - normalize already vetted it; keep the secret out of any context
        key = None
    if key is None:
        raise InputError("This Ed25519 private key could not be read; copy the whole key file again.")
    return key.public_key().export_key(format="PEM")
