"""Steps 1-2: checklist rules, label validation, key entry, paste cleaning, Back keeps entries."""

from __future__ import annotations

from tests.conftest import SENTINEL_SECRET
from tests.leaks import assert_no_leak
from wizard.screens.label import LABEL_SETTLE
from tests.test_app_harness import (
    SIZE,
    enter_key,
    make_app,
    paste,
    press_next,
    settle,
    text_of,
    to_label_screen,
)


async def test_checklist_needs_required_items(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_next(pilot)
        assert app.screen.STEP == "checklist"
        await press_next(pilot)  # nothing ticked: stays
        assert app.screen.STEP == "checklist"
        assert app.screen.query_one("#next").disabled
        assert "Still to tick: 2FA" in text_of(app, "#nav-status")
        app.screen.query_one("#purpose-spot").value = True
        for item in ("two_factor", "purpose_understood", "risk_understood"):
            app.screen.query_one(f"#check-{item}").value = True
        await pilot.pause()
        assert app.session.purpose == "spot"
        assert app.session.checklist["two_factor"] and not app.session.checklist["withdraw_allowlist"]
        await press_next(pilot)
        assert app.screen.STEP == "label"


async def test_label_suggested_and_generic_label_rejected(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        label = app.screen.query_one("#label")
        assert label.value == "read-laptop-2026-01-31"
        await enter_key(pilot, key.api_key, key.secret)
        label.value = "bot"
        await pilot.pause(LABEL_SETTLE + 0.1)
        assert "too" in text_of(app, "#label-error")  # too short / too generic, with the reason
        label.value = "trading bot"
        await pilot.pause(LABEL_SETTLE + 0.1)
        assert "too generic" in text_of(app, "#label-error")
        await press_next(pilot)
        assert app.screen.STEP == "label"  # cannot go on
        assert app.session.api_key == key.api_key and app.session.secret is not None
        label.value = "x" * 40
        await pilot.pause(LABEL_SETTLE + 0.1)
        assert "too long" in text_of(app, "#label-error")
        label.value = "portfolio-tracker-laptop"
        await pilot.pause(LABEL_SETTLE + 0.1)
        assert text_of(app, "#label-error") == ""
        await press_next(pilot)
        assert app.screen.STEP == "permissions"
        assert app.session.label == "portfolio-tracker-laptop"


async def test_malformed_secret_paste_keeps_other_fields(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        await enter_key(pilot, key.api_key, key.secret[:50])  # a truncated paste
        await press_next(pilot)
        assert app.screen.STEP == "label"
        error = text_of(app, "#secret-error")
        assert "50 characters instead of 64" in error
        assert_no_leak(error, secret=key.secret)  # never echoed, not even in part
        assert app.screen.query_one("#api-key").value == key.api_key
        assert app.screen.query_one("#label").value == "read-laptop-2026-01-31"
        # A paste that wrapped over lines, with spaces around, is cleaned and accepted.
        wrapped = f"  {key.secret[:30]}\r\n{key.secret[30:]}  \n"
        await paste(pilot, "#secret", wrapped)
        assert app.session.secret.reveal() == key.secret
        await press_next(pilot)
        assert app.screen.STEP == "permissions"


async def test_secret_field_masks_and_refuses_copy(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        await enter_key(pilot, "A" * 64, SENTINEL_SECRET)
        field = app.screen.query_one("#secret")
        assert field.password
        field.focus()
        field.select_all()
        await pilot.press("ctrl+c")
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert_no_leak(app.clipboard)
        assert field.value == SENTINEL_SECRET  # cut did not remove (nor copy) anything
        assert_no_leak(app.export_screenshot())


async def test_back_keeps_everything(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        await enter_key(pilot, key.api_key, key.secret)
        app.screen.query_one("#label").value = "tracker-laptop-main"
        await pilot.pause()
        await pilot.press("escape")  # back to the checklist
        await pilot.pause()
        assert app.screen.STEP == "checklist"
        assert app.screen.query_one("#check-two_factor").value is True
        await press_next(pilot)
        screen = app.screen
        assert screen.query_one("#label").value == "tracker-laptop-main"
        assert screen.query_one("#api-key").value == key.api_key
        assert screen.query_one("#secret").value == key.secret
        assert screen.query_one("#kt-hmac").value is True


async def test_generate_ed25519_and_register_in_sim_panel(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        screen = app.screen
        screen.query_one("#kt-ed25519").value = True
        await pilot.pause()
        assert screen.query_one("#secret-box").display is False
        screen.query_one("#generate").press()
        await settle(pilot)
        public = app.session.public_key_pem
        assert public and public.startswith("-----BEGIN PUBLIC KEY-----")
        assert app.session.key_type == "ed25519" and app.session.secret is not None
        assert "BEGIN PUBLIC KEY" in text_of(app, "#pubkey")
        assert "PRIVATE" not in app.export_screenshot()
        assert screen.query_one("#pub-qr").data == public.strip()
        screen.query_one("#sim-create").press()
        await settle(pilot)
        simkey = sim.key(app.session.api_key)
        assert simkey.key_type == "ed25519" and simkey.public_key_pem.strip() == public.strip()
        assert screen.query_one("#api-key").value == simkey.api_key
        await press_next(pilot)
        assert app.screen.STEP == "permissions"
        assert not app.session.verdict.blocked
