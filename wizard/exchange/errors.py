"""Every Binance error and transport failure, as a sentence the user can act on.

:func:`problem_from_exception` turns what python-binance or aiohttp raised into
a :class:`~wizard.exchange.model.Problem`. Nothing here imports python-binance
or aiohttp at module level (the TUI imports this before its first frame), and
nothing copies a request, URL, header or response body into a message: those
can carry signatures, and python-binance's "Invalid JSON" message embeds the
whole HTML page.
"""

from __future__ import annotations

import math
import re
import socket
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Literal

from wizard.exchange import messages as m
from wizard.exchange import order_messages
from wizard.exchange.model import Environment, Problem, ProblemKind

# What the failed request was for; it changes what a failure means.
#   "read"     any read (default)
#   "key_read" apiRestrictions on /sapi, a USER_DATA read: a -2015 there is the IP
#              allowlist or Enable Reading being off (Binance's answer is the same)
#   "order"    a POST/DELETE that changes state: a lost answer means "status unknown"
Context = Literal["read", "key_read", "order"]


def problem_from_exception(
    exc: BaseException, *, context: Context = "read", env: Environment | None = None
) -> Problem:
    """Map anything python-binance/aiohttp raised to a :class:`Problem`."""
    from binance.exceptions import BinanceAPIException, BinanceRequestException

    if isinstance(exc, BinanceAPIException):
        return problem_from_api_error(
            code=exc.code,
            status=exc.status_code,
            msg=exc.message,
            headers=getattr(exc.response, "headers", None),
            context=context,
            env=env,
        )
    if isinstance(exc, BinanceRequestException):
        return m.not_binance()
    return _transport_problem(exc, context)


def problem_from_api_error(
    *,
    code: int | None,
    status: int | None,
    msg: str | None,
    headers=None,
    context: Context = "read",
    env: Environment | None = None,
) -> Problem:
    """Map one Binance error answer (HTTP status, code, msg, headers) to a Problem."""
    retry_after = parse_retry_after(_header(headers, "Retry-After"))
    text = msg or ""
    if status == 418 or (code == -1003 and "banned" in text.lower()):
        # No Retry-After: Binance's message says "IP banned until <ms>".
        return m.banned(code, status, retry_after if retry_after is not None else ban_end(text))
    if code == -1015:  # the ACCOUNT's new-order rate (X-MBX-ORDER-COUNT-*), not the IP's weight
        return m.order_rate_limited(code, status, retry_after)
    if status == 429 or code == -1003:
        return m.rate_limited(code, status, retry_after)
    if code == -1008:  # "Server is currently overloaded": like a 5xx, the outcome is unknown
        return m.server_busy(code, status, order=context == "order")
    if (status is not None and status >= 500) or code in (-1000, -1001, -1006, -1007):
        return m.server_error(code, status, order=context == "order")
    key_problem = _key_problem(code, status, text, context, env)
    if key_problem is not None:
        return key_problem
    if code == -1021:
        return m.clock_skew_problem(code=code, status=status)
    if code == -1013:
        return order_messages.filter_failure(code, status, text)
    if code in (-2010, -2011):
        return order_messages.order_rejected(code, status, text)
    if code == -1121:
        return order_messages.invalid_symbol("", code=code, status=status)
    if not code:  # python-binance sets 0 when the body wasn't JSON
        return m.non_json(status, retry_after)
    return Problem(
        ProblemKind.UNKNOWN,
        f"Binance refused the request: {m.echo(text) or 'no reason given'}.",
        "Try again; if it keeps happening, note the error code and check Binance's status page.",
        code=code,
        status=status,
    )


def _key_problem(
    code: int | None, status: int | None, text: str, context: Context, env: Environment | None
) -> Problem | None:
    if code == -2014:
        return m.key_format(code, status)
    if code == -2008:
        return m.key_invalid(code, status)
    if code == -1022:
        return m.signature_invalid(code, status)
    if code == -2015 and context == "key_read" and (env is None or env.has_sapi):
        # apiRestrictions needs Enable Reading: the IP or Reading (or a wrong site).
        return m.ip_not_allowed_problem(msg=text, env=env, code=code, status=status)
    if code in (-2015, -1002):
        return m.key_rejected_problem(msg=text, env=env, code=code, status=status)
    return None


