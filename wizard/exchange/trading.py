"""Trading checks: the test order, the refusal probe for keys that must not
trade, the visible place-and-cancel probe, and permission probing where there
is no /sapi.

Orders are never retried (a lost answer means the outcome is unknown), and
once an order may exist every failure path tries to cancel it before raising.
A -2015 on an order is explained by a signed read: if reading works, trading
is what's missing; if reading is refused too, it's the IP (or the key).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from wizard.exchange.messages import permission_missing_problem
from wizard.exchange.model import (
    ExchangeError,
    KeyPermissions,
    OrderProbe,
    Problem,
    ProblemKind,
    ProbeReport,
)
from wizard.exchange.order_messages import invalid_symbol, symbol_not_permitted
from wizard.exchange.orders import PlannedOrder, PlanError, plan_probe_order, plain
from wizard.exchange.symbols import account_may_trade
from wizard.exchange.parse import UnexpectedAnswer, decimal_or_zero, order_ids_of
from wizard.exchange.transport import unexpected_answer

if TYPE_CHECKING:
    from wizard.exchange.gateway import Gateway

PROBE_PREFIX = "bkw-probe-"  # newClientOrderId prefix: the user can spot our orders
_OUTCOME_UNKNOWN = frozenset(
    {ProblemKind.SERVER_ERROR, ProblemKind.TIMEOUT, ProblemKind.UNREACHABLE, ProblemKind.UNKNOWN}
)
_EXCHANGE_DOWN = frozenset(
    {ProblemKind.SERVER_ERROR, ProblemKind.TIMEOUT, ProblemKind.UNREACHABLE,
     ProblemKind.RATE_LIMITED, ProblemKind.BANNED, ProblemKind.CLOCK_SKEW,
     ProblemKind.REGION_BLOCKED}
)
_REFUSED = frozenset(
    {ProblemKind.PERMISSION_MISSING, ProblemKind.KEY_REJECTED, ProblemKind.IP_NOT_ALLOWED}
)
_ORDER_REFUSALS = frozenset({ProblemKind.FILTER_FAILURE, ProblemKind.ORDER_REJECTED})
# The refusal probe's order: post-only BUY of a sliver at 0.01. It is only ever
# sent to order/test (validated, never executed), and even as a real order it
# could not fill or cost more than a fraction of a cent. Its price or size may
# break the symbol's filters: that answer still shows the key check was passed.
REFUSAL_ORDER = {"side": "BUY", "type": "LIMIT_MAKER", "quantity": "0.001", "price": "0.01"}


@dataclass(frozen=True)
class TradeRefusal:
    """What a trade attempt by a key that should not trade came to.

    ``refused``: the exchange refused the order for this key — proof it cannot
    trade. Otherwise the order got past the key check (accepted, or only its
    price or size refused); test orders may not check the permission, so then
    only apiRestrictions can tell. ``note`` says which in plain words;
    ``problem`` is the exchange's answer, if it refused anything.
    """

    refused: bool
    note: str
    problem: Problem | None = None


async def trade_refusal(gw: Gateway, symbol: str, origin: str = "") -> TradeRefusal:
    """``POST /api/v3/order/test`` of :data:`REFUSAL_ORDER` (w1, no lookups); see
    :meth:`Gateway.trade_refusal_probe`."""
    problem = None
    try:
        await gw.signed("post", "order/test", data={"symbol": symbol, **REFUSAL_ORDER},
                        context="order")
    except ExchangeError as err:
        problem = err.problem
    if problem is not None and problem.code == -1121:
        problem = invalid_symbol(symbol, origin)
    if problem is None:
        return TradeRefusal(False, "The exchange accepted a test order (test orders are checked, "
                            "never executed): it did not refuse this key.")
    if problem.passed_key_check:
        return TradeRefusal(False, "The exchange did not refuse this key: the test order passed the "
                            "key check and only its price or size was refused.", problem)
    if problem.kind in _ORDER_REFUSALS:
        # "This account may not place or cancel orders.", an account limit, a closed
        # market...: refused, but not for this key, so no proof either way.
        return TradeRefusal(False, "The exchange refused the test order for a reason that says "
                            f"nothing about this key: {problem.message}", problem)
    if problem.kind is ProblemKind.KEY_REJECTED and not gw.signed_read_ok:
        # -2015 is "IP, key or permission": only a read can tell which (w1).
        problem = await explain_trade_refusal(gw, problem, symbol)
    if gw.permissions is not None and gw.permissions.spot_trading:
        return TradeRefusal(False, f"The exchange refused the order on {symbol}, but the key's "
                            "settings show trading on: it may trade other symbols.", problem)
    if problem.kind in (ProblemKind.PERMISSION_MISSING, ProblemKind.KEY_REJECTED):
        # KEY_REJECTED here follows a signed read that worked from this machine:
        # neither the key nor the IP is refused, so the trade permission is.
        return TradeRefusal(True, "The exchange refused a trade attempt with this key: it cannot "
                            "trade.", problem)
    raise ExchangeError(problem)


async def test_order(gw: Gateway, symbol: str, origin: str = "") -> PlannedOrder:
    """``POST /api/v3/order/test`` of the planned probe order (validated, never sent)."""
    order = await _plan(gw, symbol, origin)
    problem = None
    try:
        await gw.signed("post", "order/test", data=_order_data(order))
    except ExchangeError as err:
        problem = err.problem
    if problem is not None:
        if problem.kind is ProblemKind.FILTER_FAILURE:
            gw.forget_market(symbol)  # planned from stale rules? the next try reads them afresh
        raise ExchangeError(await explain_trade_refusal(gw, problem, symbol)) from None
    return order


async def probe_permissions(gw: Gateway, symbol: str = "BTCUSDT") -> KeyPermissions:
    """Where /sapi is missing: a signed read, then a test order. Never "confirmed"."""
    await gw.account_read()
    problem = None
    try:
        await test_order(gw, symbol)
    except ExchangeError as err:
        problem = err.problem
    can_trade, note = _trading_verdict(problem)
    if can_trade is None and problem is not None and problem.kind in _EXCHANGE_DOWN:
        raise ExchangeError(problem) from None
    gw.last_probe = ProbeReport(
        can_read=True,
        can_trade=can_trade,
        notes=("A signed read worked: reading is enabled.", note),
    )
    return KeyPermissions(confirmed=False, reading=True, spot_trading=can_trade,
                          key_type=gw.key_type)


async def place_and_cancel(gw: Gateway, symbol: str, origin: str = "") -> OrderProbe:
    """Place a post-only BUY far below the market, see it, cancel it, see it gone."""
    order = await _plan(gw, symbol, origin)
    rules = await gw.symbol_rules(symbol)
    free = await _free_balance(gw, rules.quote_asset)
    if free < order.notional:
        raise ExchangeError(insufficient_funds(rules.quote_asset, order.notional, free))
    client_id = PROBE_PREFIX + secrets.token_hex(8)
    try:
        return await _place_see_cancel(gw, order, client_id)
    except asyncio.CancelledError:
        # The user quit or a UI timeout fired mid-probe: don't leave an order behind.
        await _cancel_quietly(gw, symbol, {"origClientOrderId": client_id})
        raise


async def _place_see_cancel(gw: Gateway, order: PlannedOrder, client_id: str) -> OrderProbe:
    symbol = order.symbol
    placed, problem = None, None
    try:
        placed = await gw.signed(
            "post", "order", data={**_order_data(order), "newClientOrderId": client_id,
                                   "newOrderRespType": "ACK"}, context="order"
        )
    except ExchangeError as err:
        problem = err.problem
    if problem is not None:
        if problem.kind is ProblemKind.FILTER_FAILURE:
            gw.forget_market(symbol)
        raise ExchangeError(await _placement_failed(gw, problem, symbol, client_id)) from None
    order_id = _order_id(placed)
    if order_id is None:
        await _cancel_quietly(gw, symbol, {"origClientOrderId": client_id})
        raise ExchangeError(unexpected_answer("order"))
    seen_open = await _listed(gw, symbol, order_id)
    status, filled = await _cancel(gw, order, order_id)
    seen_gone = await _listed(gw, symbol, order_id) is False
    return OrderProbe(symbol, order_id, order.price, order.quantity, seen_open is True,
                      status == "CANCELED", seen_gone, status, filled)


async def explain_trade_refusal(gw: Gateway, problem: Problem, symbol: str) -> Problem:
    """Turn a -2015 on an order into PERMISSION_MISSING when a read works, or into the read's
    own refusal (READ_REFUSED: IP allowlist or Enable Reading) when it doesn't."""
    if problem.kind is not ProblemKind.KEY_REJECTED:
        return problem
    if gw.env.has_sapi:
        if gw.permissions is None:
            try:
                await gw.read_permissions()  # apiRestrictions: w1, needs no permission
            except ExchangeError as err:
                # Refused too: the IP allowlist or Enable Reading, not (only) trading.
                read_refusal = (ProblemKind.IP_NOT_ALLOWED, ProblemKind.READ_REFUSED)
                return err.problem if err.problem.kind in read_refusal else problem
        perms = gw.permissions
        if perms is not None and perms.spot_trading is True:
            return symbol_not_allowed(symbol, problem)
        return permission_missing_problem(
            trading_expires_at=perms.trading_expires_at if perms else None,
            ip_restricted=perms.ip_restricted if perms else None,
            code=problem.code, status=problem.status,
        )
    if not gw.signed_read_ok:
        try:
            await gw.account_read()
        except ExchangeError:
            return problem
    return permission_missing_problem(code=problem.code, status=problem.status)


