"""Pilot harness for the wizard (imported by the other test_app_* modules), plus start-up tests.

The app is built through ``create_app`` with the real simulator (``sim``
fixture) and an in-memory keyring: no patching. Deterministic clock and host
name keep labels and dates stable.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

from wizard.app import DEMO_SERVICE, BACKGROUND_START_DELAY, Services, WizardApp, create_app, default_gateway
from wizard.exchange.model import Environment
from wizard.session import WizardSession

FIXED_NOW = datetime(2026, 1, 31, 12, 0, tzinfo=timezone.utc)
SIZE = (80, 24)
REPO = Path(__file__).resolve().parent.parent


def make_services(sim, keyring, tmp_path, *, service: str = DEMO_SERVICE, timeout: float = 15.0) -> Services:
    """Real gateway, vault over ``keyring``, registry in ``tmp_path``, the given simulator."""
    from wizard.registry import Registry
    from wizard.vault import Vault

    return Services(
        gateway_factory=default_gateway,
        vault=Vault(backend=keyring, service=service, timeout=timeout),
        registry=Registry(tmp_path / "keys.json"),
        sim=sim,
        clock=lambda: FIXED_NOW,
        hostname="laptop",
        call_timeout=timeout,
    )


def make_app(sim, keyring, tmp_path, **kwargs) -> WizardApp:
    """A demo-mode wizard against ``sim``."""
    env = Environment.custom(sim.base_url, simulated=True)
    return create_app(make_services(sim, keyring, tmp_path), env=env, **kwargs)


async def settle(pilot, rounds: int = 20) -> None:
    """Wait until no worker runs and every message they posted is handled."""
    app = pilot.app
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            await pilot.pause()
            return


async def press_next(pilot) -> None:
    """ctrl+n, then let the next screen mount and its checks finish."""
    await pilot.press("ctrl+n")
    await pilot.pause()
    await settle(pilot)


async def to_label_screen(pilot, purpose: str = "read") -> None:
    """Welcome → checklist (required items ticked, purpose chosen) → label screen."""
    await settle(pilot)
    await press_next(pilot)
    screen = pilot.app.screen
    screen.query_one(f"#purpose-{purpose}").value = True
    for item in ("two_factor", "purpose_understood", "risk_understood"):
        screen.query_one(f"#check-{item}").value = True
    await pilot.pause()
    await press_next(pilot)
    assert pilot.app.screen.STEP == "label"


async def paste(pilot, selector: str, text: str) -> None:
    """Focus a field and paste ``text`` as a terminal would (bracketed paste)."""
    from textual import events

    widget = pilot.app.screen.query_one(selector)
    widget.value = ""
    widget.focus()
    await pilot.pause()
    widget.post_message(events.Paste(text))
    await pilot.pause()


async def enter_key(pilot, api_key: str, secret: str | None) -> None:
    """Choose HMAC and paste the key and secret on the label screen."""
    screen = pilot.app.screen
    screen.query_one("#kt-hmac").value = True
    await pilot.pause()
    await paste(pilot, "#api-key", api_key)
    if secret is not None:
        await paste(pilot, "#secret", secret)


async def to_permissions(pilot, api_key: str, secret: str, purpose: str = "read") -> None:
    """Up to step 3 with the given key."""
    await to_label_screen(pilot, purpose)
    await enter_key(pilot, api_key, secret)
    await press_next(pilot)
    assert pilot.app.screen.STEP == "permissions"


def text_of(app, selector: str) -> str:
    """The plain text a Static currently shows."""
    widget = app.screen.query_one(selector)
    return str(widget.render())


# -- start-up -------------------------------------------------------------------------------


def test_no_heavy_import_before_first_frame(tmp_path):
    """binance/keyring/qrcode/aiohttp (and the wizard's exchange model, keyring and registry
    modules) must not load before the first frame (run_wizard's path)."""
    script = textwrap.dedent(
        """
        import argparse, asyncio, sys
        from wizard import app as appmod, launch

        HEAVY = ("binance", "keyring", "qrcode", "aiohttp")
        # The wizard's own modules that wait for first use, for the same reason.
        LATER = ("wizard.exchange.model", "wizard.vault", "wizard.registry", "wizard.messages")

        class Probe(appmod.WizardApp):
            def on_ready(self):  # Textual calls this as the first frame goes out
                loaded = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
                loaded += sorted(set(sys.modules) & set(LATER))
                print("LOADED", ",".join(loaded) or "-", "ON", self.screen.STEP, flush=True)
                self.exit(return_code=0)

        appmod.WizardApp = Probe
        args = argparse.Namespace(demo=False, env="live", base_url=None, profile=None, purpose=None)
        app = launch.app_from_args(args)

        async def main():
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()

        asyncio.run(main())
        """
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                            timeout=60, cwd=REPO)
    assert "LOADED - ON welcome" in result.stdout, result.stdout + result.stderr


def test_heap_is_frozen_once_python_binance_has_loaded(tmp_path):
    """While the welcome is read, python-binance loads in the background; then the long-lived
    heap is frozen (once), so full garbage collections stop pausing the UI."""
    script = textwrap.dedent(
        """
        import argparse, asyncio, gc, sys
        from wizard import app as appmod, launch

        args = argparse.Namespace(demo=False, env="live", base_url=None, profile=None, purpose=None)
        app = launch.app_from_args(args)

        async def main():
            async with app.run_test(size=(80, 24)) as pilot:
                before = ("binance" in sys.modules, gc.get_freeze_count())
                for _ in range(200):
                    await pilot.pause(0.05)
                    if gc.get_freeze_count():
                        break
                print("FROZEN", before, "binance" in sys.modules, gc.get_freeze_count() > 10_000,
                      app.screen.STEP, flush=True)

        asyncio.run(main())
        """
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                            timeout=60, cwd=REPO)
    assert "FROZEN (False, 0) True True welcome" in result.stdout, result.stdout + result.stderr


async def test_the_first_frame_is_the_whole_first_screen(sim, memory_keyring, tmp_path):
    """The first frame has the welcome text, Back/Next and the key bar (one layout, one render),
    with Start focused."""
    seen: dict[str, bool] = {}

    class Watch(WizardApp):
        def on_ready(self) -> None:  # Textual calls this as the first frame goes out
            seen["heading"] = bool(self.screen.query(".heading"))
            seen["nav"] = bool(self.screen.query("#nav"))
            seen["keys"] = bool(self.screen.query("KeyBar"))
            super().on_ready()

    session = WizardSession(env=Environment.custom(sim.base_url, simulated=True))
    app = Watch(make_services(sim, memory_keyring, tmp_path), session)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert seen == {"heading": True, "nav": True, "keys": True}
        assert app.screen.query_one("#next").has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.STEP == "checklist"


async def test_back_to_the_first_step_and_on_again(sim, memory_keyring, tmp_path):
    """The first step is the default screen: leaving it, coming back and leaving again all work."""
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(2):
            await press_next(pilot)
            assert app.screen.STEP == "checklist"
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen.STEP == "welcome"
            assert app.screen.query_one("#next").disabled is False
        await press_next(pilot)
        assert app.screen.STEP == "checklist"


async def test_services_given_as_a_builder_are_built_once_on_first_use(sim, memory_keyring, tmp_path):
    built: list[Services] = []

    def build() -> Services:
        built.append(make_services(sim, memory_keyring, tmp_path))
        return built[-1]

    app = create_app(build, env=Environment.custom(sim.base_url, simulated=True))
    assert built == []  # creating the app touches no keyring or registry
    assert app.services is app.services is built[0]


async def test_welcome_names_environment_and_promise(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.STEP == "welcome"
        assert "Simulated exchange" in text_of(app, "#env")
        assert "Withdrawals stay off" in text_of(app, "#promise")
        assert app.screen.query_one("#back").display is False


async def test_demo_flag_starts_simulator_after_first_frame(memory_keyring, tmp_path):
    """--demo: the app starts its own simulator in a worker and switches env to it."""
    from wizard.registry import Registry
    from wizard.vault import Vault

    services = Services(gateway_factory=default_gateway, vault=Vault(backend=memory_keyring),
                        registry=Registry(tmp_path / "demo-keys.json"), clock=lambda: FIXED_NOW)
    app = create_app(services, env=Environment.custom("http://127.0.0.1:0", simulated=True), start_sim=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            # Not settle(): the demo welcome's own keyring check is a worker too, and waiting for
            # it can outlast the simulator's start delay. The controls come with the first frame.
            for _ in range(200):
                if app.screen.query("#next"):
                    break
                await pilot.pause(0.01)
            await pilot.pause()  # the controls' first refresh_state
            assert not app.sim_ready and app.screen.query_one("#next").disabled  # waits for it
            await pilot.pause(BACKGROUND_START_DELAY)  # it starts a moment after the first frame
            await settle(pilot)
            for _ in range(50):  # the timer may fire a tick late on a busy machine
                if app.sim_ready:
                    break
                await pilot.pause(0.1)
                await settle(pilot)
            assert app.sim_ready and services.sim is not None
            assert app.session.env.api_url == services.sim.base_url + "/api"
            assert app.keyring_service == DEMO_SERVICE
            assert app.screen.query_one("#next").disabled is False
    finally:
        if services.sim is not None:
            services.sim.stop_in_thread()


async def test_quit_without_entries_exits_130(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 130


async def test_quit_with_half_entered_key_asks_first(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        await enter_key(pilot, key.api_key, key.secret)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert app.screen.STEP == "label" and app.session.api_key == key.api_key
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.click("#yes")
        await pilot.pause()
    assert app.return_code == 130
    assert app.session.secret is None
    assert memory_keyring.entries == {}
    assert not (tmp_path / "keys.json").exists()



async def test_quit_waits_while_the_keyring_is_being_written(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.storing = True  # what the store step sets around its keyring write
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running and app.return_code is None
        app.storing = False
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 130
