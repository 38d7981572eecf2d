"""Adding a key under a new label so that concurrent or interrupted runs never lose or orphan one.

The order is what makes it safe, whichever store holds the secret:

1. take the label's cross-process lock (:class:`~wizard.locking.LabelLock`; the OS
   drops it if the process dies), and under it check that no verified record
   has the label: of two runs at once exactly one gets past this point;
2. write a *pending* record (the intent) before the secret is written, so a
   secret is never in the store without a record pointing at it;
3. the caller stores the secret and proves the stored copy works, then awaits
   :meth:`NewLabel.finish`, which writes the final record;
4. anything else (a failed check, an exception, Ctrl+C, a cancelled worker)
   rolls back: the secret is deleted and, only once the store confirms that, the
   pending record goes too.

A run killed with ``kill -9`` (or a store that dies) between 2 and 4 leaves the
pending record behind; ``check`` and ``review`` report it, and ``add`` of the
same label (which finds the lock free, so that run is dead) or ``forget``
resolves it. No Textual, no store-specific code: ``vault`` is anything with
``adelete``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Any

from wizard.locking import LockBusy

if TYPE_CHECKING:
    from wizard.registry import KeyRecord, Registry

# Long enough for another run's store + read-back + one signed call (each bounded by its own
# timeout); a run still holding the lock after this is reported as busy, not waited for forever.
LOCK_WAIT_SECONDS = 30.0


class LabelTaken(Exception):
    """A verified key already has this label."""

    def __init__(self, label: str) -> None:
        super().__init__(f"A key labelled {label!r} is already managed.")
        self.label = label


class LabelBusy(Exception):
    """Another run is adding a key under this label right now (it held the lock for the whole wait)."""

    def __init__(self, label: str) -> None:
        super().__init__(f"Another binance-key-wizard run is adding a key labelled {label!r} right now.")
        self.label = label


def is_managed(record: KeyRecord | None) -> bool:
    """True for a record of a verified key (a pending one is an unfinished add, not a key)."""
    return record is not None and not getattr(record, "pending", False)


class NewLabel:
    """``async with NewLabel(registry, vault, record) as claim:`` — store, verify, ``await claim.finish()``.

    Leaving the block without :meth:`finish` (failure, exception, cancellation)
    deletes whatever was stored and the pending record. Raises
    :class:`LabelTaken`, :class:`LabelBusy` or ``RegistryError`` on entry, before
    anything is written.
    """

    def __init__(self, registry: Registry, vault: Any, record: KeyRecord, *,
                 wait: float = LOCK_WAIT_SECONDS) -> None:
        self.registry, self.vault, self.record, self.wait = registry, vault, record, wait
        self.label = record.label
        self.finished = False
        self.rolled_back: bool | None = None  # None: nothing to undo; False: undo failed (record stays)
        self._open = False
        self._lock = registry.label_lock(self.label)

    async def __aenter__(self) -> NewLabel:
        from wizard.registry import RegistryError

        try:
            await self._lock.aacquire(self.wait)
        except LockBusy:
            raise LabelBusy(self.label) from None
        except OSError as exc:  # the lock file can't be made: same sentence as any registry I/O error
            raise RegistryError(str(exc.strerror or exc), kind="io") from None
        try:
            # Under the lock, a pending record is a dead run's: this run takes the label over.
            # Registry I/O runs off the event loop (its own lock may make it wait).
            current = await asyncio.to_thread(self.registry.get, self.label)
            if is_managed(current):
                raise LabelTaken(self.label)
            if current is not None:
                await self._clear_other_store(current)
            await asyncio.to_thread(self.registry.put, dataclasses.replace(self.record, pending=True))
        except BaseException:
            self._lock.release()
            raise
        self._open = True
        return self

    async def _clear_other_store(self, stale: KeyRecord) -> None:
        """A dead run's pending record naming another store: delete its leftover there first, or
        overwriting the record would orphan it (a StoreError from that store stops this run)."""
        if stale.store_uri == self.record.store_uri:
            return  # the same store: this run's write replaces the leftover
        from wizard.stores import open_store_for

        await open_store_for(stale).adelete(self.label)

    async def finish(self, record: KeyRecord | None = None) -> None:
        """The stored copy is proven: write the final record (``record``, default the one given)."""
        await asyncio.to_thread(self.registry.put, dataclasses.replace(record or self.record, pending=False))
        self.finished = True

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        """Roll back unless finished, and release the lock (a second call does nothing)."""
        if not self._open:
            return
        self._open = False
        try:
            if not self.finished:
                self.rolled_back = await self._roll_back()
        finally:
            self._lock.release()

    async def _roll_back(self) -> bool:
        """Delete the secret, then the pending record; keep the record if the store can't confirm."""
        try:
            # Shielded: a second Ctrl+C must not leave the secret stored and the record gone.
            await asyncio.shield(self.vault.adelete(self.label))
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 - the pending record reports it
            return False
        try:
            await asyncio.to_thread(self.registry.remove, self.label)
        except Exception:  # noqa: BLE001 - a pending record without a secret: check reports it
            return False
        return True

