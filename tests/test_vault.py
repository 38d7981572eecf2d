"""Vault (fast tier): health checks, verified stores, safe replacement, timeouts.

Backends here are real `keyring` backends (tests.keyrings.MemoryKeyring, keyring's
own fail/null backends) or small duck-typed stand-ins named like the backends
they act out (keyrings.alt's file keyrings, Windows, the chainer): the vault
judges a backend by its class and module, so no package needs installing.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from keyring.backends import fail, null
from keyring.errors import KeyringLocked, PasswordDeleteError, PasswordSetError

from tests.conftest import SENTINEL_SECRET
from tests.keyrings import MemoryKeyring
from wizard.exchange.model import Environment, KeyMaterial
from wizard.secret import Secret
from wizard.vault import (
    PENDING_SUFFIX,
    PROBE_USERNAME,
    SERVICE,
    KeyringProblemKind,
    StoredKey,
    Vault,
    VaultError,
)

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
NEW_API_KEY = "NEWkeyZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duX9"
NEW_SECRET = "NEWSECRETx" + "k3Pq" * 13 + "Yy"


def hmac_key(api_key: str = API_KEY, secret: str = SENTINEL_SECRET, **kw) -> StoredKey:
    return StoredKey(api_key, "hmac", Secret(secret), **kw)


class FlakyKeyring:
    """Wraps a backend and misbehaves on chosen writes (1-based count of set_password calls).

    fail_writes: raise (quoting the password, as a careless library might);
    clobber: on a failing write, first overwrite the entry with garbage;
    corrupt_writes: silently store something else; drop_writes: silently store nothing;
    slow_writes: {n: seconds} sleep first; fail_deletes: refuse deletes.
    """

    priority = 1

    def __init__(self, inner, *, fail_writes=(), clobber=False, corrupt_writes=(), drop_writes=(),
                 slow_writes=None, fail_deletes=False):
        self.inner = inner
        self.fail_writes, self.clobber = set(fail_writes), clobber
        self.corrupt_writes, self.drop_writes = set(corrupt_writes), set(drop_writes)
        self.slow_writes = dict(slow_writes or {})
        self.fail_deletes = fail_deletes
        self.writes = 0

    def get_password(self, service, username):
        return self.inner.get_password(service, username)

    def set_password(self, service, username, password):
        self.writes += 1
        n = self.writes
        time.sleep(self.slow_writes.get(n, 0))
        if n in self.fail_writes:
            if self.clobber:
                self.inner.set_password(service, username, "garbage")
            raise PasswordSetError(f"simulated failure storing {password!r}")
        if n in self.drop_writes:
            return
        if n in self.corrupt_writes:
            password = password[:-2] + "}}"
        self.inner.set_password(service, username, password)

    def delete_password(self, service, username):
        if self.fail_deletes:
            raise PasswordDeleteError("simulated delete failure")
        self.inner.delete_password(service, username)


class RecordingKeyring:
    """Stores like MemoryKeyring and records every password it was given."""

    priority = 1

    def __init__(self):
        self.entries: dict = {}
        self.given: list[str] = []

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.given.append(password)
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        self.entries.pop((service, username))


class PlaintextKeyring(RecordingKeyring):
    __module__ = "keyrings.alt.file"
    priority = 0.5


class EncryptedKeyring(RecordingKeyring):
    __module__ = "keyrings.alt.file"
    priority = 0.6


class WinVaultKeyring(RecordingKeyring):
    __module__ = "keyring.backends.Windows"
    priority = 5


class LowPriorityKeyring(RecordingKeyring):
    priority = 0.5


class UnreachableKeyring(RecordingKeyring):
    @property
    def priority(self):
        raise RuntimeError("The Secret Service daemon is neither running nor activatable through D-Bus")


class LockedKeyring(RecordingKeyring):
    def get_password(self, service, username, password=None):
        raise KeyringLocked("Failed to unlock the collection!")

    set_password = delete_password = get_password


class SlowKeyring(RecordingKeyring):
    delay = 1.0

    def get_password(self, service, username):
        time.sleep(self.delay)
        return super().get_password(service, username)


class ChainerBackend:
    """Stands in for keyring.backends.chainer.ChainerBackend (recognised by class name)."""

    __module__ = "keyring.backends.chainer"
    priority = 10

    def __init__(self, backends):
        self.backends = backends


# -- StoredKey ---------------------------------------------------------------


def test_document_round_trip_and_fields():
    key = hmac_key(env="sim", base_url="http://127.0.0.1:8123")
    doc = key.to_json()
    assert isinstance(doc, Secret)
    data = json.loads(doc.reveal())
    assert data == {
        "version": 1, "api_key": API_KEY, "key_type": "hmac", "secret": SENTINEL_SECRET,
        "env": "sim", "base_url": "http://127.0.0.1:8123",
    }
    back = StoredKey.from_json(doc)
    assert (back.api_key, back.key_type, back.secret, back.env, back.base_url) == (
        key.api_key, key.key_type, key.secret, key.env, key.base_url)
    assert back.environment() == Environment.custom("http://127.0.0.1:8123", simulated=True)


def test_ed25519_document_holds_the_private_key_pem():
    pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBx4jaSlZsKJLt9mNvLMMmfU0ojJmqQbSaQTFemQi+5B\n-----END PRIVATE KEY-----\n"
    key = StoredKey(API_KEY, "ed25519", Secret(pem), env="testnet")
    data = json.loads(key.to_json().reveal())
    assert data["private_key_pem"] == pem and "secret" not in data
    assert StoredKey.from_json(key.to_json()).secret == Secret(pem)
    assert key.environment() == Environment.testnet()
    assert key.key_material() == KeyMaterial(API_KEY, "ed25519", key.secret)


@pytest.mark.parametrize(
    "document",
    [
        f"not json {SENTINEL_SECRET}",
        json.dumps([SENTINEL_SECRET]),
        json.dumps({"api_key": API_KEY, "key_type": "hmac"}),
        json.dumps({"version": 99, "api_key": API_KEY, "key_type": "hmac", "secret": SENTINEL_SECRET}),
        json.dumps({"api_key": API_KEY, "key_type": "rsa", "secret": SENTINEL_SECRET}),
        json.dumps({"api_key": API_KEY, "key_type": "hmac", "secret": SENTINEL_SECRET, "env": "custom"}),
    ],
)
def test_foreign_documents_are_rejected_without_quoting_them(document):
    with pytest.raises(ValueError) as info:
        StoredKey.from_json(Secret(document))
    assert SENTINEL_SECRET not in str(info.value)
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_stored_key_never_shows_the_secret_or_the_whole_api_key():
    key = hmac_key()
    for text in (repr(key), str(key), f"{key}", "%s" % (key,), repr([key])):
        assert SENTINEL_SECRET not in text and API_KEY not in text
    assert "vmPU…Eh8A" in repr(key)


def test_stored_key_validates_its_fields():
    with pytest.raises(TypeError):
        StoredKey(API_KEY, "hmac", SENTINEL_SECRET)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        hmac_key(env="custom")  # a custom environment needs its base URL
    with pytest.raises(ValueError):
        StoredKey(" ", "hmac", Secret(SENTINEL_SECRET))
    env = Environment.custom("http://127.0.0.1:9", simulated=True)
    assert StoredKey.from_material(KeyMaterial(API_KEY, "hmac", Secret("x")), env).environment() == env


# -- health ------------------------------------------------------------------


def test_memory_keyring_is_healthy_and_the_probe_is_removed(memory_keyring):
    assert Vault(memory_keyring).check_health() is None
    assert memory_keyring.entries == {}


@pytest.mark.parametrize(
    ("backend", "kind"),
    [
        (fail.Keyring(), KeyringProblemKind.NO_BACKEND),
        (null.Keyring(), KeyringProblemKind.NULL_BACKEND),
        (PlaintextKeyring(), KeyringProblemKind.PLAINTEXT_BACKEND),
        (EncryptedKeyring(), KeyringProblemKind.PLAINTEXT_BACKEND),
        (LowPriorityKeyring(), KeyringProblemKind.UNAVAILABLE),
        (UnreachableKeyring(), KeyringProblemKind.UNAVAILABLE),
        (LockedKeyring(), KeyringProblemKind.LOCKED),
        (ChainerBackend([]), KeyringProblemKind.NO_BACKEND),
        (ChainerBackend([PlaintextKeyring(), null.Keyring()]), KeyringProblemKind.PLAINTEXT_BACKEND),
    ],
    ids=lambda v: v.name if isinstance(v, KeyringProblemKind) else type(v).__name__,
)
def test_unusable_backends_are_named_with_a_fix(backend, kind):
    problem = Vault(backend).check_health()
    assert problem is not None and problem.kind is kind
    assert problem.message and problem.fix and problem.exit_code == 3
    with pytest.raises(VaultError) as info:
        Vault(backend).store("bot", hmac_key())
    assert info.value.problem.kind is kind and info.value.exit_code == 3
    assert getattr(backend, "given", []) == []  # refused before a single write


def test_locked_fix_says_how_to_unlock():
    problem = Vault(LockedKeyring()).check_health()
    assert "unlock" in problem.fix.lower()


def test_a_null_store_is_caught_by_the_read_back(memory_keyring):
    memory_keyring.drop_writes = True  # priority 1: passes the static check, stores nothing
    assert Vault(memory_keyring).check_health().kind is KeyringProblemKind.READBACK_MISMATCH
    with pytest.raises(VaultError) as info:
        Vault(memory_keyring).store("bot", hmac_key())
    assert info.value.problem.kind is KeyringProblemKind.READBACK_MISMATCH
    assert memory_keyring.entries == {}


def test_a_chain_with_an_os_keyring_uses_it_and_never_the_file():
    plaintext, memory = PlaintextKeyring(), MemoryKeyring()
    vault = Vault(ChainerBackend([plaintext, memory]))
    assert vault.check_health() is None
    vault.store("bot", hmac_key())
    assert plaintext.given == [] and vault.load("bot").secret == Secret(SENTINEL_SECRET)


def test_timeout_is_reported_quickly_with_an_unlock_hint():
    started = time.monotonic()
    problem = Vault(SlowKeyring(), timeout=0.2).check_health()
    assert time.monotonic() - started < 0.9
    assert problem.kind is KeyringProblemKind.TIMEOUT
    assert "0.2 seconds" in problem.message and "prompt" in problem.fix


def test_default_vault_uses_keyring_get_keyring(monkeypatch, memory_keyring):
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", memory_keyring)
    Vault().store("bot", hmac_key())
    assert (SERVICE, "bot") in memory_keyring.entries


# -- store / load ------------------------------------------------------------


def test_store_and_load_round_trip(memory_keyring):
    vault = Vault(memory_keyring)
    vault.store("bot", hmac_key())
    loaded = vault.load("bot")
    assert loaded.secret == Secret(SENTINEL_SECRET) and loaded.api_key == API_KEY
    assert list(memory_keyring.entries) == [(SERVICE, "bot")]


def test_services_are_separate(memory_keyring):
    Vault(memory_keyring, service="binance-key-wizard-demo").store("bot", hmac_key())
    with pytest.raises(VaultError):
        Vault(memory_keyring).load("bot")


def test_unknown_label_says_what_to_run(memory_keyring):
    with pytest.raises(VaultError) as info:
        Vault(memory_keyring).load("no-such-bot")
    problem = info.value.problem
    assert problem.kind is KeyringProblemKind.NOT_FOUND
    assert "no-such-bot" in problem.message and "binance-key-wizard" in problem.fix


def test_a_foreign_entry_is_invalid_and_not_quoted(memory_keyring):
    memory_keyring.set_password(SERVICE, "bot", SENTINEL_SECRET)
    with pytest.raises(VaultError) as info:
        Vault(memory_keyring).load("bot")
    assert info.value.problem.kind is KeyringProblemKind.INVALID_ENTRY
    assert SENTINEL_SECRET not in str(info.value) + info.value.problem.fix


def test_library_errors_quoting_the_password_are_scrubbed(memory_keyring):
    with pytest.raises(VaultError) as info:
        Vault(FlakyKeyring(memory_keyring, fail_writes={1})).store("bot", hmac_key())
    err = info.value
    assert err.problem.kind is KeyringProblemKind.UNAVAILABLE
    assert "PasswordSetError" in str(err) and SENTINEL_SECRET not in str(err)
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)


def test_windows_credential_manager_size_limit():
    windows = WinVaultKeyring()
    huge = hmac_key(env="custom", base_url="https://example.test/" + "p" * 1300)
    with pytest.raises(VaultError) as info:
        Vault(windows).store("bot", huge)
    assert info.value.problem.kind is KeyringProblemKind.TOO_LARGE
    assert "1280" in info.value.problem.fix and windows.given == []
    Vault(windows).store("bot", hmac_key())  # a normal document fits
    Vault(MemoryKeyring()).store("bot", huge)  # other keyrings have no such limit


# -- replace -----------------------------------------------------------------


def _seed(backend) -> Vault:
    Vault(backend).store("bot", hmac_key())
    return Vault(FlakyKeyring(backend))


def test_replace_verifies_the_new_key_and_returns_the_old(memory_keyring):
    vault = _seed(memory_keyring)
    old = vault.replace("bot", hmac_key(NEW_API_KEY, NEW_SECRET))
    assert old.secret == Secret(SENTINEL_SECRET)
    assert vault.load("bot").secret == Secret(NEW_SECRET)
    assert list(memory_keyring.entries) == [(SERVICE, "bot")]  # no side entry left


def test_replace_without_a_previous_key_just_stores(memory_keyring):
    assert Vault(memory_keyring).replace("bot", hmac_key()) is None
    assert Vault(memory_keyring).load("bot").api_key == API_KEY


@pytest.mark.parametrize(
    ("misbehaviour", "survivor"),
    [
        ({"fail_writes": {1}}, SENTINEL_SECRET),  # the side copy can't be written
        ({"drop_writes": {1}}, SENTINEL_SECRET),  # the side copy is silently dropped
        ({"corrupt_writes": {1}}, SENTINEL_SECRET),  # the side copy reads back wrong
        ({"fail_writes": {2}}, SENTINEL_SECRET),  # the final write fails cleanly
        ({"fail_writes": {2}, "clobber": True}, SENTINEL_SECRET),  # ...after trashing the entry
        ({"corrupt_writes": {2}}, SENTINEL_SECRET),  # the final write reads back wrong
        ({"fail_writes": {2, 3}, "clobber": True}, NEW_SECRET),  # ...and the restore fails too
    ],
    ids=["side-fails", "side-dropped", "side-corrupt", "final-fails", "final-clobbers",
         "final-corrupt", "restore-fails"],
)
def test_replace_failing_at_any_step_loses_nothing(memory_keyring, misbehaviour, survivor):
    Vault(memory_keyring).store("bot", hmac_key())
    flaky = FlakyKeyring(memory_keyring, **misbehaviour)
    with pytest.raises(VaultError) as info:
        Vault(flaky).replace("bot", hmac_key(NEW_API_KEY, NEW_SECRET))
    assert SENTINEL_SECRET not in str(info.value) and NEW_SECRET not in str(info.value)
    # Whatever happened, the label still yields a complete, verified key.
    assert Vault(memory_keyring).load("bot").secret == Secret(survivor)
    if survivor == SENTINEL_SECRET:
        assert "previous key is still stored" in str(info.value) or flaky.writes <= 1
        assert (SERVICE, "bot" + PENDING_SUFFIX) not in memory_keyring.entries
    else:
        assert "check" in str(info.value)


def test_a_stuck_side_entry_is_harmless_and_cleaned_up_later(memory_keyring):
    Vault(memory_keyring).store("bot", hmac_key())
    Vault(FlakyKeyring(memory_keyring, fail_deletes=True)).replace("bot", hmac_key(NEW_API_KEY, NEW_SECRET))
    assert Vault(memory_keyring).load("bot").secret == Secret(NEW_SECRET)
    assert (SERVICE, "bot" + PENDING_SUFFIX) in memory_keyring.entries
    Vault(memory_keyring).replace("bot", hmac_key())
    assert list(memory_keyring.entries) == [(SERVICE, "bot")]


def test_an_abandoned_replace_stops_before_touching_the_old_key(memory_keyring):
    Vault(memory_keyring).store("bot", hmac_key())
    vault = Vault(FlakyKeyring(memory_keyring, slow_writes={1: 0.4}), timeout=0.15)
    with pytest.raises(VaultError) as info:
        vault.replace("bot", hmac_key(NEW_API_KEY, NEW_SECRET))
    assert info.value.problem.kind is KeyringProblemKind.TIMEOUT
    time.sleep(0.5)  # let the worker thread reach its next checkpoint
    assert Vault(memory_keyring).load("bot").secret == Secret(SENTINEL_SECRET)
    assert list(memory_keyring.entries) == [(SERVICE, "bot")]


def test_delete_removes_the_entry_and_any_side_copy(memory_keyring):
    vault = Vault(memory_keyring)
    vault.store("bot", hmac_key())
    memory_keyring.set_password(SERVICE, "bot" + PENDING_SUFFIX, "left over")
    assert vault.delete("bot") is True
    assert memory_keyring.entries == {}
    assert vault.delete("bot") is False


def test_probe_and_side_names_cannot_be_labels():
    for name in (PROBE_USERNAME, "bot" + PENDING_SUFFIX):
        assert any(ord(c) < 32 for c in name)


# -- async ---------------------------------------------------------------------


async def test_async_variants_round_trip(memory_keyring):
    vault = Vault(memory_keyring)
    assert await vault.acheck_health() is None
    await vault.astore("bot", hmac_key())
    assert (await vault.aload("bot")).secret == Secret(SENTINEL_SECRET)
    old = await vault.areplace("bot", hmac_key(NEW_API_KEY, NEW_SECRET))
    assert old.api_key == API_KEY
    assert await vault.adelete("bot") is True
    with pytest.raises(VaultError):
        await vault.aload("bot")


async def test_async_timeout_never_blocks_the_event_loop():
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    with pytest.raises(VaultError) as info:
        await Vault(SlowKeyring(), timeout=0.2).aload("bot")
    task.cancel()
    assert info.value.problem.kind is KeyringProblemKind.TIMEOUT
    assert time.monotonic() - started < 0.9
    assert ticks >= 5  # the loop kept running while the keyring hung


# -- OS-specific fixes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "headless", "needles"),
    [
        ("darwin", False, ["macOS Keychain"]),
        ("win32", False, ["Windows Credential Manager"]),
        ("linux", False, ["GNOME Keyring", "KWallet"]),
        ("linux", True, ["sudo apt-get install -y gnome-keyring dbus", "dbus-run-session -- bash",
                         "gnome-keyring-daemon --unlock --components=secrets"]),
    ],
)
def test_no_backend_fix_names_this_os_keyring(system, headless, needles):
    from wizard.keyring_health import fix_for

    text = fix_for(KeyringProblemKind.NO_BACKEND, system=system, headless=headless)
    for needle in needles:
        assert needle in text


@pytest.mark.parametrize(
    ("system", "headless", "needle"),
    [
        ("darwin", False, "security unlock-keychain"),
        ("win32", False, "Sign in to Windows"),
        ("linux", False, "seahorse"),
        ("linux", True, "gnome-keyring-daemon --replace --unlock"),
    ],
)
def test_locked_fix_is_os_specific(system, headless, needle):
    from wizard.keyring_health import fix_for

    assert needle in fix_for(KeyringProblemKind.LOCKED, system=system, headless=headless)
    assert needle in fix_for(KeyringProblemKind.TIMEOUT, system=system, headless=headless)


def test_misconfiguration_fixes_point_at_the_config():
    from wizard.keyring_health import fix_for

    for kind in (KeyringProblemKind.NULL_BACKEND, KeyringProblemKind.PLAINTEXT_BACKEND,
                 KeyringProblemKind.READBACK_MISMATCH):
        assert "PYTHON_KEYRING_BACKEND" in fix_for(kind, system="darwin")
    assert "pip uninstall keyrings.alt" in fix_for(KeyringProblemKind.PLAINTEXT_BACKEND, system="win32")


def test_public_accessors_for_the_app(memory_keyring):
    vault = Vault(memory_keyring, timeout=3)
    assert vault.backend is memory_keyring
    demo = vault.with_service("binance-key-wizard-demo")
    assert (demo.backend, demo.service, demo.timeout) == (memory_keyring, "binance-key-wizard-demo", 3)
    assert vault.backend_name == "tests.keyrings.MemoryKeyring"
    assert Vault().backend is None and Vault().backend_name == "the default keyring"
