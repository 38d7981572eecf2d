"""`check` of a fleet: concurrent results equal sequential ones, N + 1 requests, the
exchange's limits respected (zero 429s under a small limit, a 429 stops the whole run),
keys read from a real Secret Service in parallel, and the progress bar only on a terminal.

In-process through ``wizard.cli.main`` against the simulator (real python-binance over
loopback); the keys are seeded by tests/fleet_helpers.py straight into the keyring and
registry so hundreds of them take a moment, not an ``add`` each.
"""

from __future__ import annotations

import io
import sys
import time

import pytest

from tests.cli_helpers import cli, store, use_keyring  # noqa: F401 - fixtures
from tests.fleet_helpers import api_key_of, seed_fleet
from tests.store_fixtures import bao_env, openbao, unique_prefix  # noqa: F401 - fixtures
from wizard.registry import Registry


def summary(result) -> list[tuple]:
    """What must not depend on concurrency: each key's label, verdict, code and finding ids."""
    return [(k["label"], k["ok"], k["exit_code"], sorted(f["id"] for f in k["findings"]))
            for k in result.json["keys"]]


def test_concurrent_check_gives_the_sequential_results_in_order(cli, store, sim):
    labels = seed_fleet(sim, store, Registry(), 12)
    sim.set_ip_allowlist(api_key_of(sim, labels[3]), ["127.0.0.1"])
    sim.set_permission(api_key_of(sim, labels[3]), "enableWithdrawals", True)  # exit 1
    sim.delete_key(api_key_of(sim, labels[7]))  # exit 4
    store.delete_password("binance-key-wizard", labels[10])  # exit 3: the keyring lost it
    asked = [*reversed(labels), "no-such-label"]  # the order asked for, not the registry's
    sequential = cli("check", *asked, "--json", "--concurrency", "1")
    concurrent = cli("check", *asked, "--json", "--concurrency", "16")
    assert [k["label"] for k in concurrent.json["keys"]] == asked
    assert summary(concurrent) == summary(sequential)
    codes = {k["label"]: k["exit_code"] for k in concurrent.json["keys"]}
    assert (codes[labels[3]], codes[labels[7]], codes[labels[10]], codes["no-such-label"]) == (1, 4, 3, 3)
    assert concurrent.code == sequential.code == concurrent.json["exit_code"] == 4


def test_fleet_check_costs_n_plus_one_requests_and_weight(cli, store, sim):
    seed_fleet(sim, store, Registry(), 40)
    before = len(sim.request_log)
    result = cli("check", "--json")
    spent = sim.request_log[before:]
    assert result.code == 0, result.out
    assert len(spent) == 41 and sum(e.weight for e in spent) == 41
    assert [e.path for e in spent].count("/api/v3/time") == 1
    assert {e.path for e in spent} == {"/api/v3/time", "/sapi/v1/account/apiRestrictions"}


def test_fleet_check_records_every_result_in_one_registry_write(cli, store, sim):
    labels = seed_fleet(sim, store, Registry(), 20)
    assert cli("check", "--json").code == 0
    records = Registry().all()
    assert all(r.last_verified_at is not None and r.permissions for r in records)
    assert len(records) == len(labels)


@pytest.fixture
def small_limit_sim():
    """A simulator whose IP may spend 100 weight per one-second window, on /api and /sapi."""
    from wizard.exchange.transport import forget_cool_downs
    from wizard.sim import SimExchange

    exchange = SimExchange(weight_limit=100, weight_window_s=1)
    exchange.limits.sapi_ip_limit = 100  # the 500 apiRestrictions reads spend this bucket
    exchange.start_in_thread(port=0)
    try:
        yield exchange
    finally:
        exchange.stop_in_thread()
        forget_cool_downs()


