"""The probe order planner: always within the filters, never crossing the market."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.exchange.orders import (
    PlanError,
    PlannedOrder,
    SymbolRules,
    ceil_to_grid,
    filter_violations,
    on_grid,
    plain,
    plan_probe_order,
)

D = Decimal

# Binance's BTCUSDT entry as exchangeInfo?symbol=BTCUSDT returns it (trimmed to
# the fields that matter, plus a few the planner must ignore).
BTCUSDT_INFO = {
    "timezone": "UTC",
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "status": "TRADING",
            "baseAsset": "BTC",
            "quoteAsset": "USDT",
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.01000000",
                 "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
                {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000",
                 "stepSize": "0.00001000"},
                {"filterType": "ICEBERG_PARTS", "limit": 10},
                {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000",
                 "maxQty": "93.28138553", "stepSize": "0.00000000"},
                {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10},
                {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5",
                 "bidMultiplierDown": "0.2", "askMultiplierUp": "5", "askMultiplierDown": "0.2",
                 "avgPriceMins": 5},
                {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
                 "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                {"filterType": "SOME_FUTURE_FILTER", "whatever": "1"},
            ],
        }
    ],
}
AVG = D("59987.41235118")


def oracle(rules: SymbolRules, avg: Decimal, order: PlannedOrder) -> list[str]:
    """An independent reading of Binance's filter rules (not the planner's own check).

    filters.md: ``price % tickSize == 0`` and ``quantity % stepSize == 0`` — the
    grids start at zero, whatever minPrice and minQty are.
    """
    bad = []
    p, q = order.price, order.quantity
    if rules.tick_size and p % rules.tick_size:
        bad.append("tick")
    if p < rules.min_price or (rules.max_price and p > rules.max_price):
        bad.append("price range")
    if rules.step_size and q % rules.step_size:
        bad.append("step")
    if q < rules.min_qty or (rules.max_qty and q > rules.max_qty) or q <= 0:
        bad.append("qty range")
    if p * q < rules.min_notional:
        bad.append("min notional")
    if p < avg * rules.bid_multiplier_down:
        bad.append("bid down")
    if rules.bid_multiplier_up and p > avg * rules.bid_multiplier_up:
        bad.append("bid up")
    if p >= avg:
        bad.append("crosses")
    return bad


def test_rules_from_binance_exchange_info():
    rules = SymbolRules.from_exchange_info(BTCUSDT_INFO, "BTCUSDT")
    assert (rules.base_asset, rules.quote_asset) == ("BTC", "USDT")
    assert rules.tick_size == D("0.01") and rules.step_size == D("0.00001")
    assert rules.min_qty == D("0.00001") and rules.min_notional == D("5")
    assert rules.bid_multiplier_down == D("0.2") and rules.bid_multiplier_up == D("5")
    assert "LIMIT_MAKER" in rules.order_types


def test_plan_for_btcusdt_is_the_smallest_far_below_the_market():
    rules = SymbolRules.from_exchange_info(BTCUSDT_INFO, "BTCUSDT")
    order = plan_probe_order(rules, AVG)
    assert order.price == D("29993.71")  # half the average, on the tick grid
    assert order.quantity == D("0.00017")  # 5 USDT / price, rounded up to the step
    assert D("5") <= order.notional < D("5.2")
    assert order.price_text == "29993.71" and order.quantity_text == "0.00017"
    assert oracle(rules, AVG, order) == [] and filter_violations(rules, AVG, order) == []


def test_tight_band_still_plans_between_floor_and_market():
    rules = SymbolRules("X", "A", "B", tick_size=D("0.0001"), step_size=D("1"), min_qty=D("1"),
                        min_notional=D("10"), bid_multiplier_down=D("0.95"))
    order = plan_probe_order(rules, D("1.0000"))
    assert D("0.95") <= order.price < D("1")
    assert oracle(rules, D("1"), order) == []


@pytest.mark.parametrize(
    ("rules", "avg", "reason"),
    [
        (SymbolRules("X", "A", "B", status="BREAK"), D("10"), "not trading"),
        (SymbolRules("X", "A", "B", order_types=("LIMIT", "MARKET")), D("10"), "LIMIT_MAKER"),
        (SymbolRules("X", "A", "B", tick_size=D("1")), D("1"), "too narrow"),
        (SymbolRules("X", "A", "B", tick_size=D("0.01"), step_size=D("1"), min_qty=D("1"),
                     max_qty=D("5"), min_notional=D("100")), D("10"), "size limits"),
        (SymbolRules("X", "A", "B", tick_size=D("0.01")), D("0"), "no average price"),
    ],
)
def test_impossible_orders_raise_plan_error(rules, avg, reason):
    with pytest.raises(PlanError, match=reason):
        plan_probe_order(rules, avg)


def test_unknown_symbol_raises_plan_error():
    with pytest.raises(PlanError, match="doesn't list"):
        SymbolRules.from_exchange_info(BTCUSDT_INFO, "DOGEBTC")
    with pytest.raises(PlanError):
        SymbolRules.from_exchange_info({}, "BTCUSDT")


def test_missing_and_garbled_filters_are_tolerated():
    info = {"symbols": [{"symbol": "X", "filters": [
        {"filterType": "PRICE_FILTER", "tickSize": "nonsense"},
        {"filterType": "MIN_NOTIONAL", "minNotional": "10"},
        {"filterType": "PERCENT_PRICE", "multiplierDown": "0.1", "multiplierUp": "10"},
    ]}]}
    rules = SymbolRules.from_exchange_info(info, "X")
    assert rules.tick_size == 0 and rules.min_notional == D("10")
    assert rules.bid_multiplier_down == D("0.1")


def test_grid_helpers():
    assert ceil_to_grid(D("1.001"), D("0.01")) == D("1.01")
    assert ceil_to_grid(D("1.00"), D("0.01")) == D("1.00")
    assert ceil_to_grid(D("0.12"), D("0.05"), base=D("0.01")) == D("0.16")
    assert ceil_to_grid(D("1.675"), D("0.01")) == D("1.68")
    assert ceil_to_grid(D("0.123"), D("0")) == D("0.123")
    assert on_grid(D("0.16"), D("0.05"), D("0.01")) and not on_grid(D("0.15"), D("0.05"), D("0.01"))
    assert plain(D("3E+4")) == "30000" and plain(D("0.00017000")) == "0.00017"
    assert plain(D("12")) == "12"


def _pow10(k: int) -> Decimal:
    return D(1).scaleb(-k)


rules_strategy = st.builds(
    lambda tick_k, step_k, min_qty_n, min_price_n, notional_c, down_pct, up: SymbolRules(
        "X", "A", "B",
        tick_size=_pow10(tick_k),
        # minPrice/minQty need not sit on the grid (e.g. 0.005 with a 0.01 tick).
        min_price=_pow10(tick_k) * min_price_n / 2,
        step_size=_pow10(step_k),
        min_qty=_pow10(step_k) * min_qty_n / 2,
        min_notional=D(notional_c) / 100,
        bid_multiplier_down=D(down_pct) / 100,
        bid_multiplier_up=D(up),
    ),
    tick_k=st.integers(0, 8),
    step_k=st.integers(0, 8),
    min_qty_n=st.integers(1, 1000),
    min_price_n=st.integers(0, 5),
    notional_c=st.integers(0, 100_000),
    down_pct=st.integers(0, 99),
    up=st.integers(0, 10),
)
avg_strategy = st.builds(
    lambda digits, scale: D(digits).scaleb(-scale),
    st.integers(1, 10**10),
    st.integers(0, 8),
)


@settings(max_examples=400, deadline=None)
@given(rules=rules_strategy, avg=avg_strategy)
def test_plan_always_satisfies_filters_and_never_crosses(rules, avg):
    try:
        order = plan_probe_order(rules, avg)
    except PlanError:
        return
    assert oracle(rules, avg, order) == []


@settings(max_examples=300, deadline=None)
@given(rules=rules_strategy, avg=avg_strategy)
def test_plan_exists_whenever_the_band_has_room(rules, avg):
    # Room: the band from the floor to the market spans many ticks; no max limits.
    floor = max(avg * rules.bid_multiplier_down, rules.min_price, rules.tick_size)
    if avg - floor < 20 * rules.tick_size:
        return
    order = plan_probe_order(rules, avg)
    assert order.price < avg


@settings(max_examples=300, deadline=None)
@given(rules=rules_strategy, avg=avg_strategy)
def test_plan_quantity_is_the_smallest_allowed(rules, avg):
    try:
        order = plan_probe_order(rules, avg)
    except PlanError:
        return
    smaller = order.quantity - rules.step_size
    assert smaller < rules.min_qty or smaller * order.price < rules.min_notional or smaller <= 0


@pytest.mark.parametrize("info", [None, [], {"symbols": "BTCUSDT"}, {"symbols": [1, None]},
                                  {"symbols": [{"symbol": "X", "filters": [None, "x", 3]}]}])
def test_garbage_exchange_info_never_crashes(info):
    try:
        rules = SymbolRules.from_exchange_info(info, "X")
    except PlanError:
        return
    assert rules.tick_size == 0
