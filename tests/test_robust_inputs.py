"""Unexpected errors get the code of what they are (issue 12), fast tier: capped secret reads,
a non-UTF-8 key file (2), a garbage serverTime (5), a mistyped keyring backend (3), damaged stored
data (3, and CredentialsError from load_credentials), registry I/O errors (3, a warning for
`check`), a real bug (70 with a secret-free report), no terminal (2, not a 100 % CPU spin) and
an undumpable process. Every run is the real CLI; servers are real HTTP servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cli_helpers import LABEL, ROOT, add_key, cli, registry_labels, store, use_keyring  # noqa: F401
from tests.conftest import SENTINEL_SECRET
from wizard.secret import Secret
from wizard.vault import SERVICE

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


def run_module(*argv: str, stdin: object = subprocess.DEVNULL, timeout: float = 30, **env: str):
    environ = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"} | env
    return subprocess.run([sys.executable, "-m", "wizard", *argv], stdin=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=environ, timeout=timeout)


# --- bounded reads -----------------------------------------------------------------------------


class EndlessStdin:
    """A pipe that never ends (``cat /dev/zero``): counts what was read; an unbounded read fails."""

    def __init__(self) -> None:
        self.read_total = 0
        self.buffer = self

    def isatty(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("read the whole of an endless stream")
        self.read_total += size
        return b"\0" * size


def test_an_endless_stdin_is_refused_after_a_bounded_read(cli, sim, monkeypatch, capsys):
    from wizard.cli import main
    from wizard.cli_input import MAX_SECRET_BYTES

    stream = EndlessStdin()
    monkeypatch.setattr(sys, "stdin", stream)
    key = sim.keys["read_only"]
    code = main(["add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2 and out["findings"][0]["id"] == "secret_too_large"
    assert stream.read_total <= MAX_SECRET_BYTES + 1
    assert registry_labels() == []


@pytest.mark.parametrize("source", ["big-file", "/dev/zero"])
def test_a_huge_key_file_is_refused(cli, sim, tmp_path, source):
    path = "/dev/zero" if source == "/dev/zero" else str(tmp_path / "big.pem")
    if source == "big-file":
        (tmp_path / "big.pem").write_text("-----BEGIN PRIVATE KEY-----\n" + "A" * 2_000_000)
    key = sim.keys["ed25519"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--private-key-file", path,
                 "--base-url", sim.base_url, "--json")
    assert result.code == 2 and result.ids() == {"secret_too_large"}


def test_a_key_file_that_is_not_utf8_is_a_usage_error(cli, sim, tmp_path):
    path = tmp_path / "key.der"
    path.write_bytes(b"\x30\x82\xff\xfe binary DER, not PEM")
    key = sim.keys["ed25519"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--private-key-file", str(path),
                 "--base-url", sim.base_url, "--json")
    assert result.code == 2, result.err
    assert result.ids() == {"secret_not_text"}


# --- garbage from the exchange, a mistyped backend ---------------------------------------------


@contextmanager
def garbage_time_server(body: str):
    """A real HTTP server whose /api/v3/time answers ``body`` (NaN, 1e400: valid to Python's json)."""
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json")

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get("/api/v3/time", answer)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


@pytest.mark.parametrize("value", ["NaN", "1e400", "-Infinity", "1e30"])
def test_a_nonsense_server_time_is_an_unusable_exchange(cli, value):
    with garbage_time_server(f'{{"serverTime": {value}}}') as base_url:
        result = cli("add", LABEL, "--api-key", API_KEY, "--base-url", base_url, "--json",
                     stdin=SENTINEL_SECRET)
    assert result.code == 5, result.out + result.err
    assert registry_labels() == []


def test_a_mistyped_keyring_backend_is_exit_3(isolated_home):
    proc = run_module("add", LABEL, "--api-key", API_KEY, "--env", "testnet", "--json",
                      PYTHON_KEYRING_BACKEND="keyring.backends.SecretServic.Keyring")
    assert proc.returncode == 3, proc.stderr
    finding = json.loads(proc.stdout)["findings"][0]
    assert finding["id"] == "keyring_unusable" and "PYTHON_KEYRING_BACKEND" in finding["message"]
    assert "Traceback" not in proc.stderr


# --- damaged stored data -----------------------------------------------------------------------


@pytest.mark.parametrize("document", [
    json.dumps({"api_key": API_KEY, "secret": SENTINEL_SECRET, "env": "custom", "base_url": 8080}),
    json.dumps({"api_key": API_KEY, "secret": SENTINEL_SECRET, "env": ["live"]}),
    "[" * 100_000 + "]" * 100_000,
], ids=["base-url-number", "env-list", "deeply-nested"])
def test_a_damaged_keyring_entry_is_exit_3_and_a_credentials_error(cli, store, document):
    from wizard import CredentialsError, load_credentials
    from wizard.registry import KeyRecord, Registry, fingerprint

    Registry().put(KeyRecord(LABEL, env="testnet", fingerprint=fingerprint(API_KEY)))
    store.set_password(SERVICE, LABEL, document)
    result = cli("check", LABEL, "--json")
    assert result.code == 3, result.err
    assert result.ids() == {"keyring_unusable"}
    with pytest.raises(CredentialsError) as info:
        load_credentials(LABEL, backend=store)
    assert SENTINEL_SECRET not in str(info.value) + result.out + result.err


@pytest.mark.parametrize("change", [
    {"rotation_days": "ninety"}, {"env": "mars"}, {"rotation_days": True}, {"base_url": 5},
    {"purpose": None}, {"pending": "yes"}, {"rotations": [{"at": 12}]},
])
def test_a_damaged_registry_record_is_exit_3_everywhere(cli, store, change):
    from wizard.registry import default_path

    record = {"label": LABEL, "env": "testnet", "fingerprint": "vmPU…Eh8A", "rotation_days": 90} | change
    path = default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "keys": {LABEL: record}}))
    for argv in (["check", "--json"], ["review"], ["review", "--json"]):
        result = cli(*argv)
        assert result.code == 3, (argv, result.out, result.err)
        assert "damaged" in result.out + result.err and LABEL in result.out + result.err


