"""Step 6 names its market and the visible order's real value (issue 13), through Pilot.

A user holding only USDC tests on BTCUSDC, is told why, and the confirmation
dialog quotes the tested order's value in USDC — not "about 5 USDT". The
dialog says that a resting post-only order can fill.
"""

from __future__ import annotations

import pytest

from tests.test_app_full import through_ip
from tests.test_app_harness import SIZE, make_app, press_next, settle, text_of

pytestmark = pytest.mark.timeout(60)


async def test_usdc_holder_gets_btcusdc_and_a_dialog_in_usdc(sim, memory_keyring, tmp_path):
    key = sim.keys["spot_trading"]
    sim.set_balance(key.api_key, "USDT", "0")
    sim.set_balance(key.api_key, "USDC", "40")
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await through_ip(pilot, key.api_key, key.secret, "spot")
        await pilot.press("s")
        await settle(pilot)
        await press_next(pilot)
        results = text_of(app, "#results")
        assert "Test market: BTCUSDC: you hold 40 USDC free" in results
        assert "Test order for BTCUSDC accepted" in results
        app.screen.query_one("#probe").press()
        await settle(pilot)
        body = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "USDC" in body and "5 USDT" not in body
        assert "would buy only if the market fell to it" in body