def plan_problem(reason: str) -> Problem:
    """No valid test order exists for the symbol."""
    return Problem(
        ProblemKind.FILTER_FAILURE,
        f"Couldn't build a safe test order: {reason} Nothing was placed.",
        "Use another symbol (the profile's test_symbol), or the read-only test instead.",
    )


def insufficient_funds(asset: str, need: Decimal, have: Decimal) -> Problem:
    """The Spot wallet can't cover the probe order."""
    need_text = plain(need.quantize(Decimal("0.01")) if need >= 1 else need)
    return Problem(
        ProblemKind.ORDER_REJECTED,
        f"The trading test needs {need_text} {asset} free in your Spot wallet; there is "
        f"{plain(have)} {asset}. Nothing was placed.",
        f"Move a little more than {need_text} {asset} into the Spot wallet (the test order is "
        "cancelled at once, nothing is spent), or use the read-only test instead.",
    )


def symbol_not_allowed(symbol: str, problem: Problem) -> Problem:
    """Trading is on, yet this symbol's order was refused: the key's symbol whitelist."""
    return Problem(
        ProblemKind.PERMISSION_MISSING,
        f"The key may trade, but Binance refused an order on {symbol}: the key's symbol "
        "whitelist probably leaves it out.",
        f"In API Management, add {symbol} to the key's symbol whitelist (or remove the "
        "whitelist), or test with a symbol the key may trade.",
        code=problem.code,
        status=problem.status,
    )


