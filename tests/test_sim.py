"""The simulated exchange, driven through real python-binance over loopback HTTP.

Nothing here mocks HTTP or python-binance: every test talks to a real
aiohttp server (the ``sim`` fixture runs it in its own thread) the way the
wizard will, so what passes here is what the gateway meets.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

import pytest

from wizard.exchange.model import Balance
from wizard.sim import SimExchange, SimKey
from wizard.sim.signing import verify

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


def make_client(base_url: str, key: SimKey | None = None, *, api_key: str | None = None,
                secret: str | None = None, private_key: str | None = None):
    """A real AsyncClient pointed at the sim (no ping, no time sync)."""
    from binance import AsyncClient

    if key is not None:
        api_key = api_key or key.api_key
        secret = secret if secret is not None else key.secret
        private_key = private_key if private_key is not None else key.private_key_pem
    client = AsyncClient(api_key, secret, private_key=private_key)
    client.API_URL = base_url + "/api"
    client.MARGIN_API_URL = base_url + "/sapi"
    return client


@contextlib.asynccontextmanager
async def client_for(sim: SimExchange, name: str | None = None, **kwargs):
    """make_client for a preset (or explicit credentials), closed afterwards."""
    client = make_client(sim.base_url, sim.keys[name] if name else None, **kwargs)
    try:
        yield client
    finally:
        await client.close_connection()


async def api_error(coro):
    """Await ``coro`` and return the BinanceAPIException it must raise."""
    from binance.exceptions import BinanceAPIException

    with pytest.raises(BinanceAPIException) as info:
        await coro
    return info.value


def avoid_minute_edge() -> None:
    """Weight windows roll every minute: don't start a weight test in the last 2 s of one."""
    left = 60 - time.time() % 60
    if left < 2.0:
        time.sleep(left + 0.05)


MAKER = dict(symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", price="50000.00", quantity="0.00020")


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
        assert {s["symbol"] for s in everything["symbols"]} == {"BTCUSDT", "ETHUSDT"}
        avg = await client.get_avg_price(symbol="BTCUSDT")
        assert set(avg) == {"mins", "price", "closeTime"} and 55000 < float(avg["price"]) < 65000
        book = await client.get_orderbook_ticker(symbol="BTCUSDT")
        assert set(book) == {"symbol", "bidPrice", "bidQty", "askPrice", "askQty"}
        assert float(book["bidPrice"]) < float(book["askPrice"])
        assert len(await client.get_orderbook_ticker()) == 2
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


async def test_preset_restrictions(sim):
    withdrawals = sim.keys["withdrawals"].restrictions
    assert withdrawals["enableWithdrawals"] is True and withdrawals["ipRestrict"] is True
    assert sim.keys["internal_transfer"].restrictions["enableInternalTransfer"] is True
    assert sim.keys["futures"].restrictions["enableFutures"] is True
    assert sim.keys["deleted"].deleted is True
    ed = sim.keys["ed25519"]
    assert ed.key_type == "ed25519" and ed.secret is None and "PRIVATE KEY" in ed.private_key_pem
    for key in sim.keys.values():
        assert len(key.api_key) == 64 and key.api_key.isalnum()
        if key.secret is not None:
            assert len(key.secret) == 64 and key.secret.isalnum()
    async with client_for(sim, "trading_unrestricted") as client:
        restrictions = await client.get_account_api_permissions()
    assert restrictions["ipRestrict"] is False
    assert restrictions["enableSpotAndMarginTrading"] is True
    expires = restrictions["tradingAuthorityExpirationTime"]
    assert expires - restrictions["createTime"] == 30 * 86_400_000
    assert expires > time.time() * 1000


def test_seed_makes_keys_reproducible():
    first, second = SimExchange(seed=7), SimExchange(seed=7)
    for name, key in first.keys.items():
        twin = second.keys[name]
        assert (key.api_key, key.secret, key.private_key_pem) == (
            twin.api_key, twin.secret, twin.private_key_pem
        )
    assert SimExchange().keys["read_only"].api_key != SimExchange().keys["read_only"].api_key


def test_binance_documented_hmac_vector():
    # binance-spot-api-docs, "Example 3: mixed query string and request body".
    key = SimKey("doc", "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A", "hmac",
                 secret="NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j")
    payload = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
               "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559")
    good = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
    assert verify(key, payload, good)
    assert verify(key, payload, good.upper())  # Binance: signatures are not case sensitive
    assert not verify(key, payload.replace("price=0.1", "price=0.2"), good)


# ----- signatures, keys, clock ------------------------------------------------------


