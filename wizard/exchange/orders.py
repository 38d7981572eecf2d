"""Planning the smallest harmless order a symbol's filters allow (pure, no I/O).

The visible trading test places a post-only (``LIMIT_MAKER``) BUY far below the
market, looks for it, and cancels it. Binance rejects orders that break the
symbol's filters (-1013), so the plan must satisfy every one of them:

* PRICE_FILTER: ``minPrice <= price <= maxPrice``, ``price % tickSize == 0``;
* LOT_SIZE: ``minQty <= qty <= maxQty``, ``qty % stepSize == 0``;
* NOTIONAL / MIN_NOTIONAL: ``price * qty >= minNotional`` (and ``<= maxNotional``);
* PERCENT_PRICE_BY_SIDE: a BUY's ``price >= P * bidMultiplierDown`` (and
  ``<= P * bidMultiplierUp``); PERCENT_PRICE likewise with its multipliers.

The grids start at zero, not at minPrice/minQty (filters.md since 2023; a 1.675
on a 0.01 tick is refused whatever minPrice is). ``P`` is the symbol's
reference price when Binance has a non-null one (``GET /api/v3/referencePrice``,
CHANGELOG 2026-05-06), else the average over the filter's own ``avgPriceMins``
(0: the last price). ``GET /api/v3/avgPrice`` reports one window only, so a
filter measuring another window is planned against with a wider margin.

The order must also not trade at placement: the price stays strictly below the
market, and ``LIMIT_MAKER`` makes Binance reject rather than take. Once it
rests it is an ordinary bid and CAN fill if the market falls to it before it
is cancelled; it is priced far below the market to make that unlikely.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import Any, Mapping

from wizard.exchange.parse import decimal_or_zero

ZERO = Decimal(0)
# Bid at least this far below the average price, if the filters let us.
FAR_BELOW = Decimal("0.5")
# Keep this share of the allowed band between our price and the floor, so the
# order survives the 5-minute average drifting between our read and the order.
FLOOR_MARGIN = Decimal("0.25")
# How far the price a band filter measures against may be from the one we read.
# The same figure (reference price, or the average over the same window) only
# drifts between our read and the order, which FLOOR_MARGIN already absorbs; an
# average over another window, or the last price, can differ more.
SAME_PRICE_DRIFT = Decimal("0")
OTHER_WINDOW_DRIFT = Decimal("0.20")


@dataclass(frozen=True)
class PriceBand:
    """One PERCENT_PRICE or PERCENT_PRICE_BY_SIDE filter, as it limits a BUY."""

    name: str
    down: Decimal
    up: Decimal  # 0: no upper limit
    avg_price_mins: int | None  # the filter's own window; None when not given


@dataclass(frozen=True)
class MarketPrice:
    """The prices the band filters may measure a BUY against.

    ``reference`` is Binance's non-null reference price (then the filters use
    it and ``average`` may be unknown); ``average`` is ``GET /api/v3/avgPrice``'s
    price over ``average_mins`` minutes.
    """

    average: Decimal | None
    average_mins: int | None = None
    reference: Decimal | None = None

    @property
    def anchor(self) -> Decimal:
        """The market, as far as the plan is concerned (0 when nothing is known)."""
        if self.reference is not None and self.reference > 0:
            return self.reference
        return self.average if self.average is not None and self.average > 0 else ZERO

    def measured(self, band: PriceBand) -> tuple[Decimal, Decimal]:
        """The price ``band`` measures against, and how far it may have moved (a share)."""
        if self.reference is not None and self.reference > 0:
            return self.reference, SAME_PRICE_DRIFT
        same = band.avg_price_mins is None or band.avg_price_mins == self.average_mins
        return self.anchor, SAME_PRICE_DRIFT if same else OTHER_WINDOW_DRIFT


def as_market(market: MarketPrice | Decimal) -> MarketPrice:
    """A bare Decimal is an average price over the filters' own window."""
    return market if isinstance(market, MarketPrice) else MarketPrice(market)


class PlanError(ValueError):
    """No order can satisfy the filters; the message says why, in plain words."""


