"""The gateway's transport against the simulated exchange, through real python-binance.

Like tests/test_gateway.py, no mocks: ``Gateway`` -> ``AsyncClient`` -> aiohttp
-> the sim's HTTP server, with the sim's fault injection. This module covers
what happens between the wizard and the exchange: that importing the gateway
loads no network stack, timeouts, retried 5xx and dropped connections on reads
(and POSTs never retried), non-JSON and region-blocked pages, a wrong base URL
or nothing listening, clock skew and the -1021 resync, rate limits and bans
with their Retry-After, and that the sentinel secret never leaks through logs,
the request log, problems or tracebacks.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
import traceback

import pytest

from tests.conftest import SENTINEL_SECRET
from tests.leaks import assert_no_leak
from tests.gateway_helpers import calls, env_of, gateway, material, problem_of
from wizard.exchange.gateway import Gateway
from wizard.exchange.model import Environment, ExchangeError, KeyMaterial, ProblemKind
from wizard.secret import Secret

pytestmark = pytest.mark.timeout(30)


# -- loading -----------------------------------------------------------------------


def test_importing_the_gateway_loads_no_network_stack():
    code = (
        "import sys, wizard.exchange.gateway, wizard.exchange.errors, wizard.exchange.orders\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('binance', 'aiohttp', 'Crypto')]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=20)


# -- faults ------------------------------------------------------------------------


async def test_latency_beyond_the_timeout_is_a_timeout(sim):
    sim.faults.latency = 1.0
    started = time.monotonic()
    async with gateway(sim, "read_only", timeout=0.2, retries=1) as gw:
        problem = await problem_of(gw.sync_time())
    assert problem.kind is ProblemKind.TIMEOUT
    assert gw.requests_made == 2 and time.monotonic() - started < 1.0


async def test_5xx_on_a_read_is_retried_and_succeeds(sim):
    sim.faults.fail_next(1, status=503, path="/sapi/v1/account/apiRestrictions")
    async with gateway(sim, "read_only") as gw:
        assert (await gw.read_permissions()).reading
    assert [c for c in calls(sim) if "apiRestrictions" in c[1]] == [
        ("GET", "/sapi/v1/account/apiRestrictions", 503),
        ("GET", "/sapi/v1/account/apiRestrictions", 200),
    ]


async def test_5xx_every_time_gives_up_after_bounded_retries(sim):
    sim.faults.fail_next(10, status=502, path="/sapi")
    async with gateway(sim, "read_only") as gw:
        problem = await problem_of(gw.read_permissions())
    assert problem.kind is ProblemKind.SERVER_ERROR and "didn't say whether" in problem.message
    assert [c[2] for c in calls(sim)] == [200, 502, 502, 502]


async def test_posts_are_never_retried(sim):
    sim.faults.fail_next(1, status=503, path="/sapi/v3/asset/getUserAsset")
    sim.faults.fail_next(1, status=503, path="/api/v3/order/test")
    async with gateway(sim, "spot_trading") as gw:
        assert (await problem_of(gw.balances())).kind is ProblemKind.SERVER_ERROR
        assert (await problem_of(gw.test_order())).kind is ProblemKind.SERVER_ERROR
        await gw.test_order()  # the fault is used up: the next one goes through
    posts = [c for c in calls(sim) if c[0] == "POST"]
    assert posts == [("POST", "/sapi/v3/asset/getUserAsset", 503),
                     ("POST", "/api/v3/order/test", 503), ("POST", "/api/v3/order/test", 200)]


@pytest.mark.parametrize(("status", "kind"), [(403, ProblemKind.REGION_BLOCKED),
                                              (451, ProblemKind.REGION_BLOCKED)])
async def test_non_json_pages(sim, status, kind):
    sim.faults.html_error(1, status=status, path="/sapi")
    async with gateway(sim, "read_only") as gw:
        problem = await problem_of(gw.read_permissions())
    assert problem.kind is kind and problem.status == status and "<" not in problem.message
    assert gw.requests_made == 2  # a 4xx is an answer: not retried


async def test_restricted_location_json_and_wrong_base_url(sim):
    sim.faults.geo_block(1)
    async with gateway(sim, "read_only") as gw:
        assert (await problem_of(gw.sync_time())).kind is ProblemKind.REGION_BLOCKED
    wrong = Environment.custom(sim.base_url + "/nothing-here")
    async with Gateway(wrong, material(sim.keys["read_only"])) as gw:
        assert (await problem_of(gw.sync_time())).kind is ProblemKind.NOT_FOUND


async def test_dropped_connection_on_a_read_is_retried(sim):
    sim.faults.drop_next(1, path="/sapi/v1/account/apiRestrictions")
    async with gateway(sim, "read_only") as gw:
        assert (await gw.read_permissions()).reading
    assert [c[2] for c in calls(sim)] == [200, 0, 200]


async def test_nothing_listening_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with Gateway(Environment.custom(f"http://127.0.0.1:{port}"), None, retries=0) as gw:
        assert (await problem_of(gw.sync_time())).kind is ProblemKind.UNREACHABLE


async def test_clock_skew_is_fixed_by_the_lazy_sync(sim):
    sim.faults.clock_skew_ms = 30_000
    async with gateway(sim, "read_only") as gw:
        assert (await gw.read_permissions()).reading
        assert 29_000 < gw.clock_offset_ms < 31_000
    assert all(e.code is None for e in sim.request_log)


async def test_minus_1021_resyncs_and_retries_once(sim):
    async with gateway(sim, "read_only") as gw:
        await gw.sync_time()
        sim.faults.clock_skew_ms = -30_000  # the clock jumps after our sync
        assert (await gw.read_permissions()).reading
    assert [(e.path, e.code) for e in sim.request_log] == [
        ("/api/v3/time", None), ("/sapi/v1/account/apiRestrictions", -1021),
        ("/api/v3/time", None), ("/sapi/v1/account/apiRestrictions", None)]


async def test_rate_limit_reports_and_respects_retry_after(sim):
    sim.limits.sapi_ip_limit = 2  # /sapi has its own bucket (the time sync is /api)
    async with gateway(sim, "read_only") as gw:
        await gw.read_permissions()
        await gw.read_permissions()
        problem = await problem_of(gw.read_permissions())
        assert problem.kind is ProblemKind.RATE_LIMITED and problem.code == -1003
        assert 0 < problem.retry_after <= 60 and gw.requests_made == 4
    logged = len(sim.request_log)
    async with gateway(sim, "spot_trading") as gw:  # limits are per IP: any key waits
        problem = await problem_of(gw.sync_time())
    assert problem.kind is ProblemKind.RATE_LIMITED and problem.retry_after <= 60
    assert len(sim.request_log) == logged and gw.requests_made == 0


async def test_ban_reports_and_respects_retry_after(sim):
    sim.faults.ban_for(120)
    async with gateway(sim, "read_only") as gw:
        problem = await problem_of(gw.sync_time())
        assert problem.kind is ProblemKind.BANNED and 110 <= problem.retry_after <= 120
        assert "2 min" in problem.fix
        again = await problem_of(gw.read_permissions())
    assert again.kind is ProblemKind.BANNED and again.retry_after <= problem.retry_after
    assert [e.status for e in sim.request_log] == [418]


# -- the secret never leaks -------------------------------------------------------------


async def test_sentinel_secret_never_leaves_through_logs_log_or_problems(sim, caplog):
    caplog.set_level(logging.DEBUG)
    key = sim.keys["spot_trading"]
    key.secret = SENTINEL_SECRET  # the sim verifies with this; the gateway signs with it
    problems, errors = [], []
    async with Gateway(env_of(sim), material(key, SENTINEL_SECRET)) as gw:
        await gw.read_permissions()
        await gw.place_and_cancel_probe()
        sim.client_ip = "198.51.100.9"
        for call in (gw.read_permissions, gw.test_order, gw.balances):
            with pytest.raises(ExchangeError) as info:
                await call()
            problems.append(info.value.problem)
            errors.append(info.value)
        shown = repr(gw) + str(gw.stats)
    wrong = KeyMaterial(key.api_key, "hmac", Secret(SENTINEL_SECRET[::-1]))
    async with Gateway(env_of(sim), wrong) as gw:
        with pytest.raises(ExchangeError) as info:
            await gw.read_permissions()
        errors.append(info.value)
    texts = [shown, caplog.text, repr(sim.request_log)]
    texts += [repr(p) + p.message + p.fix for p in problems]
    for err in errors:
        texts.append(repr(err.args) + str(err))
        texts.append("".join(traceback.TracebackException.from_exception(
            err, capture_locals=True).format()))
    for text in texts:
        assert_no_leak(text)
        assert_no_leak(text, secret=SENTINEL_SECRET[::-1])
