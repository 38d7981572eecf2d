"""The retire step never calls a -2015 proof of deletion (issue 11, item 2), through Pilot.

Where there is no /sapi (Spot Testnet, demo trading) a deleted key and a key
refused for its IP both get -2015, so the screen says deletion can't be proven
there, never "✓ it is dead", and lets the user finish without recording a
rotation it can't prove.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.keyrings import MemoryKeyring
from tests.test_app_harness import (
    SIZE,
    enter_key,
    make_services,
    press_next,
    settle,
    text_of,
    to_label_screen,
)
from wizard.app import create_app
from wizard.exchange.model import Environment

pytestmark = pytest.mark.timeout(90)


async def test_without_sapi_the_old_keys_deletion_is_said_to_be_unprovable(sim, tmp_path):
    from datetime import datetime, timezone

    from wizard.registry import KeyRecord, fingerprint
    from wizard.secret import Secret
    from wizard.vault import StoredKey

    env = dataclasses.replace(Environment.testnet(), api_url=f"{sim.base_url}/api")
    old, new = sim.keys["read_only"], sim.create_key(label="tracker-new", ip_allowlist=["127.0.0.1"])
    services = make_services(sim, MemoryKeyring(), tmp_path)
    services.vault.store("tracker-old", StoredKey(old.api_key, "hmac", Secret(old.secret),
                                                  env.name, env.base_url))
    services.registry.put(KeyRecord(label="tracker-old", env=env.name, base_url=env.base_url,
                                    created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                                    fingerprint=fingerprint(old.api_key), service=services.vault.service))
    app = create_app(services, env=env, rotate_label="tracker-old")
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        await enter_key(pilot, new.api_key, new.secret)
        for _ in range(3):
            await press_next(pilot)
            await settle(pilot)
        assert app.screen.STEP == "store", app.screen.STEP
        await pilot.press("s")
        await settle(pilot)
        for _ in range(3):
            await press_next(pilot)
        assert app.screen.STEP == "retire", text_of(app, "#problem") + repr(app.session.stored)
        sim.delete_key(old.api_key)
        await pilot.press("r")
        await settle(pilot)
        shown = text_of(app, "#problem") + text_of(app, "#retire-status")
        assert "cannot prove" in shown and "it is dead" not in shown and "deleted.[/]" not in shown
        assert not app.screen.query_one("#next").disabled  # may finish, unrecorded
    assert services.registry.get("tracker-old").rotations == []
