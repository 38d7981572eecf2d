"""The simulated exchange's endpoints: public data, signed reads and orders.

Driven through real python-binance over loopback HTTP: nothing here mocks
HTTP or python-binance, every test talks to a real aiohttp server (the
``sim`` fixture runs it in its own thread) the way the wizard will, so what
passes here is what the gateway meets. This module covers the response shapes
of the public endpoints and the front end's 404 page, the signed account and
/sapi reads with their request weights, and resting, rejected and filled
orders with the balances they lock and move. Signatures, timestamps and keys
live in test_sim_auth.py; weight limits, faults, the admin API and the ``sim``
subcommand in test_sim_ops.py.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.sim_helpers import MAKER, api_error, client_for


# ----- public endpoints ---------------------------------------------------------


async def test_public_endpoints_have_binance_shapes(sim):
    async with client_for(sim) as client:
        assert await client.ping() == {}
        server_time = (await client.get_server_time())["serverTime"]
        assert abs(server_time - time.time() * 1000) < 5000
        info = await client._get("exchangeInfo", data={"symbol": "BTCUSDT"})
        assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT"]
        assert info["rateLimits"][0] == {
            "rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000
        }
        filters = {f["filterType"]: f for f in info["symbols"][0]["filters"]}
        assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
        assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
        assert filters["LOT_SIZE"]["minQty"] == "0.00001000"
        assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
        assert filters["PERCENT_PRICE_BY_SIDE"]["bidMultiplierDown"] == "0.2"
        everything = await client.get_exchange_info()
        assert {s["symbol"] for s in everything["symbols"]} >= {"BTCUSDT", "ETHUSDT", "HALTUSDT"}
        avg = await client.get_avg_price(symbol="BTCUSDT")
        assert set(avg) == {"mins", "price", "closeTime"} and 55000 < float(avg["price"]) < 65000
        book = await client.get_orderbook_ticker(symbol="BTCUSDT")
        assert set(book) == {"symbol", "bidPrice", "bidQty", "askPrice", "askQty"}
        assert float(book["bidPrice"]) < float(book["askPrice"])
        assert len(await client.get_orderbook_ticker()) == len(sim.market)
        err = await api_error(client._get("exchangeInfo", data={"symbol": "NOPEUSDT"}))
        assert (err.status_code, err.code, err.message) == (400, -1121, "Invalid symbol.")
        err = await api_error(client._get("avgPrice", data={}))
        assert err.code == -1102


async def test_unknown_path_answers_like_the_front_end(sim):
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(sim.base_url + "/api/v9/nothing") as resp:
            assert resp.status == 404
            assert resp.content_type == "text/html"
            assert "<html" in (await resp.text()).lower()
    async with client_for(sim, "read_only") as client:
        err = await api_error(client._request_margin_api("get", "no/such/thing", True, data={}))
        assert (err.status_code, err.code) == (404, 0)
        assert "Invalid JSON" in err.message


# ----- signed reads ---------------------------------------------------------------


async def test_account_and_sapi_reads(sim):
    async with client_for(sim, "read_only") as client:
        account = await client.get_account()
        # Account-level flags: true even for a read-only key (never judge a key by them).
        assert account["canTrade"] is True and account["canWithdraw"] is True
        assert account["accountType"] == "SPOT" and account["permissions"] == ["SPOT"]
        balances = {b["asset"]: b for b in account["balances"]}
        assert balances["USDT"] == {"asset": "USDT", "free": "100.00000000", "locked": "0.00000000"}
        assert Decimal(balances["BTC"]["free"]) > 0
        restrictions = await client.get_account_api_permissions()
        assert restrictions["enableReading"] is True
        assert restrictions["enableSpotAndMarginTrading"] is False
        assert restrictions["enableWithdrawals"] is False
        assert restrictions["ipRestrict"] is True
        assert "tradingAuthorityExpirationTime" not in restrictions
        assert await client.get_account_status() == {"data": "Normal"}
        trading = await client.get_account_api_trading_status()
        assert trading["data"]["isLocked"] is False
        addresses = await client._request_margin_api(
            "get", "capital/withdraw/address/list", True, data={}
        )
        assert {a["whiteStatus"] for a in addresses} == {True, False}
        assets = await client.get_user_asset()
        assert {a["asset"] for a in assets} == {"USDT", "BTC"}
        assert all(Decimal(a["free"]) > 0 for a in assets)
        assert set(assets[0]) >= {"asset", "free", "locked", "freeze", "withdrawing", "btcValuation"}
    weights = {(e.method, e.path): e.weight for e in sim.request_log}
    assert weights[("GET", "/api/v3/account")] == 20
    assert weights[("GET", "/sapi/v1/account/apiRestrictions")] == 1
    assert weights[("GET", "/sapi/v1/capital/withdraw/address/list")] == 10
    assert weights[("POST", "/sapi/v3/asset/getUserAsset")] == 5


# ----- orders -----------------------------------------------------------------------


async def test_limit_maker_rests_locks_and_cancels(sim):
    key = sim.keys["spot_trading"]
    async with client_for(sim, "spot_trading") as client:
        assert await client.create_test_order(**MAKER) == {}
        placed = await client.create_order(**MAKER)
        assert set(placed) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
        assert sim.balances(key.api_key)["USDT"].locked == Decimal("10")
        assert sim.balances(key.api_key)["USDT"].free == Decimal("90")
        listed = await client.get_open_orders(symbol="BTCUSDT")
        assert [o["orderId"] for o in listed] == [placed["orderId"]]
        assert listed[0]["status"] == "NEW" and listed[0]["type"] == "LIMIT_MAKER"
        assert sim.open_orders(key.api_key)[0]["orderId"] == placed["orderId"]
        queried = await client.get_order(symbol="BTCUSDT", orderId=placed["orderId"])
        assert queried["price"] == "50000.00000000" and queried["origQty"] == "0.00020000"
        cancelled = await client.cancel_order(symbol="BTCUSDT", orderId=placed["orderId"])
        assert cancelled["status"] == "CANCELED"
        assert cancelled["origClientOrderId"] == placed["clientOrderId"]
        assert await client.get_open_orders(symbol="BTCUSDT") == []
        usdt = sim.balances(key.api_key)["USDT"]
        assert (usdt.asset, usdt.free, usdt.locked) == ("USDT", Decimal("100"), Decimal("0"))
        err = await api_error(client.cancel_order(symbol="BTCUSDT", orderId=placed["orderId"]))
        assert (err.code, err.message) == (-2011, "Unknown order sent.")
        err = await api_error(client.get_order(symbol="BTCUSDT", orderId=1))
        assert err.code == -2013
        await client.get_open_orders()
    weights = [(e.method, e.path, e.weight) for e in sim.request_log]
    assert ("GET", "/api/v3/openOrders", 6) in weights
    assert ("GET", "/api/v3/openOrders", 80) in weights
    assert ("GET", "/api/v3/order", 4) in weights


async def test_order_rejections(sim):
    key = sim.keys["spot_trading"]
    async with client_for(sim, "spot_trading") as client:
        cases = {
            "PRICE_FILTER": dict(MAKER, price="50000.015"),
            "LOT_SIZE": dict(MAKER, quantity="0.000205"),
            "NOTIONAL": dict(MAKER, quantity="0.00005"),
            "PERCENT_PRICE_BY_SIDE": dict(MAKER, price="1000.00", quantity="0.01000"),
        }
        for name, order in cases.items():
            for call in (client.create_test_order, client.create_order):
                err = await api_error(call(**order))
                assert (err.status_code, err.code, err.message) == (400, -1013, f"Filter failure: {name}")
        err = await api_error(client.create_order(**dict(MAKER, price="60000.00")))
        assert (err.code, err.message) == (-2010, "Order would immediately match and take.")
        sim.set_balance(key.api_key, "USDT", "5")
        err = await api_error(client.create_order(**MAKER))
        assert (err.code, err.message) == (-2010, "Account has insufficient balance for requested action.")
        assert await client.create_test_order(**MAKER) == {}  # test orders never check balances
        err = await api_error(client.create_test_order(**dict(MAKER, timeInForce="GTC")))
        assert err.code == -1106
        err = await api_error(client.create_test_order(**dict(MAKER, symbol="FOOBAR")))
        assert err.code == -1121


async def test_crossing_orders_fill(sim):
    key = sim.keys["spot_trading"]
    async with client_for(sim, "spot_trading") as client:
        filled = await client.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT",
                                           timeInForce="GTC", price="60100.00", quantity="0.00010")
        assert filled["status"] == "FILLED" and filled["fills"][0]["price"] == "60000.00000000"
        market = await client.create_order(symbol="BTCUSDT", side="SELL", type="MARKET",
                                           quantity="0.00010")
        assert market["status"] == "FILLED"
    # Bought at the ask, sold at the bid: the spread is the cost.
    spent = Decimal("60000.00") * Decimal("0.0001") - Decimal("59999.99") * Decimal("0.0001")
    assert sim.balances(key.api_key)["USDT"].free == Decimal("100") - spent


def test_the_simulator_keeps_its_own_tables():
    """The sim's knowledge of Binance must not come from the client's (issue 13)."""
    import pathlib
    import re

    sim_dir = pathlib.Path(__file__).resolve().parent.parent / "wizard" / "sim"
    for path in sim_dir.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+wizard\.(exchange|policy|parsing)", text, re.M), path


def test_fix_permissions_only_on_ed25519_keys(sim):
    with pytest.raises(ValueError, match="Ed25519"):
        sim.set_permission(sim.keys["read_only"].api_key, "enableFixApiTrade", True)
    sim.set_permission(sim.keys["ed25519"].api_key, "enableFixReadOnly", True)
    assert sim.keys["ed25519"].restrictions["enableFixReadOnly"] is True
