"""Every store keeps the same promises: the protocol tested once, on the real stores.

The OS keyring (in memory here; the Secret Service tier is tests/test_secret_service.py),
Debian's systemd-creds in a tmp DIR and a real OpenBao dev server each: health, store,
read back, replace returning the previous key, delete, labels; a rotation that fails
mid-way keeps the old secret; the sentinel never lands in the store's files in plaintext.
"""

from __future__ import annotations

import pytest

from tests.conftest import SENTINEL_SECRET
from tests.store_fixtures import bao_env, creds_dir, files_holding_piece, openbao, unique_prefix  # noqa: F401
from tests.vault_helpers import API_KEY, hmac_key
from wizard.exchange.model import Environment, ExchangeError
from wizard.secret import Secret
from wizard.stored_key import StoredKey
from wizard.stores import ProblemKind, SecretStore, StoreError, open_store
from wizard.vault import Vault

LABEL = "tracker-vps1"
OTHER_KEY = "Zq" * 32


@pytest.fixture(params=["keyring", "systemd-creds", "openbao"])
def any_store(request, memory_keyring) -> SecretStore:
    """Each real store in turn."""
    if request.param == "keyring":
        return Vault(backend=memory_keyring)
    if request.param == "systemd-creds":
        return open_store(f"systemd-creds:{request.getfixturevalue('creds_dir')}")
    server = request.getfixturevalue("bao_env")
    return open_store(server.uri(request.getfixturevalue("unique_prefix")))


def test_every_store_follows_the_protocol(any_store):
    assert isinstance(any_store, SecretStore)
    assert any_store.check_health() is None
    assert any_store.kind_title and any_store.uri and any_store.describe()
    any_store.store(LABEL, hmac_key())
    back = any_store.load(LABEL)
    assert (back.api_key, back.secret) == (API_KEY, Secret(SENTINEL_SECRET))
    listed = any_store.labels()
    assert listed is None or listed == [LABEL]  # the keyring can't list; the others list exactly
    previous = any_store.replace(LABEL, StoredKey(OTHER_KEY, "hmac", Secret("n" * 64)))
    assert previous is not None and previous.api_key == API_KEY
    assert any_store.load(LABEL).api_key == OTHER_KEY
    assert any_store.delete(LABEL) is True
    assert any_store.delete(LABEL) is False
    with pytest.raises(StoreError) as caught:
        any_store.load(LABEL)
    assert caught.value.problem.kind is ProblemKind.NOT_FOUND and caught.value.exit_code == 3
    assert caught.value.problem.fix


async def test_async_variants_do_the_same(any_store):
    assert await any_store.acheck_health() is None
    await any_store.astore(LABEL, hmac_key())
    assert (await any_store.aload(LABEL)).api_key == API_KEY
    assert (await any_store.areplace(LABEL, hmac_key(OTHER_KEY))).api_key == API_KEY
    assert (await any_store.alabels()) in (None, [LABEL])
    assert await any_store.adelete(LABEL) is True


async def test_a_rotation_whose_new_key_fails_keeps_the_old_one(any_store, sim, tmp_path):
    """lifecycle.swap_in_new_key: the new key is written, its stored copy fails the signed call,
    and the old secret is what the store holds afterwards (in every store)."""
    from wizard import lifecycle
    from wizard.commands import gateway_factory
    from wizard.registry import KeyRecord, Registry

    good = sim.keys["read_only"]
    env = Environment.custom(sim.base_url, simulated=True)
    old = StoredKey(good.api_key, "hmac", Secret(good.secret), "sim", sim.base_url)
    any_store.store(LABEL, old)
    new = StoredKey("X" * 64, "hmac", Secret(SENTINEL_SECRET), "sim", sim.base_url)  # the exchange rejects it
    registry = Registry(tmp_path / "keys.json")
    with pytest.raises(ExchangeError):
        await lifecycle.swap_in_new_key(any_store, registry, LABEL, new, KeyRecord(label=LABEL), env=env,
                                        gateway_factory=gateway_factory, old_key=old)
    kept = any_store.load(LABEL)
    assert (kept.api_key, kept.secret) == (good.api_key, Secret(good.secret))
    assert registry.get(LABEL) is None  # nothing recorded for a key that did not prove itself


