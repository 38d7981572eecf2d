"""Issue 11 on the screens: every ✓ is true (Pilot, the simulator through python-binance)."""

from __future__ import annotations

import json

from tests.test_app_harness import (
    SIZE,
    enter_key,
    make_app,
    make_services,
    press_next,
    settle,
    text_of,
    to_label_screen,
)
from tests.test_typing import wait_for
from wizard.app import DEMO_SERVICE, create_app
from wizard.exchange.model import Environment
from wizard.registry import KeyRecord, fingerprint
from wizard.secret import Secret
from wizard.widgets.debounce import TYPING_PAUSE
from wizard.vault import StoredKey


def _seed_rotation(sim, memory_keyring, tmp_path, label: str = "tracker-old-vps1"):
    """A managed key to rotate: (services, old sim key)."""
    old = sim.keys["read_only"]
    services = make_services(sim, memory_keyring, tmp_path)
    env = Environment.custom(sim.base_url, simulated=True)
    services.vault.store(label, StoredKey(old.api_key, "hmac", Secret(old.secret), "sim", env.base_url))
    services.registry.put(KeyRecord(label=label, env="sim", base_url=env.base_url,
                                    fingerprint=fingerprint(old.api_key), service=DEMO_SERVICE))
    return services, old


async def test_rotation_refuses_the_old_key_on_the_label_step(sim, memory_keyring, tmp_path):
    services, old = _seed_rotation(sim, memory_keyring, tmp_path)
    app = create_app(services, env=Environment.custom(sim.base_url, simulated=True), rotate_label="tracker-old-vps1")
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        await enter_key(pilot, old.api_key, old.secret)
        # The status line follows a pause in typing (wizard/widgets/debounce.py), not each key.
        await wait_for(lambda: "key being rotated" in text_of(app, "#nav-status"))
        assert "key being rotated" in text_of(app, "#api-key-error")
        await press_next(pilot)
        assert app.screen.STEP == "label"  # never on to step 3 with the old key
    entry = json.loads(memory_keyring.entries[(DEMO_SERVICE, "tracker-old-vps1")])
    assert entry["api_key"] == old.api_key


async def test_rotation_compares_whole_keys_when_the_old_one_is_loaded(sim, memory_keyring, tmp_path):
    """`rotate` hands the loaded old key to the app: a key sharing only the fingerprint is new."""
    services, old = _seed_rotation(sim, memory_keyring, tmp_path)
    app = create_app(services, env=Environment.custom(sim.base_url, simulated=True),
                     rotate_label="tracker-old-vps1", old_key=services.vault.load("tracker-old-vps1").key_material())
    lookalike = old.api_key[:4] + ("x" if old.api_key[4] != "x" else "y") + old.api_key[5:]
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        await enter_key(pilot, lookalike, old.secret)
        await pilot.pause(3 * TYPING_PAUSE)  # past the pause after which the status line is updated
        assert "key being rotated" not in text_of(app, "#nav-status")
        await enter_key(pilot, old.api_key, old.secret)
        await wait_for(lambda: "key being rotated" in text_of(app, "#nav-status"))


async def _store_and_summary(pilot) -> None:
    """From step 4: store, pass the small test, land on the summary."""
    await press_next(pilot)
    assert pilot.app.screen.STEP == "store"
    await pilot.press("s")
    await settle(pilot)
    assert pilot.app.session.stored, text_of(pilot.app, "#problem")
    await press_next(pilot)
    assert pilot.app.screen.STEP == "test"
    await press_next(pilot)
    assert pilot.app.screen.STEP == "summary"


async def test_a_profiles_ip_list_is_never_shown_as_checked(sim, memory_keyring, tmp_path):
    """Binance says THAT a key has an IP list, never which IPs: the bot's stay unproven."""
    from wizard.profiles import parse_profile

    profile = parse_profile(
        '[product]\nname = "Acme Tracker"\nid = "acme-tracker"\n[key]\npurpose = "read"\n'
        '[ip]\negress = ["203.0.113.10", "203.0.113.11"]\nrequire_restriction = true\n', "acme.toml")
    key = sim.keys["read_only"]  # restricted to 127.0.0.1 only: none of the profile's IPs
    app = make_app(sim, memory_keyring, tmp_path, profile=profile)
    async with app.run_test(size=(100, 40)) as pilot:
        await to_permissions_with(pilot, key)
        await press_next(pilot)
        assert app.screen.STEP == "ip"
        state = text_of(app, "#ip-state")
        assert "listed IP addresses" not in state
        assert "Not proven" in state and "Acme Tracker's addresses" in state
        assert f"binance-key-wizard --demo check {app.session.label}" in state or \
            f"binance-key-wizard check {app.session.label}" in state
        assert "this machine's IP is on the key's list" in text_of(app, "#machine")
        await _store_and_summary(pilot)
        hygiene = text_of(app, "#hygiene")
        assert "the key only works from trusted IPs" not in hygiene
        assert "Not proven: that Acme Tracker's addresses are on that list" in hygiene


