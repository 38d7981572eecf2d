"""The gateway's reads and verdicts against the simulated exchange, through real python-binance.

No mocks: every test drives ``Gateway`` -> python-binance's ``AsyncClient`` ->
aiohttp -> the sim's HTTP server, which checks keys, IPs, timestamps,
signatures and permissions like Binance, and logs each request it served.
This module covers what a key is and may do: parsing apiRestrictions, the
permissions of every preset key, key, IP and permission errors, Ed25519 key
material, account facts, balances and the place-and-cancel order probe, the
rotation check that a key is dead, and environments without /sapi. Faults,
retries, time sync, rate limits and secret hygiene are in
tests/test_gateway_transport.py; request weight in tests/test_gateway_weight.py.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest
from Crypto.PublicKey import ECC

from tests.conftest import SENTINEL_SECRET

from tests.gateway_helpers import calls, env_of, gateway, material, no_sapi_env, problem_of
from wizard.exchange.gateway import Gateway
from wizard.exchange.model import KeyMaterial, ProblemKind
from wizard.exchange.parse import ms_to_datetime, parse_restrictions
from wizard.secret import Secret

pytestmark = pytest.mark.timeout(30)


# -- pure parsing ------------------------------------------------------------


def test_parse_restrictions_tolerates_missing_unknown_and_odd_fields():
    perms = parse_restrictions({
        "ipRestrict": "true", "createTime": 1_700_000_000_000, "enableReading": True,
        "enableWithdrawals": False, "enableSpotAndMarginTrading": "false",
        "enableTeleport": True, "permitsTimeTravel": False, "enableMargin": "maybe",
        "tradingAuthorityExpirationTime": 0, "someOtherField": 1,
    })
    assert perms.confirmed and perms.reading and perms.withdrawals is False
    assert perms.spot_trading is False and perms.margin is None and perms.futures is None
    # A known name with an unparseable value is "unknown, treated as on" too.
    assert perms.unknown_enabled == ("enableMargin", "enableTeleport")
    assert perms.ip_restricted is True and perms.trading_expires_at is None
    assert perms.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert ms_to_datetime("garbage") is None and ms_to_datetime(10**30) is None


# -- a healthy check, and every preset key --------------------------------------


async def test_healthy_check_costs_two_requests_and_weight_two(sim):
    async with gateway(sim, "read_only") as gw:
        perms = await gw.read_permissions()
    assert perms.confirmed and perms.reading and not perms.withdrawals
    assert calls(sim) == [("GET", "/api/v3/time", 200),
                          ("GET", "/sapi/v1/account/apiRestrictions", 200)]
    assert sum(e.weight for e in sim.request_log) == 2
    # /api and /sapi count in their own buckets: X-MBX-USED-WEIGHT-1M for the time
    # sync, X-SAPI-USED-IP-WEIGHT-1M for apiRestrictions.
    assert gw.requests_made == 2 and gw.used_weight == 1 and sim.used_weight == 2
    assert gw.stats.sapi_ip_weight_1m == 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("read_only", {"reading": True, "spot_trading": False, "withdrawals": False, "ip_restricted": True}),
        ("spot_trading", {"spot_trading": True, "withdrawals": False, "ip_restricted": True}),
        ("withdrawals", {"withdrawals": True, "spot_trading": False}),
        ("internal_transfer", {"internal_transfer": True, "withdrawals": False}),
        ("futures", {"futures": True, "spot_trading": False}),
        ("trading_unrestricted", {"spot_trading": True, "ip_restricted": False}),
        ("ed25519", {"reading": True, "spot_trading": False}),
    ],
)
async def test_preset_keys_read_their_permissions(sim, name, expected):
    async with gateway(sim, name) as gw:
        perms = await gw.read_permissions()
    assert perms.confirmed
    for attr, value in expected.items():
        assert getattr(perms, attr) is value, attr
    assert perms.created_at is not None and perms.created_at.tzinfo is timezone.utc
    if name == "trading_unrestricted":
        assert perms.trading_expires_at > datetime.now(timezone.utc)


async def test_deleted_preset_key_is_invalid_and_dead(sim):
    async with gateway(sim, "deleted") as gw:
        assert (await problem_of(gw.read_permissions())).kind is ProblemKind.KEY_INVALID
        assert (await gw.confirm_key_dead()).code == -2008


async def test_unknown_permission_flag_is_reported(sim):
    sim.set_permission(sim.keys["read_only"].api_key, "enableQuantumLending", True)
    async with gateway(sim, "read_only") as gw:
        assert (await gw.read_permissions()).unknown_enabled == ("enableQuantumLending",)


# -- key errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_key", "secret", "kind", "code"),
    [
        ("A" * 63, "s" * 64, ProblemKind.KEY_FORMAT, -2014),
        ("Z" * 64, "s" * 64, ProblemKind.KEY_INVALID, -2008),
        (None, SENTINEL_SECRET, ProblemKind.SIGNATURE_INVALID, -1022),
    ],
)
async def test_key_errors(sim, api_key, secret, kind, code):
    key = KeyMaterial(api_key or sim.keys["read_only"].api_key, "hmac", Secret(secret))
    async with Gateway(env_of(sim), key, timeout=5) as gw:
        problem = await problem_of(gw.read_permissions())
    assert (problem.kind, problem.code) == (kind, code)
    assert sim.request_log[-1].code == code
    assert gw.requests_made == 2  # never retried


async def test_malformed_api_key_is_refused_before_any_request(sim):
    key = KeyMaterial("abc def\n", "hmac", Secret("x"))
    async with Gateway(env_of(sim), key) as gw:
        assert (await problem_of(gw.read_permissions())).kind is ProblemKind.KEY_FORMAT
    assert sim.request_log == []


async def test_ip_not_on_allowlist(sim):
    sim.client_ip = "198.51.100.9"
    async with gateway(sim, "read_only") as gw:
        problem = await problem_of(gw.read_permissions())
    # apiRestrictions is USER_DATA: the IP or Enable Reading; both are named.
    assert problem.kind is ProblemKind.READ_REFUSED and problem.code == -2015
    assert "198.51.100.9" in problem.message + problem.fix


async def test_trading_off_is_a_missing_permission_not_an_ip_problem(sim):
    async with gateway(sim, "read_only") as gw:
        problem = await problem_of(gw.test_order())
    assert problem.kind is ProblemKind.PERMISSION_MISSING
    assert "Enable Spot & Margin Trading" in problem.message
    assert ("POST", "/api/v3/order/test", 401) in calls(sim)
    assert calls(sim)[-1] == ("GET", "/sapi/v1/account/apiRestrictions", 200)


async def test_expired_trading_on_unrestricted_key_mentions_the_30_days(sim):
    key = sim.keys["trading_unrestricted"]
    sim.set_permission(key.api_key, "tradingAuthorityExpirationTime", sim.now_ms() - 86_400_000)
    async with gateway(sim, "trading_unrestricted") as gw:
        problem = await problem_of(gw.test_order())
    assert problem.kind is ProblemKind.PERMISSION_MISSING and "30 days" in problem.message


async def test_order_refused_from_wrong_ip_is_an_ip_problem(sim):
    sim.client_ip = "198.51.100.9"
    async with gateway(sim, "spot_trading") as gw:
        problem = await problem_of(gw.test_order())
    assert problem.kind is ProblemKind.READ_REFUSED


# -- ed25519 -----------------------------------------------------------------------


async def test_ed25519_pem_with_crlf_and_padding_is_normalised(sim):
    key = sim.keys["ed25519"]
    messy = "\r\n  " + key.private_key_pem.strip().replace("\n", "\r\n") + "  \r\n\r\n"
    async with Gateway(env_of(sim), material(key, messy)) as gw:
        assert (await gw.read_permissions()).reading


async def test_ed25519_pkcs8_v2_longer_than_120_chars_is_not_taken_for_rsa(sim):
    key = sim.keys["ed25519"]
    private = ECC.import_key(key.private_key_pem)
    # OneAsymmetricKey v2: the seed plus the public key, 168 PEM characters.
    body = (bytes.fromhex("020101300506032b657004220420") + private.seed
            + bytes.fromhex("812100") + private.public_key().export_key(format="raw"))
    b64 = base64.b64encode(bytes([0x30, len(body)]) + body).decode()
    pem = f"-----BEGIN PRIVATE KEY-----\n{b64[:64]}\n{b64[64:]}\n-----END PRIVATE KEY-----\n"
    assert len(pem) > 120
    async with Gateway(env_of(sim), material(key, pem)) as gw:
        assert (await gw.read_permissions()).reading


async def test_self_generated_ed25519_key(sim):
    private = ECC.generate(curve="ed25519")
    key = sim.create_key(label="self-made", key_type="ed25519", spot_trading=True,
                         ip_allowlist=["127.0.0.1"],
                         public_key_pem=private.public_key().export_key(format="PEM"))
    pem = private.export_key(format="PEM")
    async with Gateway(env_of(sim), KeyMaterial(key.api_key, "ed25519", Secret(pem))) as gw:
        assert (await gw.read_permissions()).spot_trading
        await gw.test_order()


@pytest.mark.parametrize("pem", ["not a key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
                                 "-----END ENCRYPTED PRIVATE KEY-----"])
async def test_unusable_private_key_is_refused_locally(sim, pem):
    key = KeyMaterial(sim.keys["ed25519"].api_key, "ed25519", Secret(pem))
    async with Gateway(env_of(sim), key) as gw:
        problem = await problem_of(gw.read_permissions())
    assert problem.kind is ProblemKind.KEY_FORMAT and sim.request_log == []


# -- account, balances, orders ------------------------------------------------------


async def test_account_facts_and_balances(sim):
    key = sim.keys["spot_trading"]
    sim.set_account_status(key.api_key, trading_locked=True)
    async with gateway(sim, "spot_trading") as gw:
        facts = await gw.account_facts()
        balances = {b.asset: b.free for b in await gw.balances()}
    assert facts.status == "Normal" and facts.trading_locked is True
    assert facts.total_addresses is not None and facts.whitelisted_addresses is not None
    assert balances["USDT"] == 100
    assert ("POST", "/sapi/v3/asset/getUserAsset", 200) in calls(sim)


async def test_place_and_cancel_probe(sim):
    key = sim.keys["spot_trading"]
    async with gateway(sim, "spot_trading") as gw:
        probe = await gw.place_and_cancel_probe()
    assert probe.seen_open and probe.cancelled and probe.seen_gone
    assert probe.price * probe.quantity >= 5 and probe.price < 40_000
    assert sim.open_orders(key.api_key) == []
    assert [c[:2] for c in calls(sim)] == [
        ("GET", "/api/v3/exchangeInfo"), ("GET", "/api/v3/referencePrice"),
        ("GET", "/api/v3/avgPrice"), ("GET", "/api/v3/time"),
        ("POST", "/sapi/v3/asset/getUserAsset"), ("POST", "/api/v3/order"),
        ("GET", "/api/v3/openOrders"), ("DELETE", "/api/v3/order"), ("GET", "/api/v3/openOrders")]
    # referencePrice (w2) is new since 2026-05: the band filters use it when it's non-null.
    assert sum(e.weight for e in sim.request_log) == 44


async def test_probe_checks_funds_before_ordering(sim):
    sim.set_balance(sim.keys["spot_trading"].api_key, "USDT", "1")
    async with gateway(sim, "spot_trading") as gw:
        problem = await problem_of(gw.place_and_cancel_probe())
    assert problem.kind is ProblemKind.ORDER_REJECTED and "USDT" in problem.message
    assert ("POST", "/api/v3/order") not in [c[:2] for c in calls(sim)]


async def test_probe_that_would_trade_is_rejected_by_binance(sim):
    sim.set_market("BTCUSDT", bid="19999.99", ask="20000.00")  # the market crashed below us
    async with gateway(sim, "spot_trading") as gw:
        problem = await problem_of(gw.place_and_cancel_probe())
    assert problem.kind is ProblemKind.ORDER_REJECTED and problem.code == -2010
    assert sim.open_orders(sim.keys["spot_trading"].api_key) == []


async def test_probe_with_read_only_key_is_a_missing_permission(sim):
    async with gateway(sim, "read_only") as gw:
        assert (await problem_of(gw.place_and_cancel_probe())).kind is ProblemKind.PERMISSION_MISSING


async def test_lost_order_answer_is_status_unknown_and_cleaned_up(sim):
    sim.faults.drop_next(1, path="/api/v3/order")
    async with gateway(sim, "spot_trading") as gw:
        problem = await problem_of(gw.place_and_cancel_probe())
    assert problem.kind is ProblemKind.UNREACHABLE and "status is unknown" in problem.message
    order_calls = [c for c in calls(sim) if c[1] == "/api/v3/order"]
    assert order_calls[0] == ("POST", "/api/v3/order", 0)
    assert order_calls[1][0] == "DELETE"  # best-effort cancel by our client order id
    assert len([c for c in order_calls if c[0] == "POST"]) == 1  # never re-sent
    assert sim.open_orders(sim.keys["spot_trading"].api_key) == []


async def test_probe_cancelled_midway_leaves_no_order(sim):
    import asyncio

    key = sim.keys["spot_trading"]
    async with gateway(sim, "spot_trading") as gw:
        await gw.sync_time()
        await gw.symbol_rules("BTCUSDT")  # cached: fewer slow requests below
        sim.faults.latency = 0.4  # slow enough to cancel the task while it waits
        task = asyncio.create_task(gw.place_and_cancel_probe())
        while not any(e.path == "/sapi/v3/asset/getUserAsset" for e in sim.request_log):
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # the order POST is in flight (the sim still places it)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        sim.faults.latency = 0
    assert ("DELETE", "/api/v3/order") in [c[:2] for c in calls(sim)]
    assert sim.open_orders(key.api_key) == []


# -- rotation -------------------------------------------------------------------


async def test_confirm_key_dead(sim):
    key = sim.keys["read_only"]
    async with gateway(sim, "read_only") as gw:
        assert await gw.confirm_key_dead() is None
        sim.faults.fail_next(5, status=503, path="/sapi")
        assert (await problem_of(gw.confirm_key_dead())).kind is ProblemKind.SERVER_ERROR
        sim.faults.reset()
        sim.delete_key(key.api_key)
        assert (await gw.confirm_key_dead()).kind is ProblemKind.KEY_INVALID


# -- environments without /sapi ----------------------------------------------------------


@pytest.mark.parametrize(("name", "trading"), [("read_only", False), ("spot_trading", True)])
async def test_no_sapi_permissions_are_probed_not_confirmed(sim, name, trading):
    async with gateway(sim, name, env=no_sapi_env(sim)) as gw:
        perms = await gw.read_permissions()
        facts = await gw.account_facts()
        balances = await gw.balances()
    assert perms.confirmed is False and perms.reading is True and perms.spot_trading is trading
    assert perms.withdrawals is None and gw.last_probe.can_trade is trading
    assert facts.status is None and {b.asset for b in balances} == {"BTC", "USDT"}
    assert not any(e.path.startswith("/sapi") for e in sim.request_log)


async def test_no_sapi_dead_key_and_unexplained_refusal(sim):
    async with gateway(sim, "deleted", env=no_sapi_env(sim)) as gw:
        # /api answers a deleted key -2015: deletion can't be proven there.
        assert (await problem_of(gw.confirm_key_dead())).kind is ProblemKind.UNPROVEN
    sim.client_ip = "198.51.100.9"
    async with gateway(sim, "read_only", env=no_sapi_env(sim)) as gw:
        problem = await problem_of(gw.read_permissions())
    # Without apiRestrictions nothing tells IP from key: say so, testnet-style.
    assert problem.kind is ProblemKind.KEY_REJECTED and "testnet" in problem.message
