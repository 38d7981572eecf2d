"""Vault (fast tier): the stored document, store/load, safe replacement, delete.

The StoredKey document format (round trip, validation, never quoting the
secret), storing and loading by label, replacing a key so that a failure at any
step loses nothing, deleting, the async variants, and the accessors the app
uses. Keyring health diagnosis and backend problems are in
tests/test_keyring_health.py; shared helpers are in tests/vault_helpers.py.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from keyring.errors import PasswordDeleteError, PasswordSetError

from tests.conftest import SENTINEL_SECRET
from tests.leaks import assert_no_leak
from tests.vault_helpers import API_KEY, SlowKeyring, hmac_key
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

NEW_API_KEY = "NEWkeyZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duX9"
NEW_SECRET = "NEWSECRETx" + "k3Pq" * 13 + "Yy"


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
    assert_no_leak(str(info.value))
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_stored_key_never_shows_the_secret_or_the_whole_api_key():
    key = hmac_key()
    for text in (repr(key), str(key), f"{key}", "%s" % (key,), repr([key])):
        assert API_KEY not in text
        assert_no_leak(text)
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
    assert_no_leak(str(info.value) + info.value.problem.fix)


def test_library_errors_quoting_the_password_are_scrubbed(memory_keyring):
    with pytest.raises(VaultError) as info:
        Vault(FlakyKeyring(memory_keyring, fail_writes={1})).store("bot", hmac_key())
    err = info.value
    assert err.problem.kind is KeyringProblemKind.UNAVAILABLE
    assert "PasswordSetError" in str(err)
    assert_no_leak(str(err))
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)


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
    assert_no_leak(str(info.value))
    assert_no_leak(str(info.value), secret=NEW_SECRET)
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


# -- accessors ---------------------------------------------------------------


def test_public_accessors_for_the_app(memory_keyring):
    vault = Vault(memory_keyring, timeout=3)
    assert vault.backend is memory_keyring
    demo = vault.with_service("binance-key-wizard-demo")
    assert (demo.backend, demo.service, demo.timeout) == (memory_keyring, "binance-key-wizard-demo", 3)
    assert vault.backend_name == "tests.keyrings.MemoryKeyring"
    assert Vault().backend is None and Vault().backend_name == "the default keyring"