_BANNED_UNTIL = re.compile(r"banned until (\d{10,16})")


def ban_end(msg: str | None) -> float | None:
    """Seconds until "IP banned until <ms>" in a -1003 message (None when absent)."""
    match = _BANNED_UNTIL.search(msg or "")
    if match is None:
        return None
    return max(0.0, int(match.group(1)) / 1000 - datetime.now(timezone.utc).timestamp())


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def is_transient(exc: BaseException) -> bool:
    """True for failures a safe (GET) request may retry: 5xx, timeouts, dropped or
    refused connections. Never a DNS failure (it won't fix itself in a second) and
    never a Binance rejection (the answer would be the same)."""
    from binance.exceptions import BinanceAPIException

    if isinstance(exc, BinanceAPIException):
        # -1008 "Server is currently overloaded" is a 5xx in all but status.
        return (exc.status_code is not None and exc.status_code >= 500) or exc.code == -1008
    if isinstance(exc, TimeoutError):
        return True
    if _is_dns(exc):
        return False
    import aiohttp

    return isinstance(
        exc,
        (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError,
         aiohttp.ClientPayloadError, ConnectionError),
    ) and not isinstance(exc, (aiohttp.ClientSSLError, aiohttp.InvalidURL))


# -- transport ------------------------------------------------------------

def _transport_problem(exc: BaseException, context: Context) -> Problem:
    import aiohttp  # already loaded whenever a request was made

    unknown = m.ORDER_UNKNOWN if context == "order" else ""
    if isinstance(exc, TimeoutError):  # asyncio.TimeoutError and aiohttp's timeouts
        return Problem(
            ProblemKind.TIMEOUT,
            "Binance didn't answer in time." + unknown,
            "Check your internet connection and try again.",
        )
    if _is_dns(exc):
        return Problem(
            ProblemKind.UNREACHABLE,
            "The exchange's address couldn't be looked up (DNS failure).",
            "Check your internet connection and DNS, and the --base-url if you gave one.",
        )
    if isinstance(exc, (aiohttp.ClientSSLError, aiohttp.ServerFingerprintMismatch)):
        return Problem(
            ProblemKind.UNREACHABLE,
            "The secure (TLS) connection to the exchange failed: something between you and "
            "Binance intercepted it.",
            "Use a network without a TLS-inspecting proxy or firewall, then try again.",
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return Problem(
            ProblemKind.UNREACHABLE,
            "Couldn't connect to the exchange (connection refused or network down).",
            "Check your internet connection, firewall and --base-url, then try again.",
        )
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError,
                        aiohttp.ClientPayloadError, ConnectionError)):
        return Problem(
            ProblemKind.UNREACHABLE,
            "The connection to the exchange dropped before it answered." + unknown,
            "Check your internet connection and try again.",
        )
    if isinstance(exc, aiohttp.ContentTypeError):
        # A 2xx page that isn't JSON (aiohttp 3.14 no longer raises ValueError here).
        return m.not_binance()
    if isinstance(exc, aiohttp.InvalidURL):
        return Problem(
            ProblemKind.NOT_FOUND,
            "The exchange address isn't a valid URL.",
            "Check --base-url: it should look like https://api.binance.com.",
        )
    return Problem(
        ProblemKind.UNKNOWN,
        f"Talking to the exchange failed unexpectedly ({type(exc).__name__})." + unknown,
        "Try again; if it keeps happening, report it with this message.",
    )


def _is_dns(exc: BaseException) -> bool:
    import aiohttp

    dns_error = getattr(aiohttp, "ClientConnectorDNSError", None)
    if dns_error is not None and isinstance(exc, dns_error):
        return True
    return isinstance(getattr(exc, "os_error", None), socket.gaierror)


def _header(headers, name: str) -> str | None:
    if headers is None:
        return None
    try:
        return headers.get(name)
    except AttributeError:
        return None
