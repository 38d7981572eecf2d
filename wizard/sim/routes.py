"""The REST endpoints the wizard uses, with Binance's weights and response shapes.

Handlers are plain functions of a :class:`Call`; they run under the sim's
lock, never await, and raise :class:`~wizard.sim.errors.BinanceError` for
error answers. The pipeline around them (faults, weight, auth, logging) is in
``server.py``; orders are in ``orders.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wizard.sim import errors, orders
from wizard.sim.keys import SimKey
from wizard.sim.market import SymbolSpec, plain, rate_limits
from wizard.sim.state import Account

if TYPE_CHECKING:
    from wizard.sim.exchange import SimExchange


@dataclass
class Call:
    """One authenticated (or public) request, as handlers see it."""

    sim: SimExchange
    params: dict[str, str]
    now_ms: int
    key: SimKey | None = None
    account: Account | None = None
    headers: dict[str, str] = field(default_factory=dict)  # the answer's headers

    @property
    def symbols(self) -> dict[str, SymbolSpec]:
        """The sim's market."""
        return self.sim.market

    def require_account(self) -> Account:
        """The caller's account (signed endpoints only)."""
        assert self.account is not None
        return self.account


@dataclass(frozen=True)
class Endpoint:
    """A route: its handler, weight rule and Binance security type."""

    handler: Callable[[Call], object]
    weight: Callable[[dict[str, str]], int]
    security: str  # "NONE" | "USER_DATA" | "TRADE"
    uid_weight: bool = False  # a /sapi "Weight(UID)" endpoint (the wizard's are all IP)


def fixed(weight: int) -> Callable[[dict[str, str]], int]:
    """A weight that does not depend on the parameters."""
    return lambda _params: weight


def symbol_spec(call: Call, *, required: bool = True) -> SymbolSpec | None:
    """The ``symbol`` parameter resolved, with -1102/-1121 like Binance."""
    name = call.params.get("symbol", "")
    if not name:
        if required:
            raise errors.mandatory("symbol")
        return None
    spec = call.symbols.get(name)
    if spec is None:
        raise errors.BinanceError(-1121, errors.MSG_INVALID_SYMBOL)
    return spec


def ping(_call: Call) -> object:
    """GET /api/v3/ping."""
    return {}


def server_time(call: Call) -> object:
    """GET /api/v3/time."""
    return {"serverTime": call.now_ms}


def exchange_info(call: Call) -> object:
    """GET /api/v3/exchangeInfo: one symbol, a list (``symbols``), or all."""
    if "symbols" in call.params:
        try:
            names = json.loads(call.params["symbols"])
        except ValueError:
            raise errors.mandatory("symbols") from None
        specs = []
        for name in names:
            if name not in call.symbols:
                raise errors.BinanceError(-1121, errors.MSG_INVALID_SYMBOL)
            specs.append(call.symbols[name])
    elif call.params.get("symbol"):
        specs = [symbol_spec(call)]
    else:
        specs = list(call.symbols.values())
    return {
        "timezone": "UTC",
        "serverTime": call.now_ms,
        "rateLimits": rate_limits(call.sim.weight_limit),
        "exchangeFilters": [],
        "symbols": [spec.info() for spec in specs if spec is not None],
    }


def avg_price(call: Call) -> object:
    """GET /api/v3/avgPrice."""
    spec = symbol_spec(call)
    assert spec is not None
    return {"mins": 5, "price": f"{spec.avg_price:.8f}", "closeTime": call.now_ms - 1234}


def reference_price(call: Call) -> object:
    """GET /api/v3/referencePrice: the price the band filters use when it is non-null."""
    spec = symbol_spec(call)
    assert spec is not None
    if spec.reference_price is None and not spec.reference_ever_set:
        raise errors.BinanceError(-2043, errors.MSG_NO_REFERENCE_PRICE)
    price = None if spec.reference_price is None else plain(spec.reference_price)
    return {"symbol": spec.symbol, "referencePrice": price, "timestamp": call.now_ms - 250}


def book_ticker(call: Call) -> object:
    """GET /api/v3/ticker/bookTicker: one symbol, or every symbol as a list."""
    spec = symbol_spec(call, required=False)
    if spec is not None:
        return spec.book_ticker()
    return [s.book_ticker() for s in call.symbols.values()]


