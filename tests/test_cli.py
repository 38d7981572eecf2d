"""`add` and `check` end to end: real CLI parsing, real python-binance, the simulator, a keyring.

The fast tier runs ``wizard.cli.main`` in-process with the in-memory keyring
installed through keyring's own ``set_keyring``; the registry lives in the
throwaway XDG config dir of ``isolated_home``. A few subprocess tests run the
installed entry point against the real Secret Service (tests/run.sh).
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import keyring.core
import pytest

from tests.conftest import SENTINEL_SECRET
from tests.keyrings import MemoryKeyring
from wizard.cli import main

ROOT = Path(__file__).resolve().parent.parent
LABEL = "tracker-laptop"
FINDING_KEYS = {"id", "severity", "message", "fix"}


@dataclass
class Result:
    """One CLI run: exit code, captured streams, and stdout parsed as JSON when it is JSON."""

    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    def ids(self) -> set[str]:
        """Finding ids of an ``add --json`` object or of every key of ``check --json``."""
        data = self.json
        keys = data["keys"] if "keys" in data else [data]
        return {f["id"] for key in keys for f in key["findings"]}


@pytest.fixture
def use_keyring():
    """Install a keyring backend for in-process runs through keyring's public API; restore after."""
    previous = keyring.core._keyring_backend
    installed: list[Any] = []

    def install(backend: Any) -> Any:
        keyring.set_keyring(backend)
        installed.append(backend)
        return backend

    yield install
    keyring.core._keyring_backend = previous


@pytest.fixture
def store(use_keyring, memory_keyring) -> MemoryKeyring:
    """The in-memory keyring every in-process command of this test uses."""
    return use_keyring(memory_keyring)


@pytest.fixture
def cli(isolated_home, store, monkeypatch, capsys):
    """Run ``binance-key-wizard ARGS`` in-process with ``stdin`` as standard input."""

    def run(*argv: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def add_key(cli, sim):
    """``add`` a sim key (its own secret on stdin) against the sim; returns the Result."""

    def run(key_name: Any, label: str = LABEL, *extra: str) -> Result:
        key = sim.keys[key_name] if isinstance(key_name, str) else key_name
        return cli("add", label, "--api-key", key.api_key, "--base-url", sim.base_url, "--json", *extra,
                   stdin=key.secret + "\n")

    return run


def registry_labels() -> list[str]:
    from wizard.registry import Registry

    return [record.label for record in Registry().all()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_profile(tmp_path: Path, *, purpose: str = "read", require_ip: bool = False, name: str = "acme") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[product]\nname = "Acme Tracker"\n\n[key]\npurpose = "{purpose}"\nrotation_days = 30\n\n'
        f"[ip]\negress = [\"203.0.113.10\"]\nrequire_restriction = {str(require_ip).lower()}\n"
    )
    return path


# --- exit 0 ------------------------------------------------------------------------------------


def test_add_read_only_key_is_stored_and_recorded(add_key, sim, store):
    result = add_key("read_only")
    assert result.code == 0, result.err
    data = result.json
    assert data["label"] == LABEL and data["ok"] is True and data["exit_code"] == 0
    assert data["permissions"]["reading"] is True and data["permissions"]["withdrawals"] is False
    assert registry_labels() == [LABEL]
    from wizard.vault import Vault

    stored = Vault(store).load(LABEL)
    assert stored.api_key == sim.keys["read_only"].api_key
    assert stored.secret.reveal() == sim.keys["read_only"].secret
    assert stored.base_url == sim.base_url


def test_add_spot_key_for_a_trading_bot(add_key):
    result = add_key("spot_trading", LABEL, "--purpose", "spot")
    assert result.code == 0, result.err
    assert result.json["permissions"]["spot_trading"] is True
    assert registry_labels() == [LABEL]


def test_add_human_output_is_one_line_plus_findings(cli, sim):
    key = sim.create_key(label="no-ip")  # reading only, no IP allowlist
    result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, stdin=key.secret)
    assert result.code == 0
    first, *rest = result.out.splitlines()
    assert LABEL in first and "Stored" in first
    # Not IP-restricted: a warning with its fix, but still exit 0.
    assert any("ip_unrestricted" in line for line in rest)
    assert any("fix:" in line for line in rest)


def test_add_ed25519_key_from_private_key_file(cli, sim, tmp_path):
    key = sim.keys["ed25519"]
    pem = tmp_path / "key.pem"
    pem.write_text(key.private_key_pem.replace("\n", "\r\n") + "\r\n\r\n")  # a messy copy still works
    result = cli("add", LABEL, "--api-key", key.api_key, "--private-key-file", str(pem),
                 "--base-url", sim.base_url, "--json", *(["--purpose", "spot"] if key.restrictions.get(
                     "enableSpotAndMarginTrading") else []))
    assert result.code == 0, result.out + result.err
    assert key.private_key_pem.strip() not in result.out + result.err


