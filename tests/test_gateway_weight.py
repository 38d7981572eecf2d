"""Request weight: the refusal probe, and what gateways of one environment share.

Against the simulator through real python-binance, like tests/test_gateway.py.
The last two tests replay the exact gateway calls a wizard run makes, so a
change that costs weight fails here even before the benchmark (tests/bench.py)
is run.
"""

from __future__ import annotations

import pytest

from tests.gateway_helpers import calls, env_of, material, problem_of
from wizard.exchange.gateway import Gateway, TradeRefusal
from wizard.exchange.model import ProblemKind

pytestmark = pytest.mark.timeout(30)


def weight(sim, since: int = 0) -> int:
    return sum(e.weight for e in sim.request_log[since:])


def paths(sim, since: int = 0) -> list[tuple[str, str]]:
    return [c[:2] for c in calls(sim)[since:]]


# -- the refusal probe ------------------------------------------------------------------


async def test_refusal_after_a_balance_read_costs_one_request(sim):
    env = env_of(sim)
    async with Gateway(env, material(sim.keys["read_only"])) as gw:
        await gw.balances()
        before = len(sim.request_log)
        result = await gw.trade_refusal_probe("BTCUSDT")
    assert isinstance(result, TradeRefusal) and result.refused
    assert result.problem.code == -2015 and "cannot trade" in result.note
    assert paths(sim, before) == [("POST", "/api/v3/order/test")] and weight(sim, before) == 1
    assert not any("exchangeInfo" in p or "avgPrice" in p for _, p in paths(sim))


async def test_refusal_without_a_prior_read_is_explained_by_api_restrictions(sim):
    async with Gateway(env_of(sim), material(sim.keys["read_only"])) as gw:
        result = await gw.trade_refusal_probe()
    assert result.refused and result.problem.kind is ProblemKind.PERMISSION_MISSING
    assert paths(sim) == [("GET", "/api/v3/time"), ("POST", "/api/v3/order/test"),
                          ("GET", "/sapi/v1/account/apiRestrictions")]
    assert weight(sim) == 3


async def test_a_key_that_may_trade_is_not_refused(sim):
    async with Gateway(env_of(sim), material(sim.keys["spot_trading"])) as gw:
        result = await gw.trade_refusal_probe()
    # The fixed sliver at 0.01 breaks BTCUSDT's filters: past the key check, never a proof.
    assert result.refused is False and result.problem.kind is ProblemKind.FILTER_FAILURE
    assert "did not refuse" in result.note
    assert sim.open_orders(sim.keys["spot_trading"].api_key) == []


async def test_refusal_from_another_ip_is_not_taken_as_proof(sim):
    sim.client_ip = "198.51.100.9"  # not on the read_only key's allowlist
    async with Gateway(env_of(sim), material(sim.keys["read_only"])) as gw:
        problem = await problem_of(gw.trade_refusal_probe())
    assert problem.kind is ProblemKind.READ_REFUSED


async def test_an_exchange_outage_is_not_a_refusal(sim):
    sim.faults.fail_next(1, status=503, path="/api/v3/order/test")
    async with Gateway(env_of(sim), material(sim.keys["read_only"])) as gw:
        await gw.balances()
        problem = await problem_of(gw.trade_refusal_probe())
    assert problem.kind is ProblemKind.SERVER_ERROR
    assert [c for c in calls(sim) if c[1] == "/api/v3/order/test"] == [
        ("POST", "/api/v3/order/test", 503)]  # never retried


# -- what gateways of one environment share ------------------------------------------------


async def test_one_time_sync_per_environment_not_per_gateway(sim):
    env = env_of(sim)
    for name in ("read_only", "read_only", "spot_trading"):
        async with Gateway(env, material(sim.keys[name])) as gw:
            await gw.read_permissions()
            assert gw.clock_offset_ms is not None
    assert [p for _, p in paths(sim)].count("/api/v3/time") == 1
    async with Gateway(env_of(sim), material(sim.keys["read_only"])) as gw:  # an equal, separate env
        await gw.read_permissions()
    assert [p for _, p in paths(sim)].count("/api/v3/time") == 2


