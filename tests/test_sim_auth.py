"""The simulated exchange's authentication: signatures, timestamps and keys.

Driven through real python-binance (and raw aiohttp where a request must be
built by hand) over loopback HTTP, never mocked. This module covers the preset
keys and their restrictions, seeded reproducibility, Binance's documented
HMAC vector, HMAC and Ed25519 signatures (including a self-generated Ed25519
key and a signature over query string plus body), clock skew and recvWindow
errors, unknown, malformed and deleted keys, IP allowlists and permissions
(-2015), and the rules Binance applies when keys are created or edited.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from tests.sim_helpers import MAKER, api_error, client_for
from wizard.sim import SimExchange, SimKey
from wizard.sim.signing import verify


# ----- presets, seeds and the documented signature vector ---------------------------


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
        err = await api_error(client.get_account_api_permissions())
        assert (err.status_code, err.code, err.message) == (401, -2008, "Invalid Api-Key ID.")
        err = await api_error(client.get_account())  # /api can't tell unknown from refused
        assert (err.status_code, err.code) == (401, -2015)
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
