"""Binance's checks on a signed request: key, IP allowlist, timestamp, signature, permission.

The order is Binance's: an unknown or deleted key first (-2008 on /sapi,
-2015 on /api, where the two can't be told apart), then the key's IP
allowlist (-2015; /sapi appends ", request ip: X"), the timestamp (-1021),
the signature (-1022) and last the permission the endpoint needs (-2015).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wizard.sim import errors
from wizard.sim.keys import API_KEY_RE, SimKey
from wizard.sim.signing import total_params, verify

if TYPE_CHECKING:
    from aiohttp import web

    from wizard.sim.exchange import SimExchange
    from wizard.sim.routes import Call

MAX_RECV_WINDOW = 60_000
DEFAULT_RECV_WINDOW = 5_000


def authenticate(sim: SimExchange, request: web.Request, call: Call, ip: str, query: str,
                 body: str, security: str) -> SimKey:
    """Binance's checks for a signed request; returns the key or raises its error."""
    api_key = request.headers.get("X-MBX-APIKEY", "")
    if not API_KEY_RE.match(api_key):
        raise errors.key_format()
    sapi = request.path.startswith("/sapi/")
    key = sim._by_api_key.get(api_key)
    if key is None or key.deleted:
        # Binance: /sapi says "Invalid Api-Key ID." (-2008) for an unknown or
        # deleted key; /api answers -2015 as it does for a refused IP.
        raise errors.key_invalid() if sapi else errors.rejected()
    call.key = key  # known from here on: the log may name it
    sapi_ip = ip if sapi else None
    if not key.ip_allowed(ip):
        raise errors.rejected(sapi_ip)
    _check_timestamp(call.params, call.now_ms)
    payload, signature = total_params(query, body)
    if not signature:
        raise errors.mandatory("signature")
    if not verify(key, payload, signature):
        raise errors.BinanceError(-1022, errors.MSG_SIGNATURE)
    allowed = key.may_trade(call.now_ms) if security == "TRADE" else key.may_read()
    if not allowed:
        raise errors.rejected(sapi_ip)
    return key


def _check_timestamp(params: dict[str, str], server_ms: int) -> None:
    """-1021 outside the window; -1102/-1131 for a missing or oversized parameter."""
    text = params.get("timestamp", "")
    if not text.isdigit():
        raise errors.mandatory("timestamp")
    window_text = params.get("recvWindow", "")
    if window_text and not window_text.isdigit():
        raise errors.mandatory("recvWindow")
    window = int(window_text) if window_text else DEFAULT_RECV_WINDOW
    if window > MAX_RECV_WINDOW:
        raise errors.BinanceError(-1131, errors.MSG_RECV_WINDOW)
    timestamp = int(text)
    if timestamp >= server_ms + 1000:
        raise errors.BinanceError(-1021, errors.MSG_TS_AHEAD)
    if server_ms - timestamp > window:
        raise errors.BinanceError(-1021, errors.MSG_TS_OLD)
