"""Spot orders on the simulated book: validation, filters, fills, cancels.

Only what a key-checking tool needs is matched: LIMIT_MAKER rests unless it
would cross (then -2010, as Binance's post-only rule says), LIMIT rests or
fills at the top of book, MARKET fills at the top of book. Resting orders lock
balance until cancelled, so "insufficient balance" behaves as it does live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from wizard.sim import errors
from wizard.sim.market import SUPPORTED_TYPES, SymbolSpec, fmt, parse_decimal
from wizard.sim.state import Account, Order

if TYPE_CHECKING:
    from wizard.sim.routes import Call

CLIENT_ID_RE = re.compile(r"^[a-zA-Z0-9-_]{1,36}$")
TIME_IN_FORCE = {"GTC", "IOC", "FOK"}
RESPONSE_TYPES = {"ACK", "RESULT", "FULL"}


@dataclass
class OrderRequest:
    """A validated new-order request."""

    spec: SymbolSpec
    side: str
    order_type: str
    time_in_force: str
    price: Decimal | None
    quantity: Decimal
    client_order_id: str | None
    response_type: str


def _enum(params: dict[str, str], name: str, allowed: set[str], code: int, msg: str) -> str:
    value = params.get(name, "")
    if not value:
        raise errors.mandatory(name)
    if value not in allowed:
        raise errors.BinanceError(code, msg)
    return value


def parse_order(call: Call) -> OrderRequest:
    """Check a new order's parameters and filters as Binance does (-1102, -1013, ...)."""
    from wizard.sim.routes import symbol_spec

    params = call.params
    spec = symbol_spec(call)
    assert spec is not None
    side = _enum(params, "side", {"BUY", "SELL"}, -1117, "Invalid side.")
    order_type = _enum(params, "type", SUPPORTED_TYPES, -1116, "Invalid orderType.")
    tif = params.get("timeInForce", "")
    price = parse_decimal(params, "price", required=order_type != "MARKET")
    if order_type == "LIMIT":
        tif = _enum(params, "timeInForce", TIME_IN_FORCE, -1115, "Invalid timeInForce.")
    elif tif:
        raise errors.not_required("timeInForce")
    if order_type == "MARKET" and price is not None:
        raise errors.not_required("price")
    quantity = parse_decimal(params, "quantity", required=False)
    if quantity is None:
        quote_qty = parse_decimal(params, "quoteOrderQty", required=False)
        if order_type != "MARKET" or quote_qty is None:
            if order_type == "MARKET":
                raise errors.either("quantity", "quoteOrderQty")
            raise errors.mandatory("quantity")
        # Binance buys as much as quoteOrderQty pays for, rounded down to the step size.
        top = spec.ask if side == "BUY" else spec.bid
        quantity = (quote_qty / top).quantize(spec.step_size, rounding=ROUND_DOWN)
    client_id = params.get("newClientOrderId") or None
    if client_id is not None and not CLIENT_ID_RE.match(client_id):
        raise errors.BinanceError(
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is "
            "'^[a-zA-Z0-9-_]{1,36}$'.",
        )
    default_type = "FULL" if order_type in ("LIMIT", "MARKET") else "ACK"
    response_type = params.get("newOrderRespType") or default_type
    if response_type not in RESPONSE_TYPES:
        raise errors.BinanceError(-1100, "Illegal characters found in parameter 'newOrderRespType'.")
    open_count = len(call.require_account().open_orders(spec.symbol)) if call.account else 0
    spec.check_filters(side, order_type, price, quantity, open_count)
    _account_checks(call, spec)
    return OrderRequest(spec, side, order_type, tif or "GTC", price, quantity, client_id, response_type)


