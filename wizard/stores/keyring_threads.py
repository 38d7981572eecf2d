"""How a :class:`~wizard.stores.keyring_store.Vault` runs each keyring operation.

Moved out of :mod:`wizard.stores.keyring_store`. Every operation runs in a daemon
thread of its own under its label's lock, bounded by the vault's timeout: a
desktop keyring may sit behind an unlock prompt, and such a thread must neither
freeze the caller nor keep the process alive at exit. A caller that stops
waiting marks the operation abandoned, so it stops before its next change.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from wizard.keyring_health import KeyringProblemKind, problem
from wizard.stores import daemon_pool
from wizard.stores.base import StoreError

T = TypeVar("T")


class _Abandoned(Exception):
    """The caller stopped waiting; stop before the next step that changes anything."""


class _Op:
    """One vault operation running in its own daemon thread."""

    def __init__(self) -> None:
        self.abandoned = threading.Event()

    def check(self) -> None:
        if self.abandoned.is_set():
            raise _Abandoned


class ThreadedOps:
    """Runs ``fn(op, *args)`` in a daemon thread, one operation at a time per label.

    The class using it provides ``timeout`` (seconds), ``_locks`` (label -> lock),
    ``_locks_guard`` (a lock guarding ``_locks``), ``_name()`` (the backend's name,
    for messages) and ``_UNLABELLED`` (the lock name for operations without a label).
    """

    timeout: float
    _locks: dict[str, threading.Lock]
    _locks_guard: threading.Lock
    _UNLABELLED: str

    def _name(self) -> str:
        raise NotImplementedError

    def _start(self, fn: Callable[..., T], args: tuple) -> tuple[_Op, concurrent.futures.Future]:
        # A daemon thread, not an executor: a keyring stuck behind a prompt must not
        # keep the process alive at exit. Kept ones (daemon_pool): a fresh start per call stalls the loop.
        op, future = _Op(), concurrent.futures.Future()

        def body() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                with self._lock_for(str(args[0]) if args else self._UNLABELLED):
                    op.check()
                    result = fn(op, *args)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(exc)
            else:
                future.set_result(result)

        daemon_pool.submit(body)
        return op, future

    def _lock_for(self, label: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(label, threading.Lock())

    def _timed_out(self, op: _Op) -> StoreError:
        op.abandoned.set()
        seconds = f"{self.timeout:g}"
        return StoreError(
            problem(KeyringProblemKind.TIMEOUT, f"The keyring did not answer within {seconds} seconds.", self._name())
        )

    def _run(self, fn: Callable[..., T], *args: Any) -> T:
        op, future = self._start(fn, args)
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            raise self._timed_out(op) from None

    async def _arun(self, fn: Callable[..., T], *args: Any) -> T:
        op, future = self._start(fn, args)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except asyncio.TimeoutError:
            raise self._timed_out(op) from None
        except asyncio.CancelledError:
            op.abandoned.set()
            raise
