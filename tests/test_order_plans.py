"""Order planning the real exchange accepts (issue 13, "Order planning").

Grids start at zero (``price % tickSize == 0``, ``quantity % stepSize == 0``,
filters.md), on both the planner and the simulator; the band filters measure
against the reference price when non-null, else each filter's own
``avgPriceMins`` average; symbols that are HALT, BREAK or END_OF_DAY are met end
to end. Every order goes through real python-binance to the simulator.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.gateway_helpers import calls, gateway, problem_of
from tests.sim_helpers import api_error, client_for
from wizard.exchange.model import ProblemKind
from wizard.exchange.orders import MarketPrice, SymbolRules, filter_violations, plan_probe_order
from wizard.sim.market import SymbolSpec

pytestmark = pytest.mark.timeout(30)
D = Decimal


def _odd_minima() -> SymbolSpec:
    # The example: minPrice 0.005 on a 0.01 tick, minQty 0.05 on a 0.1 step.
    return SymbolSpec(
        symbol="GRIDUSDT", base="GRID", quote="USDT", tick_size=D("0.01"), min_price=D("0.005"),
        max_price=D("1000"), step_size=D("0.1"), min_qty=D("0.05"), max_qty=D("90000"),
        min_notional=D("5"), max_notional=D("9000000"), bid=D("3.349"), ask=D("3.351"),
        avg_price=D("3.35"))


def test_planner_grids_start_at_zero():
    rules = SymbolRules("GRIDUSDT", "GRID", "USDT", tick_size=D("0.01"), min_price=D("0.005"),
                        step_size=D("0.1"), min_qty=D("0.05"), min_notional=D("5"),
                        bid_multiplier_down=D("0.2"), bid_multiplier_up=D("5"))
    order = plan_probe_order(rules, D("3.35"))
    assert order.price % D("0.01") == 0 and order.quantity % D("0.1") == 0
    assert order.price == D("1.68") and order.quantity == D("3.0")  # not 1.675 / 3.05


async def test_simulator_grids_start_at_zero(sim):
    sim.market["GRIDUSDT"] = _odd_minima()
    async with client_for(sim, "spot_trading") as client:
        for price, qty in (("1.675", "3.0"), ("1.68", "3.05")):
            err = await api_error(client.create_test_order(
                symbol="GRIDUSDT", side="BUY", type="LIMIT_MAKER", quantity=qty, price=price))
            assert (err.code, err.message) in ((-1013, "Filter failure: PRICE_FILTER"),
                                               (-1013, "Filter failure: LOT_SIZE"))
        assert await client.create_test_order(
            symbol="GRIDUSDT", side="BUY", type="LIMIT_MAKER", quantity="3", price="1.68") == {}


async def test_the_test_order_on_odd_minima_is_accepted(sim):
    sim.market["GRIDUSDT"] = _odd_minima()
    async with gateway(sim, "spot_trading") as gw:
        await gw.test_order("GRIDUSDT")
        probe = await gw.place_and_cancel_probe("GRIDUSDT")
    assert probe.price % D("0.01") == 0 and probe.quantity % D("0.1") == 0
    assert probe.seen_open and probe.cancelled and probe.seen_gone


async def test_the_bid_follows_the_reference_price(sim):
    # Reference price far above the average: the filters use it, so must the bid.
    spec = sim.market["BTCUSDT"]
    spec.reference_price, spec.reference_ever_set = D("90000"), True
    spec.bid_multiplier_down = D("0.4")  # floor 36000 by the reference, 24000 by the average
    async with gateway(sim, "spot_trading") as gw:
        await gw.test_order()
        probe = await gw.place_and_cancel_probe()
    assert D("36000") <= probe.price < D("59999.99")
    paths = [c[1] for c in calls(sim)]
    assert "/api/v3/referencePrice" in paths and "/api/v3/avgPrice" not in paths  # w2, not w4


async def test_a_null_reference_price_falls_back_to_the_average(sim):
    spec = sim.market["BTCUSDT"]
    spec.reference_ever_set = True  # set once, null now
    async with client_for(sim) as client:
        answer = await client._get("referencePrice", data={"symbol": "BTCUSDT"})
    assert answer["referencePrice"] is None
    async with gateway(sim, "spot_trading") as gw:
        await gw.test_order()
    assert [c[1] for c in calls(sim)].count("/api/v3/avgPrice") == 1


async def test_each_band_filter_has_its_own_window(sim):
    # PERCENT_PRICE_BY_SIDE measures the 1-minute average, 15% above the 5-minute one.
    spec = sim.market["BTCUSDT"]
    spec.band_avg_mins, spec.bid_multiplier_down = 1, D("0.7")
    spec.averages[1] = spec.avg_price * D("1.15")
    spec.bid, spec.ask = spec.averages[1] - D("0.01"), spec.averages[1]
    async with gateway(sim, "spot_trading") as gw:
        await gw.test_order()  # the old plan (0.775 x the 5-minute average) fails here
        probe = await gw.place_and_cancel_probe()
    assert probe.price >= spec.averages[1] * D("0.7") and probe.seen_gone


def test_a_band_on_another_window_is_planned_with_a_margin():
    rules = SymbolRules.from_exchange_info({"symbols": [{
        "symbol": "X", "baseAsset": "A", "quoteAsset": "B", "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "0", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.1", "maxQty": "1000", "stepSize": "0.1"},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.3", "multiplierDown": "0.7",
             "avgPriceMins": 0},
            {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5",
             "bidMultiplierDown": "0.2", "askMultiplierUp": "5", "askMultiplierDown": "0.2",
             "avgPriceMins": 5}]}]}, "X")
    market = MarketPrice(D("100"), 5)
    order = plan_probe_order(rules, market)
    # Last price unknown: assume it may be 20 % above the average.
    assert order.price >= D("100") * D("1.2") * D("0.7") and order.price < D("100")
    assert filter_violations(rules, market, order) == []


@pytest.mark.parametrize(("symbol", "status", "words", "qty", "price"), [
    ("HALTUSDT", "HALT", "halted", "10", "0.6"), ("BREAKUSDT", "BREAK", "not trading", "30", "0.25"),
    ("EODUSDT", "END_OF_DAY", "closed for the day", "0.2", "50")])
async def test_symbols_that_cannot_take_orders(sim, symbol, status, words, qty, price):
    async with client_for(sim, "spot_trading") as client:
        info = await client._get("exchangeInfo", data={"symbol": symbol})
        assert info["symbols"][0]["status"] == status
        err = await api_error(client.create_order(symbol=symbol, side="BUY", type="LIMIT_MAKER",
                                                  quantity=qty, price=price))
        assert (err.code, err.message) == (-2010, "Market is closed.")
    async with gateway(sim, "spot_trading") as gw:
        problem = await problem_of(gw.test_order(symbol))
        refusal = await gw.trade_refusal_probe(symbol)
    assert problem.kind is ProblemKind.FILTER_FAILURE and words in problem.message
    assert "Nothing was placed" in problem.message
    assert not any(c[1] == "/api/v3/order/test" for c in calls(sim)[:3])  # refused before sending
    assert refusal.refused is False  # a closed market proves nothing about the key
