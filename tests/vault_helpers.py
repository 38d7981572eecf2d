"""Shared helpers for the vault tests (tests/test_vault.py, tests/test_keyring_health.py).

A sample API key and ``hmac_key`` to build a StoredKey around the sentinel
secret, plus the duck-typed keyring stand-ins both modules use: a recording
backend, one that reports a locked collection, and one that hangs on reads.
"""

from __future__ import annotations

import time

from keyring.errors import KeyringLocked

from tests.conftest import SENTINEL_SECRET
from wizard.secret import Secret
from wizard.vault import StoredKey

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


def hmac_key(api_key: str = API_KEY, secret: str = SENTINEL_SECRET, **kw) -> StoredKey:
    return StoredKey(api_key, "hmac", Secret(secret), **kw)


class RecordingKeyring:
    """Stores like MemoryKeyring and records every password it was given."""

    priority = 1

    def __init__(self):
        self.entries: dict = {}
        self.given: list[str] = []

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.given.append(password)
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        self.entries.pop((service, username))


class LockedKeyring(RecordingKeyring):
    def get_password(self, service, username, password=None):
        raise KeyringLocked("Failed to unlock the collection!")

    set_password = delete_password = get_password


class SlowKeyring(RecordingKeyring):
    delay = 1.0

    def get_password(self, service, username):
        time.sleep(self.delay)
        return super().get_password(service, username)

