"""The simulated market: symbols, their exchangeInfo filters, prices, order checks.

Filters and their evaluation follow binance-spot-api-docs filters.md, with
BTCUSDT's real values, so code that derives a price and quantity from
exchangeInfo (tick size, step size, min notional, the bid floor of
PERCENT_PRICE_BY_SIDE) is exercised against the same numbers it meets live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from wizard.sim import errors

DECIMAL_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
EIGHT = Decimal("0.00000001")
SUPPORTED_TYPES = {"LIMIT", "LIMIT_MAKER", "MARKET"}  # what the sim's matching engine runs
STP_MODES = ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"]


def fmt(value: Decimal) -> str:
    """Binance's /api decimal format: 8 fixed places."""
    return f"{value.quantize(EIGHT):f}"


def plain(value: Decimal) -> str:
    """The /sapi decimal format: no trailing zeros, never an exponent."""
    text = f"{value.quantize(EIGHT):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_decimal(params: dict[str, str], name: str, *, required: bool = True) -> Decimal | None:
    """A DECIMAL parameter with Binance's syntax and precision errors."""
    text = params.get(name, "")
    if text == "":
        if required:
            raise errors.mandatory(name)
        return None
    if not DECIMAL_RE.match(text):
        raise errors.illegal_decimal(name)
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already rules this out
        raise errors.illegal_decimal(name) from None
    if value != value.quantize(EIGHT):
        raise errors.too_precise(name)
    return value


@dataclass
class SymbolSpec:
    """One trading pair: assets, filter values and the current top of book."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal
    bid: Decimal
    ask: Decimal
    avg_price: Decimal
    bid_multiplier_up: Decimal = Decimal("5")
    bid_multiplier_down: Decimal = Decimal("0.2")
    ask_multiplier_up: Decimal = Decimal("5")
    ask_multiplier_down: Decimal = Decimal("0.2")
    max_num_orders: int = 200
    status: str = "TRADING"  # or HALT, BREAK, END_OF_DAY (enums.md "Symbol status")
    permission_sets: list[list[str]] = field(default_factory=lambda: [["SPOT", "MARGIN"]])

    def filters(self) -> list[dict[str, object]]:
        """The ``filters`` array of exchangeInfo, in Binance's order."""
        return [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(self.min_price),
                "maxPrice": fmt(self.max_price),
                "tickSize": fmt(self.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(self.min_qty),
                "maxQty": fmt(self.max_qty),
                "stepSize": fmt(self.step_size),
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fmt(Decimal(0)),
                "maxQty": fmt(self.max_qty / 10),
                "stepSize": fmt(Decimal(0)),
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": 10,
                "maxTrailingAboveDelta": 2000,
                "minTrailingBelowDelta": 10,
                "maxTrailingBelowDelta": 2000,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": str(self.bid_multiplier_up),
                "bidMultiplierDown": str(self.bid_multiplier_down),
                "askMultiplierUp": str(self.ask_multiplier_up),
                "askMultiplierDown": str(self.ask_multiplier_down),
                "avgPriceMins": 5,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fmt(self.min_notional),
                "applyMinToMarket": True,
                "maxNotional": fmt(self.max_notional),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_num_orders},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ]

    def info(self) -> dict[str, object]:
        """This symbol's entry in exchangeInfo ``symbols``."""
        return {
            "symbol": self.symbol,
            "status": self.status,
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT",
                           "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "amendAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": True,
            "filters": self.filters(),
            "permissions": [],
            "permissionSets": [list(group) for group in self.permission_sets],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": STP_MODES,
        }

    def book_ticker(self) -> dict[str, str]:
        """GET /api/v3/ticker/bookTicker for this symbol."""
        return {
            "symbol": self.symbol,
            "bidPrice": fmt(self.bid),
            "bidQty": "1.52340000",
            "askPrice": fmt(self.ask),
            "askQty": "0.84120000",
        }

    def check_filters(self, side: str, order_type: str, price: Decimal | None,
                      quantity: Decimal, open_orders: int) -> None:
        """Raise -1013 naming the first filter the order breaks (filters.md rules)."""
        if price is not None:
            if price < self.min_price or price > self.max_price:
                raise errors.filter_failure("PRICE_FILTER")
            if (price - self.min_price) % self.tick_size != 0:
                raise errors.filter_failure("PRICE_FILTER")
        if order_type == "MARKET":
            if quantity > self.max_qty / 10:
                raise errors.filter_failure("MARKET_LOT_SIZE")
        if quantity < self.min_qty or quantity > self.max_qty:
            raise errors.filter_failure("LOT_SIZE")
        if (quantity - self.min_qty) % self.step_size != 0:
            raise errors.filter_failure("LOT_SIZE")
        if price is not None:
            if side == "BUY":
                low, high = self.bid_multiplier_down, self.bid_multiplier_up
            else:
                low, high = self.ask_multiplier_down, self.ask_multiplier_up
            if price < self.avg_price * low or price > self.avg_price * high:
                raise errors.filter_failure("PERCENT_PRICE_BY_SIDE")
        notional = (price if price is not None else self.avg_price) * quantity
        if notional < self.min_notional:
            raise errors.filter_failure("NOTIONAL")
        if price is not None and notional > self.max_notional:
            raise errors.filter_failure("NOTIONAL")
        if order_type != "MARKET" and open_orders >= self.max_num_orders:
            raise errors.filter_failure("MAX_NUM_ORDERS")


def default_symbols() -> dict[str, SymbolSpec]:
    """BTCUSDT and ETHUSDT with Binance's live filter values."""
    return {
        "BTCUSDT": SymbolSpec(
            symbol="BTCUSDT", base="BTC", quote="USDT",
            tick_size=Decimal("0.01"), min_price=Decimal("0.01"), max_price=Decimal("1000000"),
            step_size=Decimal("0.00001"), min_qty=Decimal("0.00001"), max_qty=Decimal("9000"),
            min_notional=Decimal("5"), max_notional=Decimal("9000000"),
            bid=Decimal("59999.99"), ask=Decimal("60000.00"), avg_price=Decimal("59987.41235118"),
        ),
        "ETHUSDT": SymbolSpec(
            symbol="ETHUSDT", base="ETH", quote="USDT",
            tick_size=Decimal("0.01"), min_price=Decimal("0.01"), max_price=Decimal("1000000"),
            step_size=Decimal("0.0001"), min_qty=Decimal("0.0001"), max_qty=Decimal("9000"),
            min_notional=Decimal("5"), max_notional=Decimal("9000000"),
            bid=Decimal("2999.98"), ask=Decimal("2999.99"), avg_price=Decimal("3001.27384615"),
        ),
    }


def rate_limits(weight_limit: int) -> list[dict[str, object]]:
    """exchangeInfo ``rateLimits``, reporting the sim's configured weight limit."""
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": weight_limit},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ]
