"""Binance's error answers, with the exact codes, messages and HTTP statuses.

The wizard turns these codes into sentences for the user, so the simulator
must answer with the same ``{"code": ..., "msg": ...}`` the real exchange
sends (see binance-spot-api-docs errors.md); a made-up message here would let
a mapping bug through the tests.
"""

from __future__ import annotations

# Messages copied from Binance's errors.md; the wizard matches codes, humans read msgs.
MSG_KEY_FORMAT = "API-key format invalid."
MSG_KEY_INVALID = "Invalid Api-Key ID."
MSG_REJECTED = "Invalid API-key, IP, or permissions for action."
MSG_SIGNATURE = "Signature for this request is not valid."
MSG_TS_AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."
MSG_TS_OLD = "Timestamp for this request is outside of the recvWindow."
MSG_RECV_WINDOW = "recvWindow must be less than 60000"
MSG_WOULD_MATCH = "Order would immediately match and take."
MSG_INSUFFICIENT = "Account has insufficient balance for requested action."
MSG_ACCOUNT_MAY_NOT_TRADE = "This account may not place or cancel orders."
MSG_ACTION_DISABLED = "This action is disabled on this account."
MSG_REST_TRADING_OFF = "Rest API trading is not enabled."
MSG_SYMBOL_NOT_PERMITTED = "This symbol is not permitted for this account."
MSG_MARKET_CLOSED = "Market is closed."
MSG_UNKNOWN_ORDER = "Unknown order sent."
MSG_NO_ORDER = "Order does not exist."
MSG_INVALID_SYMBOL = "Invalid symbol."
MSG_NO_REFERENCE_PRICE = "This symbol doesn't have a reference price."
MSG_INTERNAL = "Internal error; unable to process your request. Please try again."
MSG_TOO_MUCH_WEIGHT = (
    "Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
    "Please use WebSocket Streams for live updates to avoid polling the API."
)
MSG_TOO_MANY_ORDERS = "Too many new orders; current limit is {limit} orders per {interval}."
MSG_BUSY = "Server is currently overloaded with other requests. Please try again in a few minutes."
MSG_BANNED = (
    "Way too much request weight used; IP banned until {until}. "
    "Please use WebSocket Streams for live updates to avoid bans."
)
MSG_RESTRICTED_LOCATION = (
    "Service unavailable from a restricted location according to 'b. Eligibility' in "
    "https://www.binance.com/en/terms. Please contact customer service if you believe you "
    "received this message in error."
)


class BinanceError(Exception):
    """An error answer: raised by handlers, rendered as Binance's error JSON."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.headers: dict[str, str] = {}  # e.g. Retry-After on a 429

    def body(self) -> dict[str, object]:
        """The JSON body Binance sends."""
        return {"code": self.code, "msg": self.msg}


def mandatory(name: str) -> BinanceError:
    """-1102: a required parameter is missing or empty."""
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def either(first: str, second: str) -> BinanceError:
    """-1102: one of two parameters is required."""
    return BinanceError(-1102, f"Param '{first}' or '{second}' must be sent, but both were empty/null!")


def illegal_decimal(name: str) -> BinanceError:
    """-1100: a decimal parameter that is not a plain decimal number."""
    return BinanceError(
        -1100,
        f"Illegal characters found in parameter '{name}'; legal range is "
        "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
    )


def too_precise(name: str) -> BinanceError:
    """-1111: more decimals than the asset allows."""
    return BinanceError(-1111, f"Parameter '{name}' has too much precision.")


def not_required(name: str) -> BinanceError:
    """-1106: a parameter this order type must not carry (timeInForce on LIMIT_MAKER)."""
    return BinanceError(-1106, f"Parameter '{name}' sent when not required.")


def filter_failure(name: str) -> BinanceError:
    """-1013: an exchangeInfo filter rejected the order."""
    return BinanceError(-1013, f"Filter failure: {name}")


def key_format() -> BinanceError:
    """-2014 (HTTP 401): missing or malformed X-MBX-APIKEY."""
    return BinanceError(-2014, MSG_KEY_FORMAT, 401)


def key_invalid() -> BinanceError:
    """-2008 (HTTP 401): unknown or deleted key."""
    return BinanceError(-2008, MSG_KEY_INVALID, 401)


def rejected(request_ip: str | None = None) -> BinanceError:
    """-2015 (HTTP 401): IP not allowlisted or permission missing.

    The /sapi gateway appends the caller's IP to the message; /api does not.
    """
    msg = MSG_REJECTED if request_ip is None else f"{MSG_REJECTED[:-1]}, request ip: {request_ip}"
    return BinanceError(-2015, msg, 401)
