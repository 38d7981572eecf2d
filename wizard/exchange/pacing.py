"""Client-side pacing: slow down before Binance's request-weight limit, not after a 429.

Binance counts request weight per IP in fixed windows (one clock minute) and
reports the count on every answer: ``X-MBX-USED-WEIGHT-1M`` for ``/api``,
``X-SAPI-USED-IP-WEIGHT-1M`` and ``X-SAPI-USED-UID-WEIGHT-1M`` for ``/sapi``.
The header's name carries the window (``-<n><S|M|H|D>``), so the pacer reads
the window from it rather than assuming a minute. The count includes every
program on this IP, so a busy bot on the same server leaves ``check`` less
room, as it should.

One :class:`WeightPacer` per API root is shared by every request of the process
(as the limits are per IP, not per key). Before each request the pacer admits
it only when the last count seen in this window, plus the requests already in
flight, plus this one stays under the bucket's cap; otherwise the request waits
for the window to roll over. The first request of each window goes alone, so
its answer tells the pacer what other programs have already used.

Caps: Binance's published limits (6000 /api, 12000 /sapi IP, 180000 /sapi UID
per minute) less :data:`HEADROOM`, or a budget given for a run
(:func:`set_budget`, e.g. ``check --max-weight``). ``POST /api/v3/order`` counts
toward order limits too, which are not paced here: the wizard places at most one.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# header bucket -> Binance's published limit per one-minute window
MINUTE_LIMITS: dict[str, int] = {
    "mbx-used-weight": 6000,
    "sapi-used-ip-weight": 12000,
    "sapi-used-uid-weight": 180000,
}
# Weight kept free below a limit: room for the heaviest request the wizard
# makes (exchangeInfo, account: 20) and for other programs sharing the IP.
HEADROOM = 20
# After the window rolls over, wait this much longer: the server's minute may
# start a little after ours (network delay, clock offset rounding).
ROLLOVER_SLACK = 0.05
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_HEADER = re.compile(r"x-(mbx-used-weight|sapi-used-ip-weight|sapi-used-uid-weight)-(\d+)([smhd])", re.I)


def parse_weight_headers(headers: Mapping[str, Any] | None) -> dict[tuple[str, float], int]:
    """``{(bucket, window seconds): used}`` from an answer's headers; others ignored."""
    found: dict[tuple[str, float], int] = {}
    if not headers:
        return found
    for name, value in headers.items():
        match = _HEADER.fullmatch(str(name))
        text = str(value).strip()
        if match is None or not text.isdigit():
            continue
        window = int(match.group(2)) * _UNITS[match.group(3).lower()]
        if window > 0:
            found[(match.group(1).lower(), float(window))] = int(text)
    return found


@dataclass
class PacerStats:
    """What a pacer did: for the benchmark and diagnostics."""

    admitted: int = 0
    waits: int = 0
    waited_seconds: float = 0.0
    highest_used: int = 0


class WeightPacer:
    """Admits requests so that no weight bucket passes its cap (thread- and loop-safe).

    ``budget`` (weight per window) replaces the published limits when smaller,
    and applies to buckets in any window; without it only one-minute buckets,
    whose limits Binance publishes, are capped.
    """

    def __init__(self, budget: int | None = None, *, clock: Any = time.time) -> None:
        self.budget = budget
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, float], tuple[int, int]] = {}  # bucket -> (window index, used)
        self._in_flight = 0
        self._answered_window: dict[float, int] = {}  # window seconds -> last window with an answer
        self._answers = 0
        self.stats = PacerStats()

    def cap(self, bucket: str, window: float) -> int | None:
        """The most weight this process lets ``bucket`` reach in one window (None: no cap)."""
        published = MINUTE_LIMITS.get(bucket) if window == 60 else None
        if self.budget is not None:
            return self.budget if published is None else min(self.budget, published - HEADROOM)
        return None if published is None else published - HEADROOM

    async def admit(self, offset_ms: int | None = None) -> None:
        """Wait until one more request fits under every cap, then count it as in flight."""
        while True:
            delay = self._try_admit(offset_ms)
            if delay is None:
                return
            self.stats.waits += 1
            self.stats.waited_seconds += delay
            await asyncio.sleep(delay)

    def answered(self, headers: Mapping[str, Any] | None, offset_ms: int | None = None) -> None:
        """A request admitted earlier is over: note the counts its answer reported (if any)."""
        readings = parse_weight_headers(headers)
        now = self._server_now(offset_ms)
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            self._answers += 1
            for (bucket, window), used in readings.items():
                index = int(now // window)
                self._answered_window[window] = index
                seen = self._seen.get((bucket, window))
                if seen is None or seen[0] < index:
                    self._seen[(bucket, window)] = (index, used)
                elif seen[0] == index:  # answers overtake each other: the highest count is the latest
                    self._seen[(bucket, window)] = (index, max(used, seen[1]))
                self.stats.highest_used = max(self.stats.highest_used, used)

    def _server_now(self, offset_ms: int | None) -> float:
        return self._clock() + (offset_ms or 0) / 1000

    def _try_admit(self, offset_ms: int | None) -> float | None:
        """None when admitted; else seconds to wait before trying again."""
        now = self._server_now(offset_ms)
        with self._lock:
            # The very first request goes alone: its answer says what this IP has used.
            wait = 0.005 if self._in_flight and not self._answers else 0.0
            for (bucket, window), (index, used) in self._seen.items():
                cap = self.cap(bucket, window)
                current = int(now // window)
                if cap is None:
                    continue
                if index < current:
                    used = 0  # a new window: the server's count started again
                if used + self._in_flight + 1 > cap:
                    wait = max(wait, (current + 1) * window - now + ROLLOVER_SLACK)
                elif self._in_flight and self._answered_window.get(window, -1) < current:
                    # A new window and nobody has heard its count yet: let the one
                    # request in flight bring it back before sending more.
                    wait = max(wait, 0.005)
            if wait > 0:
                return wait
            self._in_flight += 1
            self.stats.admitted += 1
            return None


# api_url -> its pacer, for the whole process (limits are per IP).
_PACERS: dict[str, WeightPacer] = {}
_PACERS_LOCK = threading.Lock()


def pacer_for(api_url: str) -> WeightPacer:
    """The process-wide pacer of requests to ``api_url``."""
    with _PACERS_LOCK:
        pacer = _PACERS.get(api_url)
        if pacer is None:
            pacer = _PACERS[api_url] = WeightPacer()
        return pacer


def set_budget(api_url: str, budget: int | None) -> WeightPacer:
    """Use at most ``budget`` weight per window on ``api_url`` from now on (None: the published limits)."""
    if budget is not None and budget < 1:
        raise ValueError("a weight budget must be at least 1")
    pacer = pacer_for(api_url)
    pacer.budget = budget
    return pacer


def forget_pacers() -> None:
    """Drop every pacer's readings (tests: a new simulator may reuse an old one's port)."""
    with _PACERS_LOCK:
        _PACERS.clear()
