"""Who may use the simulator's ``/_sim`` admin routes, and which values they may set.

The simulator listens on 127.0.0.1, but "loopback only" is not enough:

* **any local process**: the admin API can hand out every simulated secret and
  rewrite keys, so it needs a per-run token (:attr:`SimExchange.admin_token`,
  printed by ``sim --json``) in the ``X-Sim-Token`` header;
* **a web page in the user's browser** can POST to 127.0.0.1 (a "simple"
  cross-site request needs no preflight): a custom header, a JSON content type
  and an ``Origin`` that is either absent or the simulator's own are required,
  none of which such a page can produce;
* **DNS rebinding** (evil.example resolving to 127.0.0.1) sends the page's
  own Host: only ``127.0.0.1:PORT``, ``localhost:PORT`` or ``[::1]:PORT`` pass.

Values are checked here too: a ``ban_for`` of 1e309 or a ``clock_skew_ms`` of
1e30 used to be accepted and then turn every later API request into a 500.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

TOKEN_HEADER = "X-Sim-Token"
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class Refused(Exception):
    """A request the admin routes won't serve: HTTP ``status`` and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_caller(request: web.Request, token: str) -> None:
    """Raise :class:`Refused` unless the request comes from this machine, for this
    simulator (Host), not from a web page (Origin, content type), with the token."""
    try:
        loopback = ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise Refused(403, "the simulator's admin route answers loopback callers only")
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    port = sockname[1] if sockname else None
    allowed = {f"{name}:{port}" for name in _LOOPBACK_NAMES}
    host = request.headers.get("Host", "")
    if host.lower() not in allowed:
        raise Refused(421, f"the admin route only answers Host 127.0.0.1:{port} (or localhost, [::1])")
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower() not in {f"http://{a}" for a in allowed}:
        raise Refused(403, "cross-site requests to the admin route are refused")
    given = request.headers.get(TOKEN_HEADER, "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise Refused(401, f"the admin route needs the {TOKEN_HEADER} header printed by `sim --json`")
    if request.body_exists and request.content_type != "application/json":
        raise Refused(415, "the admin route takes JSON bodies only (Content-Type: application/json)")


def number(body: dict[str, Any], name: str, low: float, high: float, *, integer: bool = False) -> float:
    """``body[name]`` as a finite number in [low, high]; ValueError (a 400) otherwise."""
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number")
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}")
    if integer and value != int(value):
        raise ValueError(f"{name} must be a whole number")
    return int(value) if integer else float(value)


def amount(value: object, name: str, high: Decimal = Decimal("1e15")) -> str:
    """A decimal amount or price as text: finite, >= 0, at most ``high``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{name} must be a number or a decimal string")
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} must be a number or a decimal string") from None
    if not parsed.is_finite() or not Decimal(0) <= parsed <= high:
        raise ValueError(f"{name} must be between 0 and {high}")
    return str(parsed)


def queued_spec(name: str, spec: object) -> dict[str, Any]:
    """A fail_next/html_error/geo_block/drop_next spec: n 0-1000, status 100-599, path text."""
    if not isinstance(spec, dict):
        raise ValueError(f"{name} must be an object")
    out = dict(spec)
    if "n" in out:
        out["n"] = int(number(out, "n", 0, 1000, integer=True))
    if "status" in out:
        out["status"] = int(number(out, "status", 100, 599, integer=True))
    if out.get("path") is not None and not isinstance(out["path"], str):
        raise ValueError("path must be text or null")
    return out


def optional_text(value: object, name: str, limit: int = 200) -> str | None:
    """None, or text up to ``limit`` characters."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{name} must be text (at most {limit} characters) or null")
    return value


def optional_bool(value: object, name: str) -> bool | None:
    """None, true or false (not 0/1, not "yes")."""
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{name} must be true, false or null")
    return value


def permission_value(field: str, value: object) -> object:
    """An apiRestrictions value: a boolean, or for the expiry a time in ms (or null)."""
    if field == "tradingAuthorityExpirationTime":
        if value is None:
            return None
        return int(number({field: value}, field, 0, 2 ** 53, integer=True))
    if not isinstance(value, bool):
        raise ValueError(f"{field} must be true or false")
    return value


def create_key_args(body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_sim/keys``'s body checked for types (the sim checks the rest)."""
    if not isinstance(body.get("label"), str) or not body["label"].strip():
        raise ValueError("label is required (text)")
    for name, value in body.items():
        if name in ("label", "public_key_pem", "key_type"):
            optional_text(value, name, limit=4000)
        elif name == "ip_allowlist":
            if not isinstance(value, list) or len(value) > 100 or not all(isinstance(v, str) for v in value):
                raise ValueError("ip_allowlist must be a list of at most 100 addresses")
        elif not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
    return body
