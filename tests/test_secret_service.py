"""The real tier: Vault and load_credentials against a real Secret Service.

Run with `bash tests/run.sh tests/test_secret_service.py` (gnome-keyring in a
private D-Bus session). Outside it these tests skip; in CI they fail instead.
Every test uses its own service name and deletes every item it made.
"""

from __future__ import annotations

import uuid
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import SENTINEL_SECRET
from tests.leaks import assert_no_leak
from tests.test_vault import FlakyKeyring
from wizard.secret import Secret
from wizard.vault import PENDING_SUFFIX, PROBE_USERNAME, KeyringProblemKind, StoredKey, Vault, VaultError

pytestmark = pytest.mark.secret_service

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
NEW_API_KEY = "NEWkeyZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duX9"
NEW_SECRET = "NEWSECRETx" + "k3Pq" * 13 + "Yy"


def _items(service: str) -> list:
    import secretstorage

    connection = secretstorage.dbus_init()
    with closing(connection):
        collection = secretstorage.get_default_collection(connection)
        return [(item.get_attributes().get("username"), item.item_path)
                for item in collection.search_items({"service": service})]


def _purge(service: str) -> None:
    import secretstorage

    connection = secretstorage.dbus_init()
    with closing(connection):
        collection = secretstorage.get_default_collection(connection)
        for item in collection.search_items({"service": service}):
            item.delete()


@pytest.fixture
def service(secret_service_keyring):
    name = f"binance-key-wizard-test-{uuid.uuid4().hex[:10]}"
    yield name
    _purge(name)


def usernames(service: str) -> set[str]:
    return {username for username, _ in _items(service)}


def test_the_real_keyring_is_healthy_and_the_probe_leaves_nothing(secret_service_keyring, service):
    assert Vault(secret_service_keyring, service=service).check_health() is None
    assert not any(name.startswith(PROBE_USERNAME) for name in usernames(service))


def test_store_load_replace_delete_round_trip(secret_service_keyring, service):
    vault = Vault(secret_service_keyring, service=service)
    vault.store("tracker", StoredKey(API_KEY, "hmac", Secret(SENTINEL_SECRET), env="testnet"))
    assert usernames(service) == {"tracker"}
    loaded = Vault(secret_service_keyring, service=service).load("tracker")
    assert loaded.secret == Secret(SENTINEL_SECRET) and loaded.env == "testnet"

    old = vault.replace("tracker", StoredKey(NEW_API_KEY, "hmac", Secret(NEW_SECRET)))
    assert old.secret == Secret(SENTINEL_SECRET)
    assert vault.load("tracker").secret == Secret(NEW_SECRET)
    assert usernames(service) == {"tracker"}  # the side copy is gone

    assert vault.delete("tracker") is True
    assert usernames(service) == set()
    with pytest.raises(VaultError) as info:
        vault.load("tracker")
    assert info.value.problem.kind is KeyringProblemKind.NOT_FOUND


def test_ed25519_pem_survives_the_real_keyring(secret_service_keyring, service):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    vault = Vault(secret_service_keyring, service=service)
    vault.store("signer", StoredKey(API_KEY, "ed25519", Secret(pem)))
    assert vault.load("signer").secret == Secret(pem)


@pytest.mark.parametrize(
    "misbehaviour",
    [{"fail_writes": {1}}, {"fail_writes": {2}, "clobber": True}, {"corrupt_writes": {2}}],
    ids=["side-fails", "final-clobbers", "final-corrupt"],
)
def test_a_failed_replace_keeps_the_old_key_in_the_real_keyring(secret_service_keyring, service, misbehaviour):
    Vault(secret_service_keyring, service=service).store("tracker", StoredKey(API_KEY, "hmac", Secret(SENTINEL_SECRET)))
    flaky = FlakyKeyring(secret_service_keyring, **misbehaviour)
    with pytest.raises(VaultError):
        Vault(flaky, service=service).replace("tracker", StoredKey(NEW_API_KEY, "hmac", Secret(NEW_SECRET)))
    assert Vault(secret_service_keyring, service=service).load("tracker").secret == Secret(SENTINEL_SECRET)
    assert "tracker" + PENDING_SUFFIX not in usernames(service)


