"""A one-line progress bar on stderr for long commands (``check``, ``review`` of many keys).

Drawn only on a terminal and only once the work has taken longer than
``delay`` (a quick run shows nothing), redrawn at most ``interval`` times a
second, and wiped when done, so the command's own output is what remains.
Piped, redirected or with ``--json``, :func:`progress_bar` gives None and
nothing extra is printed. No Textual; no secrets pass through here (labels
are not shown either: only counts).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 24


def progress_bar(total: int, *, what: str, json_mode: bool = False, stream: TextIO | None = None,
                 delay: float = 0.3) -> ProgressBar | None:
    """A :class:`ProgressBar` for ``total`` items if ``stream`` (stderr) is a terminal, else None."""
    stream = stream if stream is not None else sys.stderr
    if json_mode or total < 2 or stream is None:
        return None
    isatty = getattr(stream, "isatty", None)
    if not (callable(isatty) and isatty()):
        return None
    return ProgressBar(total, what=what, stream=stream, delay=delay)


def format_line(done: int, failing: int, total: int, elapsed: float, what: str, width: int = BAR_WIDTH) -> str:
    """``checking keys [######------]  37/200  2 failing  ~3 s left``."""
    filled = width * done // total if total else width
    line = f"{what} [{'#' * filled}{'-' * (width - filled)}] {done:>{len(str(total))}}/{total}"
    if failing:
        line += f"  {failing} failing"
    if 0 < done < total:
        line += f"  ~{_duration(elapsed / done * (total - done))} left"
    return line


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


class ProgressBar:
    """Counts done and failing items against a total and draws them on one line of ``stream``."""

    def __init__(self, total: int, *, what: str, stream: TextIO, delay: float = 0.3, interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.what, self.stream = total, what, stream
        self.delay, self.interval, self._clock = delay, interval, clock
        self._started = clock()
        self._drawn_at: float | None = None
        self.drawn = 0  # lines drawn (tests, and whether close must wipe)

    def update(self, done: int, failing: int, total: int | None = None) -> None:
        """Record progress; redraw if the delay has passed and the last draw is old enough."""
        total = total or self.total
        now = self._clock()
        if now - self._started < self.delay:
            return
        if self._drawn_at is not None and now - self._drawn_at < self.interval and done < total:
            return
        self._drawn_at = now
        self.drawn += 1
        line = format_line(done, failing, total, now - self._started, self.what)
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """Wipe the line (if one was drawn), leaving the cursor where it was."""
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