async def test_without_a_profile_no_list_is_referred_to(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await to_permissions_with(pilot, key)
        await press_next(pilot)
        state = text_of(app, "#ip-state")
        assert "listed" not in state and "trusted-IP list" in state
        assert "check" in state and app.session.label in state


async def to_permissions_with(pilot, key, purpose: str = "read") -> None:
    await to_label_screen(pilot, purpose)
    await enter_key(pilot, key.api_key, key.secret)
    await press_next(pilot)
    assert pilot.app.screen.STEP == "permissions", text_of(pilot.app, "#nav-status")


async def test_summary_names_the_trading_cut_off_of_an_unrestricted_spot_key(sim, memory_keyring, tmp_path):
    key = sim.keys["trading_unrestricted"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await to_permissions_with(pilot, key, "spot")
        await press_next(pilot)
        assert app.screen.STEP == "ip"
        cut_off = app.session.permissions.trading_expires_at
        await _store_and_summary(pilot)
        rotation = text_of(app, "#rotation")
        assert f"First date that matters: {cut_off:%Y-%m-%d}" in rotation
        assert "trading permission ends" in rotation and "IP allowlist" in rotation


async def test_summary_praises_only_what_the_label_names(sim, memory_keyring, tmp_path):
    """The suggestion names this machine, the purpose and the date — not a tool, and the
    summary says so instead of 'names the tool, purpose and machine'."""
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await to_permissions_with(pilot, key)
        assert app.session.label == "read-laptop-2026-01-31"
        await press_next(pilot)
        await _store_and_summary(pilot)
        hygiene = text_of(app, "#hygiene")
        assert "names the tool, purpose and machine" not in hygiene
        assert "names this machine (laptop), the purpose (read) and the date, but not the tool" in hygiene


async def test_label_problems_show_in_the_status_line_as_typed(sim, memory_keyring, tmp_path):
    from wizard.screens.label import LABEL_SETTLE

    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await to_label_screen(pilot)
        field = app.screen.query_one("#label")
        field.focus()
        field.value = ""
        await pilot.press(*"bot-spot-2026")
        await pilot.pause(LABEL_SETTLE + 0.1)
        assert "Label: 'bot-spot-2026' names no tool or machine" in text_of(app, "#nav-status")
        assert "names no tool or machine" in text_of(app, "#label-error")
        await pilot.press(*"-vps1")
        await pilot.pause(LABEL_SETTLE + 0.1)
        assert "Label:" not in text_of(app, "#nav-status")


# -- the first run ---------------------------------------------------------------------------


def _footer_keys(app) -> dict[str, str]:
    """What the key bar offers now: key -> words (only bindings Textual would show)."""
    shown = {}
    for key, (_node, binding, enabled, _tooltip) in app.active_bindings.items():
        if binding.show and enabled:
            shown[key] = binding.description
    return shown


async def test_checklist_status_names_the_items_still_to_tick(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_next(pilot)
        status = text_of(app, "#nav-status")
        assert "required item(s)" not in status
        assert "2FA" in status and "which tool uses the key" in status and "risk-free" in status
        app.screen.query_one("#check-two_factor").value = True
        await pilot.pause()
        assert "2FA" not in text_of(app, "#nav-status")


async def test_demo_welcome_says_no_account_is_needed_and_warns_without_a_keyring(sim, tmp_path):
    from keyring.backends.null import Keyring as NullKeyring

    app = make_app(sim, NullKeyring(), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.5)
        await settle(pilot)
        assert "Binance account" not in text_of(app, "#needs")
        warning = text_of(app, "#keyring-warning")
        assert app.screen.query_one("#keyring-warning").display
        assert "No usable keyring" in warning and "bash wizard/demo.sh" in warning


async def test_demo_welcome_is_quiet_with_a_working_keyring(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(0.5)
        await settle(pilot)
        assert not app.screen.query_one("#keyring-warning").display


async def test_the_key_bar_shows_only_what_works_in_the_buttons_words(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await press_next(pilot)
        assert "ctrl+n" not in _footer_keys(app)  # nothing ticked yet: Next does not work
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.STEP == "welcome"
        assert "escape" not in _footer_keys(app)  # no step before the first
        await to_permissions_with(pilot, key)
        await press_next(pilot)
        await press_next(pilot)
        assert app.screen.STEP == "store"
        assert _footer_keys(app).get("s") == "Store the key"
        await pilot.press("s")
        await settle(pilot)
        assert "s" not in _footer_keys(app)  # stored: the button is gone, so is its key
        assert "escape" not in _footer_keys(app)
        await press_next(pilot)
        await press_next(pilot)
        assert app.screen.STEP == "summary"
        keys = _footer_keys(app)
        assert keys.get("ctrl+n") == "Finish" and "escape" not in keys


async def test_next_pressed_during_a_check_is_answered_and_kept(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await to_permissions_with(pilot, key)
        sim.faults.latency = 1.0
        await pilot.press("r")  # re-check: slow
        await pilot.pause()
        assert app.screen.checking()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen.STEP == "permissions"
        assert any("Checking" in str(n.message) for n in app._notifications)
        sim.faults.latency = 0
        for _ in range(60):  # not settle(): the queued Next switches screens under its feet
            await pilot.pause(0.1)
            if getattr(app.screen, "STEP", "") == "ip":
                break
        assert app.screen.STEP == "ip"  # the queued Next went on once the check passed


async def test_the_recommended_key_type_is_the_default(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        assert app.screen.query_one("#kt-ed25519").value
        assert app.session.key_type == "ed25519"


async def test_step_4_says_each_warning_once(sim, memory_keyring, tmp_path):
    key = sim.keys["trading_unrestricted"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await to_permissions_with(pilot, key, "spot")
        await press_next(pilot)
        assert app.screen.STEP == "ip"
        body = " ".join(text_of(app, sel) for sel in ("#ip-state", "#egress", "#expiry", "#machine", "#ip-findings"))
        assert body.count("from anywhere") == 1
        assert body.count("30 days") == 1
        assert body.count("Restrict access to trusted IPs only") == 1
