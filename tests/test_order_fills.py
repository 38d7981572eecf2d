"""A resting LIMIT_MAKER can fill (issue 13): the probe reports what really happened.

Post-only only guarantees no fill at placement; once the order rests, the
market can fall to it before the cancel. The simulator's ``on_order_placed``
hook moves the market onto the order; the gateway must then show FILLED or
PARTIALLY_FILLED, read from the exchange, not assume it was cancelled.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.gateway_helpers import calls, gateway
from wizard.screens.smoke import probe_lines

pytestmark = pytest.mark.timeout(30)


async def test_a_fully_filled_probe_is_reported_as_filled(sim):
    key = sim.keys["spot_trading"]
    sim.on_order_placed = lambda order: sim.fill_order(key.api_key, order.order_id)
    async with gateway(sim, "spot_trading") as gw:
        probe = await gw.place_and_cancel_probe()
    assert probe.final_status == "FILLED" and probe.filled and not probe.cancelled
    assert probe.filled_quantity == probe.quantity
    assert ("GET", "/api/v3/order", 200) in calls(sim)  # the real status was read (w4)
    assert sim.balances(key.api_key)["BTC"].free == Decimal("0.0015") + probe.quantity
    text = "\n".join(probe_lines(probe))
    assert "FILLED" in text and "bought" in text and "cannot fill" not in text


async def test_a_partly_filled_probe_is_cancelled_and_says_how_much_traded(sim):
    key = sim.keys["spot_trading"]
    sim.on_order_placed = lambda order: sim.fill_order(key.api_key, order.order_id,
                                                       order.quantity / 2)
    async with gateway(sim, "spot_trading") as gw:
        probe = await gw.place_and_cancel_probe()
    assert probe.final_status == "CANCELED" and probe.filled
    assert probe.filled_quantity == probe.quantity / 2 and probe.seen_gone
    assert sim.open_orders(key.api_key) == []


async def test_an_untouched_probe_is_cancelled_and_nothing_traded(sim):
    async with gateway(sim, "spot_trading") as gw:
        probe = await gw.place_and_cancel_probe()
    assert probe.cancelled and not probe.filled and probe.final_status == "CANCELED"
    assert "post-only can't fill when placed" in probe_lines(probe)[0]