def test_writes_that_vanish_are_caught_by_the_read_back(secret_service_keyring, service):
    dropping = FlakyKeyring(secret_service_keyring, drop_writes={1, 2, 3})
    with pytest.raises(VaultError) as info:
        Vault(dropping, service=service).store("tracker", StoredKey(API_KEY, "hmac", Secret(SENTINEL_SECRET)))
    assert info.value.problem.kind is KeyringProblemKind.READBACK_MISMATCH
    assert usernames(service) == set()


async def test_async_variants_against_the_real_keyring(secret_service_keyring, service):
    vault = Vault(secret_service_keyring, service=service)
    assert await vault.acheck_health() is None
    await vault.astore("tracker", StoredKey(API_KEY, "hmac", Secret(SENTINEL_SECRET)))
    assert (await vault.aload("tracker")).secret == Secret(SENTINEL_SECRET)
    assert await vault.adelete("tracker") is True


def test_default_vault_finds_the_secret_service(secret_service_keyring, service, isolated_home, monkeypatch):
    """Vault() asks keyring for its backend; with the chainer in front it still lands in Secret Service."""
    import keyring.core
    from keyring.backends import SecretService

    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # detect afresh, as a new process would
    vault = Vault(service=service)
    vault.store("tracker", StoredKey(API_KEY, "hmac", Secret(SENTINEL_SECRET)))
    assert isinstance(vault._backend(), SecretService.Keyring)
    assert usernames(service) == {"tracker"}


def test_load_credentials_from_the_real_keyring_leaks_nothing(secret_service_keyring, service, isolated_home):
    from wizard import load_credentials
    from wizard.registry import KeyRecord, Registry, fingerprint

    Vault(secret_service_keyring, service=service).store(
        "tracker", StoredKey(API_KEY, "hmac", Secret(SENTINEL_SECRET), env="testnet"))
    Registry().put(KeyRecord("tracker", env="testnet", fingerprint=fingerprint(API_KEY), service=service))
    creds = load_credentials("tracker", service, backend=secret_service_keyring)
    assert creds.secret == Secret(SENTINEL_SECRET)
    assert_no_leak(repr(creds) + str(creds) + f"{creds}")
    client = creds.client()
    assert client.MARGIN_API_URL == "https://testnet.binance.vision/sapi"
    for path in Path(isolated_home).rglob("*"):
        if path.is_file():
            assert_no_leak(path.read_bytes(), where=str(path))


@pytest.fixture
def locked_collection(secret_service_keyring):
    """A throwaway gnome-keyring collection, locked (made and unlocked again without a prompt)."""
    import secretstorage
    from secretstorage.collection import Collection
    from secretstorage.util import DBusAddressWrapper, format_secret, open_session

    connection = secretstorage.dbus_init()
    session = open_session(connection)
    internal = DBusAddressWrapper(
        "/org/freedesktop/secrets", "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface", connection)
    password = format_secret(session, b"throwaway", "text/plain")
    props = {"org.freedesktop.Secret.Collection.Label": ("s", f"wizard-locked-{uuid.uuid4().hex[:8]}")}
    try:
        (path,) = internal.call("CreateWithMasterPassword", "a{sv}(oayays)", props, password)
    except Exception as exc:  # noqa: BLE001 - another Secret Service implementation
        pytest.skip(f"not gnome-keyring ({type(exc).__name__})")
    collection = Collection(connection, path, session)
    collection.lock()
    assert collection.is_locked()
    try:
        yield collection
    finally:
        internal.call("UnlockWithMasterPassword", "o(oayays)", path, password)
        collection.delete()
        connection.close()


def test_a_locked_keyring_is_reported_and_gets_nothing(locked_collection):
    from keyring.backends import SecretService

    backend = SecretService.Keyring()
    backend.preferred_collection = locked_collection.collection_path
    vault = Vault(backend, service="binance-key-wizard-locked-test", timeout=3)
    # Headless, gnome-keyring's unlock prompt fails at once (LOCKED); on a desktop it waits (TIMEOUT).
    expected = {KeyringProblemKind.LOCKED, KeyringProblemKind.TIMEOUT}
    assert vault.check_health().kind in expected
    with pytest.raises(VaultError) as info:
        vault.store("tracker", StoredKey(API_KEY, "hmac", Secret(SENTINEL_SECRET)))
    assert info.value.problem.kind in expected and "unlock" in info.value.problem.fix.lower()
    assert info.value.exit_code == 3
    assert locked_collection.is_locked()
