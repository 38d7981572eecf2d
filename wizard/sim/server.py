"""The HTTP side: aiohttp app, the request pipeline, and Binance's key checks.

Pipeline for every API request, in the order a client meets them live:
latency -> IP ban (418) -> queued faults -> unknown path (front-end HTML 404)
-> request weight (429 past the limit) -> API key, IP, timestamp, signature,
permission -> the handler. Every request lands in the request log with its
method, path, weight, status and error code, and nothing else: parameters and
signatures never leave this module, and aiohttp's access log (which would
print query strings, signatures included) is switched off.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING

from aiohttp import web

from wizard.sim import errors
from wizard.sim.faults import HTML_BODIES, NOT_FOUND_HTML, QueuedFault
from wizard.sim.auth import authenticate
from wizard.sim.keys import SimKey
from wizard.sim.routes import ENDPOINTS, Call, Endpoint
from wizard.sim.signing import merged_params
from wizard.sim.state import LogEntry

if TYPE_CHECKING:
    from wizard.sim.exchange import SimExchange

SIM_KEY: web.AppKey[SimExchange] = web.AppKey("sim")  # type: ignore[type-arg]


def build_app(sim: SimExchange) -> web.Application:
    """The aiohttp application: admin routes first, then every other path."""
    from wizard.sim.admin import add_admin_routes

    app = web.Application()
    app[SIM_KEY] = sim
    add_admin_routes(app)
    app.router.add_route("*", "/{tail:.*}", handle_api)
    return app


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A compact JSON answer with Binance's content type."""
    return web.Response(
        text=json.dumps(body, separators=(",", ":")),
        status=status,
        content_type="application/json",
        charset="UTF-8",
        headers=headers,
    )


def html_response(body: str, status: int) -> web.Response:
    """A non-JSON answer (what a CDN, WAF or the web front end sends)."""
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


async def handle_api(request: web.Request) -> web.StreamResponse:
    """Every non-admin request goes through here."""
    sim = request.app[SIM_KEY]
    method, path = request.method, request.path
    ip = sim.client_ip or request.remote or ""
    new_connection = _first_on_its_connection(sim, request)
    latency = sim.faults.latency
    if latency > 0:
        await asyncio.sleep(latency * (1 + (sim.faults.handshake_rtts if new_connection else 0)))
    banned = sim.faults.ban_remaining()
    if banned > 0:
        sim._log(LogEntry(method, path, 0, 418, -1003, fault="ban"))
        until = int(time.time() * 1000 + banned * 1000)
        retry = {"Retry-After": str(max(1, int(banned + 0.999)))} if sim.faults.ban_retry_after else {}
        return json_response({"code": -1003, "msg": errors.MSG_BANNED.format(until=until)}, 418, retry)
    fault = sim.faults.take(path)
    if fault is not None:
        return _fault_response(sim, request, fault)
    endpoint = ENDPOINTS.get((method, path))
    if endpoint is None:
        sim._log(LogEntry(method, path, 0, 404, None))
        return html_response(NOT_FOUND_HTML, 404)
    body = (await request.read()).decode("utf-8", "replace") if request.body_exists else ""
    return _run(sim, request, endpoint, ip, request.rel_url.raw_query_string, body)


def _first_on_its_connection(sim: SimExchange, request: web.Request) -> bool:
    """True for the first API request on a connection (counted in ``sim.connections_opened``)."""
    transport = request.transport
    if transport is None or transport in sim.connections_seen:
        return False
    sim.connections_seen.add(transport)
    sim.connections_opened += 1
    return True


def _fault_response(sim: SimExchange, request: web.Request, fault: QueuedFault) -> web.StreamResponse:
    method, path = request.method, request.path
    if fault.kind == "drop":
        sim._log(LogEntry(method, path, 0, 0, None, fault="drop"))
        if request.transport is not None:
            request.transport.abort()  # no answer at all: the client sees a disconnect
        return web.Response(status=500)  # never reaches the client
    if fault.kind == "busy":
        sim._log(LogEntry(method, path, 0, fault.status, -1008, fault="busy"))
        return json_response({"code": -1008, "msg": errors.MSG_BUSY}, fault.status)
    if fault.kind == "geo":
        sim._log(LogEntry(method, path, 0, 451, 0, fault="geo"))
        return json_response({"code": 0, "msg": errors.MSG_RESTRICTED_LOCATION}, 451)
    if fault.kind == "html" or fault.status == 502:
        sim._log(LogEntry(method, path, 0, fault.status, None, fault=fault.kind))
        page = HTML_BODIES.get(fault.status) or f"<html><body><h1>{fault.status}</h1></body></html>\n"
        return html_response(page, fault.status)
    sim._log(LogEntry(method, path, 0, fault.status, -1001, fault="fail"))
    return json_response({"code": -1001, "msg": errors.MSG_INTERNAL}, fault.status)


def _run(sim: SimExchange, request: web.Request, endpoint: Endpoint, ip: str, query: str,
         body: str) -> web.Response:
    """Weight, authentication and the handler, all under the sim's lock."""
    method, path = request.method, request.path
    with sim._lock:
        params = merged_params(query, body)
        weight = endpoint.weight(params)
        now = int(time.time() * 1000)
        charge = sim.limits.charge_ip(path, ip, weight, now)  # /api and /sapi: own buckets
        headers = {charge.header: str(charge.used)}
        if charge.over:
            headers["Retry-After"] = str(charge.retry_after)
            sim._log(LogEntry(method, path, weight, 429, -1003))
            msg = errors.MSG_TOO_MUCH_WEIGHT.format(limit=charge.limit)
            return json_response({"code": -1003, "msg": msg}, 429, headers)
        call = Call(sim=sim, params=params, now_ms=sim.now_ms())
        try:
            if endpoint.security != "NONE":
                key = authenticate(sim, request, call, ip, query, body, endpoint.security)
                call.key, call.account = key, sim._accounts[key.api_key]
                if endpoint.uid_weight:
                    uid = sim.limits.charge_uid(call.account.uid, weight, now)
                    headers[uid.header] = str(uid.used)
            call.headers = headers  # a handler may add some (the order counts)
            result = endpoint.handler(call)
        except errors.BinanceError as exc:
            sim._log(LogEntry(method, path, weight, exc.status, exc.code, _name(call.key)))
            return json_response(exc.body(), exc.status, {**headers, **exc.headers})
        sim._log(LogEntry(method, path, weight, 200, None, _name(call.key)))
        return json_response(result, 200, headers)


def _name(key: SimKey | None) -> str | None:
    return key.name if key is not None else None
