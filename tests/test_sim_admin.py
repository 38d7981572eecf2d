"""The simulator as a server: its /_sim admin routes refuse strangers and bad values.

Real HTTP to the simulator on 127.0.0.1 (aiohttp client, raw bodies where JSON
can't say it, e.g. 1e309), and the ``sim`` subcommand in a child process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import aiohttp
import pytest

pytestmark = pytest.mark.timeout(60)


def _token(sim) -> dict[str, str]:
    return {"X-Sim-Token": sim.admin_token}


async def _status(method: str, url: str, **kwargs) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.request(method, url, **kwargs) as resp:
        return resp.status, await resp.json(content_type=None)


@pytest.mark.parametrize("headers", [{}, {"X-Sim-Token": "wrong"}, {"X-Sim-Token": ""}])
async def test_admin_routes_need_this_runs_token(sim, headers):
    status, body = await _status("GET", sim.base_url + "/_sim/keys", headers=headers)
    assert status == 401 and "X-Sim-Token" in body["error"]
    status, _ = await _status("GET", sim.base_url + "/_sim/keys", headers=_token(sim))
    assert status == 200


async def test_two_simulators_have_different_tokens(sim):
    from wizard.sim import SimExchange

    assert SimExchange(seed=1).admin_token != SimExchange(seed=1).admin_token != sim.admin_token


async def test_a_cross_site_post_changes_nothing(sim):
    """What a web page can send without a preflight: a text/plain body and its own Origin."""
    url = sim.base_url + "/_sim/keys/read_only/permissions"
    page = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    status, _ = await _status("POST", url, data=b'{"enableWithdrawals": true}', headers=page)
    assert status in (401, 403)
    # Even with the token, a foreign Origin or a non-JSON content type is refused.
    status, _ = await _status("POST", url, json={"enableWithdrawals": True},
                              headers={**_token(sim), "Origin": "http://evil.example"})
    assert status == 403
    status, _ = await _status("POST", url, data=b'{"enableWithdrawals": true}',
                              headers={**_token(sim), "Content-Type": "text/plain"})
    assert status == 415
    assert sim.keys["read_only"].restrictions["enableWithdrawals"] is False
    status, _ = await _status("POST", url, json={"enableReading": True},
                              headers={**_token(sim), "Origin": sim.base_url})  # its own page may
    assert status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost.evil:{port}"])
async def test_a_foreign_host_header_is_refused(sim, host):
    """DNS rebinding: a page at evil.example resolving to 127.0.0.1 sends its own Host."""
    port = sim.base_url.rsplit(":", 1)[1]
    status, body = await _status("GET", sim.base_url + "/_sim/keys",
                                 headers={**_token(sim), "Host": host.format(port=port)})
    assert status == 421 and "Host" in body["error"]


@pytest.mark.parametrize("raw", [
    b'{"ban_for": 1e309}', b'{"ban_for": -1}', b'{"clock_skew_ms": 1e30}', b'{"clock_skew_ms": NaN}',
    b'{"clock_skew_ms": 1.5}', b'{"latency": Infinity}', b'{"latency": -0.5}', b'{"latency": true}',
    b'{"fail_next": {"n": 1000000000}}', b'{"fail_next": {"n": 1, "status": "x"}}', b'{"drop_next": 3}',
])
async def test_fault_values_out_of_range_are_400_and_change_nothing(sim, raw):
    before = sim.faults.snapshot()
    status, body = await _status("POST", sim.base_url + "/_sim/faults", data=raw,
                                 headers={**_token(sim), "Content-Type": "application/json"})
    assert status == 400 and body["error"]
    assert sim.faults.snapshot() == before
    # And the exchange still answers as before (this used to be a 500 for every request).
    status, answer = await _status("GET", sim.base_url + "/api/v3/time")
    assert status == 200 and abs(answer["serverTime"] - sim.now_ms()) < 5000


@pytest.mark.parametrize(("path", "raw"), [
    ("/_sim/keys/read_only/balances", b'{"asset": "USDT", "free": "NaN"}'),
    ("/_sim/keys/read_only/balances", b'{"asset": "USDT", "free": "1e999999"}'),
    ("/_sim/keys/read_only/balances", b'{"asset": ["x"], "free": "1"}'),
    ("/_sim/market/BTCUSDT", b'{"bid": "Infinity"}'),
    ("/_sim/market/BTCUSDT", b'{"ask": -5}'),
    ("/_sim/weight", b'{"limit": 1e400}'),
    ("/_sim/weight", b'{"limit": true}'),
    ("/_sim/keys/read_only/permissions", b'{"enableWithdrawals": "yes"}'),
    ("/_sim/keys/read_only/permissions", b'{"tradingAuthorityExpirationTime": 1e300}'),
    ("/_sim/keys/read_only/account", b'{"trading_locked": 1}'),
    ("/_sim/keys", b'{"label": "x", "spot_trading": "true"}'),
    ("/_sim/keys", b'{"label": "x", "ip_allowlist": "1.2.3.4"}'),
])
async def test_other_bad_values_are_400_and_the_exchange_keeps_working(sim, path, raw):
    status, body = await _status("POST", sim.base_url + path, data=raw,
                                 headers={**_token(sim), "Content-Type": "application/json"})
    assert status == 400 and body["error"], body
    for api in ("/api/v3/avgPrice?symbol=BTCUSDT", "/api/v3/exchangeInfo?symbol=BTCUSDT"):
        status, _ = await _status("GET", sim.base_url + api)
        assert status == 200


@pytest.mark.parametrize("port", ["-1", "65536", "http", "99999999999999999999"])
def test_sim_port_out_of_range_is_a_usage_error(port):
    done = subprocess.run([sys.executable, "-m", "wizard", "sim", "--port", port], capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "usage:" in done.stderr and "Traceback" not in done.stderr and "--port" in done.stderr


def test_sim_json_prints_the_admin_token_that_opens_the_admin_routes():
    import urllib.error
    import urllib.request

    child = subprocess.Popen([sys.executable, "-m", "wizard", "sim", "--json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        first = json.loads(child.stdout.readline())
        state = first["base_url"] + "/_sim/state"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(state, timeout=10)
        assert refused.value.code == 401
        request = urllib.request.Request(state, headers={"X-Sim-Token": first["admin_token"]})
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert json.load(resp)["base_url"] == first["base_url"]
    finally:
        child.terminate()
        child.wait(10)
