"""Typing into every Input of the wizard, for tests/bench.py (run in a fresh process).

The real app (as ``--demo`` builds it, and as a live run builds it: no
simulator panel), driven headless. For each Input — label, API key, secret,
key file (step 2) and, in the demo, the simulated API Management's trusted
IPs — 64 characters are sent from
another thread the way a terminal's input thread sends them (``driver.
send_message``), one every ``GAP`` seconds: faster than any key repeat. Each
sample is the time from sending a key until the Input's value holds it. Then
Tab and one more character are sent back to back: the Tab must have moved the
focus before that character is handled (it must land in the next field).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CHARS = 64
GAP = 0.008  # 125 keys a second: faster than a terminal's auto-repeat (25-40 a second)
TEXT = {  # what a user types into each field (64 characters each)
    "label": ("tracker-read-laptop-2026-01-31-" * 3)[:CHARS],
    "api-key": ("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A" * 2)[:CHARS],
    "secret": ("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e0UZh6qGERdvdW0gYpRT6Gz" * 2)[:CHARS],
    "key-file": ("/home/me/keys/binance-ed25519-private-key-tracker-laptop.pem" + "x" * 10)[:CHARS],
    "sim-ips": ("203.0.113.10, 198.51.100.7, 192.0.2.44, 203.0.113.200, 10.0.0.1" + " " * 8)[:CHARS],
}


def make_app(sim: Any, keyring: Any, home: Path, *, demo: bool) -> Any:
    """The wizard against ``sim``: demo (simulator panel on step 2) or live-like (none)."""
    from tests.bench_flows import FIXED_NOW
    from wizard.app import DEMO_SERVICE, Services, create_app, default_gateway
    from wizard.exchange.model import Environment
    from wizard.registry import Registry
    from wizard.vault import Vault

    services = Services(gateway_factory=default_gateway,
                        vault=Vault(backend=keyring, service=DEMO_SERVICE, timeout=30),
                        registry=Registry(home / "keys.json"), sim=sim if demo else None,
                        clock=lambda: FIXED_NOW, hostname="laptop", call_timeout=30)
    return create_app(services, env=Environment.custom(sim.base_url, simulated=demo))


def _sender(app: Any, keys: list[str], sent: list[float], gap: float) -> threading.Thread:
    """A thread posting ``keys`` as a terminal's input thread does, ``gap`` apart."""
    from textual import events

    def run() -> None:
        from textual.keys import _character_to_key

        for key in keys:
            char = key if len(key) == 1 else None
            sent.append(time.perf_counter())
            # What the terminal driver posts from its input thread (thread-safe).
            app._driver.send_message(events.Key(_character_to_key(key) if char else key, char))
            time.sleep(gap)

    return threading.Thread(target=run, daemon=True)


async def type_into(app: Any, selector: str, text: str) -> dict[str, Any]:
    """Focus ``selector``, type ``text``, then Tab + one character; the samples and where it landed."""
    widget = app.screen.query_one(f"#{selector}")
    widget.value = ""
    widget.focus()
    await asyncio.sleep(0.1)
    sent: list[float] = []
    echoed: list[float] = []
    cpu = time.process_time()
    thread = _sender(app, list(text), sent, GAP)
    thread.start()
    deadline = time.perf_counter() + 20
    while len(echoed) < len(text) and time.perf_counter() < deadline:
        while len(echoed) < len(widget.value):
            echoed.append(time.perf_counter())
        await asyncio.sleep(0.0002)
    thread.join()
    cpu_ms = (time.process_time() - cpu) * 1000 / max(1, len(echoed))  # the whole process, per key
    samples = [(e - s) * 1000 for s, e in zip(sent, echoed)]
    await asyncio.sleep(0.3)  # let debounced work run: the Tab test starts from rest
    before = app.focused
    tab: list[float] = []
    thread = _sender(app, ["tab", "z"], tab, 0.0)  # back to back, as fast as a terminal sends them
    thread.start()
    thread.join()
    await asyncio.sleep(0.3)
    landed_next = app.focused is not before and widget.value == text and not widget.value.endswith("z")
    return {"ms": [round(x, 2) for x in samples], "cpu_ms": round(cpu_ms, 2), "typed": len(echoed) == len(text) and widget.value == text,
            "tab_first": landed_next}


async def _drive(app: Any, demo: bool, out: dict[str, Any]) -> None:
    from tests.bench_flows import SIZE, to_label_screen

    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot, "read")
        # A user reaches step 2 seconds after start; by then python-binance's import (in a
        # thread) and the heap freeze after it are over. Here it takes a second: wait for them.
        while gc.get_freeze_count() == 0 or any(w.is_running for w in app.workers):
            await asyncio.sleep(0.05)
        mode = "demo" if demo else "live"
        app.screen.query_one("#kt-hmac").value = True
        await pilot.pause()
        for field in ("label", "api-key", "secret"):
            out[f"{mode} {field}"] = await type_into(app, field, TEXT[field])
        if demo:  # the simulated API Management's trusted-IP list
            out[f"{mode} sim-ips"] = await type_into(app, "sim-ips", TEXT["sim-ips"])
        app.screen.query_one("#kt-file").value = True
        await pilot.pause()
        out[f"{mode} key-file"] = await type_into(app, "key-file", TEXT["key-file"])


def minimal_input_app() -> Any:
    """The baseline: Textual's own Input alone on a screen (what typing costs at the least)."""
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    class MinimalInput(App[None]):
        def compose(self) -> ComposeResult:
            yield Input(id="minimal")
            yield Input(id="other")  # somewhere for the Tab to go

    return MinimalInput()


async def _drive_minimal(out: dict[str, Any]) -> None:
    app = minimal_input_app()
    async with app.run_test(size=(100, 32)):
        out["minimal"] = await type_into(app, "minimal", TEXT["api-key"])


def measure() -> dict[str, Any]:
    """Every field in demo and live mode; per field the samples, max, p95, and the Tab result."""
    from tests.keyrings import MemoryKeyring
    from wizard.sim import SimExchange

    out: dict[str, Any] = {}
    asyncio.run(_drive_minimal(out))
    for demo in (True, False):
        sim = SimExchange()
        sim.start_in_thread(port=0)
        try:
            with tempfile.TemporaryDirectory(prefix="bench-typing-") as home:
                app = make_app(sim, MemoryKeyring(), Path(home), demo=demo)
                asyncio.run(_drive(app, demo, out))
        finally:
            sim.stop_in_thread()
    for field in out.values():
        values = sorted(field["ms"])
        field["max"] = round(values[-1], 2) if values else None
        field["p95"] = round(values[max(0, int(len(values) * 0.95) - 1)], 2) if values else None
        field["median"] = round(statistics.median(values), 2) if values else None
    return out