async def test_hmac_and_ed25519_signatures(sim):
    from Crypto.PublicKey import ECC

    async with client_for(sim, "read_only") as client:
        assert (await client.get_account_api_permissions())["enableReading"] is True
    async with client_for(sim, "read_only", secret="x" * 64) as client:
        err = await api_error(client.get_account())
        assert (err.status_code, err.code, err.message) == (
            400, -1022, "Signature for this request is not valid."
        )
    async with client_for(sim, "ed25519") as client:
        assert (await client.get_account_api_permissions())["enableReading"] is True
        assert await client.get_user_asset()  # POST: signature over the form body
    other = ECC.generate(curve="ed25519").export_key(format="PEM")
    async with client_for(sim, "ed25519", private_key=other) as client:
        err = await api_error(client.get_account_api_permissions())
        assert err.code == -1022
        err = await api_error(client.get_user_asset())
        assert err.code == -1022


async def test_self_generated_ed25519_key(sim):
    from Crypto.PublicKey import ECC

    pair = ECC.generate(curve="ed25519")
    key = sim.create_key(label="my bot", spot_trading=True, ip_allowlist=["127.0.0.1"],
                         key_type="ed25519", public_key_pem=pair.public_key().export_key(format="PEM"))
    assert key.private_key_pem is None and key.secret is None
    async with client_for(sim, private_key=pair.export_key(format="PEM"), api_key=key.api_key) as client:
        assert await client.create_test_order(**MAKER) == {}
    with pytest.raises(ValueError):
        sim.create_key(label="bad", key_type="ed25519", public_key_pem="not a key")


async def test_signature_over_query_plus_body(sim):
    """A raw request mixing query string and body: Binance signs their concatenation."""
    import aiohttp

    key = sim.keys["spot_trading"]
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER"
    body = f"quantity=0.00020&price=50000.00&recvWindow=5000&timestamp={int(time.time() * 1000)}"
    good = hmac.new(key.secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    joined = hmac.new(key.secret.encode(), f"{query}&{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-MBX-APIKEY": key.api_key, "Content-Type": "application/x-www-form-urlencoded"}
    url = f"{sim.base_url}/api/v3/order/test?{query}"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=f"{body}&signature={good}", headers=headers) as resp:
            assert (resp.status, await resp.json()) == (200, {})
        async with session.post(url, data=f"{body}&signature={joined}", headers=headers) as resp:
            assert (resp.status, (await resp.json())["code"]) == (400, -1022)
        async with session.post(url, data=body, headers=headers) as resp:
            assert (await resp.json())["code"] == -1102  # no signature at all
        long_window = body.replace("recvWindow=5000", "recvWindow=60001")
        sig = hmac.new(key.secret.encode(), (query + long_window).encode(), hashlib.sha256).hexdigest()
        async with session.post(url, data=f"{long_window}&signature={sig}", headers=headers) as resp:
            assert (await resp.json())["code"] == -1131


async def test_clock_skew_gives_1021(sim):
    async with client_for(sim, "read_only") as client:
        sim.faults.clock_skew_ms = -7000  # server behind: our timestamp is in its future
        err = await api_error(client.get_account_api_permissions())
        assert (err.status_code, err.code) == (400, -1021)
        assert err.message == "Timestamp for this request was 1000ms ahead of the server's time."
        server_time = (await client.get_server_time())["serverTime"]
        assert server_time < time.time() * 1000 - 6000
        sim.faults.clock_skew_ms = 20_000  # server ahead: older than python-binance's 10 s window
        err = await api_error(client.get_account_api_permissions())
        assert err.message == "Timestamp for this request is outside of the recvWindow."
        client.timestamp_offset = 20_000  # what a time sync does
        assert (await client.get_account_api_permissions())["enableReading"] is True


async def test_key_format_unknown_and_deleted(sim):
    async with client_for(sim, api_key="not-a-key", secret="s" * 64) as client:
        err = await api_error(client.get_account())
        assert (err.status_code, err.code, err.message) == (401, -2014, "API-key format invalid.")
    async with client_for(sim, api_key="A" * 64, secret="s" * 64) as client:
        err = await api_error(client.get_account())
        assert (err.status_code, err.code, err.message) == (401, -2008, "Invalid Api-Key ID.")
    async with client_for(sim, "deleted") as client:
        err = await api_error(client.get_account_api_permissions())
        assert (err.status_code, err.code) == (401, -2008)
    async with client_for(sim, "read_only") as client:
        await client.get_account_api_permissions()
        sim.delete_key(sim.keys["read_only"].api_key)  # "the user deleted the old key"
        err = await api_error(client.get_account_api_permissions())
        assert err.code == -2008