def test_deeply_nested_registry_json_is_damage_not_a_crash(cli):
    from wizard.registry import default_path

    default_path().parent.mkdir(parents=True, exist_ok=True)
    default_path().write_text('{"version": 1, "keys": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = cli("check", "--json")
    assert result.code == 3 and result.ids() == {"registry_unusable"}


# --- registry I/O errors -----------------------------------------------------------------------


def test_a_lock_path_that_is_a_directory_is_exit_3_and_nothing_is_stored(cli, sim, store):
    from wizard.registry import default_path

    (default_path().parent / "locks").mkdir(parents=True)
    lock = default_path().with_name("keys.json.lock")
    lock.mkdir()
    key = sim.keys["read_only"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, "--json", stdin=key.secret)
    assert result.code == 3, result.err
    assert result.ids() == {"registry_unusable"} and "lock" in result.out
    assert store.entries == {}


def test_check_still_reports_when_the_result_cannot_be_recorded(add_key, cli):
    from wizard.registry import default_path

    assert add_key("read_only").code == 0
    lock = default_path().with_name("keys.json.lock")
    lock.unlink()
    lock.mkdir()  # every registry write now fails
    result = cli("check", LABEL, "--json")
    assert result.code == 0, result.out + result.err
    assert "registry_not_updated" in result.ids()


def test_a_config_dir_that_cannot_exist_is_exit_3(cli, sim, store, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker / "config"))  # ENOTDIR, even as root
    key = sim.keys["read_only"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, "--json", stdin=key.secret)
    assert result.code == 3 and result.ids() == {"registry_unusable"}
    assert store.entries == {}


# --- what is still unexpected: 70, one line, a report without secrets --------------------------


def test_an_internal_error_is_exit_70_with_a_secret_free_report(cli, monkeypatch, isolated_home):
    from wizard import commands

    async def bug(*args, **kwargs):
        raise KeyError(f"internal state {SENTINEL_SECRET}")

    monkeypatch.setattr(commands, "_check_all", bug)  # stands in for a bug in a command
    result = cli("check")
    assert result.code == 70
    assert result.err.count("\n") == 1 and "KeyError" in result.err and "bug" in result.err
    reports = list(isolated_home.rglob("crash-*.txt"))
    assert len(reports) == 1 and oct(reports[0].stat().st_mode & 0o777) == "0o600"
    text = reports[0].read_text()
    assert "commands.py" in text and "KeyError" in text
    for i in range(len(SENTINEL_SECRET) - 11):
        assert SENTINEL_SECRET[i:i + 12] not in text + result.err


