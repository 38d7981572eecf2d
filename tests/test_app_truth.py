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
from wizard.app import DEMO_SERVICE, create_app
from wizard.exchange.model import Environment
from wizard.registry import KeyRecord, fingerprint
from wizard.secret import Secret
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
        await pilot.pause()
        assert "key being rotated" in text_of(app, "#api-key-error")
        assert "key being rotated" in text_of(app, "#nav-status")
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
        await pilot.pause()
        assert "key being rotated" not in text_of(app, "#nav-status")
        await enter_key(pilot, old.api_key, old.secret)
        await pilot.pause()
        assert "key being rotated" in text_of(app, "#nav-status")