@dataclass(frozen=True)
class SymbolRules:
    """The parts of one symbol's exchangeInfo entry a BUY limit order must obey.

    Zero means "no limit" for a max, and "no grid" for tick/step sizes, as in Binance.
    """

    symbol: str
    base_asset: str
    quote_asset: str
    status: str = "TRADING"
    order_types: tuple[str, ...] = ()
    tick_size: Decimal = ZERO
    min_price: Decimal = ZERO
    max_price: Decimal = ZERO
    step_size: Decimal = ZERO
    min_qty: Decimal = ZERO
    max_qty: Decimal = ZERO
    min_notional: Decimal = ZERO
    max_notional: Decimal = ZERO
    bid_multiplier_down: Decimal = ZERO
    bid_multiplier_up: Decimal = ZERO
    bands: tuple[PriceBand, ...] = ()
    permission_sets: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def from_exchange_info(cls, info: Mapping[str, Any], symbol: str) -> SymbolRules:
        """Read the rules from ``GET /api/v3/exchangeInfo?symbol=...``'s answer."""
        entry = _find_symbol(info, symbol)
        fields: dict[str, Any] = {}
        bands: list[PriceBand] = []
        for flt in entry.get("filters") or ():
            if not isinstance(flt, Mapping):
                continue
            kind = flt.get("filterType")
            if kind == "PRICE_FILTER":
                fields.update(tick_size=_dec(flt, "tickSize"), min_price=_dec(flt, "minPrice"),
                              max_price=_dec(flt, "maxPrice"))
            elif kind == "LOT_SIZE":
                fields.update(step_size=_dec(flt, "stepSize"), min_qty=_dec(flt, "minQty"),
                              max_qty=_dec(flt, "maxQty"))
            elif kind in ("NOTIONAL", "MIN_NOTIONAL"):
                # Both may appear; the stricter minimum wins.
                fields["min_notional"] = max(fields.get("min_notional", ZERO), _dec(flt, "minNotional"))
                if kind == "NOTIONAL":
                    fields["max_notional"] = _dec(flt, "maxNotional")
            elif kind == "PERCENT_PRICE_BY_SIDE":
                bands.append(PriceBand(kind, _dec(flt, "bidMultiplierDown"),
                                       _dec(flt, "bidMultiplierUp"), _mins(flt)))
            elif kind == "PERCENT_PRICE":
                bands.append(PriceBand(kind, _dec(flt, "multiplierDown"),
                                       _dec(flt, "multiplierUp"), _mins(flt)))
        positive_up = [b.up for b in bands if b.up > 0]
        return cls(
            symbol=symbol,
            base_asset=str(entry.get("baseAsset", "")),
            quote_asset=str(entry.get("quoteAsset", "")),
            status=str(entry.get("status", "TRADING")),
            order_types=tuple(entry.get("orderTypes") or ()),
            bid_multiplier_down=max((b.down for b in bands), default=ZERO),
            bid_multiplier_up=min(positive_up, default=ZERO),
            bands=tuple(bands),
            permission_sets=_permission_sets(entry.get("permissionSets")),
            **fields,
        )

    @property
    def price_bands(self) -> tuple[PriceBand, ...]:
        """The band filters; hand-built rules with only multipliers get one band."""
        if self.bands or not (self.bid_multiplier_down or self.bid_multiplier_up):
            return self.bands
        return (PriceBand("PERCENT_PRICE_BY_SIDE", self.bid_multiplier_down,
                          self.bid_multiplier_up, None),)

    def price_floor(self, market: MarketPrice | Decimal) -> Decimal:
        """The lowest BUY price that passes every filter even if the measured price moved."""
        market = as_market(market)
        floor = max(self.min_price, self.tick_size)
        for band in self.price_bands:
            price, drift = market.measured(band)
            floor = max(floor, price * (1 + drift) * band.down)
        return floor

    def price_ceiling(self, market: MarketPrice | Decimal) -> Decimal | None:
        """The highest BUY price every filter accepts likewise (None: no limit)."""
        market = as_market(market)
        limits = [self.max_price] if self.max_price > 0 else []
        for band in self.price_bands:
            if band.up > 0:
                price, drift = market.measured(band)
                limits.append(price * (1 - drift) * band.up)
        return min(limits, default=None)


@dataclass(frozen=True)
class PlannedOrder:
    """A LIMIT_MAKER BUY of ``quantity`` at ``price``."""

    symbol: str
    price: Decimal
    quantity: Decimal
    quote_asset: str = ""

    @property
    def notional(self) -> Decimal:
        """What the order would cost in the quote asset."""
        return self.price * self.quantity

    @property
    def price_text(self) -> str:
        """The price as Binance wants it: plain digits, no exponent."""
        return plain(self.price)

    @property
    def quantity_text(self) -> str:
        """The quantity as Binance wants it: plain digits, no exponent."""
        return plain(self.quantity)


# What each non-trading status means, in words (enums.md "Symbol status").
STATUS_WORDS = {
    "HALT": "trading on it is halted",
    "BREAK": "it is not trading (paused or delisted)",
    "END_OF_DAY": "its market has closed for the day",
    "PRE_TRADING": "its market hasn't opened yet",
    "POST_TRADING": "its market has closed",
    "AUCTION_MATCH": "it is in an auction",
}


