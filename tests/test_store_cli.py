"""``add``/``check``/``review --store`` and ``load_credentials`` with the real stores, against the simulator.

Three "servers" (separate HOME/XDG dirs, each with its own OpenBao token or
AppRole) share keys through one OpenBao; ``check --store`` from one of them
sees all three. A key in systemd credentials reaches a bot through
``$CREDENTIALS_DIRECTORY`` as a unit's ``LoadCredentialEncrypted=`` hands it over.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli_helpers import LABEL, Result, add_key, cli, registry_labels, store, use_keyring  # noqa: F401
from tests.conftest import SENTINEL_SECRET
from tests.store_fixtures import bao_env, creds_dir, files_holding_piece, openbao, unique_prefix  # noqa: F401
from wizard.credentials import CredentialsError, load_credentials
from wizard.registry import Registry


@pytest.fixture
def sentinel_key(sim):
    """The simulator's read-only key, its secret replaced by the sentinel."""
    key = sim.keys["read_only"]
    key.secret = SENTINEL_SECRET
    return key


def test_add_to_systemd_creds_then_check_and_load_through_the_registry(add_key, cli, creds_dir, sentinel_key,
                                                                       isolated_home, sim):
    uri = f"systemd-creds:{creds_dir}"
    added = add_key(sentinel_key, LABEL, "--store", uri)
    assert added.code == 0, added.out + added.err
    note = next(f for f in added.json["findings"] if f["id"] == "stored_in")
    assert "host key" in note["message"] or "TPM2" in note["message"]
    cred = creds_dir / f"{LABEL}.cred"
    assert cred.stat().st_mode & 0o777 == 0o600
    assert Registry().get(LABEL).store == uri
    assert cli("check", LABEL, "--json").code == 0  # the registry says where the key lives
    creds = load_credentials(LABEL)
    assert creds.api_key == sentinel_key.api_key and creds.secret.reveal() == SENTINEL_SECRET
    assert files_holding_piece(creds_dir, SENTINEL_SECRET) == []
    assert files_holding_piece(isolated_home, SENTINEL_SECRET) == []


def test_a_unit_reads_the_key_from_credentials_directory_without_registry_or_root_key(
        add_key, creds_dir, sentinel_key, tmp_path, monkeypatch):
    assert add_key(sentinel_key, LABEL, "--store", f"systemd-creds:{creds_dir}").code == 0
    # What systemd does for LoadCredentialEncrypted=LABEL:DIR/LABEL.cred: decrypt into a private dir.
    handed = tmp_path / "run-credentials"
    handed.mkdir(mode=0o700)
    with open(handed / LABEL, "wb") as out:
        subprocess.run(["systemd-creds", "decrypt", f"--name={LABEL}", str(creds_dir / f"{LABEL}.cred"), "-"],
                       stdout=out, check=True)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(handed))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "bot-user-config"))  # the bot's user has no registry
    (creds_dir / f"{LABEL}.cred").unlink()  # and no access to the encrypted file either
    creds = load_credentials(LABEL)
    assert creds.api_key == sentinel_key.api_key and creds.secret.reveal() == SENTINEL_SECRET


def test_a_label_with_spaces_is_refused_by_systemd_creds_with_the_fix(add_key, creds_dir, sentinel_key):
    result = add_key(sentinel_key, "tracker vps 1", "--store", f"systemd-creds:{creds_dir}")
    assert result.code == 3
    assert "tracker-vps-1" in json.dumps(result.json["findings"])
    assert not creds_dir.exists() or not any(creds_dir.iterdir())


def test_no_usable_store_lists_every_store_and_how_to_set_it_up(cli, use_keyring, sim):
    from keyring.backends import null

    use_keyring(null.Keyring())
    result = cli("add", LABEL, "--api-key", sim.keys["read_only"].api_key, "--base-url", sim.base_url,
                 stdin=sim.keys["read_only"].secret + "\n")
    assert result.code == 3
    for words in ("systemd-creds:/", "vault+https://", "VAULT_TOKEN", "there is no plaintext store"):
        assert words in result.err, words
    assert sim.keys["read_only"].secret not in result.out + result.err


def test_a_profile_store_uri_is_where_add_stores(add_key, creds_dir, sentinel_key, tmp_path):
    profile = tmp_path / "acme.toml"
    profile.write_text(f'[product]\nname = "Acme"\n\n[key]\npurpose = "read"\n\n[store]\nuri = "systemd-creds:{creds_dir}"\n')
    assert add_key(sentinel_key, LABEL, "--profile", str(profile)).code == 0
    assert (creds_dir / f"{LABEL}.cred").exists()


# --- a fleet ---------------------------------------------------------------------------------


