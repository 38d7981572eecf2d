"""``exec --store vault+https://…`` on another "server" (its own HOME and registry): the key is
read from a real OpenBao with that server's own token, checked, and handed to the bot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import cli, store, use_keyring  # noqa: F401 - fixture chain
from tests.exec_helpers import CCXT_BOT, ROOT, holds_a_piece

# The real-store fixtures (OpenBao dev server, systemd-creds DIR) come with the stores tests.
_stores = pytest.importorskip("tests.store_fixtures")
bao_env = _stores.bao_env
openbao = _stores.openbao
unique_prefix = _stores.unique_prefix

LABEL = "fleet-bot-shared"


def _home(root: Path) -> dict[str, str]:
    env = {}
    for name, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                      ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state"), ("TMPDIR", "tmp")):
        (root / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(root / sub)
    return env


def _shared_key(cli, sim, key, uri: str) -> None:
    """Server A: the key verified by ``add``, then put in OpenBao (what ``add --store URI`` does)."""
    from wizard.registry import Registry
    from wizard.secret import Secret
    from wizard.stored_key import StoredKey
    from wizard.stores import open_store

    assert cli("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, stdin=key.secret + "\n").code == 0
    open_store(uri).store(LABEL, StoredKey(key.api_key, "hmac", Secret(key.secret), "custom", sim.base_url))
    Registry().update(LABEL, store=uri)


def _server_b(tmp_path: Path, record_like_a: bool) -> dict[str, str]:
    """Server B's environment: its own HOME; with ``record_like_a`` its registry knows the label."""
    from wizard.registry import Registry

    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update(_home(tmp_path / "server-b"))
    if record_like_a:
        record = Registry().get(LABEL)
        Registry(Path(env["XDG_CONFIG_HOME"], "binance-key-wizard", "keys.json")).put(record)
    return env


def _exec_on(env: dict[str, str], uri: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wizard", "exec", LABEL, "--store", uri, "--", *command],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=90)


def test_a_second_server_runs_the_bot_with_the_key_from_openbao(cli, sim, bao_env, unique_prefix, tmp_path):
    key = sim.keys["read_only"]
    uri = bao_env.uri(unique_prefix)
    _shared_key(cli, sim, key, uri)
    env = _server_b(tmp_path, record_like_a=True)
    proc = _exec_on(env, uri, sys.executable, CCXT_BOT, sim.base_url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["free"]["USDT"] == 100.0
    assert not holds_a_piece(proc.stdout + proc.stderr, key.secret)
    for path in (tmp_path / "server-b").rglob("*"):
        if path.is_file():
            assert not holds_a_piece(path.read_bytes().decode(errors="replace"), key.secret), path


def test_a_second_server_refuses_a_key_that_gained_withdrawals(cli, sim, bao_env, unique_prefix, tmp_path):
    key = sim.keys["read_only"]
    uri = bao_env.uri(unique_prefix)
    _shared_key(cli, sim, key, uri)
    sim.set_permission(key.api_key, "enableWithdrawals", True)
    proc = _exec_on(_server_b(tmp_path, record_like_a=True), uri, sys.executable, "-c", "print('never')")
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr


def test_a_server_that_never_recorded_the_key_judges_it_by_what_it_may_do(cli, sim, bao_env, unique_prefix, tmp_path):
    """A fleet server with no record of the key (its own token, its own HOME) still starts the bot,
    judged as `check --store` judges it, and says that the purpose is unknown here."""
    key = sim.keys["read_only"]
    uri = bao_env.uri(unique_prefix)
    _shared_key(cli, sim, key, uri)
    proc = _exec_on(_server_b(tmp_path, record_like_a=False), uri, sys.executable, "-c", "print('ran')")
    assert proc.returncode == 0 and proc.stdout == "ran\n", proc.stderr
    assert "unrecorded" in proc.stderr or "not recorded" in proc.stderr or "purpose" in proc.stderr


def test_a_server_that_never_recorded_the_key_refuses_withdrawals(cli, sim, bao_env, unique_prefix, tmp_path):
    key = sim.keys["read_only"]
    uri = bao_env.uri(unique_prefix)
    _shared_key(cli, sim, key, uri)
    sim.set_permission(key.api_key, "enableWithdrawals", True)
    proc = _exec_on(_server_b(tmp_path, record_like_a=False), uri, sys.executable, "-c", "print('never')")
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr
