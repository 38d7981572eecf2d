"""``exec`` as a process: the bot takes over the wizard's PID, signals reach it, and the
secret is in that one process's environment and nowhere else (checked in 12-character pieces)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.cli_helpers import cli, store, use_keyring  # noqa: F401 - fixture chain
from tests.conftest import SENTINEL_SECRET
from tests.exec_helpers import CCXT_BOT, ROOT, added, holds_a_piece, start_exec  # noqa: F401 - fixture

PY = sys.executable
# Says its PID, then waits for SIGTERM and exits 3 from the handler.
WAITER = (
    "import os, signal, sys, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: (print('got SIGTERM', flush=True), sys.exit(3)))\n"
    "print(os.getpid(), flush=True)\n"
    "time.sleep(60)\n"
)


def _first_line(proc: subprocess.Popen[str], timeout: float = 30) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, f"the bot printed nothing; stderr: {proc.stderr.read() if proc.stderr else ''}"
    return line.strip()


def test_the_bot_replaces_the_wizard_and_gets_its_signals(added, store, sim):
    added("read_only", "tracker-vps1")
    proc = start_exec(store, "exec", "tracker-vps1", "--", PY, "-c", WAITER)
    try:
        assert int(_first_line(proc)) == proc.pid  # no wrapper process in between
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert out == "got SIGTERM\n"
    assert proc.returncode == 3, err  # the handler's exit code, passed through


def test_an_unhandled_sigterm_kills_the_bot_like_any_process(added, store, sim):
    added("read_only", "tracker-vps1")
    proc = start_exec(store, "exec", "tracker-vps1", "--", PY, "-c",
                      "import time; print('up', flush=True); time.sleep(60)")
    try:
        assert _first_line(proc) == "up"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGTERM


# --- the sentinel ------------------------------------------------------------------------------


def _all_cmdlines() -> dict[int, str]:
    """argv of every process on the machine that we may read."""
    lines = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
    return lines


def _environ(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _files_holding_a_piece(root: Path, secret: str) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if holds_a_piece(path.read_bytes().decode(errors="replace"), secret):
                    hits.append(path)
            except OSError:
                continue
    return hits


def test_the_sentinel_is_in_the_bots_environment_and_nowhere_else(added, store, sim, isolated_home):
    key = sim.keys["read_only"]
    key.secret = SENTINEL_SECRET  # the simulator now verifies signatures made with the sentinel
    added("read_only", "sentinel-bot-vps1")
    proc = start_exec(store, "exec", "sentinel-bot-vps1", "--", PY, "-c", WAITER)
    assert "pytest" in _all_cmdlines()[os.getpid()]  # the scan can read argv at all
    seen_in_argv: list[int] = []
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(_first_line(proc)), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not first and time.monotonic() < deadline:  # every argv on the machine, until the bot runs
            seen_in_argv += [pid for pid, text in _all_cmdlines().items() if holds_a_piece(text, SENTINEL_SECRET)]
            time.sleep(0.005)
        reader.join(timeout=5)
        bot_pid = int(first[0])
        seen_in_argv += [pid for pid, text in _all_cmdlines().items() if holds_a_piece(text, SENTINEL_SECRET)]
        bot_env = _environ(bot_pid)
        others = [pid for pid in _all_cmdlines() if pid != bot_pid and holds_a_piece(_environ(pid), SENTINEL_SECRET)]
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert f"BINANCE_API_SECRET={SENTINEL_SECRET}\0" in bot_env  # the one place it is handed to
    assert seen_in_argv == [] and others == []
    assert not holds_a_piece(out + err, SENTINEL_SECRET)
    assert "verified" in err
    assert _files_holding_a_piece(Path(isolated_home), SENTINEL_SECRET) == []
    assert not holds_a_piece(json.dumps(dict(os.environ)), SENTINEL_SECRET)


def test_a_refusal_never_shows_the_sentinel(added, store, sim, isolated_home):
    from tests.exec_helpers import run_exec

    key = sim.keys["read_only"]
    key.secret = SENTINEL_SECRET
    added("read_only", "sentinel-bot-vps1")
    sim.set_permission(key.api_key, "enableWithdrawals", True)
    proc = run_exec(store, "exec", "sentinel-bot-vps1", "--", PY, "-c", "print('never')")
    assert proc.returncode == 1
    assert not holds_a_piece(proc.stdout + proc.stderr, SENTINEL_SECRET)
    assert _files_holding_a_piece(Path(isolated_home), SENTINEL_SECRET) == []


# --- the real Secret Service -------------------------------------------------------------------


def _wizard(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    return subprocess.run([PY, "-m", "wizard", *argv], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)


@pytest.mark.secret_service
def test_ccxt_under_exec_with_the_real_secret_service(isolated_home, sim, secret_service_keyring):
    from wizard.vault import Vault

    key = sim.keys["read_only"]
    label = f"ccxt-ss-{os.getpid()}"
    try:
        added_proc = _wizard("add", label, "--api-key", key.api_key, "--base-url", sim.base_url,
                             stdin=key.secret + "\n")
        assert added_proc.returncode == 0, added_proc.stderr
        started = time.monotonic()
        proc = _wizard("exec", label, "--", PY, CCXT_BOT, sim.base_url)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["free"]["USDT"] == 100.0
        assert not holds_a_piece(proc.stdout + proc.stderr, key.secret)
        assert time.monotonic() - started < 30
    finally:
        Vault(secret_service_keyring).delete(label)


def test_the_bot_inherits_no_core_files(added, store, sim):
    """The wizard hardens itself (wizard/hardening.py) before it reads the key; the core-file limit
    survives execve, so a crashing bot can't write the key to disk in a core dump either."""
    from tests.exec_helpers import run_exec

    added("read_only", "tracker-vps1")
    proc = run_exec(store, "exec", "tracker-vps1", "--", PY, "-c",
                    "import resource; print(resource.getrlimit(resource.RLIMIT_CORE))")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "(0, 0)\n"
