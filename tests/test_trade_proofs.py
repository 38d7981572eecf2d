"""-1013 and -2010 are not proof that a key may trade (issue 11, item 10).

Only the answers binance-spot-api-docs errors.md documents as coming after the
key's permission check count: a price/size filter failure, "Order would
immediately match and take.", insufficient balance. "This account may not
place or cancel orders.", "This action is disabled on this account.", "Rest
API trading is not enabled.", "This symbol is not permitted for this
account." and account-level filters (MAX_NUM_ORDERS, ...) say nothing about
the key. Driven through real python-binance against the simulator.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.gateway_helpers import gateway, no_sapi_env, problem_of
from tests.sim_helpers import api_error, client_for
from wizard.exchange.errors import problem_from_api_error
from wizard.exchange.model import ProblemKind

pytestmark = pytest.mark.timeout(30)

# The -2010 messages, verbatim from errors.md, and whether they show the key passed.
MESSAGES_2010 = {
    "Order would immediately match and take.": True,
    "Account has insufficient balance for requested action.": True,
    "This account may not place or cancel orders.": False,
    "This action is disabled on this account.": False,
    "Rest API trading is not enabled.": False,
    "This symbol is not permitted for this account.": False,
    "This symbol is restricted for this account.": False,
    "Market is closed.": False,
    "Duplicate order sent.": False,
}
PRICE_SIZE = ["PRICE_FILTER", "PERCENT_PRICE", "PERCENT_PRICE_BY_SIDE", "LOT_SIZE", "NOTIONAL",
              "MIN_NOTIONAL", "MARKET_LOT_SIZE"]
ACCOUNT_LEVEL = ["MAX_NUM_ORDERS", "MAX_NUM_ALGO_ORDERS", "MAX_POSITION", "EXCHANGE_MAX_NUM_ORDERS",
                 "EXCHANGE_MAX_NUM_ICEBERG_ORDERS"]


@pytest.mark.parametrize(("msg", "passed"), MESSAGES_2010.items())
def test_2010_messages_are_read(msg, passed):
    problem = problem_from_api_error(code=-2010, status=400, msg=msg)
    assert problem.kind is ProblemKind.ORDER_REJECTED and problem.passed_key_check is passed
    assert "check the account can trade spot" not in problem.fix.lower() or not passed


@pytest.mark.parametrize(("name", "passed"), [(n, True) for n in PRICE_SIZE]
                         + [(n, False) for n in ACCOUNT_LEVEL])
def test_1013_account_limits_are_not_proof(name, passed):
    problem = problem_from_api_error(code=-1013, status=400, msg=f"Filter failure: {name}")
    assert problem.kind is ProblemKind.FILTER_FAILURE and problem.passed_key_check is passed
    if not passed:
        assert "account limit" in problem.message and name in problem.message


@given(st.text(max_size=80))
def test_an_unknown_message_is_never_proof(msg):
    oracle = msg.strip().rstrip(".").lower() in {
        "order would immediately match and take",
        "account has insufficient balance for requested action"}
    for code in (-2010, -1013, -2011):
        problem = problem_from_api_error(code=code, status=400, msg=msg)
        assert problem.passed_key_check is (oracle and code == -2010)


def test_symbol_not_permitted_says_use_another_symbol():
    problem = problem_from_api_error(code=-2010, status=400,
                                     msg="This symbol is not permitted for this account.")
    assert "another symbol" in problem.fix and "[test] symbol" in problem.fix


def _refuse_trading(sim, how: str, api_key: str) -> None:
    if how == "account":
        sim.set_account_status(api_key, can_trade=False)
    elif how == "locked":
        sim.set_account_status(api_key, trading_locked=True)
    elif how == "rest":
        sim.rest_trading = False
    elif how == "symbol":
        sim.market["BTCUSDT"].permission_sets = [["TRD_GRP_005"]]
    elif how == "max_orders":
        sim.market["BTCUSDT"].max_num_orders = 0


HOW = ["account", "locked", "rest", "symbol", "max_orders"]


@pytest.mark.parametrize("how", HOW)
async def test_sim_refuses_with_binances_words(sim, how):
    _refuse_trading(sim, how, sim.keys["spot_trading"].api_key)
    async with client_for(sim, "spot_trading") as client:
        err = await api_error(client.create_test_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.0002", price="30000"))
    expected = {
        "account": (-2010, "This account may not place or cancel orders."),
        "locked": (-2010, "This action is disabled on this account."),
        "rest": (-2010, "Rest API trading is not enabled."),
        "symbol": (-2010, "This symbol is not permitted for this account."),
        "max_orders": (-1013, "Filter failure: MAX_NUM_ORDERS"),
    }[how]
    assert (err.code, err.message) == expected


@pytest.mark.parametrize("how", HOW)
async def test_on_testnet_these_refusals_are_not_read_as_can_trade(sim, how):
    _refuse_trading(sim, how, sim.keys["spot_trading"].api_key)
    async with gateway(sim, "spot_trading", env=no_sapi_env(sim)) as gw:
        perms = await gw.read_permissions()
    assert perms.spot_trading is not True and perms.confirmed is False
    assert "inconclusive" in gw.last_probe.notes[1]


async def test_on_testnet_a_price_refusal_still_shows_trading(sim):
    # The planned order is fine; a test order on a crossing price answers "would match".
    async with gateway(sim, "spot_trading", env=no_sapi_env(sim)) as gw:
        perms = await gw.read_permissions()
    assert perms.spot_trading is True


async def test_symbol_not_permitted_on_a_visible_order_says_use_another_symbol(sim):
    sim.market["BTCUSDT"].permission_sets = [["SPOT"], ["TRD_GRP_005"]]
    async with gateway(sim, "spot_trading") as gw:
        problem = await problem_of(gw.test_order())
    assert problem.kind is ProblemKind.ORDER_REJECTED and "another symbol" in problem.fix
    assert sim.open_orders(sim.keys["spot_trading"].api_key) == []
