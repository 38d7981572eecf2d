"""Every Binance error and transport failure becomes a plain, actionable Problem.

python-binance's own ``BinanceAPIException`` is built here from a small
response stand-in (it only reads ``.text`` and, for us, ``.headers``), exactly
as ``AsyncClient._handle_response`` builds it from an aiohttp response.
"""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from binance.exceptions import BinanceAPIException, BinanceRequestException

from wizard.exchange.errors import is_transient, parse_retry_after, problem_from_exception
from wizard.exchange.messages import echo, permission_missing_problem, request_ip
from wizard.exchange.model import Environment, ProblemKind

SIGNATURE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
HTML_451 = "<!DOCTYPE html><html><body><h1>Unavailable For Legal Reasons</h1></body></html>"


class FakeResponse:
    """What BinanceAPIException keeps as ``.response``: text and headers."""

    def __init__(self, text: str, headers: dict[str, str] | None = None) -> None:
        self.text = text
        self.headers = headers or {}


def api_error(status: int, code: int | None = None, msg: str = "", headers=None, body=None):
    text = body if body is not None else json.dumps({"code": code, "msg": msg})
    return BinanceAPIException(FakeResponse(text, headers), status, text)


def conn_key() -> ConnectionKey:
    return ConnectionKey("api.binance.com", 443, True, True, None, None, None, None)


@pytest.mark.parametrize(
    ("status", "code", "msg", "kind"),
    [
        (400, -1021, "Timestamp for this request is outside of the recvWindow.", ProblemKind.CLOCK_SKEW),
        (400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.", ProblemKind.CLOCK_SKEW),
        (400, -1022, "Signature for this request is not valid.", ProblemKind.SIGNATURE_INVALID),
        (401, -2014, "API-key format invalid.", ProblemKind.KEY_FORMAT),
        (401, -2015, "Invalid API-key, IP, or permissions for action.", ProblemKind.KEY_REJECTED),
        (401, -2008, "Invalid Api-Key ID.", ProblemKind.KEY_INVALID),
        (429, -1003, "Too much request weight used; current limit is 6000", ProblemKind.RATE_LIMITED),
        (418, -1003, "Way too much request weight used; IP banned until 1700000000000.", ProblemKind.BANNED),
        (400, -2010, "Account has insufficient balance for requested action.", ProblemKind.ORDER_REJECTED),
        (400, -2010, "Order would immediately match and take.", ProblemKind.ORDER_REJECTED),
        (400, -2011, "Unknown order sent.", ProblemKind.ORDER_REJECTED),
        (400, -1013, "Filter failure: PERCENT_PRICE_BY_SIDE", ProblemKind.FILTER_FAILURE),
        (503, -1001, "Internal error; unable to process your request.", ProblemKind.SERVER_ERROR),
        (400, -1121, "Invalid symbol.", ProblemKind.FILTER_FAILURE),  # named, never "unexpected"
    ],
)
def test_binance_codes_map_to_problem_kinds(status, code, msg, kind):
    problem = problem_from_exception(api_error(status, code, msg))
    assert problem.kind is kind
    assert problem.code == code and problem.status == status
    assert problem.message and problem.fix
    assert problem.exit_code in (4, 5)


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (403, ProblemKind.REGION_BLOCKED, "firewall"),
        (451, ProblemKind.REGION_BLOCKED, "location"),
        (404, ProblemKind.NOT_FOUND, "/sapi"),
        (502, ProblemKind.SERVER_ERROR, "didn't say whether"),
        (504, ProblemKind.SERVER_ERROR, "didn't say whether"),
    ],
)
def test_non_json_answers_are_not_key_problems(status, kind, words):
    exc = api_error(status, body=HTML_451)
    assert exc.code == 0 and exc.message.startswith("Invalid JSON error message from Binance")
    problem = problem_from_exception(exc)
    assert problem.kind is kind and words in problem.message + problem.fix
    # The HTML page python-binance embeds in its message never reaches the user.
    assert "<" not in problem.message and "Invalid JSON" not in problem.message
    assert problem.exit_code == 5


def test_rate_limit_reports_retry_after_seconds():
    problem = problem_from_exception(api_error(429, -1003, "Too much", {"Retry-After": "37"}))
    assert problem.retry_after == 37.0 and "37 s" in problem.fix


def test_ban_reports_retry_after_from_http_date():
    when = datetime.now(timezone.utc) + timedelta(minutes=10)
    exc = api_error(418, -1003, "IP banned until 1", {"Retry-After": format_datetime(when, usegmt=True)})
    problem = problem_from_exception(exc)
    assert problem.kind is ProblemKind.BANNED
    assert 550 < problem.retry_after <= 600 and "10 min" in problem.fix


def test_2015_on_api_restrictions_names_the_ip_and_enable_reading():
    msg = "Invalid API-key, IP, or permissions for action, request ip: 203.0.113.7"
    problem = problem_from_exception(api_error(401, -2015, msg), context="key_read",
                                     env=Environment.live())
    # apiRestrictions is USER_DATA: Enable Reading off is refused the same way.
    assert problem.kind is ProblemKind.READ_REFUSED
    assert "203.0.113.7" in problem.message and "trusted IPs" in problem.message
    assert "Enable Reading" in problem.message
    assert "Binance.US" in problem.message  # the wrong-site possibility is still named
    assert request_ip(msg) == "203.0.113.7"


