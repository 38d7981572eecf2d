"""Issue 11: every permission read is judged, the last one decides; a rotation needs a new key;
`check` tells the truth about stored keys (dangerous now, earliest date, failed last check)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from tests.cli_helpers import LABEL, add_key, cli, store, use_keyring  # noqa: F401 - fixtures
from wizard import commands, lifecycle
from wizard.exchange.gateway import Gateway
from wizard.exchange.model import Environment
from wizard.registry import KeyRecord, Registry, fingerprint
from wizard.review import review_rows
from wizard.secret import Secret
from wizard.vault import StoredKey, Vault


def flipping_factory(sim, api_key: str, *, after: int, field: str = "enableWithdrawals", change=None):
    """Real gateways; when the ``after``-th one is made, "Binance" switches ``field`` on first
    (or makes ``change``). That is the moment between validating a key and reading back the
    keyring's copy.
    """
    made = [0]

    def factory(env, key):
        made[0] += 1
        if made[0] == after:
            change() if change is not None else sim.set_permission(api_key, field, True)
        return Gateway(env, key)

    return factory


def test_add_rolls_back_a_key_that_gained_withdrawals_before_the_read_back(isolated_home, store, sim):
    key = sim.create_key(label="tracker", ip_allowlist=["127.0.0.1"])
    env = Environment.custom(sim.base_url)
    result = asyncio.run(commands._add(
        LABEL, key.api_key, "hmac", Secret(key.secret), env, "read", None,
        gateways=flipping_factory(sim, key.api_key, after=2)))
    assert not result.ok and result.exit_code == 1
    assert result.verdict.by_id("withdrawals_enabled") is not None
    assert Registry().get(LABEL) is None
    assert not any(label == LABEL for (_service, label) in store.entries)


def test_add_records_what_the_last_read_said(isolated_home, store, sim):
    """The record's permissions come from the read-back read, not the first one."""
    key = sim.create_key(label="tracker")  # no IP allowlist at the first read
    env = Environment.custom(sim.base_url)
    result = asyncio.run(commands._add(
        LABEL, key.api_key, "hmac", Secret(key.secret), env, "read", None,
        gateways=flipping_factory(sim, key.api_key, after=2,
                                  change=lambda: sim.set_ip_allowlist(key.api_key, ["127.0.0.1"]))))
    assert result.ok
    assert Registry().get(LABEL).ip_restricted is True


@pytest.fixture
def managed(add_key, store, sim):
    assert add_key("read_only").code == 0
    return Vault(store), Registry(), Environment.custom(sim.base_url)


def _new(sim, **flags):
    key = sim.create_key(label="replacement", ip_allowlist=["127.0.0.1"], **flags)
    stored = StoredKey(key.api_key, "hmac", Secret(key.secret), "custom", sim.base_url)
    record = KeyRecord(label=LABEL, purpose="read", env="custom", base_url=sim.base_url,
                       fingerprint=fingerprint(key.api_key))
    return key, stored, record


async def test_a_swap_refuses_a_key_that_gained_withdrawals(managed, sim):
    vault, registry, env = managed
    start = await lifecycle.begin_rotation(vault, registry, LABEL)
    key, stored, record = _new(sim)
    sim.set_permission(key.api_key, "enableWithdrawals", True)  # after the wizard validated it
    with pytest.raises(lifecycle.LifecycleError) as raised:
        await lifecycle.swap_in_new_key(vault, registry, LABEL, stored, record, env=env,
                                        gateway_factory=Gateway, old_key=start.old_key)
    assert raised.value.exit_code == 1 and raised.value.finding.id == "withdrawals_enabled"
    assert (await vault.aload(LABEL)).api_key == start.old_key.api_key
    assert registry.get(LABEL).fingerprint == start.old_record.fingerprint


