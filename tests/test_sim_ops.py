"""The simulated exchange's operations side: weight, faults, admin API and the CLI.

Driven through real python-binance and aiohttp over loopback HTTP, and through
subprocesses for the command line, never mocked. This module covers the
request-weight header and the 429 it leads to, fault injection (latency,
failures, HTML error pages, geo-blocks, dropped connections, bans), the
``/_sim`` admin route and the Python API it mirrors (loopback-only, safe from
another thread), the request log keeping no secrets, ``wizard.sim`` importing
without aiohttp or python-binance, and the ``wizard sim`` subcommand in its
JSON and human forms.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.leaks import assert_no_leak
from tests.sim_helpers import MAKER, api_error, client_for, make_client
from wizard.sim import SimExchange

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


def avoid_minute_edge() -> None:
    """Weight windows roll every minute: don't start a weight test in the last 2 s of one."""
    left = 60 - time.time() % 60
    if left < 2.0:
        time.sleep(left + 0.05)


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
    async with aiohttp.ClientSession(headers={"X-Sim-Token": sim.admin_token}) as http, \
            client_for(sim, "spot_trading") as client:
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
                assert_no_leak(dumped, secret=secret)
        for secret in (key.secret, key.private_key_pem):
            if secret:
                assert_no_leak(repr(key), secret=secret)
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
        _reap(proc)


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
        _reap(proc)


def _reap(proc: subprocess.Popen) -> None:
    """Kill ``proc`` if a failed assertion left it running, and close its pipes."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    proc.stdout.close()
    proc.stderr.close()
