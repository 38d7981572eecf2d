"""The sentences: one builder per way a Binance call can fail.

Each returns a :class:`~wizard.exchange.model.Problem` whose ``message`` says
what happened and whose ``fix`` says what to do. Only Binance's own short
``msg`` is ever echoed, with long tokens cut out; never a URL, header or body.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from wizard.exchange.model import Environment, Problem, ProblemKind
from wizard.text import printable

_REQUEST_IP = re.compile(r"request ip:\s*([0-9A-Fa-f.:]+)")
# Long hex or base64 runs (signatures, keys) are cut out of any text we echo.
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=_%-]{32,}")

OTHER_SITES = "Binance.US, Binance TR or the Spot Testnet"
WAF_COOL_DOWN = 120.0  # seconds to hold off after a WAF 403 without Retry-After
ORDER_UNKNOWN = (
    " The order's status is unknown: look at Open Orders in Binance before trying again."
)


def echo(text: str, limit: int = 160) -> str:
    """Binance's own message, safe to show: no control characters, long tokens removed, trimmed."""
    cleaned = _LONG_TOKEN.sub("…", printable(text)).strip().rstrip(".")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def request_ip(msg: str | None) -> str | None:
    """The caller IP Binance sometimes appends to -2015 ("..., request ip: 1.2.3.4")."""
    match = _REQUEST_IP.search(msg or "")
    return match.group(1) if match else None


# -- -2015 and friends: the key itself ------------------------------------


def key_rejected_problem(
    *, msg: str | None = None, env: Environment | None = None, code: int | None = -2015,
    status: int | None = 401,
) -> Problem:
    """-2015 when nothing tells IP, permission and wrong site apart."""
    ip = request_ip(msg)
    where = f" ({ip})" if ip else ""
    site = wrong_site_hint(env)
    return Problem(
        ProblemKind.KEY_REJECTED,
        "Binance refused this key for this request. The usual causes: this computer's IP "
        f"address{where} isn't on the key's IP allowlist, a permission the request needs is "
        f"off, or {site}",
        "In API Management check that the key still exists, that its IP allowlist includes "
        "this computer, and that the permissions you need are ticked.",
        code=code,
        status=status,
    )


def ip_not_allowed_problem(
    *, msg: str | None = None, env: Environment | None = None, code: int | None = -2015,
    status: int | None = 401,
) -> Problem:
    """-2015 on ``apiRestrictions``: the IP allowlist, or Enable Reading being off.

    apiRestrictions is a USER_DATA endpoint, so a key without Enable Reading is
    refused exactly like a key called from an IP outside its allowlist; nothing
    in Binance's answer tells the two apart, so the message names both.
    """
    ip = request_ip(msg)
    where = f" ({ip})" if ip else ""
    return Problem(
        ProblemKind.READ_REFUSED,
        "Binance refused to show this key's settings to this computer"
        f"{where}. Either 'Enable Reading' is off for this key (reading its settings needs it), "
        f"or this computer's IP address isn't on the key's list of trusted IPs. If neither, "
        f"{wrong_site_hint(env)}",
        "In API Management → Edit restrictions, make sure 'Enable Reading' is ticked, and that "
        f"the key's trusted IPs include this computer's public IP address{where} (or your bot "
        "server's), then try again.",
        code=code,
        status=status,
    )


def death_unproven(problem: Problem, env: Environment) -> Problem:
    """Rotation: the old key was refused, but not in the one way that proves it deleted.

    Only -2008 "Invalid Api-Key ID." on /sapi proves deletion. A live key gets
    -2015 from an IP outside its allowlist (or without Enable Reading), and on
    /api (testnet, demo) a deleted key gets -2015 as well.
    """
    said = f"Binance refused the old key ({_code_text(problem)})"
    if not env.has_sapi:
        return Problem(
            ProblemKind.UNPROVEN,
            f"{said}, but {env.title} cannot prove that a key was deleted: it refuses a deleted "
            "key and a key called from an IP outside its allowlist with the same answer.",
            f"Check in {env.title}'s API Management that the old key is no longer listed. The new "
            "key is stored and works; you can finish here.",
            code=problem.code,
            status=problem.status,
        )
    if problem.kind is ProblemKind.SIGNATURE_INVALID:
        why = ". Binance still knows this API key (only the signature was refused), so it exists."
    else:
        why = (", but that doesn't prove it was deleted: a live key is refused the same way from "
               "an IP address that isn't on its allowlist, or when 'Enable Reading' is off. Only "
               "Binance's 'Invalid Api-Key ID' (-2008) proves a key was deleted.")
    return Problem(
        ProblemKind.UNPROVEN,
        said + why,
        "Delete the old key itself in API Management (removing IPs or permissions isn't enough); "
        "the wizard keeps checking until Binance answers 'Invalid Api-Key ID'.",
        code=problem.code,
        status=problem.status,
    )


