"""Binance's rate limits, each in its own bucket, with the headers Binance answers.

* ``/api``: request weight per IP per minute, answered as ``X-MBX-USED-WEIGHT-1M``
  (rest-api.md "IP Limits"); past the limit, 429 -1003 with Retry-After.
* ``/sapi``: its own buckets (the Wallet docs' "Weight(IP)" and "Weight(UID)"),
  answered as ``X-SAPI-USED-IP-WEIGHT-1M`` and, for UID-weighted endpoints,
  ``X-SAPI-USED-UID-WEIGHT-1M``. A /sapi call never counts against /api.
* Orders: new orders per ACCOUNT per 10 seconds and per day, answered on every
  accepted order as ``X-MBX-ORDER-COUNT-10S`` / ``X-MBX-ORDER-COUNT-1D``; past
  either, 429 -1015 "Too many new orders; current limit is N orders per ...".

Nothing here is thread-safe on its own: the sim's lock is held around every use.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from wizard.sim import errors
from wizard.sim.state import WeightCounter

# + the window, as Binance writes it: "-1M" (or "-10S" in a test with a short window)
API_WEIGHT = "X-MBX-USED-WEIGHT"
SAPI_IP_WEIGHT = "X-SAPI-USED-IP-WEIGHT"
SAPI_UID_WEIGHT = "X-SAPI-USED-UID-WEIGHT"
ORDER_COUNT_10S = "X-MBX-ORDER-COUNT-10S"
ORDER_COUNT_1D = "X-MBX-ORDER-COUNT-1D"
SAPI_IP_LIMIT = 12_000  # the Wallet docs' IP limit per minute for /sapi
SAPI_UID_LIMIT = 180_000
ORDERS_10S, ORDERS_1D = 100, 200_000  # exchangeInfo rateLimits "ORDERS"
TEN_S_MS, DAY_MS = 10_000, 86_400_000


@dataclass(frozen=True)
class Charge:
    """What one request cost: the bucket's header, its total now, and its limit."""

    header: str
    used: int
    limit: int
    retry_after: int  # seconds until the bucket's window rolls over

    @property
    def over(self) -> bool:
        """True when the bucket is past its limit (the request is refused with 429)."""
        return self.used > self.limit


class RateLimits:
    """Every bucket the simulated exchange keeps (see the module docstring)."""

    def __init__(self, api_limit: int, window_ms: int = 60_000) -> None:
        self.api_limit = api_limit
        self.sapi_ip_limit = SAPI_IP_LIMIT
        self.sapi_uid_limit = SAPI_UID_LIMIT
        self.orders_10s_limit = ORDERS_10S
        self.orders_1d_limit = ORDERS_1D
        self.api = WeightCounter(window_ms)
        self.sapi_ip = WeightCounter(window_ms)
        self.sapi_uid = WeightCounter(window_ms)
        self._orders: dict[int, deque[int]] = {}

    def charge_ip(self, path: str, ip: str, weight: int, now_ms: int) -> Charge:
        """Count a request's IP weight in the /api or the /sapi bucket."""
        if path.startswith("/sapi/"):
            return _charge(SAPI_IP_WEIGHT, self.sapi_ip, ip, weight, now_ms, self.sapi_ip_limit)
        return _charge(API_WEIGHT, self.api, ip, weight, now_ms, self.api_limit)

    def charge_uid(self, uid: int, weight: int, now_ms: int) -> Charge:
        """Count a UID-weighted /sapi request against the account."""
        return _charge(SAPI_UID_WEIGHT, self.sapi_uid, str(uid), weight, now_ms,
                       self.sapi_uid_limit)

    def used(self, now_ms: int) -> int:
        """IP weight used this minute, /api and /sapi together (diagnostics)."""
        return self.api.used(now_ms) + self.sapi_ip.used(now_ms)

    def reset(self) -> None:
        """Forget this minute's weights and every order count."""
        for counter in (self.api, self.sapi_ip, self.sapi_uid):
            counter.reset()
        self._orders.clear()

    def take_order(self, uid: int, now_ms: int) -> dict[str, str]:
        """Count one new order for the account; raise 429 -1015 when it is one too many.

        Returns the X-MBX-ORDER-COUNT-* headers of the accepted order.
        """
        times = self._orders.setdefault(uid, deque())
        while times and now_ms - times[0] >= DAY_MS:
            times.popleft()
        in_10s = sum(1 for t in times if now_ms - t < TEN_S_MS)
        if in_10s >= self.orders_10s_limit:
            raise _too_many(self.orders_10s_limit, "10 SECOND", 10 - (now_ms % TEN_S_MS) // 1000)
        if len(times) >= self.orders_1d_limit:
            raise _too_many(self.orders_1d_limit, "1 DAY", max(1, (DAY_MS - now_ms % DAY_MS) // 1000))
        times.append(now_ms)
        return {ORDER_COUNT_10S: str(in_10s + 1), ORDER_COUNT_1D: str(len(times))}


def _charge(header: str, counter: WeightCounter, who: str, weight: int, now_ms: int,
            limit: int) -> Charge:
    used = counter.add(who, weight, now_ms)
    return Charge(f"{header}-{counter.header_suffix}", used, limit,
                  counter.seconds_to_next_window(now_ms))


def _too_many(limit: int, interval: str, retry_after: int) -> errors.BinanceError:
    error = errors.BinanceError(-1015, errors.MSG_TOO_MANY_ORDERS.format(limit=limit,
                                                                         interval=interval), 429)
    error.headers["Retry-After"] = str(max(1, retry_after))
    return error
