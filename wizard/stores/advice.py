"""What to tell a user on a machine where no store works: every store, a sentence and a command each.

There is no plaintext store and no silent fallback to one: when the chosen
store can't hold a key, the user is shown how to set up each real one.
"""

from __future__ import annotations

from wizard.keyring_health import KeyringProblemKind

# Problems that mean "this store does not exist or can't work here" (not "try again").
MISSING_KINDS = frozenset({
    KeyringProblemKind.NO_BACKEND, KeyringProblemKind.NULL_BACKEND, KeyringProblemKind.PLAINTEXT_BACKEND,
    KeyringProblemKind.UNAVAILABLE, KeyringProblemKind.UNREACHABLE, KeyringProblemKind.UNAUTHENTICATED,
})

STORES = (
    ("OS keyring (a desktop, or a server with a D-Bus session): the default, `--store keyring`.",
     "sudo apt-get install -y gnome-keyring dbus && dbus-run-session -- bash  "
     "# then unlock it: printf '%s' \"$KP\" | gnome-keyring-daemon --unlock --components=secrets"),
    ("systemd credentials (one Linux server, the bot runs as a systemd service): encrypted with the TPM2 "
     "or the host key, handed to the unit with LoadCredentialEncrypted=.",
     "sudo binance-key-wizard add LABEL --api-key KEY --store systemd-creds:/etc/binance-key-wizard/creds"),
    ("Vault or OpenBao (a fleet of servers sharing keys): KV version 2, token from VAULT_TOKEN or an AppRole "
     "(VAULT_ROLE_ID + VAULT_SECRET_ID), never from the command line.",
     "read -rs VAULT_TOKEN && export VAULT_TOKEN && binance-key-wizard add LABEL --api-key KEY "
     "--store vault+https://vault.example:8200/secret/bots"),
)


def setup_advice() -> str:
    """Every store there is, how to set each up; ends by saying there is no plaintext store."""
    lines = ["The key can be kept in one of these stores (there is no plaintext store):"]
    for sentence, command in STORES:
        lines += [f"  - {sentence}", f"      {command}"]
    return "\n".join(lines)


def with_setup_advice(fix: str, kind: KeyringProblemKind) -> str:
    """``fix``, followed by :func:`setup_advice` when the problem means the store can't work here."""
    return f"{fix}\n{setup_advice()}" if kind in MISSING_KINDS else fix