def _account_checks(call: Call, spec: SymbolSpec) -> None:
    """-2010 refusals that are about the server, the account or the market, not the key.

    The sim applies them to test orders too (Binance doesn't document whether
    order/test does), so the wizard can't mistake any of them for proof.
    """
    acct = call.require_account()
    if not call.sim.rest_trading:
        raise errors.BinanceError(-2010, errors.MSG_REST_TRADING_OFF)
    if not acct.can_trade:
        raise errors.BinanceError(-2010, errors.MSG_ACCOUNT_MAY_NOT_TRADE)
    if acct.trading_locked:
        raise errors.BinanceError(-2010, errors.MSG_ACTION_DISABLED)
    if spec.status != "TRADING":
        raise errors.BinanceError(-2010, errors.MSG_MARKET_CLOSED)
    if not acct.may_trade_symbol(spec.permission_sets):
        raise errors.BinanceError(-2010, errors.MSG_SYMBOL_NOT_PERMITTED)


def test_order(call: Call) -> object:
    """POST /api/v3/order/test: validate, never touch the book or balances."""
    parse_order(call)
    if call.params.get("computeCommissionRates", "").lower() == "true":
        rate = {"maker": "0.00100000", "taker": "0.00100000"}
        return {
            "standardCommissionForOrder": rate,
            "taxCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
            "discount": {
                "enabledForAccount": True,
                "enabledForSymbol": True,
                "discountAsset": "BNB",
                "discount": "0.25000000",
            },
        }
    return {}


def _crosses(req: OrderRequest) -> bool:
    if req.order_type == "MARKET":
        return True
    assert req.price is not None
    return req.price >= req.spec.ask if req.side == "BUY" else req.price <= req.spec.bid


def _need(acct: Account, asset: str, amount: Decimal) -> None:
    if acct.free(asset) < amount:
        raise errors.BinanceError(-2010, errors.MSG_INSUFFICIENT)


def new_order(call: Call) -> object:
    """POST /api/v3/order."""
    req = parse_order(call)
    acct = call.require_account()
    # The account's order rate (not the IP's weight): -1015 past it, counts on success.
    call.headers.update(call.sim.limits.take_order(acct.uid, call.now_ms))
    if req.client_order_id and any(
        o.client_order_id == req.client_order_id for o in acct.open_orders()
    ):
        raise errors.BinanceError(-2010, "Duplicate order sent.")
    crosses = _crosses(req)
    if crosses and req.order_type == "LIMIT_MAKER":
        raise errors.BinanceError(-2010, errors.MSG_WOULD_MATCH)
    spec = req.spec
    order = Order(
        symbol=spec.symbol,
        order_id=call.sim.next_order_id(),
        client_order_id=req.client_order_id or call.sim.random_client_id(),
        side=req.side,
        order_type=req.order_type,
        time_in_force=req.time_in_force,
        price=req.price if req.price is not None else Decimal(0),
        quantity=req.quantity,
        time_ms=call.now_ms,
    )
    fills: list[dict[str, object]] = []
    if crosses:
        fills = _fill(call, acct, order)
    elif req.order_type == "LIMIT" and req.time_in_force in ("IOC", "FOK"):
        order.status = "EXPIRED"  # nothing to take at this price
    else:
        asset, amount = (
            (spec.quote, order.price * order.quantity) if order.side == "BUY" else (spec.base, order.quantity)
        )
        _need(acct, asset, amount)
        acct.lock(asset, amount)
        order.locked_asset, order.locked_amount = asset, amount
    acct.orders[order.order_id] = order
    hook = call.sim.on_order_placed
    if hook is not None and order.status == "NEW":
        hook(order)  # a test's "the market moves now" (see SimExchange.on_order_placed)
    return _order_response(order, req.response_type, fills, call.now_ms)


def fill_resting(acct: Account, spec: SymbolSpec, order: Order, quantity: Decimal,
                 now_ms: int) -> None:
    """The market reached a resting order: ``quantity`` of it trades at its own price."""
    quantity = min(quantity, order.quantity - order.executed_qty)
    if quantity <= 0 or order.status not in ("NEW", "PARTIALLY_FILLED"):
        return
    cost = order.price * quantity
    if order.side == "BUY":
        acct.spend_locked(spec.quote, cost)
        acct.credit(spec.base, quantity)
        order.locked_amount -= cost
    else:
        acct.spend_locked(spec.base, quantity)
        acct.credit(spec.quote, cost)
        order.locked_amount -= quantity
    order.executed_qty += quantity
    order.quote_qty += cost
    order.status = "FILLED" if order.executed_qty >= order.quantity else "PARTIALLY_FILLED"
    order.update_ms = now_ms


