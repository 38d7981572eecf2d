"""Faults injected on demand: what a real network and a real Binance do to a client.

Standing faults (``latency``, ``handshake_rtts``, ``clock_skew_ms``) apply to
every request until changed. ``handshake_rtts`` is what a new connection costs
over the internet: the first request on each connection waits that many more
round trips of ``latency`` (2 for TCP's handshake and TLS 1.3's); a kept-alive
connection's later requests wait ``latency`` alone.
Queued faults queued faults (``fail_next``, ``html_error``, ``geo_block``,
``drop_next``) answer the next ``n`` API requests, optionally only those whose
path starts with ``path``. ``ban_for`` answers 418 until the ban ends.
Admin routes (``/_sim/...``) are never faulted.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

# Bodies a client meets when something in front of Binance answers instead of
# the API: python-binance reports them as "Invalid JSON error message".
HTML_BODIES = {
    403: (
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">\n"
        "<HTML><HEAD><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=iso-8859-1\">\n"
        "<TITLE>ERROR: The request could not be satisfied</TITLE>\n</HEAD><BODY>\n"
        "<H1>403 ERROR</H1>\n<H2>The request could not be satisfied.</H2>\n<HR noshade size=\"1px\">\n"
        "Request blocked.\n</BODY></HTML>\n"
    ),
    451: (
        "<!DOCTYPE html><html><head><title>451 Unavailable For Legal Reasons</title></head>"
        "<body><h1>Unavailable For Legal Reasons</h1><p>This service is not available in your "
        "region.</p></body></html>\n"
    ),
    502: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    "</h1></center></body></html>\n",
}
NOT_FOUND_HTML = (
    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>404 Not Found</title>"
    "</head><body><h1>404 Not Found</h1><p>The page you are looking for does not exist.</p>"
    "</body></html>\n"
)


@dataclass(frozen=True)
class QueuedFault:
    """One pending fault: its kind, HTTP status and optional path prefix."""

    kind: str  # "fail" | "html" | "geo" | "drop" | "busy"
    status: int
    path: str | None


class Faults:
    """The fault switchboard; safe to change from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[QueuedFault] = deque()
        self.latency: float = 0.0
        self.handshake_rtts: int = 0
        self.clock_skew_ms: int = 0
        self._banned_until: float = 0.0
        self.ban_retry_after = True

    def fail_next(self, n: int = 1, status: int = 503, *, path: str | None = None) -> None:
        """Answer the next ``n`` requests with a 5xx (JSON -1001; HTML for 502)."""
        if not 500 <= status <= 599:
            raise ValueError("fail_next takes a 5xx status")
        self._push("fail", n, status, path)

    def busy_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Answer the next ``n`` requests with -1008 "Server is currently overloaded..." (HTTP 503)."""
        self._push("busy", n, 503, path)

    def html_error(self, n: int = 1, status: int = 403, *, path: str | None = None) -> None:
        """Answer the next ``n`` requests with a non-JSON page (WAF 403, region 451, ...)."""
        self._push("html", n, status, path)

    def geo_block(self, n: int = 1, *, path: str | None = None) -> None:
        """Answer the next ``n`` requests with Binance's 451 restricted-location JSON (code 0)."""
        self._push("geo", n, 451, path)

    def drop_next(self, n: int = 1, *, path: str | None = None) -> None:
        """Close the connection on the next ``n`` requests without answering.

        aiohttp's client retries an idempotent request (GET, DELETE) once after
        a dropped connection, so a single GET fails on the client only with
        ``drop_next(2)``; a POST fails with ``drop_next(1)``.
        """
        self._push("drop", n, 0, path)

    def ban_for(self, seconds: float, *, retry_after: bool = True) -> None:
        """Answer every API request with 418 (-1003, IP banned) for ``seconds``.

        ``retry_after=False`` leaves the header out: then only the message's
        "IP banned until <ms>" says when the ban ends.
        """
        self._banned_until = time.monotonic() + seconds
        self.ban_retry_after = retry_after

    def ban_remaining(self) -> float:
        """Seconds left on the ban (0 when not banned)."""
        return max(0.0, self._banned_until - time.monotonic())

    def reset(self) -> None:
        """Clear every fault, standing and queued."""
        with self._lock:
            self._queue.clear()
        self.latency = 0.0
        self.handshake_rtts = 0
        self.clock_skew_ms = 0
        self._banned_until = 0.0

    def pending(self) -> list[dict[str, object]]:
        """Queued faults, oldest first (for the admin route)."""
        with self._lock:
            return [{"kind": f.kind, "status": f.status, "path": f.path} for f in self._queue]

    def take(self, path: str) -> QueuedFault | None:
        """Pop the first queued fault that applies to ``path``."""
        with self._lock:
            for fault in self._queue:
                if fault.path is None or path.startswith(fault.path):
                    self._queue.remove(fault)
                    return fault
        return None

    def snapshot(self) -> dict[str, object]:
        """Everything about the faults as JSON."""
        return {
            "latency": self.latency,
            "handshake_rtts": self.handshake_rtts,
            "clock_skew_ms": self.clock_skew_ms,
            "ban_remaining": round(self.ban_remaining(), 3),
            "pending": self.pending(),
        }

    def _push(self, kind: str, n: int, status: int, path: str | None) -> None:
        if n < 0:
            raise ValueError("n must be >= 0")
        with self._lock:
            self._queue.extend(QueuedFault(kind, status, path) for _ in range(n))
