"""Every error code in plain language, none as "unexpected" (issue 13, "Errors").

-1015 is the account's order rate, not the IP's; -1008 is retried like a 5xx and
means "status unknown" for orders; a WAF 403 gets a cool-down like a 429; a 2xx
page that isn't JSON is "not a Binance answer"; a 418 without Retry-After is
timed from "IP banned until <ms>". Through real python-binance and the
simulator, with mapping checks on Binance's documented messages.
"""

from __future__ import annotations

import time

import pytest

from tests.gateway_helpers import calls, gateway, problem_of
from tests.test_errors import api_error
from wizard.exchange.errors import ban_end, is_transient, problem_from_api_error, problem_from_exception
from wizard.exchange.model import ProblemKind

pytestmark = pytest.mark.timeout(30)


async def test_1015_is_the_accounts_order_rate_and_reads_still_work(sim):
    sim.limits.orders_10s_limit = 0
    async with gateway(sim, "spot_trading") as gw:
        problem = await problem_of(gw.place_and_cancel_probe())
        assert problem.code == -1015 and problem.status == 429
        assert "new orders for this account" in problem.message and "for this IP" not in problem.message
        await gw.read_permissions()  # no IP cool-down: only orders are limited
    assert sim.open_orders(sim.keys["spot_trading"].api_key) == []


async def test_order_count_headers_follow_the_account(sim):
    async with gateway(sim, "spot_trading") as gw:
        await gw.place_and_cancel_probe()
        await gw.place_and_cancel_probe()
    assert sim.limits.take_order(sim._accounts[sim.keys["spot_trading"].api_key].uid,
                                 sim.now_ms())["X-MBX-ORDER-COUNT-10S"] == "3"


async def test_1008_is_retried_for_reads(sim):
    sim.faults.busy_next(1, path="/sapi/v1/account/apiRestrictions")
    async with gateway(sim, "read_only") as gw:
        assert (await gw.read_permissions()).reading is True
    assert [c[2] for c in calls(sim) if c[1].endswith("apiRestrictions")] == [503, 200]


async def test_1008_on_an_order_means_status_unknown(sim):
    sim.faults.busy_next(1, path="/api/v3/order")
    async with gateway(sim, "spot_trading") as gw:
        problem = await problem_of(gw.place_and_cancel_probe())
    assert problem.code == -1008 and "overloaded" in problem.message
    assert "status is unknown" in problem.message or "cancelled it" in problem.message


def test_1008_mapping_whatever_the_status():
    problem = problem_from_api_error(code=-1008, status=400, msg="Server is currently overloaded "
                                     "with other requests. Please try again in a few minutes.",
                                     context="order")
    assert problem.kind is ProblemKind.SERVER_ERROR and "status is unknown" in problem.message
    assert is_transient(api_error(400, -1008, "Server is currently overloaded"))


async def test_a_waf_403_cools_down_and_is_not_polled_through(sim):
    sim.faults.html_error(1, status=403)
    async with gateway(sim, "read_only") as gw:
        first = await problem_of(gw.read_permissions())
        sent = len(sim.request_log)
        again = await problem_of(gw.read_permissions())
    assert first.kind is ProblemKind.REGION_BLOCKED and first.retry_after
    assert again.kind is ProblemKind.REGION_BLOCKED and "firewall" in again.message
    assert len(sim.request_log) == sent  # held off: nothing sent during the cool-down


async def test_a_2xx_page_that_is_not_json_is_not_a_binance_answer(sim):
    sim.faults.html_error(1, status=200)
    async with gateway(sim, "read_only") as gw:
        problem = await problem_of(gw.read_permissions())
    assert "not with Binance's API" in problem.message
    assert "unexpectedly" not in problem.message and "ContentTypeError" not in problem.message


async def test_a_418_without_retry_after_is_timed_from_the_message(sim):
    sim.faults.ban_for(300, retry_after=False)
    async with gateway(sim, "read_only") as gw:
        problem = await problem_of(gw.sync_time())
    assert problem.kind is ProblemKind.BANNED and 280 <= problem.retry_after <= 300
    assert "5 min" in problem.fix


def test_ban_end_reads_binances_message():
    until = int(time.time() * 1000) + 90_000
    msg = (f"Way too much request weight used; IP banned until {until}. "
           "Please use WebSocket Streams for live updates to avoid bans.")
    assert 85 <= ban_end(msg) <= 90 and ban_end("no date here") is None
    problem = problem_from_exception(api_error(418, -1003, msg))
    assert problem.kind is ProblemKind.BANNED and 85 <= problem.retry_after <= 90
