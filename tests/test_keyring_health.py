"""Vault (fast tier): keyring health diagnosis and backend problems.

Which backends the vault refuses and why (no backend, null, plaintext files,
unavailable, locked, chained), the read-back and timeout checks, the Windows
Credential Manager size limit, and the OS-specific fixes it suggests. Backends
here are real `keyring` backends (tests.keyrings.MemoryKeyring, keyring's own
fail/null backends) or small duck-typed stand-ins named like the backends they
act out (keyrings.alt's file keyrings, Windows, the chainer): the vault judges a
backend by its class and module, so no package needs installing.
"""

from __future__ import annotations

import time

import pytest
from keyring.backends import fail, null

from tests.conftest import SENTINEL_SECRET
from tests.keyrings import MemoryKeyring
from tests.vault_helpers import LockedKeyring, RecordingKeyring, SlowKeyring, hmac_key
from wizard.secret import Secret
from wizard.vault import SERVICE, KeyringProblemKind, Vault, VaultError


class PlaintextKeyring(RecordingKeyring):
    __module__ = "keyrings.alt.file"
    priority = 0.5


class EncryptedKeyring(RecordingKeyring):
    __module__ = "keyrings.alt.file"
    priority = 0.6


class WinVaultKeyring(RecordingKeyring):
    __module__ = "keyring.backends.Windows"
    priority = 5


class LowPriorityKeyring(RecordingKeyring):
    priority = 0.5


class UnreachableKeyring(RecordingKeyring):
    @property
    def priority(self):
        raise RuntimeError("The Secret Service daemon is neither running nor activatable through D-Bus")


class ChainerBackend:
    """Stands in for keyring.backends.chainer.ChainerBackend (recognised by class name)."""

    __module__ = "keyring.backends.chainer"
    priority = 10

    def __init__(self, backends):
        self.backends = backends


# -- health ------------------------------------------------------------------


def test_memory_keyring_is_healthy_and_the_probe_is_removed(memory_keyring):
    assert Vault(memory_keyring).check_health() is None
    assert memory_keyring.entries == {}


@pytest.mark.parametrize(
    ("backend", "kind"),
    [
        (fail.Keyring(), KeyringProblemKind.NO_BACKEND),
        (null.Keyring(), KeyringProblemKind.NULL_BACKEND),
        (PlaintextKeyring(), KeyringProblemKind.PLAINTEXT_BACKEND),
        (EncryptedKeyring(), KeyringProblemKind.PLAINTEXT_BACKEND),
        (LowPriorityKeyring(), KeyringProblemKind.UNAVAILABLE),
        (UnreachableKeyring(), KeyringProblemKind.UNAVAILABLE),
        (LockedKeyring(), KeyringProblemKind.LOCKED),
        (ChainerBackend([]), KeyringProblemKind.NO_BACKEND),
        (ChainerBackend([PlaintextKeyring(), null.Keyring()]), KeyringProblemKind.PLAINTEXT_BACKEND),
    ],
    ids=lambda v: v.name if isinstance(v, KeyringProblemKind) else type(v).__name__,
)
def test_unusable_backends_are_named_with_a_fix(backend, kind):
    problem = Vault(backend).check_health()
    assert problem is not None and problem.kind is kind
    assert problem.message and problem.fix and problem.exit_code == 3
    with pytest.raises(VaultError) as info:
        Vault(backend).store("bot", hmac_key())
    assert info.value.problem.kind is kind and info.value.exit_code == 3
    assert getattr(backend, "given", []) == []  # refused before a single write


def test_locked_fix_says_how_to_unlock():
    problem = Vault(LockedKeyring()).check_health()
    assert "unlock" in problem.fix.lower()


def test_a_null_store_is_caught_by_the_read_back(memory_keyring):
    memory_keyring.drop_writes = True  # priority 1: passes the static check, stores nothing
    assert Vault(memory_keyring).check_health().kind is KeyringProblemKind.READBACK_MISMATCH
    with pytest.raises(VaultError) as info:
        Vault(memory_keyring).store("bot", hmac_key())
    assert info.value.problem.kind is KeyringProblemKind.READBACK_MISMATCH
    assert memory_keyring.entries == {}


def test_a_chain_with_an_os_keyring_uses_it_and_never_the_file():
    plaintext, memory = PlaintextKeyring(), MemoryKeyring()
    vault = Vault(ChainerBackend([plaintext, memory]))
    assert vault.check_health() is None
    vault.store("bot", hmac_key())
    assert plaintext.given == [] and vault.load("bot").secret == Secret(SENTINEL_SECRET)


def test_timeout_is_reported_quickly_with_an_unlock_hint():
    started = time.monotonic()
    problem = Vault(SlowKeyring(), timeout=0.2).check_health()
    assert time.monotonic() - started < 0.9
    assert problem.kind is KeyringProblemKind.TIMEOUT
    assert "0.2 seconds" in problem.message and "prompt" in problem.fix


def test_default_vault_uses_keyring_get_keyring(monkeypatch, memory_keyring):
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", memory_keyring)
    Vault().store("bot", hmac_key())
    assert (SERVICE, "bot") in memory_keyring.entries


# -- backend limits ----------------------------------------------------------


def test_windows_credential_manager_size_limit():
    windows = WinVaultKeyring()
    huge = hmac_key(env="custom", base_url="https://example.test/" + "p" * 1300)
    with pytest.raises(VaultError) as info:
        Vault(windows).store("bot", huge)
    assert info.value.problem.kind is KeyringProblemKind.TOO_LARGE
    assert "1280" in info.value.problem.fix and windows.given == []
    Vault(windows).store("bot", hmac_key())  # a normal document fits
    Vault(MemoryKeyring()).store("bot", huge)  # other keyrings have no such limit


# -- OS-specific fixes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "headless", "needles"),
    [
        ("darwin", False, ["macOS Keychain"]),
        ("win32", False, ["Windows Credential Manager"]),
        ("linux", False, ["GNOME Keyring", "KWallet"]),
        ("linux", True, ["sudo apt-get install -y gnome-keyring dbus", "dbus-run-session -- bash",
                         "gnome-keyring-daemon --unlock --components=secrets"]),
    ],
)
def test_no_backend_fix_names_this_os_keyring(system, headless, needles):
    from wizard.keyring_health import fix_for

    text = fix_for(KeyringProblemKind.NO_BACKEND, system=system, headless=headless)
    for needle in needles:
        assert needle in text


@pytest.mark.parametrize(
    ("system", "headless", "needle"),
    [
        ("darwin", False, "security unlock-keychain"),
        ("win32", False, "Sign in to Windows"),
        ("linux", False, "seahorse"),
        ("linux", True, "gnome-keyring-daemon --replace --unlock"),
    ],
)
def test_locked_fix_is_os_specific(system, headless, needle):
    from wizard.keyring_health import fix_for

    assert needle in fix_for(KeyringProblemKind.LOCKED, system=system, headless=headless)
    assert needle in fix_for(KeyringProblemKind.TIMEOUT, system=system, headless=headless)


def test_misconfiguration_fixes_point_at_the_config():
    from wizard.keyring_health import fix_for

    for kind in (KeyringProblemKind.NULL_BACKEND, KeyringProblemKind.PLAINTEXT_BACKEND,
                 KeyringProblemKind.READBACK_MISMATCH):
        assert "PYTHON_KEYRING_BACKEND" in fix_for(kind, system="darwin")
    assert "pip uninstall keyrings.alt" in fix_for(KeyringProblemKind.PLAINTEXT_BACKEND, system="win32")
