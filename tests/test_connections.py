"""A fleet check's kept connections (wizard/exchange/connections.py), and the simulator's
model of what a new connection costs (faults.handshake_rtts)."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

from tests.cli_helpers import cli, store, use_keyring  # noqa: F401 - fixtures
from tests.fleet_helpers import seed_fleet
from wizard.exchange.connections import session_options, shared_connections
from wizard.registry import Registry


def test_a_new_connection_waits_its_handshakes_once_and_a_kept_one_does_not(sim):
    sim.faults.latency, sim.faults.handshake_rtts = 0.2, 2
    before = sim.connections_opened
    where = urlsplit(sim.base_url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    waits = []
    try:
        for _ in range(2):  # HTTP/1.1 keeps the connection open between the two
            started = time.monotonic()
            connection.request("GET", "/api/v3/time")
            connection.getresponse().read()
            waits.append(time.monotonic() - started)
    finally:
        connection.close()
        sim.faults.reset()
    assert sim.connections_opened - before == 1
    assert waits[0] >= 0.6  # latency × (1 + 2 handshake round trips)
    assert 0.2 <= waits[1] < 0.6  # latency alone: with the handshakes again it would be >= 0.6


def test_a_fleet_check_sends_every_key_over_a_few_kept_connections(cli, store, sim):
    seed_fleet(sim, store, Registry(), 40)
    before = sim.connections_opened
    result = cli("check", "--json", "--concurrency", "8")
    assert result.code == 0 and all(k["ok"] for k in result.json["keys"])
    # 41 requests (a time sync and one per key) over at most 8 sockets: each client's own
    # session opened one connection per key before.
    assert sim.connections_opened - before <= 8


async def test_outside_a_fleet_run_a_client_owns_its_connections():
    assert session_options() == {}
    async with shared_connections(limit=4) as pool:
        options = session_options()
        assert options["connector_owner"] is False and options["connector"] is pool.connector()
        assert options["connector"].limit == 4
    assert session_options() == {} and pool._connector is None  # closed with the block
