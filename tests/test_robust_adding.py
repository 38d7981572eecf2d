"""Nothing lost under concurrency and interrupts (issue 12), fast tier: the label lock, the pending
record an interrupted add leaves, what `check`/`review`/`forget`/`load_credentials` make of it,
Ctrl+C (exit 130, rolled back) and concurrent health probes. The same cases across real processes
and the real Secret Service are in tests/test_robust_secret_service.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import pytest

from tests.cli_helpers import LABEL, add_key, cli, registry_labels, store, use_keyring  # noqa: F401
from tests.conftest import SENTINEL_SECRET
from tests.keyrings import MemoryKeyring
from wizard.registry import KeyRecord, Registry, fingerprint
from wizard.secret import Secret
from wizard.vault import SERVICE, StoredKey, Vault

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


def _record(label: str = LABEL) -> KeyRecord:
    return KeyRecord(label, env="testnet", fingerprint=fingerprint(API_KEY))


def _leave_an_interrupted_add(keyring: MemoryKeyring, *, secret_written: bool) -> None:
    """The state a run killed with -9 mid-add leaves: a pending record (and maybe the secret); the
    OS has released its lock."""
    from wizard.adding import NewLabel

    async def die_midway() -> None:
        vault = Vault(keyring)
        claim = NewLabel(Registry(), vault, _record())
        await claim.__aenter__()
        if secret_written:
            await vault.astore(LABEL, StoredKey(API_KEY, "hmac", Secret(SENTINEL_SECRET), env="testnet"))
        claim._lock.release()  # what the kernel does when the process dies; no rollback ran

    asyncio.run(die_midway())


# --- the label lock ----------------------------------------------------------------------------


def test_lock_file_names_are_safe_and_distinct():
    from wizard.locking import label_lock_name

    names = {label_lock_name(label) for label in ("Bot one", "bot one", "bot_one", "bot-one", "../etc/x")}
    assert len(names) == 5
    assert all("/" not in n and " " not in n and n.endswith(".lock") for n in names)


def test_the_lock_excludes_a_second_holder_and_the_os_frees_it(isolated_home):
    registry = Registry()
    first, second = registry.label_lock(LABEL), registry.label_lock(LABEL)
    first.acquire()
    assert second.held_elsewhere() and not second.try_acquire()
    first.release()
    assert not second.held_elsewhere()
    assert registry.label_lock("other-label").try_acquire()  # other labels never wait


def test_an_add_racing_a_run_that_holds_the_label_waits_and_loses_cleanly(add_key, sim, store):
    """The other run holds the lock and records its key while this add is past its early check:
    this add waits for the lock, sees the label taken, exits 2 and leaves the winner's key alone."""
    winner = KeyRecord(LABEL, env="custom", base_url=sim.base_url, fingerprint="Win1…Win1")
    lock = Registry().label_lock(LABEL)
    lock.acquire()
    store.set_password(SERVICE, LABEL, "the winner's document")

    def finish_other_run() -> None:
        time.sleep(1.0)
        Registry().put(winner)
        lock.release()

    other = threading.Thread(target=finish_other_run)
    other.start()
    result = add_key("read_only")
    other.join()
    assert result.code == 2, result.out + result.err
    assert result.ids() == {"label_exists"}
    assert store.get_password(SERVICE, LABEL) == "the winner's document"  # never overwritten or rolled back
    assert Registry().get(LABEL).fingerprint == "Win1…Win1"


def test_a_lock_held_for_the_whole_wait_is_reported_busy(isolated_home, memory_keyring):
    from wizard.adding import LabelBusy, NewLabel

    lock = Registry().label_lock(LABEL)
    lock.acquire()

    async def attempt() -> None:
        async with NewLabel(Registry(), Vault(memory_keyring), _record(), wait=0.2):
            raise AssertionError("entered while another run held the label")

    with pytest.raises(LabelBusy, match="right now"):
        asyncio.run(attempt())
    assert registry_labels() == [] and memory_keyring.entries == {}


