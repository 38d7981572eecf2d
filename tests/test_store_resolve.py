"""wizard.stores.resolve: where a label lives, asked in one place (no caller branches on a store's kind)."""

from __future__ import annotations

from wizard.registry import KeyRecord, Registry
from wizard.stores import is_unrecorded, open_store_for, record_from_stored, resolve
from wizard.stores.keyring_store import Vault
from wizard.stores.openbao import OpenBaoStore
from wizard.stores.systemd_creds import SystemdCredsStore
from tests.vault_helpers import hmac_key

LABEL = "tracker-vps1"


def test_old_records_without_a_store_mean_their_keyring_service():
    assert KeyRecord(label=LABEL).store_uri == "keyring"
    assert KeyRecord(label=LABEL, service="acme").store_uri == "keyring:acme"
    assert KeyRecord.from_dict({"label": LABEL, "service": "acme"}).store is None
    store = open_store_for(KeyRecord(label=LABEL, service="acme"))
    assert isinstance(store, Vault) and store.service == "acme"


def test_resolve_order_explicit_uri_then_systemd_handoff_then_record_then_keyring(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    registry = Registry(tmp_path / "keys.json")
    store, record = resolve(LABEL, registry=registry)
    assert isinstance(store, Vault) and store.uri == "keyring" and record is None

    registry.put(KeyRecord(label=LABEL, store=f"systemd-creds:{tmp_path}/creds"))
    store, record = resolve(LABEL, registry=registry)
    assert isinstance(store, SystemdCredsStore) and record is not None and record.label == LABEL

    store, record = resolve(LABEL, "vault+https://vault.example:8200/secret/bots", registry=registry)
    assert isinstance(store, OpenBaoStore) and record is None  # the record is about another store's key
    store, record = resolve(LABEL, f"systemd-creds:{tmp_path}/creds/", registry=registry)
    assert record is not None  # the same store, written differently

    handed = tmp_path / "run"
    handed.mkdir()
    (handed / "other-bot").write_text("{}")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(handed))
    registry.remove(LABEL)
    assert isinstance(resolve(LABEL, registry=registry)[0], Vault)  # nothing handed over for this label
    (handed / LABEL).write_text(hmac_key().to_json().reveal())
    store, _ = resolve(LABEL, registry=registry)
    assert isinstance(store, SystemdCredsStore) and store.load(LABEL).api_key == hmac_key().api_key


def test_a_record_from_a_stored_document_says_what_is_unknown():
    record = record_from_stored(LABEL, hmac_key(env="testnet"), "vault+https://v.example:8200/kv/bots")
    assert is_unrecorded(record) and record.env == "testnet" and record.fingerprint.count("…") == 1
    assert {"purpose", "created_at", "last_verified_at"} <= set(record.extra["unrecorded"])
    from wizard.review import review_row
    from wizard.registry import utcnow

    row = review_row(record, utcnow())
    assert (row.age, row.last_verified, row.rotation_due, row.permissions) == ("?", "not here", "?", "unknown")
