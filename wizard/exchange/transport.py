"""One private python-binance ``AsyncClient`` and the rules every call obeys.

* python-binance (and so aiohttp) is imported when the first request is made,
  never when this module is imported.
* The client is aimed at the environment by setting ``API_URL`` and
  ``MARGIN_API_URL`` on the instance; testnet/demo flags are never passed
  (python-binance would still send ``/sapi`` to api.binance.com).
* Every request has a timeout (``asyncio.wait_for`` and python-binance's
  ``REQUEST_TIMEOUT``). Only GETs are retried, only on transport errors, 5xx and
  timeouts, with a short bounded backoff. A POST/DELETE whose answer is lost
  has an unknown outcome and is never repeated.
* The server time offset is synced before the first signed request and again
  after a -1021, which is then retried once (a -1021 request was rejected
  outright, so repeating it is safe even for an order). The offset belongs to
  this computer's clock, not to a key: gateways made with the same
  :class:`Environment` object reuse it for :data:`OFFSET_TTL` (see
  :func:`shared_cache`), so a wizard run syncs once, not once per step.
  That cache and the per-IP rate-limit cool-downs live in
  :mod:`wizard.exchange.shared_state`; this module re-exports their names.
* Redirects are never followed and answers are read up to a size cap
  (:mod:`wizard.exchange.hostile`): a key is never forwarded to another host.
* Failures leave as :class:`ExchangeError` raised outside any ``except`` block,
  so neither ``__cause__`` nor ``__context__`` drags python-binance's exception
  (which holds the request, URL and headers) into a traceback.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from wizard.exchange.connections import session_options
from wizard.exchange.errors import Context, is_transient, problem_from_exception
from wizard.exchange.hostile import client_options, hostile_problem
from wizard.exchange.messages import clock_skew_problem
from wizard.exchange.model import Environment, ExchangeError, KeyMaterial, Problem, ProblemKind
from wizard.exchange.pacing import pacer_for
from wizard.exchange.parse import UnexpectedAnswer, server_time_ms
from wizard.exchange.shared_state import (  # re-exported: callers import them from here
    OFFSET_TTL,
    SharedCache,
    cool_down_seconds,
    cooling_down,
    forget_cool_downs,
    shared_cache,
    start_cool_down,
)
from wizard.secret import Secret

Method = Literal["GET", "POST", "DELETE"]
Request = Callable[[Any], Awaitable[Any]]  # given the AsyncClient, makes one request

_API_KEY = re.compile(r"[A-Za-z0-9]{16,128}")

__all__ = [
    "OFFSET_TTL", "Method", "Request", "SharedCache", "Transport", "TransportStats",
    "bad_api_key", "bad_private_key", "cool_down_seconds", "cooling_down",
    "forget_cool_downs", "load_python_binance", "shared_cache", "unexpected_answer",
]


@dataclass(frozen=True)
class TransportStats:
    """Diagnostics: requests sent by this gateway and Binance's weight counters."""

    requests: int
    used_weight_1m: int | None  # last X-MBX-USED-WEIGHT-1M (per IP, all programs)
    sapi_ip_weight_1m: int | None  # last X-SAPI-USED-IP-WEIGHT-1M


