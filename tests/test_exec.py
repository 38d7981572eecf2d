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


@pytest.mark.parametrize("name", ["read_only", "ed25519"])
def test_a_freqtrade_style_bot_signs_with_the_freqtrade_variables(added, store, sim, name):
    added(name, "freqtrade-vps1")
    proc = run_exec(store, "exec", "freqtrade-vps1", "--as", "freqtrade", "--", PY, "-m", "tests.bots.freqtrade_like",
                    sim.base_url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"free": {"USDT": 100.0, "BTC": 0.0015}}
    assert "FREQTRADE__EXCHANGE__KEY, FREQTRADE__EXCHANGE__SECRET" in proc.stderr


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


# --- a bot never starts with a dangerous, dead or unchecked key --------------------------------

MARK = "import sys; print('BOT RAN'); sys.exit(7)"


def test_refuses_a_key_that_gained_withdrawals_exit_1(added, store, sim):
    added("read_only", "tracker-vps1")
    sim.set_permission(sim.keys["read_only"].api_key, "enableWithdrawals", True)
    proc = run_exec(store, "exec", "tracker-vps1", "--", PY, "-c", MARK)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""  # the bot never ran
    assert "withdraw" in proc.stderr.lower() and "Not starting the bot" in proc.stderr


def test_refuses_a_deleted_key_exit_4(added, store, sim):
    added("read_only", "tracker-vps1")
    sim.delete_key(sim.keys["read_only"].api_key)
    proc = run_exec(store, "exec", "tracker-vps1", "--", PY, "-c", MARK)
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout == ""
    assert "Not starting the bot" in proc.stderr


def _unreachable(label: str) -> None:
    """Point the recorded environment at a closed port: the exchange can't be reached."""
    from tests.cli_helpers import free_port
    from wizard.registry import Registry

    Registry().update(label, base_url=f"http://127.0.0.1:{free_port()}")


def test_refuses_when_the_exchange_is_unreachable_exit_5(added, store, sim):
    added("read_only", "tracker-vps1")
    _unreachable("tracker-vps1")
    proc = run_exec(store, "exec", "tracker-vps1", "--", PY, "-c", MARK)
    assert proc.returncode == 5, proc.stderr
    assert proc.stdout == ""
    assert "--allow-unverified" in proc.stderr


def test_allow_unverified_starts_the_bot_and_says_so(added, store, sim):
    added("read_only", "tracker-vps1")
    _unreachable("tracker-vps1")
    proc = run_exec(store, "exec", "tracker-vps1", "--allow-unverified", "--", PY, "-c", MARK)
    assert proc.returncode == 7, proc.stderr  # the bot's own exit code
    assert proc.stdout == "BOT RAN\n"
    assert "UNVERIFIED" in proc.stderr


def test_allow_unverified_never_overrides_a_rejected_key(added, store, sim):
    added("read_only", "tracker-vps1")
    sim.delete_key(sim.keys["read_only"].api_key)
    proc = run_exec(store, "exec", "tracker-vps1", "--allow-unverified", "--", PY, "-c", MARK)
    assert proc.returncode == 4 and proc.stdout == "", proc.stderr


def test_unknown_label_exit_3_and_no_request(store, sim, isolated_home):
    proc = run_exec(store, "exec", "nobody-here", "--", PY, "-c", MARK)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "" and "nobody-here" in proc.stderr
    assert sim.request_log == []


# --- the command line --------------------------------------------------------------------------


def test_command_not_found_is_127_before_the_key_is_touched(added, store, sim):
    added("read_only", "tracker-vps1")
    sim.clear_log()
    proc = run_exec(store, "exec", "tracker-vps1", "--", "no-such-bot-xyz", "--flag")
    assert proc.returncode == 127, proc.stderr
    assert "'no-such-bot-xyz' not found on PATH" in proc.stderr
    assert sim.request_log == []  # no check, no secret read for a typo


def test_command_not_executable_is_126(added, store, sim, tmp_path):
    added("read_only", "tracker-vps1")
    script = tmp_path / "bot.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    proc = run_exec(store, "exec", "tracker-vps1", "--", str(script))
    assert proc.returncode == 126, proc.stderr
    assert "not an executable file" in proc.stderr


@pytest.mark.parametrize("argv", [["exec", "tracker-vps1"], ["exec", "tracker-vps1", "--"]])
def test_no_command_is_a_usage_error(store, isolated_home, argv):
    proc = run_exec(store, *argv)
    assert proc.returncode == 2 and "after `--`" in proc.stderr, proc.stderr


def test_options_after_the_double_dash_belong_to_the_bot(added, store, sim):
    added("read_only", "tracker-vps1")
    proc = run_exec(store, "exec", "tracker-vps1", "--", PY, "-c", "import sys; print(sys.argv[1:])",
                    "--as", "freqtrade", "--", "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "['--as', 'freqtrade', '--', '--help']\n"


def test_a_read_only_registry_does_not_stop_a_bot_whose_key_passed(added, store, sim, isolated_home):
    """As in a unit with ProtectSystem=strict and no ReadWritePaths=: the check can't be recorded."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    from tests.exec_helpers import ROOT, exec_argv, keyring_payload

    added("read_only", "tracker-vps1")
    registry_dir = str(Path(isolated_home, ".config", "binance-key-wizard"))
    # A private mount namespace where the registry directory is read-only, even for root.
    ro = ['sh', '-c', 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"', registry_dir]
    probe = subprocess.run(["unshare", "-m", *ro, "true"], capture_output=True) if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        pytest.skip("no mount namespaces here (unshare -m)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    proc = subprocess.run(["unshare", "-m", *ro, *exec_argv("exec", "tracker-vps1", "--", PY, "-c", "print('ran')")],
                          input=keyring_payload(store), capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 0 and proc.stdout == "ran\n", proc.stderr
    assert "registry_not_updated" in proc.stderr and "not recorded" in proc.stderr


def test_a_label_from_before_todays_naming_rules_still_starts_its_bot(added, store, sim):
    """exec looks labels up, it doesn't judge them: 'spot-bot-1' was a fine label once."""
    import dataclasses

    from wizard.registry import Registry
    from wizard.vault import Vault

    added("read_only", "tracker-vps1")
    old = "spot-bot-1"
    Vault(store).store(old, Vault(store).load("tracker-vps1"))
    Registry().put(dataclasses.replace(Registry().get("tracker-vps1"), label=old))
    proc = run_exec(store, "exec", old, "--", PY, "-c", "print('ran')")
    assert proc.returncode == 0 and proc.stdout == "ran\n", proc.stderr


def test_a_key_whose_add_never_finished_is_not_handed_to_a_bot(added, store, sim):
    """A pending record (an add still running, or one killed midway) left a key that was never
    verified: exec refuses it with check's exit 3 and the way to finish, and sends no request."""
    import dataclasses

    from wizard.registry import Registry

    added("read_only", "half-added-vps1")
    registry = Registry()
    registry.put(dataclasses.replace(registry.get("half-added-vps1"), pending=True))
    sim.clear_log()
    proc = run_exec(store, "exec", "half-added-vps1", "--", PY, "-c", ENV_DUMP)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""  # the bot never started
    assert "stopped before finishing" in proc.stderr and "forget half-added-vps1" in proc.stderr
    assert sim.request_log == []
