"""The admin route: ``/_sim/...`` JSON that mirrors SimExchange's Python API.

It lets a script drive a ``binance-key-wizard sim`` process from outside
("the user deleted the old key in Binance"). It answers loopback callers that
send this run's token (``X-Sim-Token``, printed by ``sim --json``), with the
simulator's own Host, no foreign Origin and JSON bodies; values are range
checked (see :mod:`wizard.sim.admin_guard`). It is never faulted, weighed or logged.

Routes (``{ref}`` is an API key or a key name):
  GET    /_sim/state                       base URL, client IP, weight, faults, connections opened
  GET    /_sim/keys                        every key (with its simulated secret)
  POST   /_sim/keys                        create_key; body: its keyword arguments
  GET    /_sim/keys/{ref}                  one key
  DELETE /_sim/keys/{ref}                  delete_key
  POST   /_sim/keys/{ref}/permissions      {"enableWithdrawals": true, ...}
  PUT    /_sim/keys/{ref}/ip_allowlist     {"ip_allowlist": ["203.0.113.7", "10.0.0.0/8"]}
  GET    /_sim/keys/{ref}/balances         balances
  POST   /_sim/keys/{ref}/balances         {"asset": "USDT", "free": "25"}
  GET    /_sim/keys/{ref}/orders           open orders
  POST   /_sim/keys/{ref}/account          {"status", "trading_locked", "withdraw_addresses"}
  GET    /_sim/faults                      standing and queued faults
  POST   /_sim/faults                      {"latency", "handshake_rtts", "clock_skew_ms", "fail_next": {"n", "status",
                                           "path"}, "html_error": {...}, "geo_block": {...},
                                           "drop_next": {...}, "ban_for": seconds}
  DELETE /_sim/faults                      clear every fault
  POST   /_sim/client_ip                   {"client_ip": "203.0.113.7" | null}
  GET    /_sim/log, DELETE /_sim/log       the request log
  POST   /_sim/weight                      {"limit": 6000, "reset": true}
  POST   /_sim/market/{symbol}             {"bid", "ask", "avg_price"}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web

from wizard.sim import admin_guard as guard

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _sim(request: web.Request) -> Any:
    from wizard.sim.server import SIM_KEY

    return request.app[SIM_KEY]


def _reply(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def admin(handler: Callable[[web.Request, Any, dict[str, Any]], object]) -> Handler:
    """Wrap a handler: loopback, Host, Origin and token checked; JSON in and out,
    errors as 4xx JSON."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            guard.check_caller(request, _sim(request).admin_token)
        except guard.Refused as refused:
            return _reply({"error": str(refused)}, refused.status)
        body: dict[str, Any] = {}
        if request.body_exists:
            try:
                body = await request.json()
            except ValueError:
                return _reply({"error": "the body must be JSON"}, 400)
            if not isinstance(body, dict):
                return _reply({"error": "the body must be a JSON object"}, 400)
        try:
            result = handler(request, _sim(request), body)
        except KeyError:
            return _reply({"error": "no such key or symbol"}, 404)
        except (ValueError, TypeError) as exc:
            return _reply({"error": str(exc)}, 400)
        return _reply(result if result is not None else {"ok": True})

    return wrapped


def _key_json(sim: Any, ref: str) -> dict[str, object]:
    return sim.key(ref).as_json()