async def test_ip_allowlist_and_permissions_give_2015(sim):
    async with client_for(sim, "read_only") as client:
        err = await api_error(client.create_test_order(**MAKER))
        assert (err.status_code, err.code, err.message) == (
            401, -2015, "Invalid API-key, IP, or permissions for action."
        )
        sim.client_ip = "203.0.113.7"
        err = await api_error(client.get_account())
        assert (err.code, err.message) == (-2015, "Invalid API-key, IP, or permissions for action.")
        err = await api_error(client.get_account_api_permissions())
        assert err.code == -2015 and err.message.endswith("request ip: 203.0.113.7")
        sim.set_ip_allowlist("read_only", ["198.51.100.1", "203.0.113.0/24"])  # CIDR entry
        assert (await client.get_account_api_permissions())["ipRestrict"] is True
        sim.client_ip = None  # back to the real peer, 127.0.0.1: no longer allowed
        assert (await api_error(client.get_account())).code == -2015
    async with client_for(sim, "trading_unrestricted") as client:
        assert await client.create_test_order(**MAKER) == {}
        sim.set_permission("trading_unrestricted", "tradingAuthorityExpirationTime",
                           int(time.time() * 1000) - 1)
        assert (await api_error(client.create_test_order(**MAKER))).code == -2015
        restrictions = await client.get_account_api_permissions()
        assert restrictions["enableSpotAndMarginTrading"] is False  # lapsed, as Binance unticks it


def test_key_rules_follow_binance():
    sim = SimExchange(presets=False)
    with pytest.raises(ValueError):
        sim.create_key(label="x", withdrawals=True)  # withdrawals need an IP restriction
    key = sim.create_key(label="bot", spot_trading=True, ip_allowlist=["10.0.0.0/8"])
    assert "tradingAuthorityExpirationTime" not in key.restrictions
    sim.set_ip_allowlist(key.api_key, [])
    assert key.restrictions["ipRestrict"] is False
    assert key.restrictions["tradingAuthorityExpirationTime"] > time.time() * 1000
    sim.set_ip_allowlist(key.api_key, ["10.0.0.1"])
    sim.set_permission(key.api_key, "enableWithdrawals", True)
    sim.set_ip_allowlist(key.api_key, [])
    assert key.restrictions["enableWithdrawals"] is False  # Binance unticks it with the IP list
    sim.set_permission(key.api_key, "enableFancyNewThing", True)
    assert key.restrictions["enableFancyNewThing"] is True
    with pytest.raises(ValueError):
        sim.set_ip_allowlist(key.api_key, ["not-an-ip"])
    with pytest.raises(ValueError):
        sim.set_permission(key.api_key, "ipRestrict", False)
    assert sim.create_key(label="bot").name == "bot-2"


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
        assert sim.balances(key.api_key)["USDT"] == Balance("USDT", Decimal("100"), Decimal("0"))
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


# ----- weight and faults -------------------------------------------------------------


async def test_weight_header_and_429(sim):
    avoid_minute_edge()
    async with client_for(sim) as client:
        await client.ping()
        assert client.response.headers["X-MBX-USED-WEIGHT-1M"] == "1"
        await client.get_exchange_info()
        assert client.response.headers["X-MBX-USED-WEIGHT-1M"] == "21"
        assert sim.used_weight == 21
        sim.weight_limit = 30
        err = await api_error(client.get_exchange_info())
        assert (err.status_code, err.code) == (429, -1003)
        assert "current limit is 30 request weight per 1 MINUTE" in err.message
        retry_after = int(client.response.headers["Retry-After"])
        assert 1 <= retry_after <= 60
        sim.reset_weight()
        assert await client.ping() == {}
    assert [e.status for e in sim.request_log] == [200, 200, 429, 200]


