"""Planning the smallest harmless order a symbol's filters allow (pure, no I/O).

The visible trading test places a post-only (``LIMIT_MAKER``) BUY far below the
market, looks for it, and cancels it. Binance rejects orders that break the
symbol's filters (-1013), so the plan must satisfy every one of them:

* PRICE_FILTER: ``minPrice <= price <= maxPrice``, ``price`` on the tick grid;
* LOT_SIZE: ``minQty <= qty <= maxQty``, ``qty`` on the step grid;
* NOTIONAL / MIN_NOTIONAL: ``price * qty >= minNotional`` (and ``<= maxNotional``);
* PERCENT_PRICE_BY_SIDE: a BUY's ``price >= avgPrice * bidMultiplierDown``
  (and ``<= avgPrice * bidMultiplierUp``); PERCENT_PRICE likewise.

It must also never trade: the price stays strictly below the average price, and
``LIMIT_MAKER`` makes Binance reject rather than fill should the market crash
through it.
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

    @classmethod
    def from_exchange_info(cls, info: Mapping[str, Any], symbol: str) -> SymbolRules:
        """Read the rules from ``GET /api/v3/exchangeInfo?symbol=...``'s answer."""
        entry = _find_symbol(info, symbol)
        fields: dict[str, Any] = {}
        down: list[Decimal] = []
        up: list[Decimal] = []
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
                down.append(_dec(flt, "bidMultiplierDown"))
                up.append(_dec(flt, "bidMultiplierUp"))
            elif kind == "PERCENT_PRICE":
                down.append(_dec(flt, "multiplierDown"))
                up.append(_dec(flt, "multiplierUp"))
        positive_up = [u for u in up if u > 0]
        return cls(
            symbol=symbol,
            base_asset=str(entry.get("baseAsset", "")),
            quote_asset=str(entry.get("quoteAsset", "")),
            status=str(entry.get("status", "TRADING")),
            order_types=tuple(entry.get("orderTypes") or ()),
            bid_multiplier_down=max(down, default=ZERO),
            bid_multiplier_up=min(positive_up, default=ZERO),
            **fields,
        )

    def price_floor(self, avg_price: Decimal) -> Decimal:
        """The lowest BUY price the filters accept right now."""
        return max(avg_price * self.bid_multiplier_down, self.min_price, self.tick_size)


@dataclass(frozen=True)
class PlannedOrder:
    """A LIMIT_MAKER BUY of ``quantity`` at ``price``."""

    symbol: str
    price: Decimal
    quantity: Decimal

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


def plan_probe_order(rules: SymbolRules, avg_price: Decimal) -> PlannedOrder:
    """The smallest LIMIT_MAKER BUY the filters allow, well below ``avg_price``.

    Raises :class:`PlanError` when no such order exists (symbol not trading,
    band too tight for the tick size, limits that contradict each other).
    """
    if rules.status != "TRADING":
        raise PlanError(f"{rules.symbol} isn't trading right now (status {rules.status}).")
    if rules.order_types and "LIMIT_MAKER" not in rules.order_types:
        raise PlanError(f"{rules.symbol} doesn't accept post-only (LIMIT_MAKER) orders.")
    if avg_price <= 0:
        raise PlanError(f"Binance reported no average price for {rules.symbol}.")
    price = _plan_price(rules, avg_price)
    quantity = _plan_quantity(rules, price)
    order = PlannedOrder(rules.symbol, price, quantity)
    broken = filter_violations(rules, avg_price, order)
    if broken:  # defensive: a wrong plan would cost the user a rejected order
        raise PlanError(f"No order on {rules.symbol} fits its filters ({', '.join(broken)}).")
    return order


def filter_violations(rules: SymbolRules, avg_price: Decimal, order: PlannedOrder) -> list[str]:
    """Names of the filters ``order`` breaks (empty when Binance would accept it)."""
    broken = []
    price, qty = order.price, order.quantity
    if (price < rules.min_price or (rules.max_price > 0 and price > rules.max_price)
            or not on_grid(price, rules.tick_size, rules.min_price) or price <= 0):
        broken.append("PRICE_FILTER")
    if (qty < rules.min_qty or (rules.max_qty > 0 and qty > rules.max_qty)
            or not on_grid(qty, rules.step_size, rules.min_qty) or qty <= 0):
        broken.append("LOT_SIZE")
    if order.notional < rules.min_notional or (
        rules.max_notional > 0 and order.notional > rules.max_notional
    ):
        broken.append("NOTIONAL")
    if price < avg_price * rules.bid_multiplier_down or (
        rules.bid_multiplier_up > 0 and price > avg_price * rules.bid_multiplier_up
    ):
        broken.append("PERCENT_PRICE_BY_SIDE")
    if price >= avg_price:
        broken.append("WOULD_CROSS")
    return broken


def ceil_to_grid(value: Decimal, step: Decimal, base: Decimal = ZERO) -> Decimal:
    """The smallest ``base + n*step >= value`` (``value`` itself when there's no grid)."""
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


def _plan_price(rules: SymbolRules, avg_price: Decimal) -> Decimal:
    floor = rules.price_floor(avg_price)
    target = max(avg_price * FAR_BELOW, floor + (avg_price - floor) * FLOOR_MARGIN)
    price = ceil_to_grid(target, rules.tick_size, rules.min_price)
    if price >= avg_price:
        # The band is too tight for a margin: take the lowest price the grid allows.
        price = ceil_to_grid(floor, rules.tick_size, rules.min_price)
    if price >= avg_price or price <= 0:
        raise PlanError(
            f"{rules.symbol}'s price band is too narrow for an order that can't trade."
        )
    if rules.max_price > 0 and price > rules.max_price:
        raise PlanError(f"{rules.symbol}'s price limits leave no room for a test order.")
    return price


def _plan_quantity(rules: SymbolRules, price: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.rounding = ROUND_CEILING  # never a hair under minNotional
        wanted = max(rules.min_notional / price, rules.min_qty)
    qty = ceil_to_grid(wanted, rules.step_size, rules.min_qty)
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
