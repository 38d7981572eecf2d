"""The sim's bookkeeping: accounts (balances, orders), request weight, the request log.

Each simulated key belongs to its own account, so tests stay independent of
each other even when they share one sim. Nothing here is thread-safe on its
own: :class:`~wizard.sim.SimExchange` holds one lock around every use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from wizard.sim.market import fmt


@dataclass(frozen=True)
class SimBalance:
    """One asset's free and locked amounts in a simulated account."""

    asset: str
    free: Decimal
    locked: Decimal


@dataclass(frozen=True)
class LogEntry:
    """One request as the sim saw it; never parameters, keys or signatures.

    ``status`` is 0 when the connection was dropped without an answer;
    ``code`` is Binance's error code, ``None`` on success or a non-JSON
    answer; ``key`` is the simulated key's name when the request carried a
    known key; ``fault`` names the injected fault that answered, if any.
    """

    method: str
    path: str
    weight: int
    status: int
    code: int | None
    key: str | None = None
    fault: str | None = None


@dataclass
class Order:
    """One order on the simulated book."""

    symbol: str
    order_id: int
    client_order_id: str
    side: str
    order_type: str
    time_in_force: str
    price: Decimal
    quantity: Decimal
    time_ms: int
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    quote_qty: Decimal = Decimal(0)
    update_ms: int = 0
    locked_asset: str = ""
    locked_amount: Decimal = Decimal(0)

    def base_fields(self) -> dict[str, object]:
        """Fields common to every order answer, in Binance's order."""
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": fmt(self.price),
            "origQty": fmt(self.quantity),
            "executedQty": fmt(self.executed_qty),
            "cummulativeQuoteQty": fmt(self.quote_qty),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.order_type,
            "side": self.side,
        }

    def as_query(self) -> dict[str, object]:
        """GET /api/v3/order and openOrders shape."""
        out = self.base_fields()
        out.update(
            {
                "stopPrice": fmt(Decimal(0)),
                "icebergQty": fmt(Decimal(0)),
                "time": self.time_ms,
                "updateTime": self.update_ms or self.time_ms,
                "isWorking": True,
                "workingTime": self.time_ms,
                "origQuoteOrderQty": fmt(Decimal(0)),
                "selfTradePreventionMode": "EXPIRE_MAKER",
            }
        )
        return out


DEFAULT_ADDRESSES: tuple[dict[str, object], ...] = (
    {
        "address": "0x5bd9a1d4e5a0c3f8b2e7d6c1a9f0e3b4c5d6e7f8",
        "addressTag": "",
        "coin": "USDT",
        "name": "Hardware wallet",
        "network": "BSC",
        "origin": "Hardware wallet",
        "originType": "others",
        "whiteStatus": True,
    },
    {
        "address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "addressTag": "",
        "coin": "BTC",
        "name": "Old exchange",
        "network": "BTC",
        "origin": "Old exchange",
        "originType": "others",
        "whiteStatus": False,
    },
)


@dataclass
class Account:
    """What one simulated Binance account holds."""

    uid: int
    balances: dict[str, list[Decimal]] = field(default_factory=dict)  # asset -> [free, locked]
    orders: dict[int, Order] = field(default_factory=dict)
    withdraw_addresses: list[dict[str, object]] = field(
        default_factory=lambda: [dict(a) for a in DEFAULT_ADDRESSES]
    )
    status: str = "Normal"
    trading_locked: bool = False
    # Account-level, not key-level: "canTrade" and "permissions" of GET /api/v3/account.
    can_trade: bool = True
    permissions: list[str] = field(default_factory=lambda: ["SPOT"])

    def may_trade_symbol(self, permission_sets: list[list[str]]) -> bool:
        """Binance's rule: the account holds one permission of EVERY set (CHANGELOG 2024-08-26)."""
        return all(any(p in self.permissions for p in group) for group in permission_sets)

    def free(self, asset: str) -> Decimal:
        """Free amount of ``asset`` (0 when never held)."""
        return self.balances.get(asset, [Decimal(0), Decimal(0)])[0]

    def set_free(self, asset: str, amount: Decimal) -> None:
        """Set the free amount, keeping what is locked in orders."""
        self.balances.setdefault(asset, [Decimal(0), Decimal(0)])[0] = amount

    def lock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from free to locked (an order rests)."""
        entry = self.balances.setdefault(asset, [Decimal(0), Decimal(0)])
        entry[0] -= amount
        entry[1] += amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` back from locked to free (an order is cancelled)."""
        entry = self.balances.setdefault(asset, [Decimal(0), Decimal(0)])
        entry[1] -= amount
        entry[0] += amount

    def spend_locked(self, asset: str, amount: Decimal) -> None:
        """Take ``amount`` out of what is locked (a resting order traded)."""
        self.balances.setdefault(asset, [Decimal(0), Decimal(0)])[1] -= amount

    def credit(self, asset: str, amount: Decimal) -> None:
        """Add (or with a negative amount, take) free balance: a fill."""
        self.balances.setdefault(asset, [Decimal(0), Decimal(0)])[0] += amount

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Orders still on the book, oldest first."""
        return [
            o
            for o in sorted(self.orders.values(), key=lambda o: o.order_id)
            if o.status in ("NEW", "PARTIALLY_FILLED") and (symbol is None or o.symbol == symbol)
        ]

    def balance_rows(self) -> list[dict[str, str]]:
        """/api/v3/account ``balances`` rows."""
        return [
            {"asset": asset, "free": fmt(free), "locked": fmt(locked)}
            for asset, (free, locked) in sorted(self.balances.items())
        ]


class WeightCounter:
    """Request weight per IP in fixed windows (Binance: one clock minute).

    ``window_ms`` other than a minute lets a test reach a small limit and see
    it roll over in seconds; :attr:`header_suffix` names the window the way
    Binance's headers do (``1M``, ``10S``).
    """

    def __init__(self, window_ms: int = 60_000) -> None:
        if window_ms < 1000 or window_ms % 1000:
            raise ValueError("the weight window is a whole number of seconds")
        self.window_ms = window_ms
        self._window = -1
        self._used: dict[str, int] = {}

    @property
    def header_suffix(self) -> str:
        """``1M`` for a minute, else ``<n>S`` (Binance: ``X-MBX-USED-WEIGHT-(intervalNum)(intervalLetter)``)."""
        seconds = self.window_ms // 1000
        return f"{seconds // 60}M" if seconds % 60 == 0 else f"{seconds}S"

    def _roll(self, now_ms: int) -> None:
        window = now_ms // self.window_ms
        if window != self._window:
            self._window = window
            self._used = {}

    def add(self, ip: str, weight: int, now_ms: int) -> int:
        """Count ``weight`` for ``ip``; returns the IP's total this window."""
        self._roll(now_ms)
        self._used[ip] = self._used.get(ip, 0) + weight
        return self._used[ip]

    def used(self, now_ms: int, ip: str | None = None) -> int:
        """Weight used this window by ``ip``, or by every IP together."""
        self._roll(now_ms)
        if ip is not None:
            return self._used.get(ip, 0)
        return sum(self._used.values())

    def reset(self) -> None:
        """Forget this window's counts."""
        self._used = {}

    def seconds_to_next_window(self, now_ms: int) -> int:
        """Retry-After: whole seconds until the window rolls over (at least 1)."""
        return max(1, -(-(self.window_ms - now_ms % self.window_ms) // 1000))