class _TamperedReadBack:
    """Mixed into a real store: when armed, the read-back right after the next write sees a
    different document, as a broken or concurrently-written server would show it."""

    armed = False
    after_write = False

    def arm(self) -> None:
        self.armed, self.after_write = True, False

    def _tamper(self, value):
        if self.armed and self.after_write:
            self.armed = self.after_write = False
            return {"api_key": "tampered"} if isinstance(value, dict) else Secret("tampered")
        return value


def test_systemd_creds_replacement_failing_its_read_back_keeps_the_old_file(creds_dir):
    from wizard.stores.systemd_creds import SystemdCredsStore

    class Flaky(_TamperedReadBack, SystemdCredsStore):
        def _encrypt(self, name, document):
            self.after_write = True  # what is decrypted next is the file just written
            return super()._encrypt(name, document)

        def _decrypt_bytes(self, name, sealed):
            return self._tamper(super()._decrypt_bytes(name, sealed))

    store = Flaky(creds_dir)
    store.store(LABEL, hmac_key(secret="o" * 64))
    before = store.path_for(LABEL).read_bytes()
    store.arm()
    with pytest.raises(StoreError) as caught:
        store.replace(LABEL, hmac_key(OTHER_KEY, secret=SENTINEL_SECRET))
    assert caught.value.problem.kind is ProblemKind.READBACK_MISMATCH
    assert store.path_for(LABEL).read_bytes() == before  # the old credential was never touched
    assert store.load(LABEL).secret == Secret("o" * 64)
    assert [p.name for p in creds_dir.iterdir()] == [f"{LABEL}.cred"]  # no temp file left behind


def test_openbao_replacement_failing_its_read_back_keeps_the_old_secret(bao_env, unique_prefix):
    import hvac

    from wizard.stores.openbao import OpenBaoStore
    from wizard.stores.uri import parse_store_uri

    class Flaky(_TamperedReadBack, OpenBaoStore):
        def _write(self, label, data, *, cas, secrets):
            version = super()._write(label, data, cas=cas, secrets=secrets)
            self.after_write = True
            return version

        def _read_version(self, label, version):
            return self._tamper(super()._read_version(label, version))

    store = Flaky(parse_store_uri(bao_env.uri(unique_prefix)))
    store.store(LABEL, hmac_key(secret="o" * 64))
    store.replace(LABEL, hmac_key(secret="p" * 64))
    store.arm()
    with pytest.raises(StoreError) as caught:
        store.replace(LABEL, hmac_key(OTHER_KEY, secret=SENTINEL_SECRET))
    assert caught.value.problem.kind is ProblemKind.READBACK_MISMATCH
    assert "previous one still is" in caught.value.problem.message
    assert store.load(LABEL).secret == Secret("p" * 64)
    client = hvac.Client(url=bao_env.address, token=bao_env.root_token, verify=str(bao_env.ca_cert))
    meta = client.secrets.kv.v2.read_secret_metadata(f"{unique_prefix}/{LABEL}", mount_point="secret")
    assert meta["data"]["current_version"] == 4  # old, previous, the failed new one, the previous again


def test_the_sentinel_is_never_in_the_stores_files_in_plaintext(creds_dir, bao_env, unique_prefix, sim):
    for uri in (f"systemd-creds:{creds_dir}", bao_env.uri(unique_prefix)):
        store = open_store(uri)
        assert store.check_health() is None
        store.store(LABEL, hmac_key())
        store.replace(LABEL, hmac_key(OTHER_KEY))
        assert store.load(LABEL).secret == Secret(SENTINEL_SECRET)
    assert files_holding_piece(creds_dir, SENTINEL_SECRET) == []
    assert files_holding_piece(bao_env.home, SENTINEL_SECRET) == []  # server log, audit log, TLS, HOME
    assert (bao_env.home / "audit.log").stat().st_size > 0  # the audit log did record the writes


