"""Shared helpers for the simulated-exchange tests (tests/test_sim*.py).

A real python-binance AsyncClient pointed at a running ``SimExchange``, a way
to catch the BinanceAPIException a call must raise, and the small resting
LIMIT_MAKER order several modules place. Nothing here mocks HTTP.
"""

from __future__ import annotations

import contextlib

import pytest

from wizard.sim import SimExchange, SimKey


def make_client(base_url: str, key: SimKey | None = None, *, api_key: str | None = None,
                secret: str | None = None, private_key: str | None = None):
    """A real AsyncClient pointed at the sim (no ping, no time sync)."""
    from binance import AsyncClient

    if key is not None:
        api_key = api_key or key.api_key
        secret = secret if secret is not None else key.secret
        private_key = private_key if private_key is not None else key.private_key_pem
    client = AsyncClient(api_key, secret, private_key=private_key)
    client.API_URL = base_url + "/api"
    client.MARGIN_API_URL = base_url + "/sapi"
    return client


@contextlib.asynccontextmanager
async def client_for(sim: SimExchange, name: str | None = None, **kwargs):
    """make_client for a preset (or explicit credentials), closed afterwards."""
    client = make_client(sim.base_url, sim.keys[name] if name else None, **kwargs)
    try:
        yield client
    finally:
        await client.close_connection()


async def api_error(coro):
    """Await ``coro`` and return the BinanceAPIException it must raise."""
    from binance.exceptions import BinanceAPIException

    with pytest.raises(BinanceAPIException) as info:
        await coro
    return info.value


MAKER = dict(symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", price="50000.00", quantity="0.00020")
