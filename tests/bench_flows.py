"""Whole wizard runs driven headless with Pilot, for tests/bench.py (not a pytest module).

The same path a user takes in ``--demo``: the real app built by ``create_app``
around the real gateway (python-binance over loopback), the simulated exchange
and an in-memory keyring. Each run returns the simulator's request log, so the
benchmark can sum the request weight and show which endpoint was called when.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.test_app_harness import paste, press_next, settle, to_label_screen  # the Pilot tests' own helpers

SIZE = (100, 32)
FIXED_NOW = datetime(2026, 1, 31, 12, 0, tzinfo=timezone.utc)
PRESET_FOR = {"read": "read_only", "spot": "spot_trading"}


def make_app(sim: Any, keyring: Any, home: Path, *, timeout: float = 30.0) -> Any:
    """A demo-mode wizard against ``sim`` (what ``--demo`` builds, minus starting its own sim).

    A :class:`RemoteSim` (a simulator in another process) gives the wizard as it
    runs against Binance: a plain ``--base-url`` environment, no simulator inside.
    """
    from wizard.app import DEMO_SERVICE, Services, create_app, default_gateway
    from wizard.exchange.model import Environment
    from wizard.registry import Registry
    from wizard.vault import Vault

    services = Services(
        gateway_factory=default_gateway,
        vault=Vault(backend=keyring, service=DEMO_SERVICE, timeout=timeout),
        registry=Registry(home / "demo-keys.json"),
        sim=None if isinstance(sim, RemoteSim) else sim,
        clock=lambda: FIXED_NOW,
        hostname="laptop",
        call_timeout=timeout,
    )
    env = Environment.custom(sim.base_url, simulated=not isinstance(sim, RemoteSim))
    return create_app(services, env=env)


# base_url -> the admin token of a simulator started by RemoteSim in this process.
ADMIN_TOKENS: dict[str, str] = {}


class RemoteSim:
    """``binance-key-wizard sim --json`` in a child process: its URL and preset keys.

    Its request log stays in that process, so ``request_log`` is empty here.
    """

    def __init__(self) -> None:
        import json
        import subprocess
        import sys
        from types import SimpleNamespace

        self._proc = subprocess.Popen([sys.executable, "-m", "wizard", "sim", "--json"],
                                      stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
        assert self._proc.stdout is not None
        first = json.loads(self._proc.stdout.readline())
        self.base_url: str = first["base_url"]
        self.admin_token: str = first["admin_token"]  # the admin routes need it (X-Sim-Token)
        ADMIN_TOKENS[self.base_url] = self.admin_token
        self.keys = {k["name"]: SimpleNamespace(**k) for k in first["keys"]}
        self.request_log: list[Any] = []

    def stop(self) -> None:
        """Stop the simulator process (SIGTERM: it exits 0)."""
        self._proc.terminate()
        self._proc.wait(timeout=10)


def step(app: Any) -> str:
    """The current step's name ('' for a dialog)."""
    return getattr(app.screen, "STEP", "")


def expect(app: Any, name: str) -> None:
    """Fail loudly (with what the screen says) when the flow is not where it should be."""
    if step(app) != name:
        raise RuntimeError(f"expected step {name!r}, on {step(app) or type(app.screen).__name__!r}: "
                           f"{status_text(app)}")


def status_text(app: Any) -> str:
    """The navigation bar's 'why not' text and any problem box, for error messages."""
    parts = []
    for selector in ("#nav-status", "#problem"):
        try:
            parts.append(str(app.screen.query_one(selector).render()))
        except Exception:  # noqa: BLE001 - not every screen has both
            pass
    return " | ".join(p for p in parts if p.strip())


async def to_permissions(pilot: Any, sim: Any, purpose: str) -> None:
    """Up to step 3 with the simulator's preset key for ``purpose`` pasted in."""
    key = sim.keys[PRESET_FOR[purpose]]
    await to_label_screen(pilot, purpose)
    pilot.app.screen.query_one("#kt-hmac").value = True
    await pilot.pause()
    await paste(pilot, "#api-key", key.api_key)
    await paste(pilot, "#secret", key.secret)
    await press_next(pilot)
    expect(pilot.app, "permissions")


async def drive_full_run(pilot: Any, sim: Any, purpose: str, marks: list[tuple[str, int]]) -> None:
    """Every step of a run. ``marks`` gets (step, request-log length) once each step's exchange
    work is done, so the requests between two marks belong to the later one."""
    app = pilot.app

    def mark(name: str) -> None:
        marks.append((name, len(sim.request_log)))

    await to_permissions(pilot, sim, purpose)
    mark("0-3 permissions")  # steps 0-2 make no requests: any would show up here
    await press_next(pilot)
    expect(app, "ip")
    mark("4 ip")
    await press_next(pilot)
    expect(app, "store")
    await pilot.press("s")
    await settle(pilot)
    if not app.session.stored:
        raise RuntimeError(f"the key was not stored: {status_text(app)}")
    mark("5 store")
    await press_next(pilot)
    expect(app, "test")
    if not app.session.test_passed:
        raise RuntimeError(f"the smoke test did not pass: {status_text(app)}")
    mark("6 test")
    if purpose == "spot":
        app.screen.query_one("#probe").press()
        await pilot.pause()
        await pilot.click("#yes")
        await pilot.pause()
        await settle(pilot)
        results = str(app.screen.query_one("#results").render())
        if "Seen gone" not in results:
            raise RuntimeError(f"the visible order did not complete: {status_text(app)}")
        mark("6 visible order")
    await press_next(pilot)
    expect(app, "summary")
    await press_next(pilot)
    mark("summary")


def full_run(purpose: str, *, remote: bool = False) -> dict[str, Any]:
    """One complete run for ``purpose``: its request log, step marks and time taken.

    By default the demo (simulator in this process); ``remote`` runs the
    simulator in a child process, so this process holds only the wizard.
    """
    from tests.keyrings import MemoryKeyring

    if remote:
        sim: Any = RemoteSim()
    else:
        from wizard.sim import SimExchange

        sim = SimExchange()
        sim.start_in_thread(port=0)
    marks: list[tuple[str, int]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as home:
            app = make_app(sim, MemoryKeyring(), Path(home))

            async def main() -> None:
                async with app.run_test(size=SIZE) as pilot:
                    await drive_full_run(pilot, sim, purpose, marks)

            started = time.perf_counter()
            asyncio.run(main())
            elapsed = time.perf_counter() - started
        if app.return_code != 0:
            raise RuntimeError(f"the {purpose} run ended with exit code {app.return_code}")
        log = list(sim.request_log)
    finally:
        if remote:
            sim.stop()
        else:
            sim.stop_in_thread()
    return {"log": log, "marks": marks, "seconds": elapsed}
