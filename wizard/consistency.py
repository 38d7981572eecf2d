"""Does the store agree with the registry? What ``check`` reports when they don't.

(A registry ``check`` can't write is reported by :mod:`wizard.fleet`, as ``registry_not_updated``.)

Store-agnostic: ``vault`` is anything with ``aload``; the registry is asked, never the
store's kind. :mod:`wizard.adding` makes the two agree while a key is added; this module
finds and names what a killed run (or an interrupted rotation) left, with the command that
resolves it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from wizard.lifecycle import EXIT_CREDENTIALS, KeyCheck, failed_check, finding

if TYPE_CHECKING:
    from wizard.registry import KeyRecord, Registry
    from wizard.stored_key import StoredKey


def with_mismatch_warning(result: KeyCheck, record: KeyRecord, stored: StoredKey) -> KeyCheck:
    """A warning when the store holds another key than the record names (a rotation killed
    between replacing the entry and recording it): the verdict is about the stored key."""
    from wizard.policy import Verdict
    from wizard.registry import fingerprint

    held = fingerprint(stored.api_key)
    if not record.fingerprint or held == record.fingerprint:
        return result
    warning = finding(
        "store_record_mismatch", "warn",
        f"The keyring holds key {held}, but the registry records {record.fingerprint} for "
        f"{record.label!r}: a rotation was probably interrupted. This check judged the stored key.",
        f"If {held} is the new key of a rotation, run `binance-key-wizard rotate {record.label}` again to "
        "finish it (the stored key stays until its successor is verified); if not, store the right key again.")
    return replace(result, verdict=Verdict((*result.verdict.findings, warning)))


async def unfinished_add_check(record: KeyRecord, vault: Any, registry: Registry) -> KeyCheck:
    """``check``'s verdict on a pending record (exit 3): an add still running, or one that died,
    and then whether the store holds the secret it was writing, with the exact commands to resolve it."""
    label = record.label
    if registry.label_lock(label).held_elsewhere():
        return failed_check(label, EXIT_CREDENTIALS, finding(
            "add_in_progress", "block", f"A key labelled {label!r} is being added by another run right now.",
            f"Run `binance-key-wizard check {label}` again when that run has finished."))
    try:
        await vault.aload(label)
        left = "the key was written to the keyring, but its stored copy was never verified"
    except Exception:  # noqa: BLE001 - not found, or the store can't say: either way not usable
        left = "no usable key was stored"
    return failed_check(label, EXIT_CREDENTIALS, finding(
        "add_unfinished", "block",
        f"The run that added {label!r} stopped before finishing: {left}. Nothing serves this key.",
        f"Finish it with `binance-key-wizard add {label} --api-key KEY` (the same key; it replaces what "
        f"was left), or remove what was left with `binance-key-wizard forget {label}`."))