class Transport:
    """Owns the ``AsyncClient`` (it keeps the secret in attributes: never hand it out)."""

    def __init__(
        self,
        env: Environment,
        key: KeyMaterial | None,
        *,
        timeout: float,
        retries: int = 2,
        backoff: tuple[float, ...] = (0.2, 0.6),
    ) -> None:
        self.env = env
        self.shared = shared_cache(env)
        self._key = key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._client: Any = None
        self._synced = False
        self.offset_ms: int | None = None
        self._requests = 0
        self._weight: int | None = None
        self._sapi_weight: int | None = None

    def __repr__(self) -> str:
        return f"Transport(env={self.env.name!r}, key={self._key!r})"

    @property
    def has_key(self) -> bool:
        """True when signed requests are possible."""
        return self._key is not None

    @property
    def key_type(self) -> str | None:
        """"hmac" or "ed25519" (None without a key)."""
        return self._key.key_type if self._key is not None else None

    @property
    def api_key(self) -> str:
        """The API key (public half, not secret), or "" without a key."""
        return self._key.api_key if self._key is not None else ""

    @property
    def stats(self) -> TransportStats:
        """Requests made so far and the last weight headers seen."""
        return TransportStats(self._requests, self._weight, self._sapi_weight)

    async def close(self) -> None:
        """Close the HTTP session and forget the client (and the secret it holds)."""
        client, self._client = self._client, None
        self._synced = False  # a new client starts with offset 0: sync it again
        if client is not None:
            await client.close_connection()

    async def sync_time(self, *, force: bool = False) -> int:
        """Set the client's timestamp offset and return it in ms.

        ``GET /api/v3/time`` (w1), unless another gateway of this environment
        measured the offset within :data:`OFFSET_TTL` and ``force`` is False.
        """
        if not force:
            cached = self.shared.get(("clock_offset_ms",), OFFSET_TTL)
            if cached is not None:
                (await self._ready_client()).timestamp_offset = cached
                self.offset_ms, self._synced = cached, True
                return cached
        data = await self.call(lambda c: c._get("time"))
        try:
            server = server_time_ms(data)
        except UnexpectedAnswer:
            raise ExchangeError(unexpected_answer("time")) from None
        # Measured after the answer arrived, so our timestamps lag the server's
        # by the network delay rather than run ahead of it (ahead is -1021).
        offset = server - int(time.time() * 1000)
        (await self._ready_client()).timestamp_offset = offset
        self.offset_ms = offset
        self._synced = True
        self.shared.put(("clock_offset_ms",), offset)
        return offset

    async def call(
        self,
        request: Request,
        *,
        method: Method = "GET",
        signed: bool = False,
        context: Context = "read",
    ) -> Any:
        """Make one API request with timeout, safe retries and error mapping.

        ``request`` must build its ``data`` dict afresh on every call:
        python-binance writes the timestamp and signature into it.
        """
        client = await self._ready_client()
        if signed:
            if self._key is None:
                raise ValueError("this gateway was made without a key")
            if not self._synced:
                await self.sync_time()
        attempt, resynced = 0, False
        pacer = pacer_for(self.env.api_url)
        while True:
            await pacer.admit(self.offset_ms)  # waits for the next window near the limit
            response: Any = None
            try:
                cooling = cooling_down(self.env.api_url)
                if cooling is not None:
                    raise ExchangeError(cooling)
                attempt += 1
                self._requests += 1
                try:
                    result = await asyncio.wait_for(request(client), self.timeout)
                except Exception as exc:  # noqa: BLE001 - every failure becomes a Problem
                    response = getattr(exc, "response", None)
                    problem = hostile_problem(exc) or problem_from_exception(exc, context=context, env=self.env)
                    retry = method == "GET" and attempt <= self.retries and is_transient(exc)
                else:
                    response = client.response
                    return result
            finally:  # also on cancellation: the pacer must not count it in flight forever
                self._note_weight(response)
                pacer.answered(getattr(response, "headers", None), self.offset_ms)
            wait = cool_down_seconds(problem)
            if wait is not None:
                # Every later request of this process waits it out.
                start_cool_down(self.env.api_url, wait, problem)
            if problem.kind is ProblemKind.CLOCK_SKEW and signed:
                if not resynced:
                    resynced = True
                    await self.sync_time(force=True)  # the shared offset is what went stale
                    continue
                problem = clock_skew_problem(offset_ms=self.offset_ms, status=problem.status)
            if retry:
                await asyncio.sleep(self.backoff[min(attempt, len(self.backoff)) - 1])
                continue
            raise ExchangeError(problem) from None

    async def _ready_client(self) -> Any:
        if self._client is None:
            await load_python_binance()
            problem = None
            try:
                self._client = self._make_client()
            except ExchangeError as err:
                problem = err.problem
            except Exception:  # noqa: BLE001 - e.g. pycryptodome refusing the PEM
                problem = bad_private_key()
            if problem is not None:  # raised outside the except: nothing chained
                raise ExchangeError(problem) from None
        return self._client

    def _make_client(self) -> Any:
        from binance import AsyncClient  # lazy: ~0.6 s, never before the first frame

        key = self._key
        options = client_options()  # no redirects, capped bodies (wizard/exchange/hostile.py)
        options["session_params"].update(session_options())  # a fleet run's kept connections
        if key is None:
            client = AsyncClient(**options)
        elif not _API_KEY.fullmatch(key.api_key):
            raise ExchangeError(bad_api_key())
        elif key.key_type == "ed25519":
            client = _ed25519_client(AsyncClient, key.api_key, key.secret, options)
        else:
            # reveal() only here, straight into the client: no local holds the value.
            client = AsyncClient(api_key=key.api_key, api_secret=key.secret.reveal(), **options)
        client.API_URL = self.env.api_url
        # Where there is no /sapi, point /sapi calls at a path that can't exist
        # on the real exchange rather than at api.binance.com.
        client.MARGIN_API_URL = self.env.sapi_url or f"{self.env.api_url}/no-sapi-here"
        client.REQUEST_TIMEOUT = self.timeout
        client.verbose = False  # verbose logs URLs with signatures
        return client

    def _note_weight(self, response: Any) -> None:
        headers = getattr(response, "headers", None)
        if headers is None:
            return
        for name, attr in (("X-MBX-USED-WEIGHT-1M", "_weight"),
                           ("X-SAPI-USED-IP-WEIGHT-1M", "_sapi_weight")):
            value = headers.get(name)
            if value is not None and str(value).isdigit():
                setattr(self, attr, int(value))


