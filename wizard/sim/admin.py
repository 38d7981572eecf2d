"""The admin route: ``/_sim/...`` JSON that mirrors SimExchange's Python API.

It lets a script drive a ``binance-key-wizard sim`` process from outside
("the user deleted the old key in Binance"). It is unauthenticated, so it
answers loopback callers only; it is never faulted, weighed or logged.

Routes (``{ref}`` is an API key or a key name):
  GET    /_sim/state                       base URL, client IP, weight, faults
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
  POST   /_sim/faults                      {"latency", "clock_skew_ms", "fail_next": {"n", "status",
                                           "path"}, "html_error": {...}, "geo_block": {...},
                                           "drop_next": {...}, "ban_for": seconds}
  DELETE /_sim/faults                      clear every fault
  POST   /_sim/client_ip                   {"client_ip": "203.0.113.7" | null}
  GET    /_sim/log, DELETE /_sim/log       the request log
  POST   /_sim/weight                      {"limit": 6000, "reset": true}
  POST   /_sim/market/{symbol}             {"bid", "ask", "avg_price"}
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _sim(request: web.Request) -> Any:
    from wizard.sim.server import SIM_KEY

    return request.app[SIM_KEY]


def _reply(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def admin(handler: Callable[[web.Request, Any, dict[str, Any]], object]) -> Handler:
    """Wrap a handler: loopback only, JSON in and out, errors as 400/404 JSON."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            loopback = ipaddress.ip_address(request.remote or "").is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            return _reply({"error": "the simulator's admin route answers loopback callers only"}, 403)
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
    }


def list_keys(_request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """GET /_sim/keys."""
    return [key.as_json() for key in sim.keys.values()]


def create_key(_request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/keys."""
    if "label" not in body:
        raise ValueError("label is required")
    return sim.create_key(**body).as_json()


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
    for field, value in body.items():
        sim.set_permission(ref, field, value)
    return _key_json(sim, ref)


def set_ip_allowlist(request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """PUT /_sim/keys/{ref}/ip_allowlist."""
    ref = request.match_info["ref"]
    ips = body.get("ip_allowlist")
    if not isinstance(ips, list):
        raise ValueError("ip_allowlist must be a list")
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
    sim.set_balance(request.match_info["ref"], str(body["asset"]), str(body["free"]))
    return get_balances(request, sim, body)


def get_orders(request: web.Request, sim: Any, _body: dict[str, Any]) -> object:
    """GET /_sim/keys/{ref}/orders."""
    return sim.open_orders(request.match_info["ref"])


def set_account(request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/keys/{ref}/account."""
    ref = request.match_info["ref"]
    sim.set_account_status(ref, status=body.get("status"), trading_locked=body.get("trading_locked"))
    if "withdraw_addresses" in body:
        sim.set_withdraw_addresses(ref, list(body["withdraw_addresses"]))
    return None


QUEUED = ("fail_next", "html_error", "geo_block", "drop_next")


def set_faults(_request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/faults."""
    faults = sim.faults
    if "latency" in body:
        faults.latency = float(body["latency"])
    if "clock_skew_ms" in body:
        faults.clock_skew_ms = int(body["clock_skew_ms"])
    if "ban_for" in body:
        faults.ban_for(float(body["ban_for"]))
    for name in QUEUED:
        if name in body:
            spec = dict(body[name])
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
    sim.client_ip = body.get("client_ip")
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
        sim.weight_limit = int(body["limit"])
    if body.get("reset"):
        sim.reset_weight()
    return {"used_weight": sim.used_weight, "weight_limit": sim.weight_limit}


def set_market(request: web.Request, sim: Any, body: dict[str, Any]) -> object:
    """POST /_sim/market/{symbol}."""
    sim.set_market(request.match_info["symbol"], bid=body.get("bid"), ask=body.get("ask"),
                   avg_price=body.get("avg_price"))
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