def _code_text(problem: Problem) -> str:
    return f"code {problem.code}" if problem.code is not None else f"HTTP {problem.status}"


def permission_missing_problem(
    *, trading_expires_at: datetime | None = None, ip_restricted: bool | None = None,
    code: int | None = -2015, status: int | None = 401,
) -> Problem:
    """-2015 on an order while a signed read works: trading is switched off."""
    message = (
        "The key can read but may not trade: 'Enable Spot & Margin Trading' is off for this key."
    )
    now = datetime.now(timezone.utc)
    if trading_expires_at is not None and trading_expires_at <= now:
        message += (
            f" Binance switched it off on {trading_expires_at:%Y-%m-%d}: on a key without an IP "
            "restriction, trading permission lasts only 30 days."
        )
    elif ip_restricted is False:
        message += (
            " On a key without an IP restriction, Binance switches trading off automatically "
            "30 days after it was enabled."
        )
    return Problem(
        ProblemKind.PERMISSION_MISSING,
        message,
        "In API Management, edit the key and tick 'Enable Spot & Margin Trading'. Restrict the "
        "key to trusted IP addresses so the permission doesn't expire after 30 days.",
        code=code,
        status=status,
    )


def clock_skew_problem(
    *, offset_ms: int | None = None, code: int | None = -1021, status: int | None = 400
) -> Problem:
    """-1021: the request's timestamp is outside Binance's window."""
    off = ""
    if offset_ms is not None and abs(offset_ms) >= 1000:
        direction = "behind" if offset_ms > 0 else "ahead of"
        off = f" This computer's clock is about {abs(offset_ms) / 1000:.0f} s {direction} Binance's."
    return Problem(
        ProblemKind.CLOCK_SKEW,
        "Binance rejected the request's timestamp even after re-syncing with its clock." + off,
        "Turn on automatic time sync (NTP): on Linux `timedatectl set-ntp true`, on Windows "
        "Settings > Time > Sync now, on macOS 'Set time automatically'. Then try again.",
        code=code,
        status=status,
    )


def key_format(code: int | None, status: int | None) -> Problem:
    """-2014: the API key is malformed."""
    return Problem(
        ProblemKind.KEY_FORMAT,
        "Binance says the API key isn't in a valid format.",
        "Copy the API key again from API Management: it is 64 letters and digits, with no "
        "spaces or line breaks.",
        code=code,
        status=status,
    )


def key_invalid(code: int | None, status: int | None) -> Problem:
    """-2008: the exchange doesn't know the key (deleted or from another site)."""
    return Problem(
        ProblemKind.KEY_INVALID,
        "Binance doesn't know this API key: it was deleted, mistyped, or made on another "
        f"site ({OTHER_SITES}).",
        "Check the key in API Management; if it's gone, create a new one.",
        code=code,
        status=status,
    )


def signature_invalid(code: int | None, status: int | None) -> Problem:
    """-1022: the key is known but the secret or private key is wrong."""
    return Problem(
        ProblemKind.SIGNATURE_INVALID,
        "Binance knows the API key, but the signature is wrong: the secret (or private key) "
        "doesn't belong to this key.",
        "Paste the secret key again in full (Binance shows it only once; if you no longer have "
        "it, delete the key and create a new one). For a self-generated Ed25519 key, use the "
        "private key whose public key you registered.",
        code=code,
        status=status,
    )


def wrong_site_hint(env: Environment | None) -> str:
    """The "key from elsewhere" clause, worded for the environment."""
    if env is not None and env.name == "testnet":
        return (
            "the key was made on binance.com: Spot Testnet keys come from "
            "testnet.binance.vision."
        )
    if env is not None and env.name == "demo":
        return "the key isn't a demo-trading key: create one in demo trading's API Management."
    return f"the key was made on another Binance site ({OTHER_SITES}): create it on binance.com."


def banned(code: int | None, status: int | None, retry_after: float | None) -> Problem:
    """418: the IP is banned for a while."""
    wait = _wait_text(retry_after, "Bans last from 2 minutes to 3 days")
    return Problem(
        ProblemKind.BANNED,
        "Binance has temporarily banned this IP address for sending too many requests.",
        f"{wait}. Stop other bots and scripts on this network meanwhile: limits are per IP.",
        code=code,
        status=status,
        retry_after=retry_after,
    )