class Fleet:
    """Servers with their own HOME/XDG dirs and their own OpenBao credentials, one at a time."""

    def __init__(self, openbao, prefix, tmp_path, monkeypatch, cli):
        self.openbao, self.prefix, self.tmp, self.monkeypatch, self.cli = openbao, prefix, tmp_path, monkeypatch, cli
        self.uri = openbao.uri(prefix)
        policy = (f'path "secret/data/{prefix}/*" {{ capabilities = ["create","read","update","delete","list"] }}\n'
                  f'path "secret/metadata/{prefix}/*" {{ capabilities = ["create","read","update","delete","list"] }}\n'
                  f'path "secret/metadata/{prefix}" {{ capabilities = ["list"] }}\n')
        openbao.bao("policy", "write", f"fleet-{prefix}", "-", stdin=policy)
        role_id, secret_id = openbao.approle(f"fleet-{prefix}", f"fleet-{prefix}")
        self.logins = [
            {"VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id},
            {"VAULT_TOKEN": openbao.token_for(f"fleet-{prefix}", policy)},
            {"BAO_TOKEN": openbao.token_for(f"fleet-{prefix}", policy)},
        ]

    def on(self, server: int) -> None:
        """Become server ``server``: its HOME, config dir and login; nothing of the others."""
        home = self.tmp / f"server{server}"
        (home / ".config").mkdir(parents=True, exist_ok=True)
        for name in ("VAULT_TOKEN", "BAO_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID"):
            self.monkeypatch.delenv(name, raising=False)
        self.monkeypatch.setenv("HOME", str(home))
        self.monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        self.monkeypatch.setenv("VAULT_CACERT", str(self.openbao.ca_cert))
        for name, value in self.logins[server - 1].items():
            self.monkeypatch.setenv(name, value)

    def run(self, server: int, *argv: str, stdin: str = "") -> Result:
        self.on(server)
        return self.cli(*argv, stdin=stdin)


def test_three_servers_share_keys_through_one_openbao(openbao, unique_prefix, tmp_path, monkeypatch, cli, sim):
    fleet = Fleet(openbao, unique_prefix, tmp_path, monkeypatch, cli)
    keys = {}
    for server in (1, 2, 3):
        key = sim.create_key(label=f"bot-{server}", ip_allowlist=["127.0.0.1"], spot_trading=server == 3)
        keys[server] = key
        added = fleet.run(server, "add", f"bot-vps{server}", "--api-key", key.api_key, "--base-url", sim.base_url,
                          "--json", "--store", fleet.uri, *(["--purpose", "spot"] if server == 3 else []),
                          stdin=key.secret + "\n")
        assert added.code == 0, added.out + added.err
        assert registry_labels() == [f"bot-vps{server}"]  # each server's registry knows only its own key

    checked = fleet.run(1, "check", "--store", fleet.uri, "--json")
    assert checked.code == 0, checked.out
    by_label = {k["label"]: k for k in checked.json["keys"]}
    assert sorted(by_label) == ["bot-vps1", "bot-vps2", "bot-vps3"]
    assert all(k["ok"] for k in by_label.values())
    ids = {label: {f["id"] for f in k["findings"]} for label, k in by_label.items()}
    assert "not_recorded_here" not in ids["bot-vps1"]  # server 1 added it and has its record
    assert "not_recorded_here" in ids["bot-vps2"] and "not_recorded_here" in ids["bot-vps3"]

    reviewed = fleet.run(2, "review", "--store", fleet.uri, "--json")
    rows = {row["label"]: row for row in reviewed.json["keys"]}
    assert sorted(rows) == ["bot-vps1", "bot-vps2", "bot-vps3"]
    assert rows["bot-vps2"]["unrecorded"] == [] and "purpose" in rows["bot-vps1"]["unrecorded"]
    assert rows["bot-vps1"]["purpose"] == "unknown" and rows["bot-vps1"]["age"] == "?"

    fleet.on(3)  # a bot on server 3 loads server 1's key with server 3's own token
    creds = load_credentials("bot-vps1", store=fleet.uri)
    assert creds.api_key == keys[1].api_key
    with pytest.raises(CredentialsError) as caught:
        load_credentials("bot-vps9", store=fleet.uri)
    assert caught.value.kind == "unknown_label"

    # exec on server 3 hands server 1's key to a bot, read with server 3's own token.
    import os
    import sys

    bot = subprocess.run([sys.executable, "-m", "wizard", "exec", "bot-vps1", "--store", fleet.uri, "--",
                          sys.executable, "-c", "import os; print(os.environ['BINANCE_API_KEY'])"],
                         env={**os.environ}, capture_output=True, text=True, timeout=120)
    assert bot.returncode == 0, bot.stderr
    assert bot.stdout.strip() == keys[1].api_key
    assert keys[1].secret not in bot.stdout + bot.stderr

    # A second add of a label another server already stored is refused before the secret is read.
    again = fleet.run(2, "add", "bot-vps1", "--api-key", keys[2].api_key, "--base-url", sim.base_url, "--json",
                      "--store", fleet.uri, stdin=keys[2].secret + "\n")
    assert again.code == 2 and "label_exists" in again.ids()
    assert load_credentials("bot-vps1", store=fleet.uri).api_key == keys[1].api_key
    for server in (1, 2, 3):
        assert files_holding_piece(tmp_path / f"server{server}", keys[server].secret) == []


def test_add_to_keyring_service_records_that_service(add_key, store, sentinel_key):
    assert add_key(sentinel_key, LABEL, "--store", "keyring:acme-bots").code == 0
    record = Registry().get(LABEL)
    assert (record.service, record.store, record.store_uri) == ("acme-bots", "keyring:acme-bots", "keyring:acme-bots")
    assert ("acme-bots", LABEL) in store.entries