def state(_request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """GET /_sim/state."""
    return {
        "base_url": sim.base_url,
        "client_ip": sim.client_ip,
        "used_weight": sim.used_weight,
        "weight_limit": sim.weight_limit,
        "server_time": sim.now_ms(),
        "faults": sim.faults.snapshot(),
        "connections_opened": sim.connections_opened,
    }


def list_keys(_request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """GET /_sim/keys."""
    return [key.as_json() for key in sim.keys.values()]


def create_key(_request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/keys."""
    return sim.create_key(**guard.create_key_args(body)).as_json()


def get_key(request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """GET /_sim/keys/{ref}."""
    return _key_json(sim, request.match_info["ref"])


def delete_key(request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """DELETE /_sim/keys/{ref}."""
    sim.delete_key(request.match_info["ref"])
    return _key_json(sim, request.match_info["ref"])


def set_permissions(request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/keys/{ref}/permissions: several fields at once."""
    ref = request.match_info["ref"]
    checked = {field: guard.permission_value(field, value) for field, value in body.items()}
    for field, value in checked.items():
        sim.set_permission(ref, field, value)
    return _key_json(sim, ref)


def set_ip_allowlist(request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """PUT /_sim/keys/{ref}/ip_allowlist."""
    ref = request.match_info["ref"]
    ips = body.get("ip_allowlist")
    if not isinstance(ips, list) or len(ips) > 100 or not all(isinstance(ip, str) for ip in ips):
        raise ValueError("ip_allowlist must be a list of at most 100 addresses")
    sim.set_ip_allowlist(ref, ips)
    return _key_json(sim, ref)


def get_balances(request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """GET /_sim/keys/{ref}/balances."""
    return [
        {"asset": b.asset, "free": str(b.free), "locked": str(b.locked)}
        for b in sim.balances(request.match_info["ref"]).values()
    ]


def set_balance(request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/keys/{ref}/balances."""
    asset = guard.optional_text(body.get("asset"), "asset", limit=20)
    if not asset:
        raise ValueError("asset is required (text)")
    sim.set_balance(request.match_info["ref"], asset, guard.amount(body.get("free"), "free"))
    return get_balances(request, sim, body)


def get_orders(request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """GET /_sim/keys/{ref}/orders."""
    return sim.open_orders(request.match_info["ref"])


def set_account(request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/keys/{ref}/account."""
    ref = request.match_info["ref"]
    status = guard.optional_text(body.get("status"), "status", limit=64)
    locked = guard.optional_bool(body.get("trading_locked"), "trading_locked")
    addresses = body.get("withdraw_addresses")
    if addresses is not None and (not isinstance(addresses, list) or len(addresses) > 200
                                  or not all(isinstance(a, dict) for a in addresses)):
        raise ValueError("withdraw_addresses must be a list of at most 200 objects")
    sim.set_account_status(ref, status=status, trading_locked=locked)
    if addresses is not None:
        sim.set_withdraw_addresses(ref, addresses)
    return None


QUEUED = ("fail_next", "html_error", "geo_block", "drop_next")
MAX_SKEW_MS = 7 * 86_400_000  # a week off: far past any -1021, still a real timestamp
MAX_BAN_S = 3 * 86_400  # Binance's longest ban


def set_faults(_request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/faults."""
    faults = sim.faults
    # Everything is checked before anything changes: a 400 leaves the faults as they were.
    latency = guard.number(body, "latency", 0, 60) if "latency" in body else None
    handshake = guard.number(body, "handshake_rtts", 0, 5, integer=True) if "handshake_rtts" in body else None
    skew = guard.number(body, "clock_skew_ms", -MAX_SKEW_MS, MAX_SKEW_MS, integer=True) \
        if "clock_skew_ms" in body else None
    ban = guard.number(body, "ban_for", 0, MAX_BAN_S) if "ban_for" in body else None
    specs = {name: guard.queued_spec(name, body[name]) for name in QUEUED if name in body}
    if latency is not None:
        faults.latency = latency
    if handshake is not None:
        faults.handshake_rtts = int(handshake)
    if skew is not None:
        faults.clock_skew_ms = int(skew)
    if ban is not None:
        faults.ban_for(ban)
    for name, spec in specs.items():
        getattr(faults, name)(**spec)
    return faults.snapshot()


def get_faults(_request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """GET /_sim/faults."""
    return sim.faults.snapshot()


def reset_faults(_request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """DELETE /_sim/faults."""
    sim.faults.reset()
    return sim.faults.snapshot()


def set_client_ip(_request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/client_ip."""
    sim.client_ip = guard.optional_text(body.get("client_ip"), "client_ip", limit=45)  # the setter parses it
    return {"client_ip": sim.client_ip}


def get_log(_request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """GET /_sim/log."""
    return [asdict(entry) for entry in sim.request_log]


def clear_log(_request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """DELETE /_sim/log."""
    sim.clear_log()
    return []


def set_weight(_request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/weight."""
    if "limit" in body:
        sim.weight_limit = int(guard.number(body, "limit", 1, 10_000_000, integer=True))
    if body.get("reset"):
        sim.reset_weight()
    return {"used_weight": sim.used_weight, "weight_limit": sim.weight_limit}


def set_market(request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/market/{symbol}."""
    prices = {name: guard.amount(body[name], name) for name in ("bid", "ask", "avg_price")
              if body.get(name) is not None}
    sim.set_market(request.match_info["symbol"], **prices)
    return sim.market[request.match_info["symbol"]].book_ticker()


def add_admin_routes(app: web.Application) -> None:
    """Register every /_sim route (before the API catch-all)."""
    routes = [
        ("GET", "/_sim/state", state),
        ("GET", "/_sim/keys", list_keys),
        ("POST", "/_sim/keys", create_key),
        ("GET", "/_sim/keys/{ref}", get_key),
        ("DELETE", "/_sim/keys/{ref}", delete_key),
        ("POST", "/_sim/keys/{ref}/permissions", set_permissions),
        ("PUT", "/_sim/keys/{ref}/ip_allowlist", set_ip_allowlist),
        ("GET", "/_sim/keys/{ref}/balances", get_balances),
        ("POST", "/_sim/keys/{ref}/balances", set_balance),
        ("GET", "/_sim/keys/{ref}/orders", get_orders),
        ("POST", "/_sim/keys/{ref}/account", set_account),
        ("GET", "/_sim/faults", get_faults),
        ("POST", "/_sim/faults", set_faults),
        ("DELETE", "/_sim/faults", reset_faults),
        ("POST", "/_sim/client_ip", set_client_ip),
        ("GET", "/_sim/log", get_log),
        ("DELETE", "/_sim/log", clear_log),
        ("POST", "/_sim/weight", set_weight),
        ("POST", "/_sim/market/{symbol}", set_market),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, admin(handler))