def test_500_keys_under_a_small_limit_never_see_a_429(cli, store, small_limit_sim):
    sim = small_limit_sim
    seed_fleet(sim, store, Registry(), 500)
    started = time.monotonic()
    result = cli("check", "--json", "--max-weight", "100")
    elapsed = time.monotonic() - started
    statuses = [e.status for e in sim.request_log]
    assert statuses.count(429) == 0 and statuses.count(418) == 0
    assert result.code == 0 and all(k["ok"] for k in result.json["keys"])
    assert len(statuses) == 501
    # 500 /sapi weight at 100 per clock-aligned one-second window needs five windows: a
    # part of the first, three whole ones and a part of the last, so more than 3 s
    # however the run lines up with the clock (4 s was wrong: a run that starts late in
    # a window finishes in 3.86 s without ever passing the limit).
    assert elapsed > 3


def test_a_429_stops_the_run_for_every_key_and_honours_retry_after(cli, store, sim):
    from wizard.exchange.transport import cooling_down

    seed_fleet(sim, store, Registry(), 60)
    sim.weight_limit = 10  # per minute: the published cap (5980) lets the 429 happen
    sim.limits.sapi_ip_limit = 9  # /sapi keeps its own bucket: 9 apiRestrictions reads pass
    result = cli("check", "--json", "--concurrency", "4")
    log = sim.request_log
    first = next(i for i, e in enumerate(log) if e.status == 429)
    # After the first 429 only requests already in flight may still reach the exchange.
    assert len(log) - first <= 4
    codes = [k["exit_code"] for k in result.json["keys"]]
    assert codes.count(0) <= 9 and codes.count(5) >= 50 and result.code == 5
    limited = [k for k in result.json["keys"] if k["exit_code"] == 5]
    assert all(any(f["id"] == "rate_limited" for f in k["findings"]) for k in limited), limited[0]
    remaining = cooling_down(f"{sim.base_url}/api")
    assert remaining is not None and 0 < remaining.retry_after <= 60


class FakeTerminal(io.StringIO):
    """stderr as a terminal would be (only ``isatty`` differs from a pipe)."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only(cli, store, sim, monkeypatch):
    seed_fleet(sim, store, Registry(), 30)
    sim.faults.latency = 0.1
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    result = cli("check", "--concurrency", "2")
    drawn = terminal.getvalue()
    assert result.code == 0
    assert "checking keys [" in drawn and "/30" in drawn and "left" in drawn
    assert drawn.endswith("\r\x1b[K")  # wiped: the results are what stays on screen
    assert "\r" not in result.out and "checking keys" not in result.out
    terminal.seek(0), terminal.truncate()
    assert cli("check", "--json", "--concurrency", "2").code == 0
    assert terminal.getvalue() == ""  # --json: nothing extra, even on a terminal


def test_no_progress_bar_when_stderr_is_piped(cli, store, sim):
    seed_fleet(sim, store, Registry(), 30)
    sim.faults.latency = 0.1
    result = cli("check", "--concurrency", "2")
    assert result.code == 0 and result.err == ""


@pytest.mark.secret_service
def test_fleet_check_reads_the_real_secret_service_concurrently(cli, use_keyring, secret_service_keyring, sim):
    import uuid

    service = f"binance-key-wizard-fleet-{uuid.uuid4().hex[:8]}"
    use_keyring(secret_service_keyring)
    labels = seed_fleet(sim, secret_service_keyring, Registry(), 24, service=service)
    try:
        result = cli("check", "--json", "--concurrency", "16")
        assert result.code == 0, result.out
        assert [k["label"] for k in result.json["keys"]] == labels
    finally:
        for label in labels:
            secret_service_keyring.delete_password(service, label)


@pytest.mark.secret_service
def test_pooled_fleet_reads_leave_the_sentinel_only_in_the_keyring(cli, use_keyring, secret_service_keyring,
                                                                   sim, monkeypatch, isolated_home):
    """Secrets travel through kept D-Bus sessions (wizard/keyring_pool.py) and past the progress
    line: none of it reaches stdout, stderr, a file, the registry or this process's environment."""
    import uuid

    from tests.conftest import SENTINEL_SECRET
    from tests.test_leaks import files_holding, process_tree_texts
    from wizard.secret import Secret
    from wizard.stored_key import StoredKey

    service = f"binance-key-wizard-leak-{uuid.uuid4().hex[:8]}"
    use_keyring(secret_service_keyring)
    labels = seed_fleet(sim, secret_service_keyring, Registry(), 12, service=service)
    key = sim.keys[labels[5]]
    key.secret = SENTINEL_SECRET  # the simulator now verifies signatures made with the sentinel
    doc = StoredKey(key.api_key, "hmac", Secret(SENTINEL_SECRET), env="sim", base_url=sim.base_url)
    secret_service_keyring.set_password(service, labels[5], doc.to_json().reveal())
    sim.faults.latency = 0.05
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    try:
        result = cli("check", "--concurrency", "4")
        as_json = cli("check", "--json", "--concurrency", "4")
        assert result.code == 0 and as_json.code == 0
        pieces = [SENTINEL_SECRET[i:i + 12] for i in range(0, len(SENTINEL_SECRET) - 12, 6)]
        for text in (result.out, result.err, as_json.out, as_json.err, terminal.getvalue(),
                     *process_tree_texts()):
            assert not any(piece in text for piece in pieces)
        assert not files_holding(isolated_home, SENTINEL_SECRET[:24])
    finally:
        for label in labels:
            secret_service_keyring.delete_password(service, label)