# --- exit 1 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "purpose", "finding"),
    [
        ("withdrawals", "read", "withdrawals_enabled"),
        ("futures", "read", "futures_enabled"),
        ("futures", "spot", "futures_enabled"),  # trading missing too: the violation wins
        ("spot_trading", "read", "trading_not_needed"),
        ("internal_transfer", "read", "internal_transfer_enabled"),
    ],
)
def test_add_refuses_a_dangerous_or_unneeded_permission(add_key, store, preset, purpose, finding):
    result = add_key(preset, LABEL, "--purpose", purpose)
    assert result.code == 1, result.out
    assert finding in result.ids()
    blocking = [f for f in result.json["findings"] if f["id"] == finding][0]
    assert blocking["severity"] == "block" and blocking["fix"]
    assert registry_labels() == []
    assert not [k for k in store.entries if k[1] == LABEL]


def test_profile_requiring_ip_restriction_rejects_an_unrestricted_key(add_key, sim, tmp_path):
    profile = write_profile(tmp_path, require_ip=True)
    result = add_key(sim.create_key(label="no-ip"), LABEL, "--profile", str(profile))
    assert result.code == 1
    assert "ip_restriction_required" in result.ids()
    assert registry_labels() == []


# --- exit 2 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "api_key", "stdin", "finding"),
    [
        ("bot", None, "SECRET", "label_invalid"),
        (LABEL, "not-a-key", "SECRET", "api_key_invalid"),
        (LABEL, None, "", "secret_missing"),
        (LABEL, None, "   \n", "secret_missing"),
        (LABEL, None, "tooshort", "secret_invalid"),
    ],
)
def test_malformed_input_is_a_usage_error(cli, sim, label, api_key, stdin, finding):
    key = sim.keys["read_only"]
    stdin = key.secret if stdin == "SECRET" else stdin
    result = cli("add", label, "--api-key", api_key or key.api_key, "--base-url", sim.base_url, "--json",
                 stdin=stdin)
    assert result.code == 2
    assert result.ids() == {finding}
    assert "error:" in result.err  # the reason, on stderr
    assert sim.request_log == []  # nothing was sent
    assert registry_labels() == []


