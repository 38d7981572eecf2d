"""Steps 3-4 against the simulator: blocks, plain-language problems, re-checks, IP allowlist."""

from __future__ import annotations

from tests.test_app_harness import SIZE, make_app, press_next, settle, text_of, to_label_screen, to_permissions


async def test_withdrawal_key_is_blocked_and_next_is_impossible(sim, memory_keyring, tmp_path):
    key = sim.keys["withdrawals"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_permissions(pilot, key.api_key, key.secret)
        assert app.session.verdict.blocked
        assert app.session.verdict.by_id("withdrawals_enabled") is not None
        findings = text_of(app, "#findings")
        assert "Untick 'Enable Withdrawals'" in findings  # the exact setting to change
        assert "Enable Withdrawals" in text_of(app, "#perm-table")
        assert "Blocked" in text_of(app, "#verdict")
        assert app.screen.query_one("#next").disabled
        for _ in range(2):  # neither the key nor the action gets past it
            await pilot.press("ctrl+n")
            await pilot.pause()
            app.screen.action_next()
            await pilot.pause()
        assert app.screen.STEP == "permissions"
        assert memory_keyring.entries == {}


async def test_recheck_after_fixing_the_key_in_the_sim(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        screen = app.screen
        screen.query_one("#kt-hmac").value = True
        screen.query_one("#sim-futures").value = True  # tick a dangerous box in the demo panel
        await pilot.pause()
        screen.query_one("#sim-create").press()
        await settle(pilot)
        assert app.session.api_key and app.session.secret is not None
        await press_next(pilot)
        assert app.session.verdict.by_id("futures_enabled") is not None
        assert app.screen.query_one("#next").disabled
        # Back to the panel, untick it there, and come forward again: re-read, unblocked.
        await pilot.press("escape")
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#sim-futures").value is True  # shows the key's real state
        screen.query_one("#sim-futures").value = False
        await pilot.pause()
        screen.query_one("#sim-apply").press()
        await settle(pilot)
        await press_next(pilot)
        assert not app.session.verdict.blocked
        # And a change made behind the wizard's back is caught by Re-check (r).
        sim.set_permission(app.session.api_key, "enableInternalTransfer", True)
        await pilot.press("r")
        await settle(pilot)
        assert app.session.verdict.by_id("internal_transfer_enabled") is not None
        assert app.screen.query_one("#next").disabled


async def test_deleted_key_shows_plain_problem_with_retry(sim, memory_keyring, tmp_path):
    key = sim.keys["deleted"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_permissions(pilot, key.api_key, key.secret)
        box = text_of(app, "#problem")
        assert "What to do:" in box
        assert "-2008" in app.screen.query_one("#problem").border_title
        assert "Not verified" in text_of(app, "#verdict")
        assert app.screen.query_one("#perm-table").display is False  # never shown as ok
        assert app.screen.query_one("#next").disabled
        assert str(app.screen.query_one("#recheck").label).startswith("Retry")


async def test_wrong_secret_and_network_failure_then_retry(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        wrong = key.secret[:-1] + ("A" if key.secret[-1] != "A" else "B")
        await to_permissions(pilot, key.api_key, wrong)
        assert "-1022" in app.screen.query_one("#problem").border_title
        assert app.screen.query_one("#next").disabled
        # Fix the secret on step 2; meanwhile the exchange goes down for a while.
        await pilot.press("escape")
        await pilot.pause()
        app.screen.query_one("#secret").value = key.secret
        await pilot.pause()
        sim.faults.fail_next(20, status=503)
        await press_next(pilot)
        assert app.screen.query_one("#problem").display
        assert app.session.verdict.blocked and app.screen.query_one("#next").disabled
        sim.faults.reset()
        await pilot.press("r")
        await settle(pilot)
        assert not app.screen.query_one("#problem").display
        assert app.session.verdict is not None and not app.session.verdict.blocked
        assert app.screen.query_one("#next").disabled is False


async def test_checklist_shows_what_the_api_saw(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    sim.set_withdraw_addresses(key.api_key, [{"address": "bc1qexample", "coin": "BTC", "whiteStatus": True}])
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_permissions(pilot, key.api_key, key.secret)
        assert app.session.account is not None
        assert "allowlisted" in text_of(app, "#facts")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.STEP == "checklist"
        assert "seen on the account" in text_of(app, "#seen-withdraw_allowlist")
        assert "status Normal" in text_of(app, "#account-status")


async def test_ip_step_unrestricted_trading_key_warns_with_expiry_date(sim, memory_keyring, tmp_path):
    key = sim.keys["trading_unrestricted"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_permissions(pilot, key.api_key, key.secret, purpose="spot")
        assert not app.session.verdict.blocked
        await press_next(pilot)
        assert app.screen.STEP == "ip"
        assert "Not IP-restricted" in text_of(app, "#ip-state")
        expires = app.session.permissions.trading_expires_at
        assert expires is not None and expires.strftime("%Y-%m-%d") in text_of(app, "#expiry")
        assert "signed call succeeded" in text_of(app, "#machine")
        assert app.screen.query_one("#next").disabled is False  # allowed, with the warning


async def test_ip_step_restricted_key_that_excludes_this_machine(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_permissions(pilot, key.api_key, key.secret)
        sim.set_ip_allowlist(key.api_key, ["203.0.113.7"])  # the user restricts it to the server only
        await press_next(pilot)
        assert app.screen.STEP == "ip"
        assert "-2015" in app.screen.query_one("#problem").border_title
        assert "failed" in text_of(app, "#machine")
        assert app.screen.query_one("#next").disabled
        sim.set_ip_allowlist(key.api_key, ["203.0.113.7", "127.0.0.1"])
        await pilot.press("r")
        await settle(pilot)
        assert "IP-restricted" in text_of(app, "#ip-state")
        assert app.screen.query_one("#next").disabled is False


async def test_profile_requiring_ip_restriction_blocks_and_offers_ips(sim, memory_keyring, tmp_path):
    from wizard.profiles import parse_profile

    profile = parse_profile(
        '[product]\nname = "Acme Tracker"\n[key]\npurpose = "read"\n'
        '[ip]\negress = ["203.0.113.10"]\nrequire_restriction = true\n', "acme.toml")
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path, profile=profile)
    async with app.run_test(size=SIZE) as pilot:
        sim.set_ip_allowlist(key.api_key, [])
        await to_permissions(pilot, key.api_key, key.secret)
        assert app.session.verdict.by_id("ip_restriction_required") is not None
        assert app.screen.query_one("#next").disabled  # blocked already on step 3
        sim.set_ip_allowlist(key.api_key, ["203.0.113.10", "127.0.0.1"])
        await pilot.press("r")
        await settle(pilot)
        await press_next(pilot)
        assert app.screen.STEP == "ip"
        assert "203.0.113.10" in text_of(app, "#egress")
        app.screen.query_one("#copy-ips").press()
        await pilot.pause()
        assert app.clipboard == "203.0.113.10"
