"""`check` beyond its exit codes, the ``--json`` contract, secret hygiene, and real processes.
In-process (see tests/cli_helpers.py), it covers what a healthy check costs (two requests, weight
two), ``last_verified_at`` updates, the worst exit code over several keys, the recorded purpose and
profile and the ``--profile``/``--base-url`` overrides, clock skew, the JSON schema of ``add`` and
``check``, and that the secret never reaches the output of add/check/review or any file; then a few
subprocess runs of ``python -m wizard``: with the null keyring, and against the real Secret Service
(marked ``secret_service``; tests/run.sh provides one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import (  # noqa: F401 - fixtures
    LABEL,
    ROOT,
    WRONG_SECRET,
    add_key,
    cli,
    free_port,
    registry_labels,
    store,
    use_keyring,
    write_profile,
)
from tests.conftest import SENTINEL_SECRET
from tests.leaks import assert_no_leak, assert_none_leak, files_holding

FINDING_KEYS = {"id", "severity", "message", "fix"}


# --- check -------------------------------------------------------------------------------------


def test_healthy_check_costs_two_requests_and_weight_two(add_key, cli, sim):
    assert add_key("read_only").code == 0
    before = len(sim.request_log)
    result = cli("check", LABEL, "--json")
    assert result.code == 0, result.out
    spent = sim.request_log[before:]
    assert len(spent) <= 2, spent
    assert sum(e.weight for e in spent) <= 2
    assert {e.path for e in spent} == {"/api/v3/time", "/sapi/v1/account/apiRestrictions"}


def test_check_updates_last_verified_at(add_key, cli):
    from wizard.registry import Registry

    assert add_key("read_only").code == 0
    first = Registry().get(LABEL).last_verified_at
    assert cli("check", LABEL).code == 0
    assert Registry().get(LABEL).last_verified_at > first


def test_check_exit_code_is_the_worst_over_keys(add_key, cli, sim):
    assert add_key("read_only", "tracker-laptop").code == 0
    assert add_key("spot_trading", "spot-bot-vps1", "--purpose", "spot").code == 0
    sim.set_permission(sim.keys["read_only"].api_key, "enableWithdrawals", True)
    result = cli("check", "--json")
    codes = {k["label"]: k["exit_code"] for k in result.json["keys"]}
    assert codes == {"tracker-laptop": 1, "spot-bot-vps1": 0}
    assert result.code == result.json["exit_code"] == 1
    sim.delete_key(sim.keys["spot_trading"].api_key)
    assert cli("check").code == 4


def test_check_uses_the_recorded_purpose_and_profile(add_key, cli, sim, tmp_path):
    profile = write_profile(tmp_path, require_ip=False)
    assert add_key(sim.create_key(label="no-ip"), LABEL, "--profile", str(profile)).code == 0
    # Same key, stricter profile on the command line: the flag overrides what was recorded.
    strict = write_profile(tmp_path, require_ip=True, name="strict")
    assert cli("check", LABEL, "--profile", str(strict)).code == 1


def test_check_base_url_flag_overrides_the_recorded_one(add_key, cli):
    assert add_key("read_only").code == 0
    result = cli("check", LABEL, "--base-url", f"http://127.0.0.1:{free_port()}", "--json")
    assert result.code == 5


@pytest.mark.parametrize("skew_ms", [7000, -7000])
def test_clock_seven_seconds_off_still_checks_fine(add_key, cli, sim, skew_ms):
    assert add_key("read_only").code == 0
    sim.faults.clock_skew_ms = skew_ms
    result = cli("check", LABEL, "--json")
    assert result.code == 0, result.out
    skew = [f for f in result.json["keys"][0]["findings"] if f["id"] == "clock_skew"]
    assert skew and skew[0]["severity"] == "warn"


def test_json_schema(add_key, cli, sim):
    add = add_key("read_only")
    assert set(add.json) == {"label", "ok", "exit_code", "permissions", "findings"}
    sim.delete_key(sim.keys["read_only"].api_key)
    data = cli("check", "--json", LABEL, "missing-label").json
    assert set(data) == {"keys", "exit_code"}
    assert data["exit_code"] == max(k["exit_code"] for k in data["keys"])
    assert [k["label"] for k in cli("check", "--json", LABEL, LABEL).json["keys"]] == [LABEL]  # once each
    for key in data["keys"]:
        assert set(key) == {"label", "ok", "exit_code", "permissions", "findings"}
        assert isinstance(key["ok"], bool) and isinstance(key["exit_code"], int)
        assert key["permissions"] is None or isinstance(key["permissions"], dict)
        for f in key["findings"]:
            assert set(f) == FINDING_KEYS
            assert f["severity"] in ("block", "warn", "info")
            assert all(isinstance(f[k], str) and f[k] for k in FINDING_KEYS)


def test_secret_never_reaches_output_or_files(add_key, cli, sim, isolated_home):
    secret = sim.keys["read_only"].secret
    results = [add_key("read_only"), cli("check"), cli("check", "--json"), cli("review"), cli("review", "--json")]
    for result in results:
        assert_no_leak(result.out + result.err, secret=secret)
    assert files_holding(Path(isolated_home), secret) == []


# --- real processes, real Secret Service ------------------------------------------------------


def _subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    env.update(extra)
    return env


def run_wizard(*argv: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wizard", *argv], input=stdin, capture_output=True, text=True,
        cwd=ROOT, env=_subprocess_env(**env), timeout=60,
    )


def test_subprocess_null_keyring_exit_3_nothing_stored(isolated_home, sim):
    key = sim.keys["read_only"]
    proc = run_wizard("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, "--json",
                      stdin=key.secret, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    assert proc.returncode == 3, proc.stderr
    assert json.loads(proc.stdout)["findings"][0]["id"] == "keyring_unusable"
    assert registry_labels() == []


@pytest.mark.secret_service
def test_subprocess_add_then_check_with_the_real_secret_service(isolated_home, sim, secret_service_keyring):
    from wizard.vault import Vault

    key = sim.keys["spot_trading"]
    label = f"spot-tracker-vps{os.getpid()}"  # the label rule wants a tool or machine named
    argv = ["add", label, "--api-key", key.api_key, "--purpose", "spot", "--base-url", sim.base_url]
    assert_none_leak(argv, secret=key.secret)
    try:
        added = run_wizard(*argv, stdin=key.secret + "\n")
        assert added.returncode == 0, added.stderr
        assert_no_leak(added.stdout + added.stderr, secret=key.secret)
        stored = Vault(secret_service_keyring).load(label)
        assert stored.secret.reveal() == key.secret
        checked = run_wizard("check", label, "--json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert json.loads(checked.stdout)["keys"][0]["ok"] is True
        sim.delete_key(key.api_key)
        assert run_wizard("check", label).returncode == 4
    finally:
        Vault(secret_service_keyring).delete(label)


@pytest.mark.secret_service
def test_subprocess_wrong_secret_never_echoed(isolated_home, sim, secret_service_keyring):
    key = sim.keys["read_only"]
    proc = run_wizard("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, stdin=WRONG_SECRET)
    assert proc.returncode == 4
    assert_no_leak(proc.stdout + proc.stderr)
    assert secret_service_keyring.get_password("binance-key-wizard", LABEL) is None
