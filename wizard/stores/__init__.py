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

from __future__ import annotations

from importlib import import_module
from typing import Any

# Loaded on first use (PEP 562): importing wizard.stores.uri for a --store check before the
# first frame must not pull in asyncio, threading and the keyring diagnosis.
_WHERE = {
    "setup_advice": "advice",
    "ProblemKind": "base", "SecretStore": "base", "StoreError": "base", "StoreProblem": "base",
    "UNRECORDED_FACTS": "locate", "is_unrecorded": "locate", "open_store": "locate",
    "open_store_for": "locate", "record_from_stored": "locate", "resolve": "locate",
    "StoreURI": "uri", "StoreURIError": "uri", "parse_store_uri": "uri",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'wizard.stores' has no attribute {name!r}")
    value = getattr(import_module(f"wizard.stores.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
