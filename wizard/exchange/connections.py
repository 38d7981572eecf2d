"""Kept connections for a run that checks many keys: one connection pool for every key's client.

Each key gets its own python-binance ``AsyncClient`` (a client holds one key's
secret, and its session sends that key's ``X-MBX-APIKEY`` header), and each
client used to open its own aiohttp session, so every key paid for a new
connection: a TCP handshake and a TLS one, two round trips before its one
request, tripling a fleet check's wait on a distant exchange. Inside
:func:`shared_connections` the clients' sessions borrow one aiohttp connector
instead (``connector_owner=False``: closing a client leaves the pool open), so
a connection made for one key carries the next key's request. The headers,
and so the key, stay per request; only the socket is reused.

The pool is created on first use, inside the running loop and after
python-binance (and so aiohttp) has been imported, and closed when the block
ends. Outside a block nothing changes: a client owns its own connections.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any


class ConnectionPool:
    """One aiohttp connector, made when a client first asks for it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._connector: Any = None

    def connector(self) -> Any:
        """The shared connector (created now if this is the first client)."""
        if self._connector is None:
            import aiohttp  # loaded with python-binance by the time a client is made

            # At most ``limit`` sockets, as many as keys in flight; idle ones are kept for
            # the next key (aiohttp keeps them 15 s by default, far longer than a check waits).
            self._connector = aiohttp.TCPConnector(limit=self.limit)
        return self._connector

    async def close(self) -> None:
        """Close every kept connection."""
        connector, self._connector = self._connector, None
        if connector is not None:
            await connector.close()


_pool: ContextVar[ConnectionPool | None] = ContextVar("wizard_connection_pool", default=None)


@contextlib.asynccontextmanager
async def shared_connections(limit: int) -> AsyncIterator[ConnectionPool]:
    """Clients made in this block (and in tasks it starts) share one pool of ``limit`` sockets."""
    pool = ConnectionPool(limit)
    token = _pool.set(pool)
    try:
        yield pool
    finally:
        _pool.reset(token)
        await pool.close()


def session_options() -> dict[str, Any]:
    """What a new client's aiohttp session needs to use the current pool (nothing outside one)."""
    pool = _pool.get()
    if pool is None:
        return {}
    return {"connector": pool.connector(), "connector_owner": False}
