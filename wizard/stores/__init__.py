"""Secret stores: one protocol, one module per store, one place that says where a label lives.

- :class:`~wizard.stores.base.SecretStore` — the protocol (health, store, load,
  replace, delete, labels; ``a*`` async variants) and :class:`StoreError`, the one
  error type (``.problem`` with a sentence and a fix; ``.exit_code`` 3).
- :mod:`wizard.stores.uri` — the one parser of store URIs (``keyring``,
  ``keyring:SERVICE``, ``systemd-creds:DIR``, ``vault+https://HOST:PORT/MOUNT/PREFIX``).
- :mod:`~wizard.stores.keyring_store` (the OS keyring), :mod:`~wizard.stores.systemd_creds`,
  :mod:`~wizard.stores.openbao` (Vault/OpenBao KV v2) — one module per store.
- :func:`resolve` — a label's store and this machine's record of it.

Everything heavy (keyring, hvac) is imported inside calls.
"""

from wizard.stores.advice import setup_advice
from wizard.stores.base import ProblemKind, SecretStore, StoreError, StoreProblem
from wizard.stores.resolve import (
    UNRECORDED_FACTS,
    is_unrecorded,
    open_store,
    open_store_for,
    record_from_stored,
    resolve,
)
from wizard.stores.uri import StoreURI, StoreURIError, parse_store_uri

__all__ = [
    "UNRECORDED_FACTS", "ProblemKind", "SecretStore", "StoreError", "StoreProblem", "StoreURI", "StoreURIError",
    "is_unrecorded", "open_store", "open_store_for", "parse_store_uri", "record_from_stored", "resolve",
    "setup_advice",
]
