"""Sentences for refused orders (-1013, -2010, -2011), read from Binance's message.

Binance's codes are coarse: -2010 covers "Order would immediately match and
take." (the order got past every key check) as well as "This account may not
place or cancel orders." (it says nothing about the key), and -1013 covers a
symbol's price and size filters as well as account-level limits
(MAX_NUM_ORDERS, ...). So the message decides, and only the cases
binance-spot-api-docs errors.md documents as coming after the key's
permission check set :attr:`Problem.passed_key_check`.
"""

from __future__ import annotations

from wizard.exchange.messages import echo
from wizard.exchange.model import Problem, ProblemKind

# Symbol filters on an order's own price and size (filters.md "Symbol filters"):
# failing one means the order was read and judged, after the key check.
PRICE_SIZE_FILTERS = frozenset({
    "PRICE_FILTER", "PERCENT_PRICE", "PERCENT_PRICE_BY_SIDE", "LOT_SIZE", "MARKET_LOT_SIZE",
    "MIN_NOTIONAL", "NOTIONAL", "ICEBERG_PARTS", "TRAILING_DELTA",
})
# Limits on what the account already holds or has open: no proof about this key.
_ACCOUNT_FILTERS = {
    "MAX_NUM_ORDERS": "the account has too many open orders on this symbol",
    "MAX_NUM_ALGO_ORDERS": "the account has too many open stop or take-profit orders on this symbol",
    "MAX_NUM_ICEBERG_ORDERS": "the account has too many open iceberg orders on this symbol",
    "MAX_NUM_ORDER_LISTS": "the account has too many open order lists on this symbol",
    "MAX_NUM_ORDER_AMENDS": "an order was amended too many times",
    "MAX_POSITION": "the account's position in this asset has reached its limit",
    "EXCHANGE_MAX_NUM_ORDERS": "the account has too many open orders on the exchange",
    "EXCHANGE_MAX_NUM_ALGO_ORDERS": "the account has too many open stop or take-profit orders",
    "EXCHANGE_MAX_NUM_ICEBERG_ORDERS": "the account has too many open iceberg orders",
    "EXCHANGE_MAX_NUM_ORDER_LISTS": "the account has too many open order lists",
}
NOTHING_TRADED = "Nothing was traded."

# -2010 messages (errors.md, "Messages for -1010, -2010, -2011 and -2038"), lower case:
WOULD_MATCH = "order would immediately match and take"
INSUFFICIENT = "account has insufficient balance for requested action"
SYMBOL_NOT_PERMITTED = "this symbol is not permitted for this account"
SYMBOL_RESTRICTED = "this symbol is restricted for this account"
ACCOUNT_MAY_NOT_TRADE = "this account may not place or cancel orders"
ACTION_DISABLED = "this action is disabled on this account"
REST_TRADING_OFF = "rest api trading is not enabled"
MARKET_CLOSED = "market is closed"


def filter_failure(code: int | None, status: int | None, text: str) -> Problem:
    """-1013: a filter refused the order; only a price/size filter shows it passed the key check."""
    name = text.split(":", 1)[1].strip().rstrip(".") if ":" in text else ""
    if name in _ACCOUNT_FILTERS:
        return Problem(
            ProblemKind.FILTER_FAILURE,
            f"Binance refused the test order because of an account limit (filter {name}): "
            f"{_ACCOUNT_FILTERS[name]}. That says nothing about this key's permissions.",
            f"{NOTHING_TRADED} Cancel some open orders in Binance (Orders → Open Orders), or test "
            "with another symbol, then try again.",
            code=code,
            status=status,
        )
    shown = echo(name or text) or "no name given"
    return Problem(
        ProblemKind.FILTER_FAILURE,
        f"Binance rejected the test order's price or size (filter {shown}).",
        f"{NOTHING_TRADED} Try again in a minute (prices move); if it repeats, skip the order "
        "test and use the read test instead.",
        code=code,
        status=status,
        passed_key_check=name in PRICE_SIZE_FILTERS,
    )


