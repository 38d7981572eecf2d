"""``binance-key-wizard forget LABEL``: remove what an unfinished add left behind (or, with
``--yes``, a managed key) from its store (wherever the record says it lives) and the registry.

Run under the label's lock, so it never races an ``add`` of the same label. The
store entry goes first; the registry record only once the store confirms the
delete, so a failure halfway still leaves a record that ``check`` reports.
Deleting a key here does not delete it in Binance: the message says so.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from wizard.lifecycle import EXIT_CREDENTIALS, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from wizard.registry import Registry
    from wizard.review import Printer

LOCK_WAIT_SECONDS = 2.0


def forget(args: argparse.Namespace) -> int:
    """Delete ``args.label``'s store entry and record; exit 0, 2 (refused/busy) or 3 (store/registry)."""
    from wizard import commands
    from wizard.hardening import harden_process
    from wizard.locking import LockBusy
    from wizard.registry import RegistryError
    from wizard.review import Printer

    harden_process()  # deleting reads the entry (it holds the secret) first
    out, label = Printer(json_mode=False), args.label
    try:
        registry = commands.open_registry()
        lock = registry.label_lock(label)
        lock.acquire(LOCK_WAIT_SECONDS)
    except LockBusy:
        out.error(f"Another binance-key-wizard run is adding {label!r} right now.",
                  "Wait for it to finish, then run `binance-key-wizard review`.")
        return EXIT_USAGE
    except (RegistryError, OSError) as exc:
        out.error(f"The registry can't be used: {getattr(exc, 'strerror', None) or exc}")
        return EXIT_CREDENTIALS
    try:
        return _forget_locked(registry, label, bool(args.yes), out)
    finally:
        lock.release()


def _forget_locked(registry: Registry, label: str, confirmed: bool, out: Printer) -> int:
    from wizard import commands
    from wizard.adding import is_managed
    from wizard.registry import RegistryError
    from wizard.stores import StoreError, open_store_for

    try:
        record = registry.get(label)
    except RegistryError as exc:
        out.error(str(exc))
        return EXIT_CREDENTIALS
    if is_managed(record) and not confirmed:
        out.error(f"{label!r} is a verified key in use; forget would remove it from its store for good.",
                  f"To replace it use `binance-key-wizard rotate {label}`. To remove it anyway run "
                  f"`binance-key-wizard forget {label} --yes` (then delete the key in Binance too).")
        return EXIT_USAGE
    try:
        # Where the record says the key lives (any store); no record: the default keyring.
        existed = (open_store_for(record) if record is not None else commands.open_vault()).delete(label)
    except StoreError as exc:
        out.error(exc.problem.message, exc.problem.fix)
        return EXIT_CREDENTIALS
    except ValueError as exc:  # the record names a store URI this version can't open
        out.error(f"The record of {label!r} names a store that can't be opened: {exc}")
        return EXIT_CREDENTIALS
    try:
        recorded = registry.remove(label) if record is not None else False
    except RegistryError as exc:
        out.error(f"The stored key is gone, but the record could not be removed: {exc}")
        return EXIT_CREDENTIALS
    if not existed and not recorded:
        out.error(f"Nothing is stored or recorded under {label!r}.",
                  "`binance-key-wizard review` lists the labels you have.")
        return EXIT_CREDENTIALS
    parts = [p for p, done in (("the stored key", existed), ("the registry record", recorded)) if done]
    print(f"Forgot {label!r}: removed {' and '.join(parts)}. A key created in Binance stays valid "
          "there until you delete it in API Management.", file=sys.stdout)
    return EXIT_OK
