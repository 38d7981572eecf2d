"""The test symbol: one this account may trade, chosen from what the user holds (issue 13).

An order outside the account's ``permissionSets`` fails -2010 "This symbol is
not permitted for this account."; an unknown symbol fails -1121. The wizard
picks the market from the quote assets the user holds, says which and why,
turns those refusals into "use another symbol", and names a bad symbol and
where it came from. Real python-binance against the simulator.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.gateway_helpers import gateway, no_sapi_env, problem_of
from wizard.exchange.model import Balance, ProblemKind
from wizard.exchange.symbols import CANDIDATES, PROFILE_ORIGIN, account_may_trade, choose_test_symbol

pytestmark = pytest.mark.timeout(30)
D = Decimal


def test_the_profile_symbol_wins_and_says_so():
    choice = choose_test_symbol([Balance("USDC", D(50), D(0))], "ETHBTC")
    assert choice.symbol == "ETHBTC" and "[test] symbol" in choice.reason


def test_the_market_follows_the_quote_asset_held():
    usdc = choose_test_symbol([Balance("USDC", D(50), D(0)), Balance("ETH", D(1), D(0))])
    assert usdc.symbol == "BTCUSDC" and "50 USDC" in usdc.reason
    btc = choose_test_symbol([Balance("BTC", D("0.01"), D(0))])
    assert btc.symbol == "ETHBTC"
    nothing = choose_test_symbol([Balance("USDT", D(0), D(3))])  # only locked: not usable
    assert nothing.symbol == "BTCUSDT" and "none of the usual" in nothing.reason


@given(st.dictionaries(st.sampled_from(["USDT", "USDC", "FDUSD", "BTC", "EUR", "XRP", "DOGE"]),
                       st.decimals(0, 1000, places=2), max_size=5))
def test_choice_property(held):
    balances = [Balance(a, f, D(0)) for a, f in held.items()]
    choice = choose_test_symbol(balances)
    usable = [(s, q) for s, q in CANDIDATES if held.get(q, 0) > 0]
    assert choice.symbol == (usable[0][0] if usable else "BTCUSDT")


def test_permission_sets_rule():
    assert account_may_trade([["SPOT", "MARGIN"]], ["SPOT"])
    assert not account_may_trade([["SPOT", "MARGIN"], ["TRD_GRP_004"]], ["SPOT"])
    assert account_may_trade([["SPOT"], ["TRD_GRP_004", "TRD_GRP_005"]], ["SPOT", "TRD_GRP_005"])


async def test_an_unknown_symbol_is_named_with_its_origin(sim):
    async with gateway(sim, "spot_trading") as gw:
        problem = await problem_of(gw.test_order("DOGEUSDX", origin=PROFILE_ORIGIN))
    assert "'DOGEUSDX'" in problem.message and "[test] symbol" in problem.message
    assert "[test] symbol" in problem.fix and problem.code == -1121
    assert "unexpected" not in problem.message.lower()


async def test_where_the_account_permissions_are_known_the_plan_refuses_first(sim):
    key = sim.keys["spot_trading"]
    sim.set_account_status(key.api_key, permissions=["SPOT"])
    sim.market["BTCUSDT"].permission_sets = [["SPOT"], ["TRD_GRP_005"]]
    async with gateway(sim, "spot_trading", env=no_sapi_env(sim)) as gw:
        await gw.balances()  # GET /api/v3/account: balances and the account's permissions
        problem = await problem_of(gw.test_order("BTCUSDT"))
    assert "another symbol" in problem.fix and "TRD_GRP_005" in problem.message
    assert not any(e.path == "/api/v3/order/test" for e in sim.request_log)  # refused before sending


async def test_a_usdc_holder_tests_on_btcusdc_end_to_end(sim):
    key = sim.keys["spot_trading"]
    sim.set_balance(key.api_key, "USDT", "0")
    sim.set_balance(key.api_key, "USDC", "40")
    async with gateway(sim, "spot_trading") as gw:
        choice = choose_test_symbol(await gw.balances())
        order = await gw.test_order(choice.symbol, origin=choice.origin)
        probe = await gw.place_and_cancel_probe(choice.symbol)
    assert choice.symbol == "BTCUSDC" and order.quote_asset == "USDC"
    assert probe.symbol == "BTCUSDC" and probe.seen_gone