def test_concurrent_health_checks_never_trip_over_each_other():
    """Every check writes, reads back and deletes a probe: with one fixed probe name two runs
    overwrite and delete each other's probe and report a broken keyring."""

    class SlowKeyring(MemoryKeyring):
        def get_password(self, service, username):  # type: ignore[override]
            time.sleep(0.005)
            return super().get_password(service, username)

    shared = SlowKeyring()
    problems: list[object] = []

    def run_checks() -> None:
        for _ in range(8):
            problems.append(Vault(shared).check_health())

    threads = [threading.Thread(target=run_checks) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == [None] * 24
    assert shared.entries == {}  # every probe cleaned up


# --- an interrupted add: found, reported, resolved ---------------------------------------------


@pytest.mark.parametrize("secret_written", [True, False], ids=["secret-written", "nothing-written"])
def test_check_and_review_report_an_interrupted_add_with_the_fix(cli, store, secret_written):
    _leave_an_interrupted_add(store, secret_written=secret_written)
    checked = cli("check", "--json")
    assert checked.code == 3
    finding = checked.json["keys"][0]["findings"][0]
    assert finding["id"] == "add_unfinished"
    assert ("never verified" in finding["message"]) is secret_written
    assert f"binance-key-wizard forget {LABEL}" in finding["fix"] and "add" in finding["fix"]
    review = cli("review")
    assert review.code == 0 and "UNFINISHED" in review.out and f"forget LABEL" in review.out
    assert cli("review", "--json").json["keys"][0]["pending"] is True


def test_forget_removes_what_an_interrupted_add_left(cli, store):
    _leave_an_interrupted_add(store, secret_written=True)
    result = cli("forget", LABEL)
    assert result.code == 0, result.err
    assert "stored key and the registry record" in result.out
    assert store.entries == {} and registry_labels() == []
    assert cli("forget", LABEL).code == 3  # nothing left


def test_forget_refuses_a_verified_key_without_yes(add_key, cli, store):
    assert add_key("read_only").code == 0
    refused = cli("forget", LABEL)
    assert refused.code == 2 and "--yes" in refused.err
    assert registry_labels() == [LABEL]
    assert cli("forget", LABEL, "--yes").code == 0
    assert registry_labels() == [] and store.entries == {}


def test_add_again_takes_over_an_interrupted_add(add_key, cli, store):
    _leave_an_interrupted_add(store, secret_written=True)
    result = add_key("read_only")
    assert result.code == 0, result.err
    assert Registry().get(LABEL).pending is False
    assert cli("check", LABEL).code == 0


def test_load_credentials_refuses_a_key_whose_add_never_finished(cli, store):
    from wizard import CredentialsError, load_credentials

    _leave_an_interrupted_add(store, secret_written=True)
    with pytest.raises(CredentialsError) as info:
        load_credentials(LABEL, backend=store)
    assert info.value.kind == "unverified" and "forget" in str(info.value)
    assert SENTINEL_SECRET not in str(info.value)


def test_a_rollback_the_store_cannot_confirm_keeps_the_pending_record(isolated_home):
    from wizard.adding import NewLabel

    class NoDeletes(MemoryKeyring):
        def delete_password(self, service, username):  # type: ignore[override]
            raise RuntimeError("the keyring daemon died")

    keyring = NoDeletes()

    async def fail_after_storing() -> NewLabel:
        vault = Vault(keyring)
        async with NewLabel(Registry(), vault, _record()) as claim:
            await vault.astore(LABEL, StoredKey(API_KEY, "hmac", Secret(SENTINEL_SECRET), env="testnet"))
        return claim  # left without finish(): the stored copy did not prove itself

    claim = asyncio.run(fail_after_storing())
    assert claim.rolled_back is False
    assert Registry().get(LABEL).pending is True  # the secret is still there, so the record stays


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                    (signal.SIGTERM, 143, "terminated")], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_add_exits_in_one_line_and_rolls_back(cli, sim, use_keyring, sig, code, word):
    """Ctrl+C or SIGTERM while the keyring is writing: the add is cancelled, the claim deletes the
    entry and the pending record, and the command says one line instead of a traceback."""

    class InterruptedWrite(MemoryKeyring):
        def set_password(self, service, username, password):  # type: ignore[override]
            super().set_password(service, username, password)
            if not username.startswith("\x1f"):  # the real entry, not the health probe
                os.kill(os.getpid(), sig)
                time.sleep(0.2)

    keyring = use_keyring(InterruptedWrite())
    key = sim.keys["read_only"]
    try:
        result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, stdin=key.secret)
    except KeyboardInterrupt:
        pytest.fail("Ctrl+C escaped as a KeyboardInterrupt traceback")
    assert result.code == code
    assert result.err.strip().count("\n") == 0 and word in result.err
    assert keyring.entries == {} and registry_labels() == []


def test_check_names_a_keyring_entry_that_is_not_the_recorded_key(add_key, cli, sim, store):
    """A rotation killed between replacing the keyring entry and recording it: the two disagree."""
    assert add_key("read_only").code == 0
    other = sim.keys["ed25519"]
    Vault(store).replace(LABEL, StoredKey(other.api_key, "ed25519", Secret(other.private_key_pem),
                                          "custom", sim.base_url))
    result = cli("check", LABEL, "--json")
    assert result.code == 0, result.out
    assert "store_record_mismatch" in result.ids()
    messages = " ".join(f["message"] for f in result.json["keys"][0]["findings"])
    assert fingerprint(other.api_key) in messages and fingerprint(sim.keys["read_only"].api_key) in messages


def test_taking_over_a_pending_label_clears_the_dead_runs_leftover_in_another_store(add_key, store):
    """The dead run was writing to another store: its leftover there would be orphaned by the new
    record, so the takeover deletes it first."""
    Registry().put(KeyRecord(LABEL, env="testnet", fingerprint=fingerprint(API_KEY), service="elsewhere",
                             store="keyring:elsewhere", pending=True))
    store.set_password("elsewhere", LABEL, "half-written by a dead run")
    result = add_key("read_only")
    assert result.code == 0, result.err
    assert store.get_password("elsewhere", LABEL) is None
    record = Registry().get(LABEL)
    assert record.pending is False and record.store_uri != "keyring:elsewhere"