def order_rejected(code: int | None, status: int | None, text: str) -> Problem:
    """-2010 / -2011: the matching engine refused the order or the cancel."""
    lower = (text or "").lower().strip().rstrip(".")
    passed = lower in (WOULD_MATCH, INSUFFICIENT)
    if code == -2011:
        message = f"Binance couldn't cancel the order: {echo(text) or 'unknown order'}."
        fix = "Look at Open Orders in Binance and cancel any order starting with 'bkw-probe-'."
    else:
        message, fix = _rejection(lower, text)
    return Problem(ProblemKind.ORDER_REJECTED, message, fix, code=code, status=status,
                   passed_key_check=passed and code == -2010)


def _rejection(lower: str, text: str) -> tuple[str, str]:
    if lower == INSUFFICIENT:
        return ("Binance rejected the test order: the account doesn't have enough free funds.",
                "Move a little of the quote asset (just over the order's value) to the Spot "
                "wallet, then retry.")
    if lower == WOULD_MATCH:
        return ("Binance rejected the test order because it would have traded at once.",
                f"{NOTHING_TRADED} Try again: the wizard prices it further from the market.")
    if lower in (SYMBOL_NOT_PERMITTED, SYMBOL_RESTRICTED):
        return ("Binance says this account may not trade this symbol (the account's permissions "
                "don't match the market's). That says nothing about this key.",
                f"{NOTHING_TRADED} Use another symbol, one your account trades (set it under "
                "[test] symbol in the profile).")
    if lower in (ACCOUNT_MAY_NOT_TRADE, ACTION_DISABLED):
        return (f"Binance says: '{echo(text)}'. Trading is disabled for the whole account, not "
                "just this key, so the key's own permission can't be tested.",
                "Contact Binance support about the account's trading restriction; ticking "
                "settings on the key won't change it.")
    if lower == REST_TRADING_OFF:
        return ("Binance's server refused the order: trading through this REST API is not "
                "enabled there. That says nothing about this key.",
                f"{NOTHING_TRADED} Check --env/--base-url; on the real exchange, try again later.")
    if lower == MARKET_CLOSED:
        return ("Binance refused the order: this market is closed (the symbol is not trading).",
                f"{NOTHING_TRADED} Use another symbol, or try again once the market reopens.")
    return (f"Binance rejected the order: {echo(text) or 'no reason given'}.",
            f"{NOTHING_TRADED} Check in Binance that the account can trade spot, then try again.")


def invalid_symbol(symbol: str, origin: str = "", code: int | None = -1121,
                   status: int | None = 400) -> Problem:
    """-1121 (or a symbol exchangeInfo doesn't list): name it and where it came from."""
    source = f" (from {origin})" if origin else ""
    where = ("Fix the symbol under [test] symbol in the profile" if "profile" in origin
             else "Use a symbol Binance lists")
    return Problem(
        ProblemKind.FILTER_FAILURE,
        f"Binance doesn't know {f'the symbol {symbol!r}' if symbol else 'that symbol'}{source} "
        f"(code -1121, invalid symbol). {NOTHING_TRADED}",
        f"{where}: base then quote asset, no separator, e.g. BTCUSDT or ETHBTC.",
        code=code,
        status=status,
    )


def symbol_not_permitted(symbol: str, origin: str, account: tuple[str, ...],
                         needed: tuple[tuple[str, ...], ...]) -> Problem:
    """The account's permissions don't match the symbol's permissionSets (seen before ordering)."""
    sets = " and ".join("one of " + "/".join(group) for group in needed if group)
    source = f" ({origin})" if origin else ""
    return Problem(
        ProblemKind.ORDER_REJECTED,
        f"This account may not trade {symbol}{source}: the market needs {sets}, the account has "
        f"{', '.join(account) or 'no trading permissions'}. That says nothing about this key. "
        "Nothing was placed.",
        "Use another symbol, one your account trades (set it under [test] symbol in the profile).",
    )
