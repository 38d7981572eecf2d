"""The printed unit, played out as systemd would: a key added to a real ``systemd-creds:DIR``
store, the unit's ``LoadCredentialEncrypted=`` decrypted the way PID 1 does it into a
private ``$CREDENTIALS_DIRECTORY``, then its ``ExecStart=`` (read back with the
independent reader) run with its ``Environment=``: a ccxt bot signs with the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli_helpers import cli, store, use_keyring  # noqa: F401 - fixture chain
from tests.exec_helpers import CCXT_BOT, holds_a_piece
from tests.systemd_oracle import split_command_line

# The real-store fixtures (OpenBao dev server, systemd-creds DIR) come with the stores tests.
_stores = pytest.importorskip("tests.store_fixtures")
creds_dir = _stores.creds_dir


def _add_to_systemd_creds(cli, sim, key, label: str, creds_dir) -> None:
    """What ``add LABEL --store systemd-creds:DIR`` leaves behind: a verified record naming the
    store, and the key encrypted by the real systemd-creds in DIR (through the store protocol)."""
    from wizard.registry import Registry
    from wizard.secret import Secret
    from wizard.stored_key import StoredKey
    from wizard.stores import open_store

    added = cli("add", label, "--api-key", key.api_key, "--base-url", sim.base_url, stdin=key.secret + "\n")
    assert added.code == 0, added.out + added.err
    uri = f"systemd-creds:{creds_dir}"
    open_store(uri).store(label, StoredKey(key.api_key, "hmac", Secret(key.secret), "custom", sim.base_url))
    Registry().update(label, store=uri)


def _settings(unit: str, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith(key + "=")]


def test_the_unit_hands_the_systemd_credential_to_the_bot(cli, sim, creds_dir, tmp_path, isolated_home):
    key = sim.keys["read_only"]
    _add_to_systemd_creds(cli, sim, key, "ccxt-server1", creds_dir)
    result = cli("systemd-unit", "ccxt-server1", "--name", "ccxt-bot", "--", sys.executable, CCXT_BOT, sim.base_url)
    assert result.code == 0, result.err
    unit = result.out
    cred_id, cred_path = _settings(unit, "LoadCredentialEncrypted")[0].split(":", 1)
    assert (cred_id, cred_path) == ("ccxt-server1", str(creds_dir / "ccxt-server1.cred"))
    assert not holds_a_piece((creds_dir / "ccxt-server1.cred").read_bytes().decode(errors="replace"), key.secret)

    # What PID 1 does before the service starts: decrypt into the unit's private directory.
    credentials = tmp_path / "credentials"
    credentials.mkdir(mode=0o700)
    subprocess.run(["systemd-creds", "decrypt", f"--name={cred_id}", cred_path, str(credentials / cred_id)],
                   check=True, capture_output=True, timeout=30)
    # The bot's user can't read DIR (only root can): the key must come from $CREDENTIALS_DIRECTORY.
    (creds_dir / "ccxt-server1.cred").rename(tmp_path / "elsewhere.cred")
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env["CREDENTIALS_DIRECTORY"] = str(credentials)
    for assignment in _settings(unit, "Environment"):
        name, value = split_command_line("/x " + assignment)[1].split("=", 1)
        env[name] = value
    argv = split_command_line(_settings(unit, "ExecStart")[0])
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"key_type": "hmac", "free": {"USDT": 100.0, "BTC": 0.0015}}
    assert "verified" in proc.stderr and not holds_a_piece(proc.stdout + proc.stderr, key.secret)
