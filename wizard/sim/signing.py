"""Signature checks exactly as Binance does them.

Binance signs ``totalParams``: the query string concatenated with the request
body (no ``&`` between them), as sent on the wire, minus the ``signature``
parameter itself. HMAC-SHA256 signatures are hex (case-insensitive); Ed25519
signatures are base64, URL-encoded in the request. Verifying the raw bytes
rather than re-encoding parsed parameters is the point: a client that signs
one string and sends another must fail here as it would on Binance.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from urllib.parse import parse_qsl, unquote

from wizard.sim.keys import SimKey


def split_signature(raw: str) -> tuple[str, str | None]:
    """Remove ``signature=...`` from a raw query string or body.

    Returns (the string without it, the still-encoded signature or None).
    """
    kept: list[str] = []
    signature: str | None = None
    for part in raw.split("&") if raw else []:
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        else:
            kept.append(part)
    return "&".join(kept), signature


def total_params(query: str, body: str) -> tuple[str, str | None]:
    """(the signed payload, the encoded signature) for one request."""
    query_payload, query_sig = split_signature(query)
    body_payload, body_sig = split_signature(body)
    # A signature in the query string wins, like any parameter sent twice.
    return query_payload + body_payload, query_sig if query_sig is not None else body_sig


def merged_params(query: str, body: str) -> dict[str, str]:
    """Decoded parameters; the query string wins over the body (Binance's rule)."""
    params = dict(parse_qsl(body, keep_blank_values=True))
    params.update(parse_qsl(query, keep_blank_values=True))
    return params


def verify(key: SimKey, payload: str, encoded_signature: str) -> bool:
    """True when ``encoded_signature`` signs ``payload`` for ``key``."""
    signature = unquote(encoded_signature)
    if key.key_type == "hmac":
        assert key.secret is not None
        expected = hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature.lower())
    return _verify_ed25519(key, payload, signature)


def _verify_ed25519(key: SimKey, payload: str, signature: str) -> bool:
    from Crypto.PublicKey import ECC
    from Crypto.Signature import eddsa

    if key.public_key_pem is None:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    verifier = eddsa.new(ECC.import_key(key.public_key_pem), "rfc8032")
    try:
        verifier.verify(payload.encode(), raw)
    except ValueError:
        return False
    return True
