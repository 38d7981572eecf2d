"""State every gateway of this process shares: cached facts and rate-limit cool-downs.

Moved out of :mod:`wizard.exchange.transport`, which re-exports every name here.

* :class:`SharedCache` (one per :class:`Environment` object, see
  :func:`shared_cache`) holds what is the same whatever key asks, such as the
  clock offset, reused for :data:`OFFSET_TTL`.
* The cool-down registry: Binance's limits are per IP, not per key, so after a
  429/418 (or a WAF 403) every gateway of this process waits out Retry-After.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from wizard.exchange.messages import banned, rate_limited, waf_blocked
from wizard.exchange.model import Environment, Problem, ProblemKind

# Binance's limits are per IP, not per key: after a 429/418 every gateway in
# this process waits out Retry-After rather than dig the ban deeper.
# api_url -> (monotonic deadline, the problem that started it)
_COOL_DOWN: dict[str, tuple[float, Problem]] = {}

# How long a measured clock offset is reused by later gateways of the same
# environment. Clocks drift by milliseconds a day; a jump (NTP step, resume
# from sleep) shows up as -1021, which re-syncs and retries once anyway.
OFFSET_TTL = 600.0


class SharedCache:
    """Facts every gateway of one :class:`Environment` object may reuse for a while.

    Only what is the same whatever key asks (the clock offset, a symbol's rules,
    its average price) or plainly not secret (a key's free balances, for the
    probe's funds check): never credentials. Entries expire after the ``ttl``
    given when they are read, so each caller decides how fresh is fresh enough.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, ...], tuple[float, Any]] = {}

    def get(self, key: tuple[str, ...], ttl: float) -> Any | None:
        """The value stored under ``key`` if younger than ``ttl`` seconds, else None."""
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > ttl:
            return None
        return entry[1]

    def put(self, key: tuple[str, ...], value: Any) -> None:
        """Remember ``value`` from now on."""
        self._entries[key] = (time.monotonic(), value)

    def drop(self, key: tuple[str, ...]) -> None:
        """Forget ``key`` (e.g. rules that an order just failed against)."""
        self._entries.pop(key, None)


# id(Environment) -> its cache; an entry goes when its Environment is collected.
# By identity, not equality: each CLI run and wizard session makes one
# Environment and shares within it, while separately built environments (a
# second simulator that happens to reuse a port) never see each other's data.
_SHARED: dict[int, SharedCache] = {}


def shared_cache(env: Environment) -> SharedCache:
    """The :class:`SharedCache` of this very ``env`` object."""
    cache = _SHARED.get(id(env))
    if cache is None:
        cache = _SHARED[id(env)] = SharedCache()
        weakref.finalize(env, _SHARED.pop, id(env), None)
    return cache


def cool_down_seconds(problem: Problem) -> float | None:
    """How long every request holds off after ``problem`` (None: not at all).

    429/418 (with no Retry-After: the rest of the minute, or Binance's shortest
    ban) and a WAF 403 hold every request off; -1015 limits the account's new
    orders only, so reads go on.
    """
    if problem.code == -1015:
        return None
    if problem.kind in (ProblemKind.RATE_LIMITED, ProblemKind.BANNED):
        return problem.retry_after or (60.0 if problem.kind is ProblemKind.RATE_LIMITED else 120.0)
    if problem.kind is ProblemKind.REGION_BLOCKED and problem.status == 403:
        return problem.retry_after or 120.0
    return None


def start_cool_down(api_url: str, wait: float, problem: Problem) -> None:
    """Hold every later request to ``api_url`` off for ``wait`` seconds, citing ``problem``."""
    _COOL_DOWN[api_url] = (time.monotonic() + wait, problem)


def forget_cool_downs() -> None:
    """Drop every rate-limit/ban wait and pacing reading (tests: a new simulator may reuse
    an old one's port)."""
    from wizard.exchange.pacing import forget_pacers

    _COOL_DOWN.clear()
    forget_pacers()


def cooling_down(api_url: str) -> Problem | None:
    """The rate-limit/ban Problem still in force for ``api_url`` (None once it's over)."""
    entry = _COOL_DOWN.get(api_url)
    if entry is None:
        return None
    until, problem = entry
    remaining = until - time.monotonic()
    if remaining <= 0:
        _COOL_DOWN.pop(api_url, None)
        return None
    if problem.kind is ProblemKind.REGION_BLOCKED:
        return waf_blocked(problem.status, remaining)
    build = banned if problem.kind is ProblemKind.BANNED else rate_limited
    return build(problem.code, problem.status, remaining)
