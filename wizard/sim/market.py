"""The simulated market: symbols, their exchangeInfo filters, prices, order checks.

Filters and their evaluation follow binance-spot-api-docs filters.md, with
BTCUSDT's real values, so code that derives a price and quantity from
exchangeInfo (tick size, step size, min notional, the bid floor of
PERCENT_PRICE_BY_SIDE) is exercised against the same numbers it meets live.
The grids start at zero (``price % tickSize == 0``), and the band filters
measure against the reference price when one is set, else the average over
their own ``avgPriceMins`` (0: the last price), as since 2026-05-06.
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
    # The band filters' windows; an optional PERCENT_PRICE (down, up) next to BY_SIDE.
    band_avg_mins: int = 5
    percent_price: tuple[Decimal, Decimal] | None = None
    percent_price_mins: int = 5
    # Averages over windows other than 5 minutes (minutes -> price); missing: avg_price.
    averages: dict[int, Decimal] = field(default_factory=dict)
    # GET /api/v3/referencePrice: None is a null reference price; "never" answers -2043.
    reference_price: Decimal | None = None
    reference_ever_set: bool = False
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
            *self._percent_price(),
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": str(self.bid_multiplier_up),
                "bidMultiplierDown": str(self.bid_multiplier_down),
                "askMultiplierUp": str(self.ask_multiplier_up),
                "askMultiplierDown": str(self.ask_multiplier_down),
                "avgPriceMins": self.band_avg_mins,
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

    def _percent_price(self) -> list[dict[str, object]]:
        if self.percent_price is None:
            return []
        down, up = self.percent_price
        return [{"filterType": "PERCENT_PRICE", "multiplierUp": str(up),
                 "multiplierDown": str(down), "avgPriceMins": self.percent_price_mins}]

    def measured_price(self, mins: int) -> Decimal:
        """What a band filter with ``avgPriceMins = mins`` measures against right now."""
        if self.reference_price is not None:
            return self.reference_price
        if mins == 0:
            return self.bid  # "the last price": the sim's last trade is at the bid
        return self.averages.get(mins, self.avg_price)

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
        if price is not None and not _price_ok(price, self.min_price, self.max_price, self.tick_size):
            raise errors.filter_failure("PRICE_FILTER")
        if order_type == "MARKET":
            if quantity > self.max_qty / 10:
                raise errors.filter_failure("MARKET_LOT_SIZE")
        # filters.md: quantity % stepSize == 0, the grid starting at zero.
        if quantity < self.min_qty or quantity > self.max_qty or quantity % self.step_size != 0:
            raise errors.filter_failure("LOT_SIZE")
        if price is not None and self.percent_price is not None:
            down, up = self.percent_price
            measured = self.measured_price(self.percent_price_mins)
            if price < measured * down or price > measured * up:
                raise errors.filter_failure("PERCENT_PRICE")
        if price is not None:
            if side == "BUY":
                low, high = self.bid_multiplier_down, self.bid_multiplier_up
            else:
                low, high = self.ask_multiplier_down, self.ask_multiplier_up
            measured = self.measured_price(self.band_avg_mins)
            if price < measured * low or price > measured * high:
                raise errors.filter_failure("PERCENT_PRICE_BY_SIDE")
        notional = (price if price is not None else self.avg_price) * quantity
        if notional < self.min_notional:
            raise errors.filter_failure("NOTIONAL")
        if price is not None and notional > self.max_notional:
            raise errors.filter_failure("NOTIONAL")
        if order_type != "MARKET" and open_orders >= self.max_num_orders:
            raise errors.filter_failure("MAX_NUM_ORDERS")


def _price_ok(price: Decimal, low: Decimal, high: Decimal, tick: Decimal) -> bool:
    """PRICE_FILTER: each rule is off when its value is 0; ``price % tickSize == 0``."""
    return ((low == 0 or price >= low) and (high == 0 or price <= high)
            and (tick == 0 or price % tick == 0))


def rate_limits(weight_limit: int) -> list[dict[str, object]]:
    """exchangeInfo ``rateLimits``, reporting the sim's configured weight limit."""
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": weight_limit},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ]
