"""Cross-cutting behaviour: crashes without locals, a responsive UI on a slow exchange,
resizing, environments that cannot confirm permissions, and the review table."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import SENTINEL_SECRET
from tests.leaks import assert_no_leak
from tests.test_app_harness import (
    FIXED_NOW,
    SIZE,
    make_services,
    press_next,
    settle,
    text_of,
    to_label_screen,
    to_permissions,
    make_app,
)
from wizard.app import create_app
from wizard.exchange.model import Environment
from wizard.secret import Secret


async def test_crash_report_has_no_locals_and_no_secret(sim, memory_keyring, tmp_path, capfd):
    app = make_app(sim, memory_keyring, tmp_path)

    def explode() -> None:
        secret_value = SENTINEL_SECRET  # a local that Textual's default report would print
        raise RuntimeError(f"boom near {secret_value}")  # even a careless message is masked

    with pytest.raises(RuntimeError):
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.session.secret = Secret(SENTINEL_SECRET)
            app.call_later(explode)
            await pilot.pause()
    out, err = capfd.readouterr()
    report = out + err
    assert "RuntimeError" in report and "boom near ********" in report
    assert_no_leak(report)  # neither in the message nor in a locals panel
    assert app.session.secret is None and app.return_code == 1


async def test_ui_answers_while_exchange_is_slow(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        screen = app.screen
        screen.query_one("#kt-hmac").value = True
        await pilot.pause()  # Ed25519 is the default type: switching clears the key fields
        screen.query_one("#api-key").value = key.api_key
        screen.query_one("#secret").value = key.secret
        await pilot.pause()
        sim.faults.latency = 1.5
        await pilot.press("ctrl+n")
        await pilot.pause()
        screen = app.screen
        assert screen.STEP == "permissions"
        assert screen.query_one("#busy").active  # spinner shown, check in flight
        assert screen.query_one("#next").disabled
        await pilot.press("escape")  # the user can still move while it runs
        await pilot.pause()
        assert app.screen.STEP == "label"
        sim.faults.latency = 0
        await press_next(pilot)
        assert app.screen.STEP == "permissions" and not app.session.verdict.blocked


async def test_timeout_is_not_verified_and_can_be_retried(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    services = make_services(sim, memory_keyring, tmp_path, timeout=1.0)
    app = create_app(services, env=Environment.custom(sim.base_url, simulated=True))
    async with app.run_test(size=SIZE) as pilot:
        sim.faults.latency = 3.0
        await to_permissions(pilot, key.api_key, key.secret)
        assert "No answer within" in text_of(app, "#problem") or "time" in text_of(app, "#problem").lower()
        assert app.screen.query_one("#next").disabled
        sim.faults.latency = 0
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.query_one("#next").disabled is False


async def test_resizes_cleanly(sim, memory_keyring, tmp_path):
    key = sim.keys["withdrawals"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_permissions(pilot, key.api_key, key.secret)
        for size in ((60, 18), (140, 45), SIZE):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            stepper = str(app.screen.query_one("Stepper").render())
            assert "3 Permissions" in stepper
            assert app.screen.query_one("#nav").region.bottom <= size[1]
            assert app.screen.query_one("#next").region.right <= size[0]
        await pilot.resize_terminal(140, 45)
        await pilot.pause()
        assert "✓ Label" in str(app.screen.query_one("Stepper").render())  # the whole line fits
        await pilot.resize_terminal(60, 18)
        await pilot.pause()
        assert "step 4 of 8" in str(app.screen.query_one("Stepper").render())  # compact when narrow


async def test_environment_without_sapi_is_probed_never_shown_ok(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    probed = Environment("custom", f"{sim.base_url}/api", None, sim.base_url, "Test server without /sapi")
    app = create_app(make_services(sim, memory_keyring, tmp_path), env=probed)
    async with app.run_test(size=SIZE) as pilot:
        await to_permissions(pilot, key.api_key, key.secret)
        perms = app.session.permissions
        assert perms is not None and not perms.confirmed
        table = text_of(app, "#perm-table")
        withdrawals = next(line for line in table.splitlines() if line.startswith("Enable Withdrawals"))
        assert "? unknown" in withdrawals and "✓" not in withdrawals
        assert "Probed, not confirmed" in text_of(app, "#verdict")
        assert "permissions" in text_of(app, "#findings").lower()


async def test_review_app_lists_keys_and_due_rotations():
    from wizard.registry import KeyRecord
    from wizard.screens.review import ReviewApp

    records = [
        KeyRecord(label="tracker-read-laptop", fingerprint="Ab12…xY9z", created_at=FIXED_NOW - timedelta(days=5),
                  ip_restricted=True, permissions={"confirmed": True, "reading": True}),
        KeyRecord(label="bot-spot-vps1", purpose="spot", fingerprint="Qw34…pL0k",
                  created_at=FIXED_NOW - timedelta(days=200), ip_restricted=False,
                  permissions={"confirmed": True, "reading": True, "spot_trading": True}),
    ]
    app = ReviewApp(records, now=FIXED_NOW)
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("DataTable")
        assert table.row_count == 2
        assert "Rotation due: bot-spot-vps1" in str(app.screen.query_one("#review-notes").render())
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_a_replaced_step_is_freed_at_once(sim, memory_keyring, tmp_path):
    """Once the long-lived heap is frozen, moving on frees the step left behind right away
    instead of keeping it until a rare full collection."""
    import gc
    import weakref

    from wizard.app import BACKGROUND_START_DELAY

    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(BACKGROUND_START_DELAY)
        await settle(pilot)  # python-binance loaded, the heap frozen
        assert gc.get_freeze_count() > 0
        await to_label_screen(pilot)
        await pilot.press("escape")  # back to the checklist: the label step is replaced
        await settle(pilot)
        assert app.screen.STEP == "checklist"
        checklist = weakref.ref(app.screen)
        await press_next(pilot)  # the checklist is replaced in turn
        await pilot.pause()
        assert app.screen.STEP == "label"
        assert checklist() is None
