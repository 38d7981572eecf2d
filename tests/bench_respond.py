"""Responsiveness while the exchange is slow, for tests/bench.py (run in a fresh process).

The wizard is driven to step 3 with a fast simulator; then every request
takes ``LATENCY`` seconds and Next starts the permission read (time sync,
apiRestrictions, then the account facts: five slow requests, python-binance's
first import among them). While that worker runs, Tab / Shift+Tab are sent the
way a terminal's input thread sends them (``driver.send_message``), and each
sample is the time from sending the key until focus has moved: the app has
acted on it. The same is then measured with the screen idle, as the baseline.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

LATENCY = 2.0
SAMPLES_BUSY = 24
SAMPLES_IDLE = 12
GIVE_UP = 1.0  # a key not acted on within a second is recorded as 1000 ms


async def _sample(app: Any, key: str) -> float:
    """Milliseconds from sending ``key`` until the focused widget changed."""
    from textual import events

    before = app.focused
    started = time.perf_counter()
    app._driver.send_message(events.Key(key, None))
    while app.focused is before and time.perf_counter() - started < GIVE_UP:
        await asyncio.sleep(0.0005)
    return (time.perf_counter() - started) * 1000


def _busy(app: Any) -> bool:
    return any(w.is_running for w in app.workers)


async def _samples(app: Any, count: int, *, while_busy: bool) -> list[float]:
    out: list[float] = []
    keys = ("tab", "shift+tab")
    rng = random.Random(7)
    while len(out) < count:
        if while_busy and not _busy(app):
            break
        out.append(await _sample(app, keys[len(out) % 2]))
        await asyncio.sleep(rng.uniform(0.08, 0.25))  # a person's typing rhythm, unsynchronised
    return out


def measure() -> dict[str, Any]:
    """Drive to step 3, slow the exchange, measure; returns the figures as a dict."""
    from tests.bench_flows import SIZE, make_app, paste, settle, to_label_screen
    from tests.keyrings import MemoryKeyring
    from wizard.sim import SimExchange

    sim = SimExchange()
    sim.start_in_thread(port=0)
    result: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as home:
            app = make_app(sim, MemoryKeyring(), Path(home))

            async def run() -> None:
                async with app.run_test(size=SIZE) as pilot:
                    key = sim.keys["read_only"]
                    await to_label_screen(pilot, "read")
                    app.screen.query_one("#kt-hmac").value = True
                    await pilot.pause()
                    await paste(pilot, "#api-key", key.api_key)
                    await paste(pilot, "#secret", key.secret)
                    sim.faults.latency = LATENCY
                    started = time.perf_counter()
                    await pilot.press("ctrl+n")  # to step 3: its read starts at once
                    while getattr(app.screen, "STEP", "") != "permissions":
                        await asyncio.sleep(0.001)
                    await asyncio.sleep(0.05)  # let the screen mount and its worker start
                    busy = await _samples(app, SAMPLES_BUSY, while_busy=True)
                    result["binance_loaded_during"] = "binance" in __import__("sys").modules
                    await settle(pilot)
                    result["validation_seconds"] = round(time.perf_counter() - started, 2)
                    result["verdict"] = None if app.session.verdict is None else (
                        "blocked" if app.session.verdict.blocked else "ok")
                    sim.faults.latency = 0
                    idle = await _samples(app, SAMPLES_IDLE, while_busy=False)
                    result["busy_ms"] = [round(x, 2) for x in busy]
                    result["idle_ms"] = [round(x, 2) for x in idle]

            asyncio.run(run())
    finally:
        sim.stop_in_thread()
    for name in ("busy", "idle"):
        values = result[f"{name}_ms"]
        result[f"{name}_median_ms"] = round(statistics.median(values), 2) if values else None
        result[f"{name}_max_ms"] = round(max(values), 2) if values else None
    return result