async def test_a_swap_refuses_the_old_key_as_the_new_one(managed, sim):
    vault, registry, env = managed
    start = await lifecycle.begin_rotation(vault, registry, LABEL)
    record = KeyRecord(label=LABEL, purpose="read", env="custom", base_url=sim.base_url,
                       fingerprint=start.old_record.fingerprint)
    with pytest.raises(lifecycle.LifecycleError) as raised:
        await lifecycle.swap_in_new_key(vault, registry, LABEL, start.old_key, record, env=env,
                                        gateway_factory=Gateway)
    assert raised.value.exit_code == 2 and raised.value.finding.id == "same_key"
    assert registry.get(LABEL).rotations == []


def test_same_key_refused_compares_whole_keys():
    assert lifecycle.same_key_refused("A" * 64, "A" * 64).id == "same_key"
    assert lifecycle.same_key_refused("A" * 64, "A" * 63 + "B") is None


def test_check_of_a_stored_key_that_gained_withdrawals_says_to_act_now(add_key, cli, sim):
    key = sim.create_key(label="tracker", ip_allowlist=["127.0.0.1"])
    assert add_key(key).code == 0
    sim.set_permission(key.api_key, "enableWithdrawals", True)
    result = cli("check", LABEL, "--json")
    assert result.code == 1
    found = next(f for f in result.json["keys"][0]["findings"] if f["id"] == "withdrawals_enabled")
    assert "never stores" not in found["message"]
    assert "still stored" in found["message"]
    assert f"binance-key-wizard rotate {LABEL}" in found["fix"] and "Untick" in found["fix"]


def test_check_names_the_trading_cut_off_before_the_rotation_date(add_key, cli, sim):
    key = sim.create_key(label="bot", spot_trading=True)  # no IP allowlist: trading stops in 30 days
    assert add_key(key, LABEL, "--purpose", "spot").code == 0
    result = cli("check", LABEL, "--json")
    note = next(f for f in result.json["keys"][0]["findings"] if f["id"] == "earliest_date")
    record = Registry().get(LABEL)
    assert record.trading_expires_at is not None
    assert record.trading_expires_at.date().isoformat() in note["message"]
    assert record.trading_expires_at < record.rotation_due_at
    assert "IP allowlist" in note["message"]


def test_a_failed_check_is_not_shown_as_verified(add_key, cli, sim):
    key = sim.create_key(label="tracker", ip_allowlist=["127.0.0.1"])
    assert add_key(key).code == 0
    sim.delete_key(key.api_key)
    assert cli("check", LABEL).code == 4
    record = Registry().get(LABEL)
    assert record.last_check_failed and record.last_checked_at is not None
    row = review_rows([record])[0]
    assert row.last_verified.startswith("FAILED") and "ago" in row.last_verified
    assert cli("review").out.count("Last check failed") == 1


def test_review_counts_age_from_binance_create_time():
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    record = KeyRecord(label="bot-vps1", created_at=created + timedelta(days=20),
                       binance_created_at=created, rotation_days=90)
    row = review_rows([record], now=created + timedelta(days=30))[0]
    assert row.age == "30 days"
    assert row.rotation_due_at.startswith("2026-04-01")


def test_old_registry_files_still_load():
    record = KeyRecord.from_dict({"label": "tracker-vps1", "created_at": "2026-01-01T00:00:00+00:00"})
    assert record.binance_created_at is None and record.last_check_failed is False
    assert record.key_created_at == datetime(2026, 1, 1, tzinfo=timezone.utc)


# -- the demo's review and rotate work as the demo summary prints them -----------------------


def _demo_record(store, sim, label="read-laptop-2026-01-31"):
    """A key stored by an earlier `--demo` run: demo registry, demo keyring service."""
    from wizard.app import DEMO_SERVICE

    key = sim.keys["read_only"]
    Vault(store, service=DEMO_SERVICE).store(
        label, StoredKey(key.api_key, "hmac", Secret(key.secret), "sim", "http://127.0.0.1:9"))
    commands.open_registry(demo=True).put(KeyRecord(
        label=label, env="sim", base_url="http://127.0.0.1:9", fingerprint=fingerprint(key.api_key),
        service=DEMO_SERVICE, permissions={"confirmed": True, "reading": True}, ip_restricted=True))
    return key