def order_rate_limited(code: int | None, status: int | None, retry_after: float | None) -> Problem:
    """-1015: the account placed too many new orders (per 10 s or per day), not the IP."""
    wait = _wait_text(retry_after, "Wait a minute (or until tomorrow, if it's the daily count)")
    return Problem(
        ProblemKind.RATE_LIMITED,
        "Binance's limit on new orders for this account is used up (too many orders in the "
        "last 10 seconds or today). Every bot on this account counts, from any IP.",
        f"{wait}, then try again. Nothing was placed; reading the account still works.",
        code=code,
        status=status,
        retry_after=retry_after,
    )


def server_busy(code: int | None, status: int | None, *, order: bool = False) -> Problem:
    """-1008: Binance is overloaded; like a 5xx, a request may or may not have worked."""
    message = "Binance is overloaded right now and didn't process the request."
    if order:
        message = ("Binance is overloaded right now and didn't say whether the request "
                   "worked." + ORDER_UNKNOWN)
    return Problem(
        ProblemKind.SERVER_ERROR,
        message,
        "Wait a few minutes and try again; check Binance's status page if it persists.",
        code=code,
        status=status,
    )


def not_binance() -> Problem:
    """A 2xx answer that isn't JSON: a proxy, captive portal or wrong --base-url answered."""
    return Problem(
        ProblemKind.NOT_FOUND,
        "The server answered, but not with Binance's API (the reply wasn't JSON).",
        "Check the --base-url, and any proxy or captive portal between you and Binance.",
    )


def waf_blocked(status: int | None, retry_after: float | None) -> Problem:
    """HTTP 403 without JSON: Binance's web application firewall; wait, don't poll through it."""
    wait = _wait_text(retry_after, "Wait a few minutes")
    return Problem(
        ProblemKind.REGION_BLOCKED,
        "Binance's firewall blocked the request (HTTP 403). This isn't about your key.",
        f"{wait} before trying again (the wizard holds off meanwhile); if it persists, try from "
        "another network (some VPNs, regions and cloud hosts are blocked).",
        status=status,
        retry_after=retry_after,
    )


def rate_limited(code: int | None, status: int | None, retry_after: float | None) -> Problem:
    """429 / -1003: the IP's request weight is used up."""
    wait = _wait_text(retry_after, "Wait a minute")
    return Problem(
        ProblemKind.RATE_LIMITED,
        "Binance's request limit for this IP address is used up (other programs on this "
        "network count too).",
        f"{wait}, then try again. Keep waiting if it repeats: continuing can get the IP banned.",
        code=code,
        status=status,
        retry_after=retry_after,
    )


def _wait_text(retry_after: float | None, default: str) -> str:
    if retry_after is None:
        return default
    return f"Wait {_duration(retry_after)}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def server_error(code: int | None, status: int | None, *, order: bool = False) -> Problem:
    """5xx: Binance didn't say whether the request worked."""
    message = "Binance had an internal problem and didn't say whether the request worked."
    if order:
        message += ORDER_UNKNOWN
    return Problem(
        ProblemKind.SERVER_ERROR,
        message,
        "Wait a moment and try again; check Binance's status page if it persists.",
        code=code,
        status=status,
    )


def non_json(status: int | None, retry_after: float | None = None) -> Problem:
    """An HTML (non-JSON) answer: WAF, restricted region or wrong URL, not the key."""
    if status == 451:
        return Problem(
            ProblemKind.REGION_BLOCKED,
            "Binance refuses service from this location (HTTP 451: restricted region).",
            "Binance.com isn't available where this computer is. Use the Binance site for your "
            "country; a key from another site won't work here.",
            status=status,
        )
    if status == 403:
        return waf_blocked(status, retry_after if retry_after is not None else WAF_COOL_DOWN)
    if status == 404:
        return Problem(
            ProblemKind.NOT_FOUND,
            "That address doesn't serve this part of Binance's API (HTTP 404).",
            "Check --env/--base-url: the Spot Testnet and demo trading have no /sapi, and a "
            "custom base URL must serve /api and /sapi.",
            status=status,
        )
    return Problem(
        ProblemKind.UNKNOWN,
        f"Binance answered with an unexpected page (HTTP {status}).",
        "Try again in a few minutes; check --base-url and any proxy in between.",
        status=status,
    )
