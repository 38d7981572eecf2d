"""A fleet of stored keys for the fleet-check tests and tests/bench.py (not a pytest module).

Keys are made on the simulator as a user makes them in API Management, their
documents written into the given keyring backend exactly as the vault writes
them, and their records put into the registry in one write, so a test can set
up hundreds of keys in well under a second without going through ``add``.
"""

from __future__ import annotations

from typing import Any

from wizard.registry import KeyRecord, Registry, fingerprint
from wizard.secret import Secret
from wizard.stored_key import StoredKey
from wizard.vault import SERVICE


def seed_fleet(sim: Any, backend: Any, registry: Registry, count: int, *, prefix: str = "bot",
               service: str = SERVICE, purpose: str = "read") -> list[str]:
    """``count`` healthy read-only keys labelled ``{prefix}-0000``...; returns the labels."""
    labels, records = [], []
    for i in range(count):
        label = f"{prefix}-{i:04d}"
        key = sim.create_key(label=label, reading=True, spot_trading=purpose == "spot")
        doc = StoredKey(key.api_key, "hmac", Secret(key.secret), env="sim", base_url=sim.base_url)
        backend.set_password(service, label, doc.to_json().reveal())
        records.append(KeyRecord(label=label, purpose=purpose, env="sim", base_url=sim.base_url,
                                 fingerprint=fingerprint(key.api_key), service=service))
        labels.append(label)
    registry.put_many(records)
    return labels


def api_key_of(sim: Any, label: str) -> str:
    """The simulator's API key for the key labelled ``label``."""
    return sim.keys[label].api_key
