"""``systemd-unit``: units systemd itself accepts (``systemd-analyze verify``), that load the
label's credential and start the bot through ``exec``; ``--watch`` adds a daily strict check."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli_helpers import cli, store, use_keyring  # noqa: F401 - fixture chain
from tests.exec_helpers import added  # noqa: F401 - fixture
from tests.systemd_oracle import split_command_line
from wizard.registry import Registry

CRED_DIR = "/etc/credstore.encrypted"
needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze not installed (Debian package systemd)")


def in_systemd_creds(label: str, directory: str = CRED_DIR) -> None:
    """Record that ``label`` lives in a ``systemd-creds:DIR`` store (what ``add --store`` records)."""
    Registry().update(label, store=f"systemd-creds:{directory}")


def verify(directory: Path, *names: str) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` on unit files (offline: no running systemd needed)."""
    return subprocess.run(["systemd-analyze", "verify", *(str(directory / n) for n in names)],
                          capture_output=True, text=True, timeout=60)


def _setting(text: str, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(key + "=")]


@pytest.fixture
def creds_label(added, sim):
    added("read_only", "bot-key-vps1")
    in_systemd_creds("bot-key-vps1")
    return "bot-key-vps1"


def test_the_unit_loads_the_credential_and_starts_the_bot_through_exec(cli, creds_label):
    result = cli("systemd-unit", creds_label, "--name", "tracker-bot", "--", sys.executable, "-m", "bot", "--dry")
    assert result.code == 0, result.err
    unit = result.out
    assert _setting(unit, "LoadCredentialEncrypted") == [f"{creds_label}:{CRED_DIR}/{creds_label}.cred"]
    argv = split_command_line(_setting(unit, "ExecStart")[0])
    assert Path(argv[0]).is_absolute() and Path(argv[0]).name == "binance-key-wizard"
    assert argv[1:] == ["exec", creds_label, "--", sys.executable, "-m", "bot", "--dry"]
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=read-only"):
        assert line in unit.splitlines()
    assert "Install: save as /etc/systemd/system/tracker-bot.service" in result.err


@needs_analyze
def test_systemd_accepts_the_units(cli, creds_label, tmp_path):
    (tmp_path / "alert-mail.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/true\n")
    result = cli("systemd-unit", creds_label, "--name", "tracker-bot", "--watch", "--on-failure", "alert-mail",
                 "--output-dir", str(tmp_path), "--", sys.executable, "-c", "print('bot')")
    assert result.code == 0, result.err
    names = ["tracker-bot.service", "tracker-bot-keycheck.service", "tracker-bot-keycheck.timer"]
    assert result.out.split() == [str(tmp_path / n) for n in names]
    checked = verify(tmp_path, *names)
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == "", checked.stderr  # not even a warning about an unknown setting
    timer = (tmp_path / names[2]).read_text()
    assert "OnCalendar=daily" in timer and "Persistent=true" in timer
    check_unit = (tmp_path / names[1]).read_text()
    assert "OnFailure=alert-mail.service" in check_unit
    assert "OnFailure=alert-mail.service" in (tmp_path / names[0]).read_text()  # the bot's failure too
    assert split_command_line(_setting(check_unit, "ExecStart")[0])[1:] == ["check", "--strict", creds_label]
    assert _setting(check_unit, "LoadCredentialEncrypted") == _setting((tmp_path / names[0]).read_text(),
                                                                        "LoadCredentialEncrypted")


@needs_analyze
def test_awkward_arguments_survive_systemd_quoting(cli, creds_label, tmp_path):
    awkward = ["two words", 'say "hi"', "$HOME", "${PATH}", "100%", "%n", ";", "back\\slash", "tab\there",
               "new\nline", "", "'single'", "ünïcødé", "--", "-x"]
    result = cli("systemd-unit", creds_label, "--name", "odd-bot", "--output-dir", str(tmp_path),
                 "--", sys.executable, *awkward)
    assert result.code == 0, result.err
    unit = (tmp_path / "odd-bot.service").read_text()
    assert split_command_line(_setting(unit, "ExecStart")[0])[4:] == [sys.executable, *awkward]
    checked = verify(tmp_path, "odd-bot.service")
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr


def test_a_label_outside_systemd_credentials_is_refused_with_how_to_move_it(cli, added):
    added("read_only", "keyring-key-laptop")
    result = cli("systemd-unit", "keyring-key-laptop", "--name", "bot", "--", "/bin/true")
    assert result.code == 2 and result.out == ""
    assert "not stored in systemd credentials" in result.err
    assert "--store systemd-creds:" in result.err


@pytest.mark.parametrize("argv, code, words", [
    (["no-such-label", "--name", "bot", "--", "/bin/true"], 3, "No managed key"),
    (["bot-key-vps1", "--name", "bad name!", "--", "/bin/true"], 2, "not a valid systemd unit name"),
    (["bot-key-vps1", "--name", "bot", "--on-failure", "alert", "--", "/bin/true"], 2, "--watch"),
    (["bot-key-vps1", "--name", "bot"], 2, "after `--`"),
    (["bot-key-vps1", "--name", "bot", "--", "no-such-bot-xyz"], 2, "absolute path"),
])
def test_bad_requests_say_what_to_do(cli, creds_label, argv, code, words):
    result = cli("systemd-unit", *argv)
    assert result.code == code, result.err
    assert words in result.err and "fix:" in result.err and result.out == ""


def test_a_bare_command_name_is_resolved_to_its_absolute_path(cli, creds_label):
    result = cli("systemd-unit", creds_label, "--name", "bot", "--", "env", "FOO=1")
    argv = split_command_line(_setting(result.out, "ExecStart")[0])
    assert argv[4:] == [str(Path(shutil.which("env")).resolve()), "FOO=1"]


# --- check --strict: what the daily timer runs ----------------------------------------------------


def test_check_strict_fails_when_binance_is_about_to_untick_trading(cli, added, sim):
    added("trading_unrestricted", "spot-bot-vps1")
    key = sim.keys["trading_unrestricted"]
    sim.set_permission(key.api_key, "tradingAuthorityExpirationTime", int((time.time() + 3 * 86400) * 1000))
    assert cli("check", "spot-bot-vps1").code == 0  # a warning: the bot still works today
    strict = cli("check", "--strict", "spot-bot-vps1")
    assert strict.code == 6, strict.out + strict.err
    assert "trading_expires_soon" in strict.err


def test_check_strict_passes_a_healthy_key(cli, added):
    added("read_only", "tracker-vps1")
    assert cli("check", "--strict", "tracker-vps1").code == 0


def test_on_failure_may_name_a_template_with_a_specifier(cli, creds_label):
    result = cli("systemd-unit", creds_label, "--name", "bot", "--watch", "--on-failure", "alert-mail@%n",
                 "--", "/bin/true")
    assert result.code == 0, result.err
    assert "OnFailure=alert-mail@%n.service" in result.out.splitlines()


def test_user_runs_the_bot_as_that_user_with_that_users_registry(cli, creds_label):
    import pwd

    nobody = pwd.getpwnam("nobody")
    result = cli("systemd-unit", creds_label, "--name", "bot", "--user", "nobody", "--", "/bin/true")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert "User=nobody" in lines
    assert f"ReadWritePaths=-{nobody.pw_dir}/.config/binance-key-wizard" in lines
    assert f"Environment=XDG_CONFIG_HOME={nobody.pw_dir}/.config" in lines
    assert cli("systemd-unit", creds_label, "--name", "bot", "--user", "no-such-user-xyz", "--", "/bin/true").code == 2
