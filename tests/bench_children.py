"""The subprocesses tests/bench.py measures: ``python tests/bench_children.py PART``.

Each part runs in a fresh interpreter, so imports, caches and memory start
from nothing, and prints one JSON line (``minimal`` is a real terminal app and
prints nothing of its own). Nothing heavy is imported at module level: the
``minimal`` baseline must pay only for Textual.

Parts:
  minimal           a minimal Textual app (one Static), run on the terminal
  imports           which heavy modules are loaded when the wizard's first frame is up
  memory-wizard     a full run (spot purpose, visible order) against the simulator
                    in another process, then peak RSS: the wizard alone
  memory-demo       the same as ``--demo`` runs it, simulator in-process, then peak RSS
  memory-baseline   a minimal Textual app under run_test plus ``import binance``, then peak RSS
  responsive        key presses during a validation with 2 s of exchange latency
  typing            64 keys typed into every Input (demo and live), then Tab + a key
  review            the review app over 1000 keys: time to draw, then scrolling keys
  check             ``check`` of one healthy key (after ``add``): its requests
  flows             both full demo runs (read-only, spot + visible order): every request
  fleet             ``check`` of 200 keys in a real Secret Service, concurrent and sequential
                    (run inside a private D-Bus session: bench.py's child_in_dbus)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

MINIMAL_MARKER = "Minimal Textual app ready"
HEAVY = ("binance", "keyring", "qrcode", "aiohttp", "Crypto", "dateparser", "requests")


def peak_rss_kib() -> int:
    """VmHWM: this process's peak resident set size, in KiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def minimal_app():  # noqa: ANN201 - a textual App
    """The baseline: the smallest Textual app that shows something."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(MINIMAL_MARKER)

    return Minimal()


def part_minimal() -> None:
    minimal_app().run()


def part_imports() -> None:
    """Run the wizard as ``--demo`` builds it and list heavy modules loaded at the first frame."""
    import argparse
    import asyncio
    import tempfile

    from wizard import app as appmod, launch

    found: dict[str, object] = {}

    class Probe(appmod.WizardApp):
        def on_ready(self) -> None:  # Textual calls this as the first frame goes out
            loaded = {m.split(".")[0] for m in sys.modules}
            found["step"] = getattr(self.screen, "STEP", type(self.screen).__name__)
            found["loaded"] = sorted(loaded & set(HEAVY))
            found["keyring_backends"] = sorted(m for m in sys.modules if m.startswith("keyring.backends"))
            found["modules"] = len(sys.modules)
            self.exit()

    with tempfile.TemporaryDirectory() as home:
        import os

        os.environ["XDG_CONFIG_HOME"] = home
        appmod.WizardApp = Probe  # create_app builds whatever this name holds
        args = argparse.Namespace(demo=True, env=None, base_url=None, profile=None, purpose=None)
        app = launch.app_from_args(args)

        async def run() -> None:
            async with app.run_test(size=(100, 32)) as pilot:
                await pilot.pause()

        try:
            asyncio.run(run())
        finally:
            app.stop_simulator()
    print(json.dumps(found))


def part_memory_wizard() -> None:
    """The wizard as a user runs it against Binance: the exchange (simulator) in another process."""
    from tests.bench_flows import full_run

    full_run("spot", remote=True)
    print(json.dumps({"peak_rss_kib": peak_rss_kib()}))


def part_memory_demo() -> None:
    """``--demo``: the same run with the simulated exchange's HTTP server in this process."""
    from tests.bench_flows import full_run

    full_run("spot")
    print(json.dumps({"peak_rss_kib": peak_rss_kib()}))


def part_memory_baseline() -> None:
    import asyncio

    import binance  # noqa: F401 - the point: the library the wizard cannot do without

    app = minimal_app()

    async def run() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()

    asyncio.run(run())
    print(json.dumps({"peak_rss_kib": peak_rss_kib()}))


def part_check() -> None:
    """``add`` a healthy key, then time ``check LABEL``: requests and weight from the sim's log.

    In-process like tests/test_cli.py: keyring's own ``set_keyring`` installs the
    in-memory backend and the registry lives in a throwaway XDG config dir.
    """
    import contextlib
    import io
    import os
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-") as home:
        for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share")):
            os.environ[var] = os.path.join(home, sub)
        import keyring

        from tests.keyrings import MemoryKeyring
        from wizard.cli import main
        from wizard.sim import SimExchange

        keyring.set_keyring(MemoryKeyring())
        sim = SimExchange()
        sim.start_in_thread(port=0)
        try:
            key = sim.keys["read_only"]

            def cli(*argv: str, stdin: str = "") -> tuple[int, str]:
                sys.stdin = io.StringIO(stdin)
                out = io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                    code = main(list(argv))
                return code, out.getvalue()

            code, _ = cli("add", "bench-key", "--api-key", key.api_key, "--base-url", sim.base_url,
                          "--json", stdin=key.secret + "\n")
            if code != 0:
                raise RuntimeError(f"add exited {code}")
            before = len(sim.request_log)
            code, out = cli("check", "bench-key", "--json")
            spent = sim.request_log[before:]
        finally:
            sim.stop_in_thread()
    print(json.dumps({"exit_code": code, "ok": json.loads(out)["keys"][0]["ok"],
                      "requests": [[e.method, e.path, e.weight] for e in spent]}))


def part_flows() -> None:
    """Both full demo runs; each request as [step, method, path, weight, status]."""
    from tests.bench_flows import full_run

    out = {}
    for purpose in ("read", "spot"):
        run = full_run(purpose)
        log, rows, start = run["log"], [], 0
        for step, end in run["marks"]:
            rows += [[step, e.method, e.path, e.weight, e.status] for e in log[start:end]]
            start = end
        out[purpose] = {"requests": rows, "seconds": round(run["seconds"], 2)}
    print(json.dumps(out))


def part_fleet() -> None:
    """``check`` of a fleet in a real Secret Service (bench.py starts the D-Bus session)."""
    from tests.bench_fleet import measure

    print(json.dumps(measure()))


def part_typing() -> None:
    from tests.bench_typing import measure

    print(json.dumps(measure()))


def part_review() -> None:
    from tests.bench_review import measure

    print(json.dumps(measure()))


def part_responsive() -> None:
    from tests.bench_respond import measure

    print(json.dumps(measure()))


PARTS = {
    "minimal": part_minimal,
    "imports": part_imports,
    "memory-wizard": part_memory_wizard,
    "memory-demo": part_memory_demo,
    "memory-baseline": part_memory_baseline,
    "responsive": part_responsive,
    "check": part_check,
    "flows": part_flows,
    "fleet": part_fleet,
    "typing": part_typing,
    "review": part_review,
}

if __name__ == "__main__":
    PARTS[sys.argv[1]]()
