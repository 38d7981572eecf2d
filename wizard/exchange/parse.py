"""Turning Binance's JSON answers into the model's types (pure, no I/O).

Binance adds, renames and drops fields without notice, so every reader here
takes what it recognises, ignores the rest, and reports "unknown" (``None``)
instead of guessing. Permission-looking fields lean safe: any ``enable*`` /
``permit*`` field that isn't understood — an unknown name whose value isn't
plainly off, or a known name whose value isn't a boolean — is reported in
``unknown_enabled`` ("unknown, treated as on"), and the policy blocks on it.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from wizard.exchange.model import RESTRICTION_FIELDS, AccountFacts, Balance, KeyPermissions
from wizard.text import printable

_PERMISSION_PREFIXES = ("enable", "permit")  # compared in lower case: "permitsX", "EnableY"


class UnexpectedAnswer(ValueError):
    """The exchange answered with JSON of the wrong shape."""


def parse_restrictions(data: Any) -> KeyPermissions:
    """``GET /sapi/v1/account/apiRestrictions`` → a confirmed :class:`KeyPermissions`."""
    if not isinstance(data, dict):
        raise UnexpectedAnswer("apiRestrictions did not return an object")
    flags: dict[str, bool | None] = {}
    unknown: list[str] = []
    for name, value in data.items():
        if name in RESTRICTION_FIELDS:
            flags[RESTRICTION_FIELDS[name]] = as_bool(value)
            if as_bool(value) is None:  # "maybe", null, {...}: unknown, treated as on
                unknown.append(name)
        elif looks_like_permission(name) and not plainly_off(value):
            unknown.append(printable(name, limit=60))  # a field name, shown as is: clean it
    return KeyPermissions(
        confirmed=True,
        unknown_enabled=tuple(sorted(unknown)),
        ip_restricted=as_bool(data.get("ipRestrict")),
        created_at=ms_to_datetime(data.get("createTime")),
        trading_expires_at=ms_to_datetime(data.get("tradingAuthorityExpirationTime")),
        **flags,
    )


def looks_like_permission(name: object) -> bool:
    """``enable*`` / ``permit*`` field names, whatever their case."""
    return isinstance(name, str) and name.lower().startswith(_PERMISSION_PREFIXES)


def plainly_off(value: Any) -> bool:
    """False, 0, null or "false": the only values an unknown permission may have to pass."""
    if isinstance(value, str):
        return value.strip().lower() in ("false", "0")
    if isinstance(value, bool) or value is None:
        return value is not True
    if isinstance(value, (int, float)):
        return value == 0
    return False  # objects, lists: not understood, so not off


def parse_user_assets(data: Any) -> list[Balance]:
    """``POST /sapi/v3/asset/getUserAsset`` → non-zero balances."""
    if not isinstance(data, list):
        raise UnexpectedAnswer("getUserAsset did not return a list")
    return _balances(data)


def parse_account_balances(data: Any) -> list[Balance]:
    """``GET /api/v3/account`` → non-zero balances."""
    if not isinstance(data, dict) or not isinstance(data.get("balances", []), list):
        raise UnexpectedAnswer("account did not return balances")
    return _balances(data.get("balances", []))


def parse_account_facts(status: Any, trading: Any, addresses: Any) -> AccountFacts:
    """account/status, account/apiTradingStatus (or None) and the withdraw address list."""
    status_text = status.get("data") if isinstance(status, dict) else None
    locked = None
    if isinstance(trading, dict) and isinstance(trading.get("data"), dict):
        locked = as_bool(trading["data"].get("isLocked"))
    whitelisted = total = None
    if isinstance(addresses, list):
        entries = [a for a in addresses if isinstance(a, dict)]
        total = len(entries)
        whitelisted = sum(1 for a in entries if as_bool(a.get("whiteStatus")) is True)
    return AccountFacts(
        status=printable(status_text, limit=60) if isinstance(status_text, str) else None,
        trading_locked=locked,
        whitelisted_addresses=whitelisted,
        total_addresses=total,
    )


def server_time_ms(data: Any) -> int:
    """``GET /api/v3/time`` → the server's clock in ms."""
    value = data.get("serverTime") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnexpectedAnswer("time did not return serverTime")
    # NaN, 1e400 (JSON's infinity) or a clock centuries off is garbage, not a time to sync to.
    if not (math.isfinite(value) and 0 < value < _YEAR_3000_MS):
        raise UnexpectedAnswer("time returned a serverTime that is not a time")
    return int(value)


_YEAR_3000_MS = 32503680000000


def order_ids_of(data: Any) -> set[int]:
    """``GET /api/v3/openOrders`` → the orderIds listed."""
    if not isinstance(data, list):
        raise UnexpectedAnswer("openOrders did not return a list")
    ids = set()
    for order in data:
        value = order.get("orderId") if isinstance(order, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            ids.add(value)
        elif isinstance(value, str) and value.isdigit():
            ids.add(int(value))
    return ids


def as_bool(value: Any) -> bool | None:
    """Binance's booleans, tolerating "true"/"false" strings; anything else is unknown."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def ms_to_datetime(value: Any) -> datetime | None:
    """A ms timestamp → an aware UTC datetime; missing, zero or nonsense → None."""
    if isinstance(value, bool):
        return None
    try:
        ms = float(value)
        if ms <= 0:
            return None
        return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def decimal_or_zero(value: Any) -> Decimal:
    """A Binance amount string → Decimal (0 when unreadable)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


def _balances(rows: list[Any]) -> list[Balance]:
    out = []
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("asset"), str):
            continue
        free = decimal_or_zero(row.get("free"))
        locked = decimal_or_zero(row.get("locked")) + decimal_or_zero(row.get("freeze"))
        if free > 0 or locked > 0:
            out.append(Balance(printable(row["asset"], limit=20), free, locked))
    return sorted(out, key=lambda b: b.asset)
