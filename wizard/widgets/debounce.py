"""Run per-keystroke work once typing pauses, not once per key.

Each key typed into an Input posts ``Input.Changed``. What only informs the
user — the navigation bar and key bar (``refresh_bindings`` redraws the
key bar and re-checks every binding), a field's hint, the demo's simulator panel — can wait
until the typing stops for ``delay`` seconds; the session itself is still
updated on every key, so Next and every check always see what was typed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

TYPING_PAUSE = 0.12  # seconds without a key: long enough to span a fast typist's gaps


class Debouncer:
    """Runs ``callback`` at the first :meth:`poke` after a quiet spell, then once more
    ``delay`` seconds after the last poke of a burst (if there were more).

    A single edit (a paste, a click) shows its effect at once; a burst of typing
    costs two calls, not one per key. ``owner`` is any Textual message pump (a
    screen or widget): its timer runs the trailing call, and dies with it.
    """

    def __init__(self, owner: Any, callback: Callable[[], None], delay: float = TYPING_PAUSE) -> None:
        self._owner, self._callback, self.delay = owner, callback, delay
        self._last = 0.0
        self._timer: Any = None
        self._dirty = False

    @property
    def pending(self) -> bool:
        """True while a trailing call is owed."""
        return self._dirty

    def poke(self) -> None:
        """Something changed (a key was typed)."""
        self._last = time.monotonic()
        if self._timer is not None:  # inside a burst: owe one call after it
            self._dirty = True
            return
        self._dirty = False
        self._timer = self._owner.set_timer(self.delay, self._due)
        self._callback()

    def flush(self) -> None:
        """Make the owed call now (e.g. before leaving the screen)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._dirty:
            self._dirty = False
            self._callback()

    def _due(self) -> None:
        left = self._last + self.delay - time.monotonic()
        if left > 0.005:  # keys kept coming: wait for the pause after the last one
            self._timer = self._owner.set_timer(left, self._due)
            return
        self._timer = None
        if self._dirty:
            self._dirty = False
            self._callback()