def _trading_verdict(problem: Problem | None) -> tuple[bool | None, str]:
    if problem is None:
        return True, "A test order was accepted: trading is enabled."
    if problem.kind in _REFUSED:
        return False, "A test order was refused for this key: trading is not enabled."
    if problem.passed_key_check:
        return True, "A test order got past the key check (only its price or size was refused)."
    # -2010 "This account may not place or cancel orders." and the like say nothing about the key.
    return None, f"The trading test was inconclusive: {problem.message}"


async def _plan(gw: Gateway, symbol: str, origin: str = "") -> PlannedOrder:
    rules = await gw.symbol_rules(symbol, origin)
    account = gw.account_permissions()
    if account is not None and rules.permission_sets and not account_may_trade(
            rules.permission_sets, account):
        raise ExchangeError(symbol_not_permitted(symbol, origin, account, rules.permission_sets))
    market = await gw.market_price(symbol)
    try:
        return plan_probe_order(rules, market)
    except PlanError as err:
        problem = plan_problem(str(err))
    raise ExchangeError(problem) from None


def _order_data(order: PlannedOrder) -> dict[str, str]:
    return {"symbol": order.symbol, "side": "BUY", "type": "LIMIT_MAKER",
            "quantity": order.quantity_text, "price": order.price_text}


