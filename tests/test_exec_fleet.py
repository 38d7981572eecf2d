"""``exec --store vault+https://…`` on another "server": a HOME that never added the key reads
it from a real OpenBao with its own token, checks it like ``check --store``, and starts the bot."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.cli_helpers import cli, store, use_keyring  # noqa: F401 - fixture chain
from tests.exec_helpers import CCXT_BOT, ROOT, holds_a_piece
from tests.store_fixtures import bao_env, openbao, unique_prefix  # noqa: F401 - fixtures


def _home(root) -> dict[str, str]:
    env = {}
    for name, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                      ("XDG_CACHE_HOME", ".cache"), ("TMPDIR", "tmp")):
        (root / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(root / sub)
    return env


def test_a_second_server_runs_the_bot_with_a_key_from_openbao(cli, sim, bao_env, unique_prefix, tmp_path):
    key = sim.keys["read_only"]
    uri = bao_env.uri(unique_prefix)
    added = cli("add", "fleet-bot", "--api-key", key.api_key, "--base-url", sim.base_url, "--store", uri,
                stdin=key.secret + "\n")
    assert added.code == 0, added.out + added.err
    other = tmp_path / "server-b"
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update(_home(other))  # its own HOME and registry: it has never seen "fleet-bot"
    proc = subprocess.run([sys.executable, "-m", "wizard", "exec", "fleet-bot", "--store", uri, "--",
                           sys.executable, CCXT_BOT, sim.base_url],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["free"]["USDT"] == 100.0
    assert "not_recorded_here" in proc.stderr  # judged by what the key may do, and it says so
    assert not holds_a_piece(proc.stdout + proc.stderr, key.secret)
    for path in other.rglob("*"):
        if path.is_file():
            assert not holds_a_piece(path.read_bytes().decode(errors="replace"), key.secret), path


def test_a_second_server_refuses_a_key_that_gained_withdrawals(cli, sim, bao_env, unique_prefix, tmp_path):
    key = sim.keys["read_only"]
    uri = bao_env.uri(unique_prefix)
    assert cli("add", "fleet-bot", "--api-key", key.api_key, "--base-url", sim.base_url, "--store", uri,
               stdin=key.secret + "\n").code == 0
    sim.set_permission(key.api_key, "enableWithdrawals", True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update(_home(tmp_path / "server-b"))
    proc = subprocess.run([sys.executable, "-m", "wizard", "exec", "fleet-bot", "--store", uri, "--",
                           sys.executable, "-c", "print('never')"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=90)
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr
