"""A demo rotation: the simulator that made the old key is gone with its run.

``binance-key-wizard --demo rotate LABEL`` starts a fresh simulator; it must
still know the key being rotated, as the demo registry recorded it, so the
rotation can be rehearsed to the end (replaced, deleted in the simulated API
Management, proven dead). Only the public half of an Ed25519 key is given to
the simulator, as Binance would hold it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wizard.exchange.model import KeyMaterial
    from wizard.registry import KeyRecord


def adopt_old_key(sim: Any, key: KeyMaterial, record: KeyRecord) -> None:
    """Give a demo rotation's fresh simulator the key being rotated, as it was recorded,
    so the rotation can be rehearsed to the end: replaced, deleted, proven dead."""
    from wizard.exchange.model import RESTRICTION_FIELDS

    kwargs = {attr: bool(record.permissions.get(attr)) for attr in RESTRICTION_FIELDS.values()
              if not attr.startswith("fix_") and record.permissions.get(attr) is not None}
    public = None
    if key.key_type == "ed25519":
        from Crypto.PublicKey import ECC  # the simulator holds only the public half

        public = ECC.import_key(key.secret.reveal()).public_key().export_key(format="PEM")
    sim.adopt_key(label=record.label, api_key=key.api_key, key_type=key.key_type,
                  secret=key.secret.reveal() if key.key_type == "hmac" else None, public_key_pem=public,
                  ip_allowlist=["127.0.0.1"] if record.ip_restricted else [], **kwargs)
