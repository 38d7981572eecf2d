"""How every screen looks at 80×24 (pytest-textual-snapshot; baselines in tests/__snapshots__/).

Deterministic on purpose: a seeded simulator, a fixed clock and host name,
and a fixed address shown for the simulator (the gateway factory sends the
calls to wherever the simulator really listens). Regenerate after an
intended change with ``pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from tests.keyrings import MemoryKeyring
from tests.test_app_harness import (
    FIXED_NOW,
    enter_key,
    make_services,
    press_next,
    settle,
    to_label_screen,
    to_permissions,
)
from wizard.app import create_app
from wizard.exchange.model import Environment

SIZE = (80, 24)
SHOWN_URL = "http://127.0.0.1:8765"  # what the screens show for the simulator


@pytest.fixture
def seeded_sim():
    """A simulator whose keys, secrets and order ids are the same every run."""
    from wizard.sim import SimExchange

    sim = SimExchange(seed=2026)
    # Dates from Binance (createTime, the trading expiry) are shown: pin them to the fixed clock.
    shift = int(FIXED_NOW.timestamp() * 1000) - sim.now_ms()
    for key in sim.keys.values():
        for field in ("createTime", "tradingAuthorityExpirationTime"):
            if isinstance(key.restrictions.get(field), int):
                key.restrictions[field] += shift
    sim.start_in_thread(port=0)
    yield sim
    sim.stop_in_thread()


def snapshot_app(sim, tmp_path, keyring=None, **kwargs):
    """A demo wizard showing SHOWN_URL while really talking to ``sim``."""
    from wizard.exchange.gateway import Gateway

    real = Environment.custom(sim.base_url, simulated=True)
    services = make_services(sim, keyring if keyring is not None else MemoryKeyring(), tmp_path)
    services.gateway_factory = lambda env, key: Gateway(real, key)
    return create_app(services, env=Environment.custom(SHOWN_URL, simulated=True), **kwargs)


@pytest.fixture
def fixed_keypair(monkeypatch):
    """Key generation made repeatable (the same pair every run)."""
    from wizard import keygen
    from wizard.secret import Secret
    from wizard.sim.keys import generate_ed25519

    private, public = generate_ed25519(random.Random(7))
    monkeypatch.setattr(keygen, "generate_ed25519", lambda: (Secret(private), public))


def test_welcome(snap_compare, seeded_sim, tmp_path):
    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=settle)


def test_checklist(snap_compare, seeded_sim, tmp_path):
    async def run(pilot):
        await settle(pilot)
        await press_next(pilot)
        pilot.app.screen.query_one("#check-two_factor").value = True
        await settle(pilot)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_label_with_qr(snap_compare, seeded_sim, tmp_path):
    async def run(pilot):
        await to_label_screen(pilot)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_label_key_entry_with_error(snap_compare, seeded_sim, tmp_path):
    key = seeded_sim.keys["read_only"]

    async def run(pilot):
        await to_label_screen(pilot)
        await enter_key(pilot, key.api_key, key.secret[:40])
        await press_next(pilot)  # refused: the secret is short
        pilot.app.screen.query_one("#secret-error").scroll_visible(animate=False)
        await settle(pilot)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_label_ed25519_generated(snap_compare, seeded_sim, tmp_path, fixed_keypair):
    async def run(pilot):
        await to_label_screen(pilot, purpose="spot")
        pilot.app.screen.query_one("#generate").press()
        await settle(pilot)
        pilot.app.screen.query_one("#pubkey").scroll_visible(animate=False, top=True)
        await settle(pilot)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_label_simulated_api_management(snap_compare, seeded_sim, tmp_path):
    async def run(pilot):
        await to_label_screen(pilot)
        pilot.app.screen.query_one("#sim-withdrawals").value = True
        pilot.app.screen.query_one("#sim-restrict").value = True
        await settle(pilot)
        pilot.app.screen.query_one("#sim-panel").scroll_visible(animate=False, top=True)
        await settle(pilot)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=(80, 30), run_before=run)


def test_permissions_ok(snap_compare, seeded_sim, tmp_path):
    key = seeded_sim.keys["read_only"]

    async def run(pilot):
        await to_permissions(pilot, key.api_key, key.secret)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_permissions_blocked_withdrawals(snap_compare, seeded_sim, tmp_path):
    key = seeded_sim.keys["withdrawals"]

    async def run(pilot):
        await to_permissions(pilot, key.api_key, key.secret)
        pilot.app.screen.query_one("#findings").scroll_visible(animate=False)
        await settle(pilot)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_permissions_blocked_light_theme(snap_compare, seeded_sim, tmp_path):
    key = seeded_sim.keys["futures"]

    async def run(pilot):
        pilot.app.theme = "textual-light"
        await to_permissions(pilot, key.api_key, key.secret)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_permissions_deleted_key(snap_compare, seeded_sim, tmp_path):
    key = seeded_sim.keys["deleted"]

    async def run(pilot):
        await to_permissions(pilot, key.api_key, key.secret)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_ip_unrestricted_trading_key(snap_compare, seeded_sim, tmp_path):
    # The simulator runs on real time, so the shown expiry must lie in the real future:
    # this test's wizard clock is moved to 2036 with it (both fixed, so the picture is stable).
    now = datetime(2036, 1, 31, 12, 0, tzinfo=timezone.utc)
    key = seeded_sim.keys["trading_unrestricted"]
    expires = now + timedelta(days=27)
    seeded_sim.set_permission(key.api_key, "tradingAuthorityExpirationTime", int(expires.timestamp() * 1000))
    app = snapshot_app(seeded_sim, tmp_path)
    app.services.clock = lambda: now

    async def run(pilot):
        await to_permissions(pilot, key.api_key, key.secret, purpose="spot")
        await press_next(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


async def _to_store(pilot, key, purpose="read"):
    await to_permissions(pilot, key.api_key, key.secret, purpose=purpose)
    await press_next(pilot)
    await press_next(pilot)


async def _to_small_test(pilot, key, purpose="read"):
    """Store the key (step 5), then move on to step 6."""
    await _to_store(pilot, key, purpose=purpose)
    await pilot.press("s")
    await settle(pilot)
    await press_next(pilot)


def test_store_ready(snap_compare, seeded_sim, tmp_path):
    key = seeded_sim.keys["read_only"]

    async def run(pilot):
        await _to_store(pilot, key)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_store_refused_null_keyring(snap_compare, seeded_sim, tmp_path):
    from keyring.backends.null import Keyring as NullKeyring

    key = seeded_sim.keys["read_only"]

    async def run(pilot):
        await _to_store(pilot, key)

    app = snapshot_app(seeded_sim, tmp_path, keyring=NullKeyring())
    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_small_test_read_only(snap_compare, seeded_sim, tmp_path):
    key = seeded_sim.keys["read_only"]

    async def run(pilot):
        await _to_small_test(pilot, key)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_small_test_spot_visible_order(snap_compare, seeded_sim, tmp_path):
    key = seeded_sim.keys["spot_trading"]

    async def run(pilot):
        await _to_small_test(pilot, key, purpose="spot")
        pilot.app.screen.query_one("#probe").press()
        await pilot.pause()
        await pilot.click("#yes")
        await settle(pilot)
        pilot.app.screen.query_one("#results").scroll_visible(animate=False)
        await settle(pilot)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_confirm_visible_order_dialog(snap_compare, seeded_sim, tmp_path):
    key = seeded_sim.keys["spot_trading"]

    async def run(pilot):
        await _to_small_test(pilot, key, purpose="spot")
        pilot.app.screen.query_one("#probe").press()
        await settle(pilot)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_summary(snap_compare, seeded_sim, tmp_path):
    key = seeded_sim.keys["read_only"]

    async def run(pilot):
        await _to_small_test(pilot, key)
        await press_next(pilot)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=(80, 40), run_before=run)


def test_retire_old_key(snap_compare, seeded_sim, tmp_path):
    from wizard.registry import KeyRecord, fingerprint
    from wizard.secret import Secret
    from wizard.vault import StoredKey

    old, new = seeded_sim.keys["read_only"], seeded_sim.keys["trading_unrestricted"]
    keyring = MemoryKeyring()
    app = snapshot_app(seeded_sim, tmp_path, keyring=keyring)
    base = Environment.custom(SHOWN_URL, simulated=True).base_url
    app.services.vault.store("tracker-old", StoredKey(old.api_key, "hmac", Secret(old.secret), "sim", base))
    app.services.registry.put(KeyRecord(label="tracker-old", env="sim", base_url=base, created_at=FIXED_NOW,
                                        fingerprint=fingerprint(old.api_key), service=app.keyring_service))
    app = create_app(app.services, env=app.session.env, rotate_label="tracker-old")
    seeded_sim.set_permission(new.api_key, "enableSpotAndMarginTrading", False)

    async def run(pilot):
        await to_label_screen(pilot)
        await enter_key(pilot, new.api_key, new.secret)
        for _ in range(3):
            await press_next(pilot)
        await pilot.press("s")
        await settle(pilot)
        for _ in range(3):
            await press_next(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_quit_confirmation(snap_compare, seeded_sim, tmp_path):
    key = seeded_sim.keys["read_only"]

    async def run(pilot):
        await to_label_screen(pilot)
        await enter_key(pilot, key.api_key, key.secret)
        await pilot.press("ctrl+q")
        await settle(pilot)

    assert snap_compare(snapshot_app(seeded_sim, tmp_path), terminal_size=SIZE, run_before=run)


def test_review(snap_compare):
    from wizard.registry import KeyRecord
    from wizard.screens.review import ReviewApp

    records = [
        KeyRecord(label="tracker-read-laptop", fingerprint="Ab12…xY9z", created_at=FIXED_NOW - timedelta(days=20),
                  last_verified_at=FIXED_NOW - timedelta(days=1), ip_restricted=True,
                  permissions={"confirmed": True, "reading": True}),
        KeyRecord(label="bot-spot-vps1", purpose="spot", fingerprint="Qw34…pL0k",
                  created_at=FIXED_NOW - timedelta(days=152), last_verified_at=FIXED_NOW - timedelta(days=40),
                  permissions={"confirmed": True, "reading": True, "spot_trading": True}, ip_restricted=False,
                  trading_expires_at=FIXED_NOW + timedelta(days=3)),
    ]
    assert snap_compare(ReviewApp(records, now=FIXED_NOW), terminal_size=(100, 16))