def test_fleet_check_reads_a_real_openbao_in_parallel(cli, store, sim, bao_env, unique_prefix):
    """Keys in OpenBao (KV v2): read from many threads at once, every one checked, in order."""
    from concurrent.futures import ThreadPoolExecutor

    from wizard.registry import KeyRecord, fingerprint
    from wizard.secret import Secret
    from wizard.stored_key import StoredKey
    from wizard.stores import open_store

    uri = bao_env.uri(unique_prefix)
    bao = open_store(uri)
    labels, records = [], []
    for i in range(24):
        key = sim.create_key(label=f"bao-{i:02d}")
        bao.store(key.name, StoredKey(key.api_key, "hmac", Secret(key.secret), env="sim", base_url=sim.base_url))
        records.append(KeyRecord(label=key.name, purpose="read", env="sim", base_url=sim.base_url, store=uri,
                                 fingerprint=fingerprint(key.api_key)))
        labels.append(key.name)
    Registry().put_many(records)
    fresh = open_store(uri)  # one client shared by every thread, logged in once
    with ThreadPoolExecutor(12) as pool:
        loaded = list(pool.map(fresh.load, labels))
    assert [k.api_key for k in loaded] == [sim.keys[label].api_key for label in labels]
    before = len(sim.request_log)
    result = cli("check", "--json")
    assert result.code == 0, result.out
    assert [k["label"] for k in result.json["keys"]] == labels
    assert len(sim.request_log) - before == len(labels) + 1


@pytest.mark.secret_service
def test_pooled_reads_give_what_keyring_gives_locked_items_included(secret_service_keyring):
    """The pool's two-call read (wizard/keyring_pool.py) against keyring's own get_password on
    the real Secret Service: present, missing, and an item the service gives no secret for
    (a locked one), which goes keyring's way."""
    import uuid

    from wizard.keyring_pool import ReadPool, _Reader

    service = f"binance-key-wizard-pool-{uuid.uuid4().hex[:8]}"
    values = {f"user-{i}": f"value-{i}-é" * 20 for i in range(6)}
    for user, value in values.items():
        secret_service_keyring.set_password(service, user, value)
    try:
        pool = ReadPool(secret_service_keyring, 2)
        try:
            for user in [*values, "nobody"]:
                assert pool.get_password(service, user) == secret_service_keyring.get_password(service, user)
        finally:
            pool.close()
        reader = _Reader(secret_service_keyring)
        try:
            real_call = reader._service.call
            reader._service.call = lambda *args: ({},)  # GetSecrets leaves a locked item out
            assert reader.get_password(service, "user-3") == values["user-3"]
            reader._service.call = real_call
        finally:
            reader.close()
    finally:
        for user in values:
            secret_service_keyring.delete_password(service, user)
