"""`add` and `check` exit codes 0-5, end to end: real CLI parsing, real python-binance, the simulator
and an in-memory keyring, run in-process. Exit 0 stores and records a key (HMAC and Ed25519, JSON
and human output); 1 refuses dangerous or unneeded permissions and a profile's IP requirement; 2
covers malformed input, bad profiles, argparse errors, duplicate labels and contradictory or unsafe
options; 3 an unknown label, no managed keys, an unusable keyring or a vanished keyring entry; 4
keys the exchange rejects (deleted, wrong secret, IP not allowed, trading switched off); 5 an
unreachable, failing, rate-limiting or banning exchange. Secrets are never echoed, and a refused key
is never stored. Shared fixtures live in tests/cli_helpers.py.
"""

from __future__ import annotations

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
from tests.leaks import assert_no_leak


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



def test_add_with_the_wrong_secret_is_rejected_and_never_echoed(cli, sim):
    key = sim.keys["read_only"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, "--json",
                 stdin=WRONG_SECRET)
    assert result.code == 4
    assert "signature_invalid" in result.ids()
    assert_no_leak(result.out + result.err)
    assert registry_labels() == []


def test_malformed_secret_is_never_echoed(cli, sim):
    key = sim.keys["read_only"]
    result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", sim.base_url, stdin=SENTINEL_SECRET + "-x")
    assert result.code == 2
    assert "SENTINEL" not in result.out + result.err


def test_ip_not_allowed(add_key, sim):  # the IP, or Enable Reading: both named
    sim.set_ip_allowlist(sim.keys["read_only"].api_key, ["203.0.113.7"])
    result = add_key("read_only")
    assert result.code == 4
    assert "read_refused" in result.ids()


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
