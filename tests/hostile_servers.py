"""Small hostile HTTP servers on 127.0.0.1 for the transport hardening tests.

Each :class:`ThreadedServer` is a real aiohttp server in its own thread (so an
in-process CLI run, which makes its own event loop, can talk to it). It records
every request's method, path and headers. Nothing here mocks HTTP: the wizard's
gateway reaches these servers through python-binance and aiohttp as it would
reach Binance.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Seen:
    """One request a server received."""

    method: str
    path: str
    headers: dict[str, str]


class ThreadedServer:
    """An aiohttp server answering every path with ``handler``; records what arrives."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def keyed_requests(self) -> list[Seen]:
        """Requests that carried an API key."""
        return [s for s in self.seen if any(h.lower() == "x-mbx-apikey" for h in s.headers)]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(Seen(request.method, request.path_qs, dict(request.headers)))
        return await self.handler(request)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def redirect_to(target: str, status: int = 302) -> Handler:
    """Answer every request with a redirect to the same path and query on ``target``."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": f"{target}{request.path_qs}"})

    return handle


def binance_time() -> Handler:
    """A server that answers like Binance's /api/v3/time (and ``{}`` elsewhere)."""
    import time

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/time"):
            return web.json_response({"serverTime": int(time.time() * 1000)})
        return web.json_response({})

    return handle


def endless_body(chunk: int = 1 << 16) -> Handler:
    """A 200 JSON answer whose body never ends (until the client hangs up)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"serverTime": "')
        block = b"0" * chunk
        try:
            while True:
                await response.write(block)
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response

    return handle


def json_with(payload: dict, status: int = 200) -> Handler:
    """Always answer ``payload`` as JSON with ``status``."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return web.json_response(payload, status=status)

    return handle


class RawServer:
    """A TCP server on 127.0.0.1 that answers every request with fixed raw bytes.

    For answers aiohttp's server refuses to send (control characters in a
    header), which a hostile server can send all the same.
    """

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.requests = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            writer.write(self.answer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def __enter__(self) -> RawServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