async def _free_balance(gw: Gateway, asset: str) -> Decimal:
    # Balances the test step read a moment ago are good enough for this courtesy
    # check: the exchange refuses an order the wallet can't cover anyway.
    for balance in gw.recent_balances() or await gw.balances():
        if balance.asset == asset:
            return balance.free
    return Decimal(0)


async def _placement_failed(gw: Gateway, problem: Problem, symbol: str, client_id: str) -> Problem:
    if problem.kind not in _OUTCOME_UNKNOWN:
        return await explain_trade_refusal(gw, problem, symbol)
    # The order may exist although its answer was lost: cancel it by our id.
    if await _cancel_quietly(gw, symbol, {"origClientOrderId": client_id}):
        return Problem(problem.kind, problem.message.split(" The order's status")[0]
                       + " The order had been placed; the wizard has cancelled it.",
                       problem.fix, problem.code, problem.status, problem.retry_after)
    return problem


async def _cancel(gw: Gateway, order: PlannedOrder, order_id: int) -> tuple[str, Decimal]:
    """Cancel; returns the order's real status and how much of it traded.

    A resting LIMIT_MAKER is an ordinary bid: if the market fell to it, the
    cancel answers CANCELED with some executedQty, or -2011 because it has
    FILLED. Then ``GET /api/v3/order`` (w4) tells what really happened.
    """
    problem, answer = None, None
    try:
        answer = await gw.signed("delete", "order", data={"symbol": order.symbol,
                                                          "orderId": order_id}, context="order")
    except ExchangeError as err:
        problem = err.problem
    if problem is None:
        return _status_of(answer, "CANCELED")
    if problem.code == -2011:  # no longer open: filled, or gone some other way
        try:
            return _status_of(await gw.signed("get", "order", data={
                "symbol": order.symbol, "orderId": order_id}), "UNKNOWN")
        except ExchangeError:
            return "UNKNOWN", Decimal(0)
    raise ExchangeError(_still_open(order, order_id, problem)) from None


def _status_of(answer: Any, default: str) -> tuple[str, Decimal]:
    if not isinstance(answer, dict):
        return default, Decimal(0)
    status = answer.get("status")
    return (status if isinstance(status, str) and status else default,
            decimal_or_zero(answer.get("executedQty")))


def _still_open(order: PlannedOrder, order_id: int, problem: Problem) -> Problem:
    return Problem(
        problem.kind,
        f"The test order {order_id} (BUY {order.quantity_text} {order.symbol} at "
        f"{order.price_text}) may still be open: cancelling it failed. {problem.message}",
        f"Cancel it in Binance under Open Orders (client id starting '{PROBE_PREFIX}'). "
        "It is priced far below the market, but a resting order can still fill if the market "
        "falls to it.",
        problem.code,
        problem.status,
        problem.retry_after,
    )


async def _cancel_quietly(gw: Gateway, symbol: str, ident: dict[str, Any]) -> bool:
    try:
        await gw.signed("delete", "order", data={"symbol": symbol, **ident}, context="order")
    except ExchangeError:
        return False
    return True


async def _listed(gw: Gateway, symbol: str, order_id: int) -> bool | None:
    """Whether openOrders?symbol= (w6) lists the order; None if we couldn't look."""
    try:
        data = await gw.signed("get", "openOrders", data={"symbol": symbol})
        return order_id in order_ids_of(data)
    except (ExchangeError, UnexpectedAnswer):
        return None


def _order_id(placed: Any) -> int | None:
    try:
        return int(placed["orderId"])
    except (TypeError, KeyError, ValueError):
        return None