def test_2015_without_context_names_every_cause():
    problem = problem_from_exception(api_error(401, -2015, "Invalid API-key, IP, or permissions"))
    assert problem.kind is ProblemKind.KEY_REJECTED
    for words in ("IP", "permission", "Binance.US", "Binance TR"):
        assert words in problem.message


def test_2015_on_testnet_mentions_testnet_keys():
    problem = problem_from_exception(api_error(401, -2015, "x"), context="key_read",
                                     env=Environment.testnet())
    assert problem.kind is ProblemKind.KEY_REJECTED  # no /sapi: can't tell IP from key
    assert "testnet.binance.vision" in problem.message


def test_permission_missing_mentions_the_30_day_expiry():
    expired = datetime.now(timezone.utc) - timedelta(days=2)
    problem = permission_missing_problem(trading_expires_at=expired, ip_restricted=False)
    assert problem.kind is ProblemKind.PERMISSION_MISSING
    assert "Enable Spot & Margin Trading" in problem.message
    assert "30 days" in problem.message and f"{expired:%Y-%m-%d}" in problem.message
    unrestricted = permission_missing_problem(ip_restricted=False)
    assert "30 days" in unrestricted.message
    restricted = permission_missing_problem(ip_restricted=True)
    assert "30 days" not in restricted.message


def test_order_context_says_status_unknown():
    for exc in (api_error(503, -1001, "Internal error"), asyncio.TimeoutError(),
                aiohttp.ServerDisconnectedError()):
        assert "status is unknown" in problem_from_exception(exc, context="order").message
        assert "status is unknown" not in problem_from_exception(exc).message


def test_unknown_codes_echo_binance_text_without_long_tokens():
    msg = f"Illegal characters found in parameter 'signature' {SIGNATURE}."
    problem = problem_from_exception(api_error(400, -1100, msg))
    assert problem.kind is ProblemKind.UNKNOWN
    assert "parameter 'signature'" in problem.message and SIGNATURE not in problem.message
    assert echo("x" * 500).__len__() <= 160


@pytest.mark.parametrize(
    ("exc", "kind", "transient"),
    [
        (asyncio.TimeoutError(), ProblemKind.TIMEOUT, True),
        (aiohttp.ServerTimeoutError("read timeout"), ProblemKind.TIMEOUT, True),
        (aiohttp.ServerDisconnectedError(), ProblemKind.UNREACHABLE, True),
        (aiohttp.ClientConnectorError(conn_key(), ConnectionRefusedError(111, "refused")),
         ProblemKind.UNREACHABLE, True),
        (aiohttp.ClientConnectorDNSError(conn_key(), socket.gaierror(-2, "Name or service not known")),
         ProblemKind.UNREACHABLE, False),
        (aiohttp.ClientConnectorError(conn_key(), socket.gaierror(-3, "Temporary failure")),
         ProblemKind.UNREACHABLE, False),
        (aiohttp.ClientSSLError(conn_key(), OSError("certificate verify failed")),
         ProblemKind.UNREACHABLE, False),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), ProblemKind.UNREACHABLE, True),
        (ConnectionResetError(), ProblemKind.UNREACHABLE, True),
        (ValueError("odd"), ProblemKind.UNKNOWN, False),
    ],
)
def test_transport_failures(exc, kind, transient):
    problem = problem_from_exception(exc)
    assert problem.kind is kind and problem.message and problem.fix
    assert is_transient(exc) is transient
    assert problem.exit_code == 5


def test_dns_failure_says_dns():
    exc = aiohttp.ClientConnectorDNSError(conn_key(), socket.gaierror(-2, "unknown"))
    assert "DNS" in problem_from_exception(exc).message


def test_non_json_success_body():
    problem = problem_from_exception(BinanceRequestException("Invalid Response: <html>"))
    assert problem.kind is ProblemKind.NOT_FOUND and "<html>" not in problem.message


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (api_error(500, -1000, "x"), True),
        (api_error(503, body="<html>"), True),
        (api_error(429, -1003, "x"), False),
        (api_error(418, -1003, "x"), False),
        (api_error(400, -1021, "x"), False),
        (api_error(401, -2015, "x"), False),
    ],
)
def test_only_5xx_answers_are_transient(exc, transient):
    assert is_transient(exc) is transient


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, None), ("", None), ("12", 12.0), ("0.5", 0.5), ("-3", 0.0), ("soon", None), ("inf", None), ("nan", None),
     ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value) == seconds


def test_problem_never_carries_request_details():
    """Whatever python-binance put in the exception, only our sentences come out."""
    headers = {"X-MBX-APIKEY": "k" * 64, "Retry-After": "5"}
    text = json.dumps({"code": -1022, "msg": "Signature for this request is not valid."})
    exc = BinanceAPIException(FakeResponse(text + SIGNATURE, headers), 400, text)
    problem = problem_from_exception(exc)
    assert SIGNATURE not in repr(problem) and "k" * 64 not in repr(problem)
