"""No cyclic garbage collection while keys are arriving; a pause in typing collects.

Textual allocates a great deal per key (events, strips, segments), so Python's
collector runs every few keys: young passes of 5-20 ms and, now and then, a
full one of 50-160 ms on a loaded machine — measured as the worst stalls of
typing into step 2. Almost all of that garbage is freed by reference counting
anyway; the collector is only needed for cycles, and a few seconds' worth of
them is a few megabytes. So while keys keep coming the collector is off, and
it is back on ``pause`` seconds after the last key (at most ``max_hold``
seconds after the first, so a key held down for minutes does not grow memory
without bound). If someone else turned the collector off, it is left off.

Start-up is the same case: until the first frame, the wizard's start (mostly
importing Textual) allocates ~60 000 objects and frees almost none, and the
collector's young passes over them were 10-15 ms of the wait for that frame.
:func:`hold_for_startup` turns it off for that time only; the first frame (or
a start that never got that far) turns it back on.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

PAUSE = 0.3
MAX_HOLD = 3.0
_startup_hold = False  # hold_for_startup turned the collector off


def freeze_long_lived() -> None:
    """Collect once, then leave everything alive now out of later collections (``gc.freeze``).

    What an app has loaded by then (Textual, python-binance, aiohttp, dateparser...)
    lives until exit, yet each full collection re-scanned all of it: 50-190 ms pauses at
    random moments. Frozen, those passes skip it. Once per process; the collection first,
    so no garbage is frozen with it."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def hold_for_startup() -> None:
    """No collection until :func:`end_startup_hold` (the wizard's first frame)."""
    global _startup_hold
    if gc.isenabled():
        gc.disable()
        _startup_hold = True


def end_startup_hold() -> None:
    """Turn the collector back on if :func:`hold_for_startup` turned it off."""
    global _startup_hold
    if _startup_hold:
        _startup_hold = False
        gc.enable()


class CollectorPause:
    """Call :meth:`key` for every key event; ``owner.set_timer`` schedules the resume."""

    def __init__(self, owner: Any, *, pause: float = PAUSE, max_hold: float = MAX_HOLD,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._owner, self.pause, self.max_hold, self._clock = owner, pause, max_hold, clock
        self._held_since: float | None = None
        self._last = 0.0
        self._timer: Any = None

    @property
    def holding(self) -> bool:
        """True while this turned the collector off."""
        return self._held_since is not None

    def key(self) -> None:
        """A key arrived: hold collection (unless held too long already)."""
        now = self._clock()
        self._last = now
        if self._held_since is None:
            if not gc.isenabled():
                return  # not ours to turn back on
            gc.disable()
            self._held_since = now
            self._timer = self._owner.set_timer(self.pause, self._check)
        elif now - self._held_since >= self.max_hold:
            self.resume()

    def resume(self) -> None:
        """Turn the collector back on now."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._held_since is not None:
            self._held_since = None
            gc.enable()

    def _check(self) -> None:
        self._timer = None
        if self._held_since is None:
            return
        left = self._last + self.pause - self._clock()
        if left > 0.01 and self._clock() - self._held_since < self.max_hold:
            self._timer = self._owner.set_timer(left, self._check)
            return
        self.resume()