def test_demo_review_lists_the_demo_keys(cli, store, sim):
    _demo_record(store, sim)
    assert [k["label"] for k in cli("--demo", "review", "--json").json["keys"]] == ["read-laptop-2026-01-31"]
    assert cli("review", "--json").json["keys"] == []  # the real registry is not the demo's


def test_demo_rotate_finds_the_demo_key(cli, store, sim):
    _demo_record(store, sim)
    result = cli("--demo", "rotate", "read-laptop-2026-01-31")
    assert result.code == 2 and "needs a terminal" in result.err  # found; only the terminal is missing
    assert cli("rotate", "read-laptop-2026-01-31").code == 3  # not a real managed key


async def test_a_demo_rotation_gives_its_simulator_the_old_key(isolated_home, store, sim, tmp_path):
    """The demo's first simulator is gone: the rotation's own must know the old key, to see it die."""
    from tests.test_app_harness import SIZE, make_services, settle
    from wizard.app import create_app

    key = _demo_record(store, sim)
    services = make_services(None, store, tmp_path)
    services.registry = commands.open_registry(demo=True)
    old = services.vault.load("read-laptop-2026-01-31").key_material()
    app = create_app(services, env=Environment.custom("http://127.0.0.1:9", simulated=True),
                     rotate_label="read-laptop-2026-01-31", old_key=old, start_sim=True)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(40):
            await settle(pilot)
            if app.sim_ready:
                break
            await pilot.pause(0.1)
        assert app.sim_ready and app.services.sim is not sim
        async with Gateway(app.session.env, old) as gateway:
            perms = await gateway.read_permissions()
        assert perms.reading is True and perms.withdrawals is False and perms.ip_restricted is True
        app.services.sim.delete_key(key.api_key)
        async with Gateway(app.session.env, old) as gateway:
            assert await gateway.confirm_key_dead() is not None
    app.stop_simulator()


async def test_a_demo_rotation_never_shows_the_adopted_secret(isolated_home, store, sim, tmp_path):
    """The old key's secret now travels into the rotation's own simulator: nowhere else."""
    from tests.conftest import SENTINEL_SECRET
    from tests.test_app_harness import SIZE, make_services, settle
    from tests.test_leaks import files_holding, process_tree_texts
    from wizard.app import DEMO_SERVICE, create_app

    key = sim.keys["read_only"]
    Vault(store, service=DEMO_SERVICE).store(
        "read-laptop-2026-01-31", StoredKey(key.api_key, "hmac", Secret(SENTINEL_SECRET), "sim", "http://127.0.0.1:9"))
    commands.open_registry(demo=True).put(KeyRecord(
        label="read-laptop-2026-01-31", env="sim", base_url="http://127.0.0.1:9", fingerprint=fingerprint(key.api_key),
        service=DEMO_SERVICE, permissions={"confirmed": True, "reading": True}, ip_restricted=True))
    services = make_services(None, store, tmp_path)
    services.registry = commands.open_registry(demo=True)
    old = services.vault.load("read-laptop-2026-01-31").key_material()
    app = create_app(services, env=Environment.custom("http://127.0.0.1:9", simulated=True),
                     rotate_label="read-laptop-2026-01-31", old_key=old, start_sim=True)
    screens = []
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(40):
            await settle(pilot)
            if app.sim_ready:
                break
            await pilot.pause(0.1)
        screens.append(app.export_screenshot())
        async with Gateway(app.session.env, old) as gateway:  # the adopted copy signs
            assert (await gateway.read_permissions()).reading is True
        assert SENTINEL_SECRET not in repr(app.services.sim.request_log)
        assert SENTINEL_SECRET not in repr(app.services.sim.key(key.api_key))
        assert not any(SENTINEL_SECRET in text for text in process_tree_texts())
    app.stop_simulator()
    assert not any(SENTINEL_SECRET in picture for picture in screens)
    assert [p for p in files_holding(isolated_home, SENTINEL_SECRET)] == []
