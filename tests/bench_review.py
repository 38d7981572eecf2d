"""``review`` of a large fleet, for tests/bench.py (run in a fresh process).

``FLEET`` registry records (a realistic mix: some overdue, some unrestricted,
one with withdrawals) shown by the Textual review app headless: the time from
starting the app until its table holds every row and has been drawn, then
PageDown/Down/End/Home sent the way the terminal driver sends them, each
sample the time until the table's cursor has moved.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

FLEET = 1000
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
KEYS = ["pagedown"] * 10 + ["down"] * 10 + ["pageup"] * 5 + ["pagedown"] * 10 + ["up"] * 10


def records(count: int = FLEET) -> list[Any]:
    """``count`` records like a fund's: ages spread over a year, every 7th unrestricted."""
    from wizard.registry import KeyRecord, fingerprint

    out = []
    for i in range(count):
        api_key = f"{i:04d}" + "k" * 56 + f"{i:04d}"
        out.append(KeyRecord(
            label=f"bot-{i:04d}-vps{i % 40}", purpose="spot" if i % 3 else "read", env="live",
            fingerprint=fingerprint(api_key), created_at=NOW - timedelta(days=i % 365),
            last_verified_at=NOW - timedelta(hours=i % 48),
            permissions={"confirmed": True, "reading": True, "spot_trading": bool(i % 3),
                         "withdrawals": i == 500},
            ip_restricted=i % 7 != 0, trading_expires_at=None, rotation_days=90))
    return out


async def _moved(app: Any, key: str) -> float:
    from textual import events

    table = app.screen.query_one("DataTable")
    before = (table.cursor_row, table.scroll_offset)
    started = time.perf_counter()
    app._driver.send_message(events.Key(key, None))
    while (table.cursor_row, table.scroll_offset) == before and time.perf_counter() - started < 2:
        await asyncio.sleep(0.0005)
    return (time.perf_counter() - started) * 1000


def measure() -> dict[str, Any]:
    """Render time and per-key scroll latencies of the review app over :data:`FLEET` keys."""
    from wizard.screens.review import ReviewApp

    rows = records()
    result: dict[str, Any] = {"keys": len(rows)}

    async def run() -> None:
        started = time.perf_counter()
        app = ReviewApp(rows, now=NOW)
        async with app.run_test(size=(140, 40)) as pilot:
            while not app.screen.query("DataTable") or app.screen.query_one("DataTable").row_count < len(rows):
                await asyncio.sleep(0.001)
            await pilot.pause()  # drawn
            result["render_seconds"] = round(time.perf_counter() - started, 3)
            table = app.screen.query_one("DataTable")
            assert table.row_count == len(rows)
            samples = []
            for key in KEYS:
                samples.append(await _moved(app, key))
                await asyncio.sleep(0.03)
            result["scroll_ms"] = [round(s, 2) for s in samples]

    asyncio.run(run())
    result["scroll_max_ms"] = max(result["scroll_ms"])
    result["scroll_median_ms"] = round(statistics.median(result["scroll_ms"]), 2)
    return result
