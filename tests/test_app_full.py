"""Steps 5-7 and whole runs in demo mode: the credentials end up in a keyring, nowhere else."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.leaks import assert_no_leak, assert_none_leak, files_holding
from tests.test_app_harness import (
    SIZE,
    enter_key,
    make_app,
    make_services,
    press_next,
    settle,
    text_of,
    to_label_screen,
    to_permissions,
)
from wizard.app import DEMO_SERVICE, create_app
from wizard.exchange.model import Environment


def assert_no_secret_on_disk(tmp_path, secret: str) -> None:
    """Nothing under tmp_path (registry included) holds the secret."""
    assert files_holding(tmp_path, secret) == []  # any 12 characters of it count


async def through_ip(pilot, api_key: str, secret: str, purpose: str) -> None:
    """Steps 0-4 with a key that passes."""
    await to_permissions(pilot, api_key, secret, purpose)
    assert not pilot.app.session.verdict.blocked, pilot.app.session.verdict
    await press_next(pilot)
    assert pilot.app.screen.STEP == "ip"
    await press_next(pilot)
    assert pilot.app.screen.STEP == "store"


async def test_full_run_read_only(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    seen: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await through_ip(pilot, key.api_key, key.secret, "read")
        seen.append(app.export_screenshot())
        # A test backend passes the health check, but is never called a real OS keyring.
        assert "real OS keyring" not in text_of(app, "#progress")
        assert "tests.keyrings.MemoryKeyring" in text_of(app, "#progress")
        assert app.screen.query_one("#next").disabled  # not stored yet
        await pilot.press("s")
        await settle(pilot)
        assert app.session.stored and app.session.secret is None  # forgotten once stored
        assert text_of(app, "#progress").count("✓") == 3 and "! The keyring backend" in text_of(app, "#progress")
        assert not app.screen.query_one("#back").display  # no way back to re-enter a forgotten secret
        await press_next(pilot)
        assert app.screen.STEP == "test"
        results = text_of(app, "#results")
        assert "Balances read" in results and "refused by the exchange" in results
        assert app.screen.query_one("#balances").row_count >= 1
        seen.append(app.export_screenshot())
        await press_next(pilot)
        assert app.screen.STEP == "summary"
        seen.append(app.export_screenshot())
        assert "load_credentials('read-laptop-2026-01-31'" in text_of(app, "#snippet")
        # 90 days from Binance's createTime (the simulator's clock), as `review` counts.
        due = app.session.permissions.created_at + timedelta(days=90)
        assert f"Rotate by {due:%Y-%m-%d}" in text_of(app, "#rotation")
        assert "Withdrawals disabled" in text_of(app, "#hygiene")
        await press_next(pilot)
    assert app.return_code == 0
    assert_none_leak(seen, secret=key.secret)
    assert_no_leak(app.clipboard, secret=key.secret)
    document = json.loads(memory_keyring.entries[(DEMO_SERVICE, "read-laptop-2026-01-31")])
    assert document["api_key"] == key.api_key and document["secret"] == key.secret
    record = json.loads((tmp_path / "keys.json").read_text())
    assert "read-laptop-2026-01-31" in json.dumps(record)
    assert_no_secret_on_disk(tmp_path, key.secret)


async def test_full_run_spot_with_generated_ed25519_and_visible_order(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot, purpose="spot")
        screen = app.screen
        screen.query_one("#generate").press()
        await settle(pilot)
        screen.query_one("#sim-restrict").value = True  # restricted to this machine: no 30-day expiry
        await pilot.pause()
        screen.query_one("#sim-create").press()
        await settle(pilot)
        api_key = app.session.api_key
        assert sim.key(api_key).restrictions["enableSpotAndMarginTrading"] is True
        await press_next(pilot)
        assert not app.session.verdict.blocked
        await press_next(pilot)
        assert "IP-restricted" in text_of(app, "#ip-state")
        await press_next(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert app.session.stored
        await press_next(pilot)
        assert app.screen.STEP == "test"
        assert "Test order for BTCUSDT accepted" in text_of(app, "#results")
        assert app.screen.query_one("#probe").display
        app.screen.query_one("#probe").press()
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.click("#yes")
        await pilot.pause()
        await settle(pilot)
        results = text_of(app, "#results")
        assert "Seen in open orders" in results and "Seen gone" in results
        assert results.count("✓") >= 6
        assert sim.open_orders(api_key) == []
        await press_next(pilot)
        assert app.screen.STEP == "summary"
        await press_next(pilot)
    assert app.return_code == 0
    stored = json.loads(memory_keyring.entries[(DEMO_SERVICE, "spot-laptop-2026-01-31")])
    assert stored["key_type"] == "ed25519" and "BEGIN PRIVATE KEY" in stored["private_key_pem"]
    assert_no_secret_on_disk(tmp_path, stored["private_key_pem"].splitlines()[1])


async def test_declining_the_visible_order_changes_nothing(sim, memory_keyring, tmp_path):
    key = sim.keys["spot_trading"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await through_ip(pilot, key.api_key, key.secret, "spot")
        await pilot.press("s")
        await settle(pilot)
        await press_next(pilot)
        log_size = len(sim.request_log)
        app.screen.query_one("#probe").press()
        await pilot.pause()
        await pilot.press("escape")  # "Not now"
        await settle(pilot)
        assert len(sim.request_log) == log_size
        assert not any("order" in entry.path and entry.method == "POST" and not entry.path.endswith("test")
                       for entry in sim.request_log)


async def test_null_keyring_is_refused_with_fix(sim, tmp_path):
    from keyring.backends.null import Keyring as NullKeyring

    key = sim.keys["read_only"]
    app = make_app(sim, NullKeyring(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await through_ip(pilot, key.api_key, key.secret, "read")
        problem = app.screen.query_one("#problem")
        assert problem.display and "null" in text_of(app, "#problem")
        assert "What to do:" in text_of(app, "#problem")
        assert "Check the keyring again" in str(app.screen.query_one("#store").label)
        await pilot.press("s")  # only re-checks
        await settle(pilot)
        assert not app.session.stored and app.session.secret is not None  # nothing lost
        assert app.screen.query_one("#next").disabled
    assert not (tmp_path / "keys.json").exists()


async def test_store_refuses_a_key_changed_to_withdrawals_since_step_3(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await through_ip(pilot, key.api_key, key.secret, "read")
        sim.set_permission(key.api_key, "enableWithdrawals", True)
        await pilot.press("s")
        await settle(pilot)
        assert not app.session.stored
        assert "Untick 'Enable Withdrawals'" in text_of(app, "#problem")
        assert memory_keyring.entries == {}  # stored, read back, refused, removed
    from wizard.registry import Registry

    assert Registry(tmp_path / "keys.json").all() == []  # the pending record went with the entry


async def test_rotation_replaces_only_after_verification_and_proves_old_key_dead(sim, memory_keyring, tmp_path):
    old = sim.keys["read_only"]
    label = "read-laptop-2026-01-31"
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:  # first, the key being rotated
        await through_ip(pilot, old.api_key, old.secret, "read")
        await pilot.press("s")
        await settle(pilot)
        assert app.session.stored
    new = sim.create_key(label="tracker-new", ip_allowlist=["127.0.0.1"])
    services = make_services(sim, memory_keyring, tmp_path)
    app = create_app(services, env=Environment.custom(sim.base_url, simulated=True), rotate_label=label)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        assert app.screen.query_one("#label").disabled and app.session.label == label
        await enter_key(pilot, new.api_key, new.secret)
        await press_next(pilot)
        await press_next(pilot)
        await press_next(pilot)
        entry = memory_keyring.entries[(DEMO_SERVICE, label)]
        assert json.loads(entry)["api_key"] == old.api_key  # untouched until stored
        await pilot.press("s")
        await settle(pilot)
        assert json.loads(memory_keyring.entries[(DEMO_SERVICE, label)])["api_key"] == new.api_key
        await press_next(pilot)
        await press_next(pilot)
        assert app.screen.STEP == "summary"
        await press_next(pilot)
        assert app.screen.STEP == "retire"
        assert "still works" in text_of(app, "#retire-status")
        assert app.screen.query_one("#next").disabled
        app.screen.query_one("#sim-delete-old").press()
        await settle(pilot)
        assert "no longer knows the old key" in text_of(app, "#retire-status")
        assert "recorded" in text_of(app, "#retire-status")
        await press_next(pilot)
    assert app.return_code == 0
    record = services.registry.get(label)
    assert len(record.rotations) == 1 and record.fingerprint.startswith(new.api_key[:4])


async def test_abandoned_rotation_keeps_old_key(sim, memory_keyring, tmp_path):
    from wizard.registry import KeyRecord, fingerprint
    from wizard.secret import Secret
    from wizard.vault import StoredKey

    old = sim.keys["read_only"]
    services = make_services(sim, memory_keyring, tmp_path)
    env = Environment.custom(sim.base_url, simulated=True)
    services.vault.store("tracker-old", StoredKey(old.api_key, "hmac", Secret(old.secret), "sim", env.base_url))
    services.registry.put(KeyRecord(label="tracker-old", env="sim", base_url=env.base_url,
                                    fingerprint=fingerprint(old.api_key), service=DEMO_SERVICE))
    new = sim.create_key(label="tracker-new", ip_allowlist=["127.0.0.1"])
    app = create_app(services, env=env, rotate_label="tracker-old")
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        await enter_key(pilot, new.api_key, new.secret)
        await press_next(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.click("#yes")
        await pilot.pause()
    assert app.return_code == 130
    assert json.loads(memory_keyring.entries[(DEMO_SERVICE, "tracker-old")])["api_key"] == old.api_key
    assert services.registry.get("tracker-old").fingerprint == fingerprint(old.api_key)


@pytest.mark.secret_service
@pytest.mark.parametrize(
    ("preset", "purpose", "label"),
    [("read_only", "read", "read-laptop-2026-01-31"),
     ("spot_trading", "spot", "spot-laptop-2026-01-31")],
)
async def test_full_run_into_real_secret_service(sim, secret_service_keyring, tmp_path, preset, purpose, label):
    key = sim.keys[preset]
    app = make_app(sim, secret_service_keyring, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await through_ip(pilot, key.api_key, key.secret, purpose)
            await pilot.press("s")
            await settle(pilot)
            assert app.session.stored, text_of(app, "#problem")
            assert "✓ The keyring is a real OS keyring" in text_of(app, "#progress")
            assert "SecretService" in text_of(app, "#where")
            await press_next(pilot)
            await press_next(pilot)
            await press_next(pilot)
        assert app.return_code == 0
        from wizard.credentials import load_credentials

        creds = load_credentials(label, service=DEMO_SERVICE, backend=secret_service_keyring)
        assert creds.api_key == key.api_key and creds.secret.reveal() == key.secret
    finally:
        try:
            secret_service_keyring.delete_password(DEMO_SERVICE, label)
        except Exception:  # noqa: BLE001 - already gone
            pass