def test_bad_profile_is_a_usage_error_naming_the_problem(cli, sim, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[key]\npurpose = "withdraw"\n')
    key = sim.keys["read_only"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--profile", str(bad), "--base-url", sim.base_url,
                 stdin=key.secret)
    assert result.code == 2
    assert "bad.toml" in result.err


def test_argparse_usage_errors_exit_2(cli):
    with pytest.raises(SystemExit) as exc:
        cli("add", LABEL)  # --api-key missing
    assert exc.value.code == 2


def test_adding_an_existing_label_is_refused(add_key, sim):
    assert add_key("read_only").code == 0
    again = add_key("spot_trading", LABEL, "--purpose", "spot")
    assert again.code == 2 and again.ids() == {"label_exists"}


# --- exit 3 ------------------------------------------------------------------------------------


def test_check_unknown_label(cli):
    result = cli("check", "no-such-label", "--json")
    assert result.code == 3
    assert result.json["exit_code"] == 3
    assert result.ids() == {"credentials_missing"}


def test_check_with_no_managed_keys_is_not_ok(cli):
    result = cli("check")
    assert result.code == 3
    assert "No keys are managed" in result.out


@pytest.mark.parametrize("backend", ["keyring.backends.null.Keyring", "keyring.backends.fail.Keyring"])
def test_unusable_keyring_stores_nothing(cli, sim, use_keyring, backend):
    module, _, name = backend.rpartition(".")
    use_keyring(getattr(__import__(module, fromlist=[name]), name)())
    key = sim.keys["read_only"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, "--json", stdin=key.secret)
    assert result.code == 3
    assert result.ids() == {"keyring_unusable"}
    assert result.json["findings"][0]["fix"]
    assert registry_labels() == []
    assert sim.request_log == []  # the keyring is checked before the key is sent anywhere


def test_check_with_an_unusable_keyring(add_key, cli, use_keyring):
    from keyring.backends import null

    assert add_key("read_only").code == 0
    use_keyring(null.Keyring())
    result = cli("check", "--json")
    assert result.code == 3 and result.ids() == {"keyring_unusable"}


def test_check_when_the_keyring_entry_is_gone(add_key, cli, store):
    assert add_key("read_only").code == 0
    store.entries.clear()
    result = cli("check", LABEL, "--json")
    assert result.code == 3 and result.ids() == {"credentials_missing"}


# --- exit 4 ------------------------------------------------------------------------------------


def test_add_deleted_key_is_rejected(add_key):
    result = add_key("deleted")
    assert result.code == 4
    assert "key_invalid" in result.ids()
    assert registry_labels() == []


WRONG_SECRET = (SENTINEL_SECRET + "0" * 64)[:64]  # secret-shaped, and carries the sentinel


def test_add_with_the_wrong_secret_is_rejected_and_never_echoed(cli, sim):
    key = sim.keys["read_only"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, "--json",
                 stdin=WRONG_SECRET)
    assert result.code == 4
    assert "signature_invalid" in result.ids()
    assert SENTINEL_SECRET not in result.out + result.err
    assert registry_labels() == []


def test_malformed_secret_is_never_echoed(cli, sim):
    key = sim.keys["read_only"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, stdin=SENTINEL_SECRET + "-x")
    assert result.code == 2
    assert "SENTINEL" not in result.out + result.err


def test_ip_not_allowed(add_key, sim):
    sim.set_ip_allowlist(sim.keys["read_only"].api_key, ["203.0.113.7"])
    result = add_key("read_only")
    assert result.code == 4
    assert "ip_not_allowed" in result.ids()


def test_check_after_the_key_was_deleted_on_the_exchange(add_key, cli, sim):
    assert add_key("read_only").code == 0
    sim.delete_key(sim.keys["read_only"].api_key)
    result = cli("check", "--json")
    assert result.code == 4 and "key_invalid" in result.ids()


def test_spot_key_whose_trading_was_switched_off(add_key, cli, sim):
    assert add_key("spot_trading", LABEL, "--purpose", "spot").code == 0
    sim.set_permission(sim.keys["spot_trading"].api_key, "enableSpotAndMarginTrading", False)
    result = cli("check", LABEL, "--json")
    assert result.code == 4 and "trading_missing" in result.ids()


# --- exit 5 ------------------------------------------------------------------------------------


def test_unreachable_exchange(cli, sim):
    key = sim.keys["read_only"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", f"http://127.0.0.1:{free_port()}",
                 "--json", stdin=key.secret)
    assert result.code == 5
    assert registry_labels() == []


def test_server_errors_beyond_retries(add_key, sim):
    sim.faults.fail_next(50, status=503)
    result = add_key("read_only")
    assert result.code == 5
    assert registry_labels() == []


def test_rate_limited(add_key, sim):
    sim.weight_limit = 0
    result = add_key("read_only")
    assert result.code == 5
    assert any(e.status == 429 for e in sim.request_log)


def test_ip_banned(add_key, sim):
    sim.faults.ban_for(60)
    assert add_key("read_only").code == 5


def test_check_when_the_sim_is_gone(add_key, cli, sim):
    assert add_key("read_only").code == 0
    sim.stop_in_thread()
    try:
        result = cli("check", LABEL, "--json")
    finally:
        sim.start_in_thread(port=0)
    assert result.code == 5
    assert result.json["keys"][0]["ok"] is False


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
        assert secret not in result.out + result.err
    for path in Path(isolated_home).rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


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
    label = f"spot-bot-{os.getpid()}"
    argv = ["add", label, "--api-key", key.api_key, "--purpose", "spot", "--base-url", sim.base_url]
    assert key.secret not in argv
    try:
        added = run_wizard(*argv, stdin=key.secret + "\n")
        assert added.returncode == 0, added.stderr
        assert key.secret not in added.stdout + added.stderr
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
    assert SENTINEL_SECRET not in proc.stdout + proc.stderr
    assert secret_service_keyring.get_password("binance-key-wizard", LABEL) is None


@pytest.mark.parametrize(
    ("argv", "finding"),
    [
        (["--purpose", "read"], "purpose_conflict"),
        (["--base-url", "http://203.0.113.5:8080"], "base_url_insecure"),
        (["--base-url", "ftp://127.0.0.1"], "base_url_invalid"),
    ],
)
def test_contradictory_or_unsafe_options_are_usage_errors(cli, sim, argv, finding):
    profile = ROOT / "wizard" / "examples" / "spot-bot.toml"
    key = sim.keys["spot_trading"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--profile", str(profile), "--json", *argv,
                 stdin=key.secret)
    assert result.code == 2 and result.ids() == {finding}
    assert sim.request_log == []