def account(call: Call) -> object:
    """GET /api/v3/account: account-level flags, not the key's (see the notes)."""
    acct = call.require_account()
    rows = acct.balance_rows()
    if call.params.get("omitZeroBalances", "").lower() == "true":
        rows = [r for r in rows if float(r["free"]) or float(r["locked"])]
    return {
        "makerCommission": 10,
        "takerCommission": 10,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": "0.00100000",
            "taker": "0.00100000",
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": acct.can_trade and not acct.trading_locked,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": call.now_ms - 86_400_000,
        "accountType": "SPOT",
        "balances": rows,
        "permissions": list(acct.permissions),
        "uid": acct.uid,
    }


def api_restrictions(call: Call) -> object:
    """GET /sapi/v1/account/apiRestrictions."""
    assert call.key is not None
    return call.key.effective_restrictions(call.now_ms)


def account_status(call: Call) -> object:
    """GET /sapi/v1/account/status."""
    return {"data": call.require_account().status}


def api_trading_status(call: Call) -> object:
    """GET /sapi/v1/account/apiTradingStatus."""
    acct = call.require_account()
    return {
        "data": {
            "isLocked": acct.trading_locked,
            "plannedRecoverTime": call.now_ms + 600_000 if acct.trading_locked else 0,
            "triggerCondition": {"GCR": 150, "IFER": 150, "UFR": 300},
            "updateTime": call.now_ms - 3_600_000,
        }
    }


def withdraw_addresses(call: Call) -> object:
    """GET /sapi/v1/capital/withdraw/address/list."""
    return [dict(a) for a in call.require_account().withdraw_addresses]


def user_asset(call: Call) -> object:
    """POST /sapi/v3/asset/getUserAsset: positive balances only."""
    acct = call.require_account()
    wanted = call.params.get("asset")
    rows = []
    for asset, (free, locked) in sorted(acct.balances.items()):
        if (wanted and asset != wanted) or free + locked <= 0:
            continue
        rows.append(
            {
                "asset": asset,
                "free": plain(free),
                "locked": plain(locked),
                "freeze": "0",
                "withdrawing": "0",
                "ipoable": "0",
                "btcValuation": "0",
            }
        )
    return rows


def _open_orders_weight(params: dict[str, str]) -> int:
    return 6 if params.get("symbol") else 80


def _book_ticker_weight(params: dict[str, str]) -> int:
    return 2 if params.get("symbol") else 4


def _test_order_weight(params: dict[str, str]) -> int:
    return 20 if params.get("computeCommissionRates", "").lower() == "true" else 1


# (method, path) -> endpoint. Weights from Binance's current REST docs.
ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("GET", "/api/v3/ping"): Endpoint(ping, fixed(1), "NONE"),
    ("GET", "/api/v3/time"): Endpoint(server_time, fixed(1), "NONE"),
    ("GET", "/api/v3/exchangeInfo"): Endpoint(exchange_info, fixed(20), "NONE"),
    ("GET", "/api/v3/avgPrice"): Endpoint(avg_price, fixed(2), "NONE"),
    ("GET", "/api/v3/referencePrice"): Endpoint(reference_price, fixed(2), "NONE"),
    ("GET", "/api/v3/ticker/bookTicker"): Endpoint(book_ticker, _book_ticker_weight, "NONE"),
    ("GET", "/api/v3/account"): Endpoint(account, fixed(20), "USER_DATA"),
    ("GET", "/sapi/v1/account/apiRestrictions"): Endpoint(api_restrictions, fixed(1), "USER_DATA"),
    ("GET", "/sapi/v1/account/status"): Endpoint(account_status, fixed(1), "USER_DATA"),
    ("GET", "/sapi/v1/account/apiTradingStatus"): Endpoint(api_trading_status, fixed(1), "USER_DATA"),
    ("GET", "/sapi/v1/capital/withdraw/address/list"): Endpoint(
        withdraw_addresses, fixed(10), "USER_DATA"
    ),
    ("POST", "/sapi/v3/asset/getUserAsset"): Endpoint(user_asset, fixed(5), "USER_DATA"),
    ("POST", "/api/v3/order/test"): Endpoint(orders.test_order, _test_order_weight, "TRADE"),
    ("POST", "/api/v3/order"): Endpoint(orders.new_order, fixed(1), "TRADE"),
    ("GET", "/api/v3/order"): Endpoint(orders.query_order, fixed(4), "USER_DATA"),
    ("DELETE", "/api/v3/order"): Endpoint(orders.cancel_order, fixed(1), "TRADE"),
    ("GET", "/api/v3/openOrders"): Endpoint(orders.open_orders, _open_orders_weight, "USER_DATA"),
}
