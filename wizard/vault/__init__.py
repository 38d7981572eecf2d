"""The OS keyring store, under its old import path (a package, so git sees vault.py moved).

The code moved to :mod:`wizard.stores.keyring_store` when the keyring became
one of several stores (:mod:`wizard.stores`); this module re-exports every
public name of it, so ``from wizard.vault import Vault, VaultError, StoredKey``
keeps working.
"""

from wizard.stores.keyring_store import *  # noqa: F401,F403 - the re-export is the point
from wizard.stores.keyring_store import KeyringProblem, KeyringProblemKind, StoredKey, Vault, VaultError  # noqa: F401
