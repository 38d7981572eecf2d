"""What the band filters measure a BUY against: the reference price, else the average.

Since 2026-05-06 (binance-spot-api-docs CHANGELOG) PERCENT_PRICE and
PERCENT_PRICE_BY_SIDE use the symbol's reference price when it exists and is
non-null, and fall back to the average over each filter's own ``avgPriceMins``.
:func:`market_price` asks ``GET /api/v3/referencePrice`` (w2) first and only
when that is null (or was never set: -2043) ``GET /api/v3/avgPrice`` (w2), so
the test order costs weight 4 at most. Both are shared by this environment's
gateways for two minutes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from wizard.exchange.model import ExchangeError, ProblemKind
from wizard.exchange.orders import MarketPrice
from wizard.exchange.parse import decimal_or_zero

if TYPE_CHECKING:
    from wizard.exchange.gateway import Gateway

PRICE_TTL = 120.0
NO_REFERENCE_PRICE = -2043  # "This symbol doesn't have a reference price."
_NULL = "null"  # how a null reference price is cached (None means "not cached")


async def market_price(gw: Gateway, symbol: str) -> MarketPrice:
    """The reference price when Binance has a non-null one, else the average price."""
    reference = await reference_price(gw, symbol)
    if reference is not None:
        return MarketPrice(None, None, reference)
    average, mins = await average_price(gw, symbol)
    return MarketPrice(average, mins, None)


async def reference_price(gw: Gateway, symbol: str) -> Decimal | None:
    """``GET /api/v3/referencePrice`` (w2): the price, or None when null or never set."""
    cached = gw.shared.get(("reference_price", symbol), PRICE_TTL)
    if cached is not None:
        return None if cached == _NULL else cached
    problem = None
    try:
        data = await gw.public("referencePrice", {"symbol": symbol})
    except ExchangeError as err:
        problem = err.problem
    if problem is not None:
        # Never set (-2043), or a server without the endpoint (an older testnet):
        # the filters fall back to the average, and so does the plan.
        if problem.code == NO_REFERENCE_PRICE or problem.kind is ProblemKind.NOT_FOUND:
            gw.shared.put(("reference_price", symbol), _NULL)
            return None
        raise ExchangeError(problem) from None
    price = _positive(data.get("referencePrice")) if isinstance(data, dict) else None
    gw.shared.put(("reference_price", symbol), _NULL if price is None else price)
    return price


async def average_price(gw: Gateway, symbol: str) -> tuple[Decimal, int | None]:
    """``GET /api/v3/avgPrice`` (w2): (price, its window in minutes); price 0 if missing."""
    cached = gw.shared.get(("avg_price", symbol), PRICE_TTL)
    if cached is not None:
        return cached
    data = await gw.public("avgPrice", {"symbol": symbol})
    price = decimal_or_zero(data.get("price")) if isinstance(data, dict) else Decimal(0)
    mins = _minutes(data.get("mins")) if isinstance(data, dict) else None
    if price > 0:
        gw.shared.put(("avg_price", symbol), (price, mins))
    return price, mins


def forget(gw: Gateway, symbol: str) -> None:
    """Drop the cached prices of ``symbol`` (an order just failed a filter)."""
    gw.shared.drop(("reference_price", symbol))
    gw.shared.drop(("avg_price", symbol))


def _positive(value: Any) -> Decimal | None:
    if value is None:
        return None
    price = decimal_or_zero(value)
    return price if price > 0 else None


def _minutes(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        return int(value)
    except ValueError:
        return None