async def test_faults(sim):
    import aiohttp

    async with client_for(sim) as client:
        sim.faults.latency = 0.3
        started = time.monotonic()
        await client.ping()
        assert time.monotonic() - started >= 0.3
        sim.faults.latency = 0
        sim.faults.fail_next(1, status=503)
        err = await api_error(client.ping())
        assert (err.status_code, err.code) == (503, -1001)
        for status in (403, 451):
            sim.faults.html_error(1, status=status)
            err = await api_error(client.ping())
            assert (err.status_code, err.code) == (status, 0)
            assert "Invalid JSON" in err.message
        sim.faults.geo_block(1)
        err = await api_error(client.ping())
        assert (err.status_code, err.code) == (451, 0) and "restricted location" in err.message
        sim.faults.fail_next(1, status=502)
        assert (await api_error(client.ping())).code == 0  # a gateway's HTML page
        sim.faults.fail_next(1, path="/sapi/")
        assert await client.ping() == {}  # the fault waits for a /sapi request
        sim.faults.reset()
        # aiohttp retries an idempotent request once on a dropped connection: drop both tries.
        sim.faults.drop_next(2)
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await client.ping()
        assert await client.ping() == {}
        sim.faults.ban_for(30)
        err = await api_error(client.ping())
        assert (err.status_code, err.code) == (418, -1003) and "banned until" in err.message
        assert int(client.response.headers["Retry-After"]) >= 29
    async with client_for(sim, "spot_trading") as client:
        sim.faults.reset()
        sim.faults.drop_next(1)  # POST is not retried: one drop is enough
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await client.create_test_order(**MAKER)
    faults = [e.fault for e in sim.request_log if e.fault]
    assert faults == ["fail", "html", "html", "geo", "fail", "drop", "drop", "ban", "drop"]


# ----- admin route and Python API ----------------------------------------------------


async def test_admin_route_mirrors_python_api(sim):
    import aiohttp

    admin = sim.base_url + "/_sim"
    async with aiohttp.ClientSession() as http, client_for(sim, "spot_trading") as client:
        async with http.get(admin + "/keys") as resp:
            keys = {k["name"]: k for k in await resp.json()}
        assert keys["spot_trading"]["secret"] == sim.keys["spot_trading"].secret
        async with http.post(admin + "/keys/spot_trading/permissions",
                             json={"enableSpotAndMarginTrading": False}) as resp:
            assert (await resp.json())["restrictions"]["enableSpotAndMarginTrading"] is False
        assert (await api_error(client.create_test_order(**MAKER))).code == -2015
        async with http.put(admin + "/keys/spot_trading/ip_allowlist",
                            json={"ip_allowlist": ["203.0.113.9"]}) as resp:
            assert resp.status == 200
        assert (await api_error(client.get_account())).code == -2015
        async with http.post(admin + "/client_ip", json={"client_ip": "203.0.113.9"}) as resp:
            assert (await resp.json()) == {"client_ip": "203.0.113.9"}
        assert (await client.get_account())["accountType"] == "SPOT"
        async with http.post(admin + "/faults", json={"clock_skew_ms": 20_000,
                                                      "fail_next": {"n": 1, "status": 500}}) as resp:
            assert (await resp.json())["pending"] == [{"kind": "fail", "status": 500, "path": None}]
        assert (await api_error(client.ping())).status_code == 500
        assert (await api_error(client.get_account())).code == -1021
        async with http.delete(admin + "/faults") as resp:
            assert (await resp.json())["clock_skew_ms"] == 0
        async with http.post(admin + "/keys", json={"label": "new bot", "spot_trading": True,
                                                    "ip_allowlist": ["203.0.113.9"]}) as resp:
            created = await resp.json()
        async with client_for(sim, api_key=created["api_key"], secret=created["secret"]) as fresh:
            assert await fresh.create_test_order(**MAKER) == {}
        async with http.delete(admin + "/keys/" + created["api_key"]) as resp:
            assert (await resp.json())["deleted"] is True
        async with http.post(admin + "/keys/spot_trading/balances",
                             json={"asset": "USDT", "free": "42"}) as resp:
            assert {"asset": "USDT", "free": "42", "locked": "0"} in await resp.json()
        async with http.post(admin + "/keys", json={"label": "w", "withdrawals": True}) as resp:
            assert resp.status == 400 and "IP-restricted" in (await resp.json())["error"]
        async with http.get(admin + "/keys/nope") as resp:
            assert resp.status == 404
        async with http.get(admin + "/log") as resp:
            log = await resp.json()
        assert log[-1]["path"] == "/api/v3/order/test" and log[-1]["status"] == 200
        async with http.get(admin + "/state") as resp:
            state = await resp.json()
        assert state["base_url"] == sim.base_url and state["used_weight"] == sim.used_weight
    assert all(not e.path.startswith("/_sim") for e in sim.request_log)


def _non_loopback_ip() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