_import_lock = threading.Lock()
_binance_ready = threading.Event()


def _import_python_binance() -> None:
    with _import_lock:  # a second caller waits here, in its own thread
        importlib.import_module("binance.async_client")
        _binance_ready.set()


async def load_python_binance() -> None:
    """Import python-binance (~0.6 s: aiohttp, dateparser, pycryptodome...) in a
    thread, so the first request doesn't freeze a UI sharing this event loop.
    Cheap once loaded; callers may also await it early to warm up.

    Readiness is a flag set when the import has *finished*: ``sys.modules``
    holds the module from the moment its import starts, and an event-loop
    import of a half-imported module would block the loop on the import lock.
    """
    if not _binance_ready.is_set():
        await asyncio.to_thread(_import_python_binance)


def _ed25519_client(client_cls: Any, api_key: str, secret: Secret, options: dict[str, Any]) -> Any:
    """An AsyncClient signing with an Ed25519 private key (PEM text).

    The PEM is normalised again here (CRLF, padding, a PKCS#8 v2 that also
    carries the public key): python-binance takes any key text longer than
    120 characters for RSA, and the canonical Ed25519 form is 118.
    """
    from wizard.parsing import InputError, normalize_private_key_pem

    reason = None
    try:
        pem = normalize_private_key_pem(secret)
    except InputError as err:  # its messages never echo the key
        reason = str(err)
    if reason is not None:
        raise ExchangeError(bad_private_key(reason))
    client = client_cls(api_key=api_key, private_key=pem.reveal(), **options)
    if client._is_rsa:  # defensive: the canonical form is always short enough
        raise ExchangeError(bad_private_key())
    return client


def bad_private_key(reason: str | None = None) -> Problem:
    """The Ed25519 private key can't be used for signing."""
    return Problem(
        ProblemKind.KEY_FORMAT,
        reason or "The private key isn't an unencrypted Ed25519 key in PEM format.",
        "Paste the whole private key file, from '-----BEGIN PRIVATE KEY-----' to "
        "'-----END PRIVATE KEY-----'. Encrypted or RSA keys aren't supported here; the wizard "
        "can generate an Ed25519 pair for you.",
    )


def bad_api_key() -> Problem:
    """The API key can't even be sent (spaces, line breaks, wrong length)."""
    return Problem(
        ProblemKind.KEY_FORMAT,
        "The API key isn't in a valid format: it should be 64 letters and digits.",
        "Copy the API key again from API Management, without spaces or line breaks.",
    )


def unexpected_answer(what: str) -> Problem:
    """The exchange answered with JSON of the wrong shape."""
    return Problem(
        ProblemKind.UNKNOWN,
        f"The exchange's answer to '{what}' wasn't what Binance sends.",
        "Check --base-url points at Binance (or the simulator), then try again.",
    )
