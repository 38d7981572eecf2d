"""``binance-key-wizard exec``: a bot not written here gets the key, and only a key that passed.

The wizard runs as a real process (tests/exec_launcher.py on the in-memory
keyring) and replaces itself with the bot; the bot is a plain ccxt script
(tests/bots/ccxt_balance.py) making a signed call to the simulator.
"""

from __future__ import annotations

import json
import sys

import pytest

from tests.cli_helpers import cli, store, use_keyring  # noqa: F401 - fixture chain
from tests.exec_helpers import CCXT_BOT, added, run_exec  # noqa: F401 - fixture

PY = sys.executable
ENV_DUMP = "import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith(('BINANCE', 'FREQTRADE'))}))"


@pytest.mark.parametrize("name", ["read_only", "ed25519"])
def test_a_ccxt_script_makes_a_signed_call_with_the_handed_off_key(added, store, sim, name):
    added(name, "ccxt-bot-vps1")
    sim.clear_log()
    proc = run_exec(store, "exec", "ccxt-bot-vps1", "--", PY, CCXT_BOT, sim.base_url)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # stdout is the bot's alone: one JSON line
    assert result == {"key_type": sim.keys[name].key_type, "free": {"USDT": 100.0, "BTC": 0.0015}}
    paths = [entry.path for entry in sim.request_log]
    # exec's check (time sync + apiRestrictions), then ccxt's own calls, signed with the key.
    assert paths[:2] == ["/api/v3/time", "/sapi/v1/account/apiRestrictions"]
    assert "/api/v3/account" in paths[2:]
    assert "verified" in proc.stderr and "starting" in proc.stderr


def test_generic_preset_sets_key_secret_and_type(added, store, sim):
    added("read_only", "dump-env-vps1")
    proc = run_exec(store, "exec", "dump-env-vps1", "--", PY, "-c", ENV_DUMP,
                    BINANCE_API_SECRET="stale-from-the-shell", FREQTRADE__EXCHANGE__KEY="stale")
    assert proc.returncode == 0, proc.stderr
    key = sim.keys["read_only"]
    assert json.loads(proc.stdout) == {
        "BINANCE_API_KEY": key.api_key, "BINANCE_API_SECRET": key.secret, "BINANCE_KEY_TYPE": "hmac",
    }


def test_freqtrade_preset_sets_freqtrade_variables_only(added, store, sim):
    added("read_only", "freqtrade-vps1")
    proc = run_exec(store, "exec", "freqtrade-vps1", "--as", "freqtrade", "--", PY, "-c", ENV_DUMP)
    assert proc.returncode == 0, proc.stderr
    key = sim.keys["read_only"]
    assert json.loads(proc.stdout) == {"FREQTRADE__EXCHANGE__KEY": key.api_key,
                                       "FREQTRADE__EXCHANGE__SECRET": key.secret}


def test_ed25519_secret_is_the_normalised_pem(added, store, sim):
    added("ed25519", "pem-bot-vps1")
    proc = run_exec(store, "exec", "pem-bot-vps1", "--", PY, "-c", ENV_DUMP)
    assert proc.returncode == 0, proc.stderr
    secret = json.loads(proc.stdout)["BINANCE_API_SECRET"]
    assert secret.startswith("-----BEGIN PRIVATE KEY-----\n") and secret.endswith("-----END PRIVATE KEY-----\n")
    assert "\r" not in secret and len(secret) < 120  # ccxt and python-binance take > 120 chars as RSA