def _fill(call: Call, acct: Account, order: Order) -> list[dict[str, object]]:
    """Fill the whole order at the top of book (the sim has endless depth)."""
    spec = call.symbols[order.symbol]
    price = spec.ask if order.side == "BUY" else spec.bid
    cost = price * order.quantity
    if order.side == "BUY":
        _need(acct, spec.quote, cost)
        acct.credit(spec.quote, -cost)
        acct.credit(spec.base, order.quantity)
    else:
        _need(acct, spec.base, order.quantity)
        acct.credit(spec.base, -order.quantity)
        acct.credit(spec.quote, cost)
    order.status = "FILLED"
    order.executed_qty = order.quantity
    order.quote_qty = cost
    order.update_ms = call.now_ms
    return [
        {
            "price": fmt(price),
            "qty": fmt(order.quantity),
            "commission": fmt(Decimal(0)),
            "commissionAsset": spec.base if order.side == "BUY" else spec.quote,
            "tradeId": call.sim.next_order_id(),
        }
    ]


def _order_response(order: Order, response_type: str, fills: list[dict[str, object]],
                    now_ms: int) -> dict[str, object]:
    ack: dict[str, object] = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": now_ms,
    }
    if response_type == "ACK":
        return ack
    result = dict(ack)
    full = order.base_fields()
    for name in ("price", "origQty", "executedQty"):
        result[name] = full[name]
    result["origQuoteOrderQty"] = fmt(Decimal(0))
    for name in ("cummulativeQuoteQty", "status", "timeInForce", "type", "side"):
        result[name] = full[name]
    result["workingTime"] = now_ms
    result["selfTradePreventionMode"] = "EXPIRE_MAKER"
    if response_type == "FULL":
        result["fills"] = fills
    return result


def _find(call: Call) -> Order | None:
    from wizard.sim.routes import symbol_spec

    spec = symbol_spec(call)
    assert spec is not None
    acct = call.require_account()
    order_id = call.params.get("orderId", "")
    client_id = call.params.get("origClientOrderId", "")
    if not order_id and not client_id:
        raise errors.either("origClientOrderId", "orderId")
    for order in acct.orders.values():
        if order.symbol != spec.symbol:
            continue
        if order_id:  # orderId takes precedence when both are sent
            if str(order.order_id) == order_id:
                return order
        elif order.client_order_id == client_id:
            return order
    return None


def query_order(call: Call) -> object:
    """GET /api/v3/order."""
    order = _find(call)
    if order is None:
        raise errors.BinanceError(-2013, errors.MSG_NO_ORDER)
    return order.as_query()


def cancel_order(call: Call) -> object:
    """DELETE /api/v3/order: the order comes back with status CANCELED."""
    order = _find(call)
    if order is None or order.status not in ("NEW", "PARTIALLY_FILLED"):
        raise errors.BinanceError(-2011, errors.MSG_UNKNOWN_ORDER)
    acct = call.require_account()
    if order.locked_amount:
        acct.unlock(order.locked_asset, order.locked_amount)
        order.locked_amount = Decimal(0)
    order.status = "CANCELED"
    order.update_ms = call.now_ms
    out: dict[str, object] = {
        "symbol": order.symbol,
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": call.params.get("newClientOrderId") or call.sim.random_client_id(),
        "transactTime": call.now_ms,
    }
    full = order.base_fields()
    for name in ("price", "origQty", "executedQty"):
        out[name] = full[name]
    out["origQuoteOrderQty"] = fmt(Decimal(0))  # rest-api.md's cancel example has it
    for name in ("cummulativeQuoteQty", "status", "timeInForce", "type", "side"):
        out[name] = full[name]
    out["selfTradePreventionMode"] = "EXPIRE_MAKER"
    return out


def open_orders(call: Call) -> object:
    """GET /api/v3/openOrders (all symbols when ``symbol`` is left out)."""
    from wizard.sim.routes import symbol_spec

    spec = symbol_spec(call, required=False)
    acct = call.require_account()
    return [o.as_query() for o in acct.open_orders(spec.symbol if spec else None)]
