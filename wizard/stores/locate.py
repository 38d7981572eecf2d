"""Where does a label live? The one place that turns a URI or a record into a store.

Callers never branch on a store's kind: they ask :func:`resolve` (or
:func:`open_store_for` with a record, :func:`open_store` with a URI) and use
the :class:`~wizard.stores.base.SecretStore` they get back.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard.stores.base import SecretStore
from wizard.stores.uri import StoreURI, parse_store_uri

if TYPE_CHECKING:
    from wizard.registry import KeyRecord, Registry
    from wizard.stored_key import StoredKey

# Facts a record synthesized from a stored document can't know (only the machine that added it does).
UNRECORDED_FACTS = ("purpose", "created_at", "last_verified_at", "permissions", "rotation_days", "profile")


def open_store(uri: str | StoreURI, *, keyring_backend: Any = None, timeout: float | None = None) -> SecretStore:
    """The store a URI names; StoreURIError (a ValueError) for a bad URI. Nothing is contacted yet."""
    where = uri if isinstance(uri, StoreURI) else parse_store_uri(uri)
    extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    if where.kind == "keyring":
        from wizard.stores.keyring_store import Vault

        return Vault(backend=keyring_backend, service=where.service, **extra)
    if where.kind == "systemd-creds":
        from wizard.stores.systemd_creds import SystemdCredsStore

        return SystemdCredsStore(where.directory, **extra)
    from wizard.stores.openbao import OpenBaoStore

    return OpenBaoStore(where, **extra)


def open_store_for(record: KeyRecord, **options: Any) -> SecretStore:
    """The store ``record``'s key lives in (old records without ``store``: the keyring service)."""
    return open_store(record.store_uri, **options)


def credentials_directory_has(label: str) -> bool:
    """True when systemd handed this process ``label`` (``LoadCredentialEncrypted=LABEL:...``)."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    return bool(directory) and " " not in label and "/" not in label and Path(directory, label).is_file()


def resolve(label: str, store_uri: str | None = None, *, registry: Registry | None = None,
            **options: Any) -> tuple[SecretStore, KeyRecord | None]:
    """The store holding ``label``, and this machine's record of it (None when it has none).

    In order: ``store_uri`` when given; ``$CREDENTIALS_DIRECTORY/LABEL`` when a
    systemd unit handed the key over; the store the registry recorded; the
    default OS keyring. A record is returned only when it describes the key in
    that same store. Raises StoreURIError for a bad ``store_uri``.
    """
    record = _record(label, registry)
    if store_uri is not None:
        store = open_store(store_uri, **options)
        return store, record if record is not None and _same(record.store_uri, store.uri) else None
    if credentials_directory_has(label):
        from wizard.stores.systemd_creds import SystemdCredsStore

        # Its load() reads $CREDENTIALS_DIRECTORY first; the recorded DIR, if any, names the file.
        directory = _systemd_dir(record) or os.environ["CREDENTIALS_DIRECTORY"]
        return SystemdCredsStore(directory), record
    if record is not None:
        return open_store_for(record, **options), record
    return open_store("keyring", **options), None


def record_from_stored(label: str, stored: StoredKey, store_uri: str) -> KeyRecord:
    """A record for a key found in a shared store that this machine's registry has never seen.

    Only what the document says is filled in (environment, key type,
    fingerprint, store); ``extra["unrecorded"]`` lists the facts that are
    unknown here (:data:`UNRECORDED_FACTS`). Never written to the registry.
    """
    from wizard.registry import KeyRecord, fingerprint

    return KeyRecord(label=label, purpose="unknown", env=stored.env, base_url=stored.base_url,
                     key_type=stored.key_type, fingerprint=fingerprint(stored.api_key), store=store_uri,
                     rotation_days=None, extra={"unrecorded": list(UNRECORDED_FACTS)})


def is_unrecorded(record: KeyRecord) -> bool:
    """True for a record made by :func:`record_from_stored`."""
    return bool(record.extra.get("unrecorded"))


def _record(label: str, registry: Registry | None) -> KeyRecord | None:
    from wizard.registry import Registry, RegistryError

    try:
        return (registry or Registry()).get(label)
    except RegistryError:
        return None  # the key can still be read; the registry's own commands report the damage


def _same(a: str, b: str) -> bool:
    try:
        return str(parse_store_uri(a)) == str(parse_store_uri(b))
    except ValueError:
        return False


def _systemd_dir(record: KeyRecord | None) -> str | None:
    if record is None:
        return None
    try:
        where = parse_store_uri(record.store_uri)
    except ValueError:
        return None
    return where.directory if where.kind == "systemd-creds" else None