async def test_real_peer_address_and_admin_is_loopback_only():
    import aiohttp

    address = _non_loopback_ip()
    if address is None:
        pytest.skip("no non-loopback interface on this machine")
    sim = SimExchange()
    url = sim.start_in_thread(port=0, host="0.0.0.0")
    try:
        remote = url.replace("0.0.0.0", address)
        async with aiohttp.ClientSession() as http:
            async with http.get(remote + "/_sim/keys") as resp:
                assert resp.status == 403
        client = make_client(remote, sim.keys["read_only"])
        try:
            err = await api_error(client.get_account_api_permissions())
            assert err.message.endswith(f"request ip: {address}")  # the real peer, not loopback
        finally:
            await client.close_connection()
    finally:
        sim.stop_in_thread()


async def test_python_api_is_safe_from_another_thread(sim):
    key = sim.keys["spot_trading"]
    stop = threading.Event()

    def churn() -> None:
        on = True
        while not stop.is_set():
            sim.set_permission(key.api_key, "enableSpotAndMarginTrading", on)
            sim.set_balance(key.api_key, "USDT", "100")
            on = not on

    worker = threading.Thread(target=churn)
    worker.start()
    from binance.exceptions import BinanceAPIException

    try:
        async with client_for(sim, "spot_trading") as client:
            results = await asyncio.gather(
                *(client.create_test_order(**MAKER) for _ in range(20)), return_exceptions=True
            )
    finally:
        stop.set()
        worker.join()
    for result in results:
        assert result == {} or (isinstance(result, BinanceAPIException) and result.code == -2015)


async def test_request_log_has_no_secrets(sim):
    async with client_for(sim, "spot_trading") as client:
        await client.get_account_api_permissions()
        await client.create_test_order(**MAKER)
        await api_error(client.create_order(**dict(MAKER, price="60000.00")))
    async with client_for(sim, "read_only", secret="y" * 64) as client:
        await api_error(client.get_account())
    async with client_for(sim, "ed25519") as client:
        await client.get_user_asset()
    log = sim.request_log
    assert [(e.method, e.path, e.weight, e.status, e.code, e.key) for e in log] == [
        ("GET", "/sapi/v1/account/apiRestrictions", 1, 200, None, "spot_trading"),
        ("POST", "/api/v3/order/test", 1, 200, None, "spot_trading"),
        ("POST", "/api/v3/order", 1, 400, -2010, "spot_trading"),
        ("GET", "/api/v3/account", 20, 400, -1022, "read_only"),
        ("POST", "/sapi/v3/asset/getUserAsset", 5, 200, None, "ed25519"),
    ]
    dumped = repr(log) + json.dumps([asdict(e) for e in log])
    for key in sim.keys.values():
        for secret in (key.secret, key.private_key_pem, key.api_key):
            if secret:
                assert secret not in dumped
        for secret in (key.secret, key.private_key_pem):
            if secret:
                assert secret not in repr(key)
    for fragment in ("signature", "timestamp", "50000", "price="):
        assert fragment not in dumped


def test_importing_wizard_sim_stays_light():
    code = ("import sys, wizard.sim; from wizard.sim import SimExchange; SimExchange(); "
            "print('aiohttp' in sys.modules, 'binance' in sys.modules)")
    out = subprocess.run([str(PYTHON), "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=30, check=True)
    assert out.stdout.split() == ["False", "False"]


# ----- the `sim` subcommand -------------------------------------------------------------


async def test_sim_subcommand_json():
    proc = subprocess.Popen(
        [str(PYTHON), "-m", "wizard", "sim", "--json", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 20)
        announced = json.loads(line)
        assert announced["base_url"].startswith("http://127.0.0.1:")
        keys = {k["name"]: k for k in announced["keys"]}
        assert set(keys) == {"read_only", "spot_trading", "withdrawals", "internal_transfer",
                             "futures", "trading_unrestricted", "ed25519", "deleted"}
        assert "secret" in keys["read_only"] and "private_key_pem" in keys["ed25519"]
        assert keys["withdrawals"]["restrictions"]["enableWithdrawals"] is True
        client = make_client(announced["base_url"], api_key=keys["read_only"]["api_key"],
                             secret=keys["read_only"]["secret"])
        try:
            assert await client.ping() == {}
            assert (await client.get_account_api_permissions())["enableReading"] is True
        finally:
            await client.close_connection()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_sim_subcommand_human_summary():
    proc = subprocess.Popen([str(PYTHON), "-m", "wizard", "sim"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = proc.stdout.readline()
        assert first.startswith("Simulated Binance exchange listening on http://127.0.0.1:")
        lines = []
        while not lines or not lines[-1].startswith("Press Ctrl+C"):
            lines.append(proc.stdout.readline())
            assert lines[-1], "the summary ended early"
        out = "".join(lines)
        assert "read_only (hmac)" in out and "deleted (hmac)  [deleted]" in out
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