async def test_a_stale_shared_offset_resyncs_once(sim):
    env = env_of(sim)
    async with Gateway(env, material(sim.keys["read_only"])) as gw:
        await gw.read_permissions()
    sim.faults.clock_skew_ms = -30_000  # the clock jumped after the shared sync
    async with Gateway(env, material(sim.keys["read_only"])) as gw:
        assert (await gw.read_permissions()).reading
        assert -31_000 < gw.clock_offset_ms < -29_000
    assert [(e.path, e.code) for e in sim.request_log][2:] == [
        ("/sapi/v1/account/apiRestrictions", -1021), ("/api/v3/time", None),
        ("/sapi/v1/account/apiRestrictions", None)]
    async with Gateway(env, material(sim.keys["read_only"])) as gw:  # the fresh offset is shared
        await gw.read_permissions()
    assert sim.request_log[-1].code is None and len(sim.request_log) == 6


async def test_visible_order_after_test_order_reuses_market_facts_and_balances(sim):
    env = env_of(sim)
    key = sim.keys["spot_trading"]
    async with Gateway(env, material(key)) as gw:
        await gw.balances()
        await gw.test_order()
    before = len(sim.request_log)
    async with Gateway(env, material(key)) as gw:  # the app uses a new gateway per action
        probe = await gw.place_and_cancel_probe()
    assert probe.seen_open and probe.cancelled and probe.seen_gone
    assert paths(sim, before) == [
        ("POST", "/api/v3/order"), ("GET", "/api/v3/openOrders"), ("DELETE", "/api/v3/order"),
        ("GET", "/api/v3/openOrders")]
    assert weight(sim, before) == 14


async def test_funds_check_rereads_balances_when_none_are_recent(sim):
    key = sim.keys["spot_trading"]
    sim.set_balance(key.api_key, "USDT", "1")
    async with Gateway(env_of(sim), material(key)) as gw:
        problem = await problem_of(gw.place_and_cancel_probe())
    assert problem.kind is ProblemKind.ORDER_REJECTED and "USDT" in problem.message
    assert ("POST", "/sapi/v3/asset/getUserAsset") in paths(sim)


async def test_a_filter_failure_drops_the_shared_market_facts(sim):
    env = env_of(sim)
    key = sim.keys["spot_trading"]
    async with Gateway(env, material(key)) as gw:
        await gw.test_order()
    sim.set_market("BTCUSDT", avg_price="200000")  # the cached average is now far too low
    async with Gateway(env, material(key)) as gw:
        problem = await problem_of(gw.test_order())
        assert problem.kind is ProblemKind.FILTER_FAILURE
        await gw.test_order()  # re-reads rules and the average price, then passes
    assert [p for _, p in paths(sim)].count("/api/v3/avgPrice") == 2


# -- a whole wizard run's calls, in the wizard's order ---------------------------------------


async def _wizard_calls(sim, name: str, purpose: str) -> int:
    """Steps 3-6 as the app makes them: a new gateway per step, one Environment per run."""
    env = env_of(sim)
    key = material(sim.keys[name])
    async with Gateway(env, key) as gw:  # 3 permissions (+ what the API sees of step 1)
        await gw.sync_time()
        await gw.read_permissions()
        await gw.account_facts()
    for _ in range(2):  # 4 IP re-check, 5 the stored copy's signed call
        async with Gateway(env, key) as gw:
            await gw.sync_time()
            await gw.read_permissions()
    async with Gateway(env, key) as gw:  # 6 the small test
        await gw.balances()
        if purpose == "read":
            assert (await gw.trade_refusal_probe()).refused
        else:
            await gw.test_order()
    if purpose == "spot":
        async with Gateway(env, key) as gw:  # 6 the visible order, after confirmation
            await gw.place_and_cancel_probe()
    return weight(sim)


async def test_read_only_run_stays_within_weight_25(sim):
    assert await _wizard_calls(sim, "read_only", "read") <= 25


async def test_spot_run_with_visible_order_stays_within_weight_60(sim):
    assert await _wizard_calls(sim, "spot_trading", "spot") <= 60
    assert sim.open_orders(sim.keys["spot_trading"].api_key) == []