def test_debug_prints_the_report_on_stderr(cli, monkeypatch):
    from wizard import commands

    monkeypatch.setattr(commands, "_check_all", lambda *a, **k: 1 / 0)
    result = cli("--debug", "check")
    assert result.code == 70 and "ZeroDivisionError" in result.err and "in _dispatch" in result.err


def test_a_crashed_textual_app_is_exit_70_not_1():
    from textual.app import App

    from wizard.launch import exit_code_of

    class Crashes(App):
        def on_mount(self) -> None:
            raise RuntimeError("boom")

    app = Crashes()
    app.run(headless=True)
    assert app.return_code == 1 and exit_code_of(app) == 70


def test_help_documents_70_and_130():
    proc = run_module("--help")
    assert " 70  internal error" in proc.stdout and "130  interrupted" in proc.stdout


# --- no terminal; undumpable -------------------------------------------------------------------


def test_the_wizard_without_a_terminal_exits_2_at_once(isolated_home):
    proc = run_module("--demo", timeout=20)  # stdin is /dev/null; the old code spun at 100 % CPU
    assert proc.returncode == 2
    assert "needs an interactive terminal" in proc.stderr and "add LABEL" in proc.stderr


# /proc/PID/status has no "Dumpable" line; the kernel answers PR_GET_DUMPABLE (3) to the process itself.
_REPORT = ("import ctypes, resource; libc = ctypes.CDLL(None); "
           "print('dumpable', libc.prctl(3, 0, 0, 0, 0), 'core', resource.getrlimit(resource.RLIMIT_CORE))")


@pytest.mark.parametrize("start", [
    "from wizard.hardening import harden_process; assert harden_process()",
    "from wizard.cli import main; main(['check'])",  # the command hardens itself before any secret
    "from wizard.cli import main; main(['forget', 'some-label'])",
], ids=["harden_process", "check-command", "forget-command"])
def test_processes_that_hold_secrets_are_undumpable_and_coreless(isolated_home, start):
    proc = subprocess.run([sys.executable, "-c", f"{start}\n{_REPORT}"], capture_output=True, text=True,
                          cwd=ROOT, timeout=30, env={k: v for k, v in os.environ.items()
                                                     if k != "PYTHON_KEYRING_BACKEND"})
    assert proc.stdout.strip().endswith("dumpable 0 core (0, 0)"), proc.stdout + proc.stderr


def test_an_ordinary_process_is_dumpable_so_the_test_above_can_fail():
    proc = subprocess.run([sys.executable, "-c", _REPORT], capture_output=True, text=True, timeout=30)
    assert "dumpable 1" in proc.stdout


def test_a_stored_document_never_reaches_the_crash_report():
    from wizard.crash import secret_free_report
    from wizard.stored_key import StoredKey

    try:
        StoredKey.from_json(Secret('{"api_key": "%s", "secret": "%s", "env": 5}' % (API_KEY, SENTINEL_SECRET)))
    except ValueError as exc:
        text = secret_free_report(exc) + str(exc)
    assert SENTINEL_SECRET[:12] not in text and API_KEY[:12] not in text


# --- properties --------------------------------------------------------------------------------


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.booleans(), st.text(),
                 st.none()))
def test_server_time_is_a_plausible_ms_clock_or_an_unexpected_answer(value):
    """Oracle: a finite number of ms after 1970 and before the year 3000, and not a bool."""
    import math

    from wizard.exchange.parse import UnexpectedAnswer, server_time_ms

    plausible = (isinstance(value, (int, float)) and not isinstance(value, bool)
                 and math.isfinite(value) and 0 < value < 32503680000000)
    try:
        result = server_time_ms({"serverTime": value})
    except UnexpectedAnswer:
        assert not plausible
    else:
        assert plausible and result == int(value)


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_lock_file_names_are_plain_and_one_per_label(first, second):
    import re

    from wizard.locking import label_lock_name

    for label in (first, second):
        assert re.fullmatch(r"[a-z0-9_-]{1,40}-[0-9a-f]{16}\.lock", label_lock_name(label))
    assert (label_lock_name(first) == label_lock_name(second)) == (first == second)