def test_the_health_probe_is_unique_per_run_and_leaves_nothing(creds_dir, bao_env, unique_prefix):
    for uri in (f"systemd-creds:{creds_dir}", bao_env.uri(unique_prefix)):
        store = open_store(uri)
        assert store.check_health() is None and store.check_health() is None
        assert store.labels() == []
    assert not creds_dir.exists() or list(creds_dir.iterdir()) == []


def test_systemd_creds_never_sees_the_secret_on_its_argv_or_environment(creds_dir, tmp_path):
    """A wrapper records each systemd-creds run's argv and environment, then runs the real tool."""
    import shutil
    import stat

    from wizard.stores.systemd_creds import SystemdCredsStore

    record = tmp_path / "runs.log"
    wrapper = tmp_path / "systemd-creds-recording"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {record}\nenv >> {record}\n'
                       f'exec {shutil.which("systemd-creds")} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    store = SystemdCredsStore(creds_dir, binary=str(wrapper))
    assert store.check_health() is None
    store.store(LABEL, hmac_key())
    store.replace(LABEL, hmac_key(OTHER_KEY))
    assert store.load(LABEL).secret == Secret(SENTINEL_SECRET)
    runs = record.read_text()
    assert "encrypt --name=tracker-vps1" in runs and "decrypt --name=tracker-vps1" in runs
    assert files_holding_piece(tmp_path, SENTINEL_SECRET) == []


def test_systemd_creds_without_root_says_to_run_as_root(creds_dir, tmp_path):
    """As an ordinary user systemd-creds can't read the host key: a sentence, exit 3, never a traceback."""
    import shutil
    import stat

    from wizard.stores.systemd_creds import SystemdCredsStore

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to drop privileges")
    wrapper = tmp_path / "systemd-creds-as-nobody"
    wrapper.write_text(f'#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups '
                       f'{shutil.which("systemd-creds")} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    problem = SystemdCredsStore(creds_dir, binary=str(wrapper)).check_health()
    assert problem is not None and problem.kind is ProblemKind.PERMISSION_DENIED and problem.exit_code == 3
    assert "Permission denied" in problem.message and "as root" in problem.fix


def test_a_missing_systemd_creds_says_how_to_install_it(tmp_path):
    from wizard.stores.systemd_creds import SystemdCredsStore

    problem = SystemdCredsStore(tmp_path / "creds", binary="systemd-creds-not-installed").check_health()
    assert problem.kind is ProblemKind.NO_BACKEND and "apt-get install -y systemd" in problem.fix


def test_a_call_its_caller_gave_up_on_never_runs_later():
    """Every store's calls are bounded the same way (wizard.stores.base.BoundedStore): a write
    queued behind a hung one, whose caller timed out, is dropped instead of landing later."""
    import threading

    from wizard.stores.base import Abandoned, BoundedStore

    release, ran, dropped = threading.Event(), [], threading.Event()

    class Hanging(BoundedStore):
        kind_title = "test store"

        def _where(self) -> str:
            return "the test store"

        def _replace(self, label, key):
            ran.append(label)
            release.wait(10)

        def _stop_if_abandoned(self) -> None:
            try:
                BoundedStore._stop_if_abandoned()
            except Abandoned:
                dropped.set()
                raise

    store = Hanging(timeout=0.2)
    for label in ("first", "second"):  # "second" waits behind "first" for the store's lock
        with pytest.raises(StoreError) as caught:
            store.store(label, hmac_key())
        assert caught.value.problem.kind is ProblemKind.TIMEOUT
        assert "did not answer within 0.2 seconds" in caught.value.problem.message
    release.set()
    assert dropped.wait(5)  # "second" got the lock once "first" ended, saw it was abandoned
    assert ran == ["first"]