def plan_probe_order(rules: SymbolRules, market: MarketPrice | Decimal) -> PlannedOrder:
    """The smallest LIMIT_MAKER BUY the filters allow, well below the market.

    ``market`` is a :class:`MarketPrice` (or a bare average price). Raises
    :class:`PlanError` when no such order exists (symbol not trading, band too
    tight for the tick size, limits that contradict each other).
    """
    market = as_market(market)
    if rules.status != "TRADING":
        why = STATUS_WORDS.get(rules.status, "it isn't trading")
        raise PlanError(f"{rules.symbol} can't take orders now: {why} (status {rules.status}).")
    if rules.order_types and "LIMIT_MAKER" not in rules.order_types:
        raise PlanError(f"{rules.symbol} doesn't accept post-only (LIMIT_MAKER) orders.")
    if market.anchor <= 0:
        raise PlanError(f"Binance reported no average price for {rules.symbol}.")
    price = _plan_price(rules, market)
    quantity = _plan_quantity(rules, price)
    order = PlannedOrder(rules.symbol, price, quantity, rules.quote_asset)
    broken = filter_violations(rules, market, order)
    if broken:  # defensive: a wrong plan would cost the user a rejected order
        raise PlanError(f"No order on {rules.symbol} fits its filters ({', '.join(broken)}).")
    return order


def filter_violations(rules: SymbolRules, market: MarketPrice | Decimal,
                      order: PlannedOrder) -> list[str]:
    """Names of the filters ``order`` breaks (empty when Binance would accept it now)."""
    market = as_market(market)
    broken = []
    price, qty = order.price, order.quantity
    if (price < rules.min_price or (rules.max_price > 0 and price > rules.max_price)
            or not on_grid(price, rules.tick_size) or price <= 0):
        broken.append("PRICE_FILTER")
    if (qty < rules.min_qty or (rules.max_qty > 0 and qty > rules.max_qty)
            or not on_grid(qty, rules.step_size) or qty <= 0):
        broken.append("LOT_SIZE")
    if order.notional < rules.min_notional or (
        rules.max_notional > 0 and order.notional > rules.max_notional
    ):
        broken.append("NOTIONAL")
    for band in rules.price_bands:
        measured = market.measured(band)[0]
        if price < measured * band.down or (band.up > 0 and price > measured * band.up):
            if band.name not in broken:
                broken.append(band.name)
    if price >= market.anchor:
        broken.append("WOULD_CROSS")
    return broken


def ceil_to_grid(value: Decimal, step: Decimal, base: Decimal = ZERO) -> Decimal:
    """The smallest ``base + n*step >= value`` (``value`` itself when there's no grid).

    Binance's grids start at zero (``price % tickSize == 0``): leave ``base`` at 0
    for filters; it is there for other uses of the helper.
    """
    if step <= 0:
        return value
    n = ((value - base) / step).to_integral_value(rounding=ROUND_CEILING)
    return base + n * step


def on_grid(value: Decimal, step: Decimal, base: Decimal = ZERO) -> bool:
    """True when ``value - base`` is a whole number of ``step`` (always, without a grid)."""
    return step <= 0 or (value - base) % step == 0


def plain(value: Decimal) -> str:
    """Digits without exponent or trailing zeros ("0.00017", "30000")."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plan_price(rules: SymbolRules, market: MarketPrice) -> Decimal:
    anchor = market.anchor
    floor = rules.price_floor(market)
    ceiling = rules.price_ceiling(market)
    target = max(anchor * FAR_BELOW, floor + (anchor - floor) * FLOOR_MARGIN)
    price = ceil_to_grid(target, rules.tick_size)
    if price >= anchor or (ceiling is not None and price > ceiling):
        # The band is too tight for a margin: take the lowest price the grid allows.
        price = ceil_to_grid(floor, rules.tick_size)
    if price >= anchor or price <= 0:
        raise PlanError(
            f"{rules.symbol}'s price band is too narrow for an order that can't trade."
        )
    if ceiling is not None and price > ceiling:
        raise PlanError(f"{rules.symbol}'s price limits leave no room for a test order.")
    return price


def _plan_quantity(rules: SymbolRules, price: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.rounding = ROUND_CEILING  # never a hair under minNotional
        wanted = max(rules.min_notional / price, rules.min_qty)
    qty = ceil_to_grid(wanted, rules.step_size)
    if price * qty < rules.min_notional and rules.step_size > 0:
        qty += rules.step_size
    if qty <= 0:
        qty = rules.step_size if rules.step_size > 0 else wanted
    if rules.max_qty > 0 and qty > rules.max_qty:
        raise PlanError(f"{rules.symbol}'s size limits leave no room for a test order.")
    if rules.max_notional > 0 and price * qty > rules.max_notional:
        raise PlanError(f"{rules.symbol}'s order value limits leave no room for a test order.")
    return qty


def _find_symbol(info: Mapping[str, Any], symbol: str) -> Mapping[str, Any]:
    entries = info.get("symbols") if isinstance(info, Mapping) else None
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, Mapping) and entry.get("symbol") == symbol:
            return entry
    raise PlanError(f"Binance doesn't list the symbol {symbol}.")


def _dec(flt: Mapping[str, Any], name: str) -> Decimal:
    return decimal_or_zero(flt.get(name, "0"))


def _permission_sets(value: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(tuple(p for p in group if isinstance(p, str)) for group in value
                 if isinstance(group, list))


def _mins(flt: Mapping[str, Any]) -> int | None:
    value = flt.get("avgPriceMins")
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value is not None and int(value) >= 0 else None
    except (TypeError, ValueError):
        return None
