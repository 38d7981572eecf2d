"""The one protocol every secret store follows, its one error type, and bounded calls.

A store keeps one key document (:class:`~wizard.stored_key.StoredKey`) per
label. Every store promises the same things the OS keyring always did: a
health check before the first write, every write read back and compared, a
replacement that keeps the old document until the new one is verified, and
every call bounded by a timeout in a daemon thread (the ``a*`` variants never
block an event loop). Failures are one type, :class:`StoreError`, whose
``.problem`` holds a sentence, a fix and the exit code (3).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from wizard.stores import daemon_pool
from wizard.keyring_health import KeyringProblem, KeyringProblemKind
from wizard.stored_key import StoredKey

# One problem type for every store: kind, message, fix, where ("backend"), exit code 3.
StoreProblem = KeyringProblem
ProblemKind = KeyringProblemKind
T = TypeVar("T")


class StoreError(Exception):
    """A store operation failed; ``.problem`` says why and what to do. Never carries a secret."""

    def __init__(self, problem: StoreProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem

    @property
    def exit_code(self) -> int:
        """CLI exit code (3: the store is unusable or holds no such key)."""
        return self.problem.exit_code


def store_problem(kind: ProblemKind, message: str, fix: str, where: str = "") -> StoreProblem:
    """A problem with its fix, for stores whose fixes don't depend on the OS."""
    return KeyringProblem(kind, message, fix, where)


@runtime_checkable
class SecretStore(Protocol):
    """Where key documents live: the OS keyring, systemd credentials, Vault/OpenBao.

    ``uri`` names the store (no secret in it; see :mod:`wizard.stores.uri`),
    ``kind_title`` says what it is in words, ``describe()`` where exactly and
    how the key is protected. ``labels()`` is None where the store can't list.
    """

    uri: str
    kind_title: str

    def describe(self) -> str: ...
    def check_health(self) -> StoreProblem | None: ...
    def store(self, label: str, key: StoredKey) -> None: ...
    def load(self, label: str) -> StoredKey: ...
    def replace(self, label: str, key: StoredKey) -> StoredKey | None: ...
    def delete(self, label: str) -> bool: ...
    def labels(self) -> list[str] | None: ...
    async def acheck_health(self) -> StoreProblem | None: ...
    async def astore(self, label: str, key: StoredKey) -> None: ...
    async def aload(self, label: str) -> StoredKey: ...
    async def areplace(self, label: str, key: StoredKey) -> StoredKey | None: ...
    async def adelete(self, label: str) -> bool: ...
    async def alabels(self) -> list[str] | None: ...


class Abandoned(Exception):
    """The caller stopped waiting for this operation: stop before the next change."""


class _Operation:
    """One store operation, running in a worker thread; the caller may abandon it."""

    def __init__(self) -> None:
        self.abandoned = threading.Event()


_running = threading.local()  # .op: the operation this worker thread is running


class BoundedStore:
    """The blocking and async public methods, each run in a daemon thread under a timeout.

    Subclasses implement ``_health``, ``_store``, ``_load``, ``_replace``,
    ``_delete`` and ``_labels`` (blocking, in a worker thread) and ``_where``
    for messages. Daemon threads (kept ones, :mod:`wizard.stores.daemon_pool`),
    not an executor: a store that hangs (a keyring behind an unlock prompt)
    must neither freeze the caller nor keep the process alive at exit. A caller
    that stops waiting (timeout, cancellation) abandons the operation: a long
    one calls :meth:`_stop_if_abandoned` before each step that changes anything.
    """

    kind_title = "secret store"
    timeout: float = 10.0

    # How operations queue. By default one at a time for the whole store; with
    # READS_IN_PARALLEL (the server makes a read atomic and the client may be shared by
    # threads) reads run in parallel with each other and with a write, which the server
    # orders. With PER_LABEL every operation queues only behind others on its own label
    # (the keyring: its calls are per item and share nothing between threads).
    READS_IN_PARALLEL = False
    PER_LABEL = False

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._locks_guard = threading.Lock()
        self._label_locks: dict[str, threading.Lock] = {}

    # -- blocking --
    def check_health(self) -> StoreProblem | None:
        """None when the store can hold a key now (a probe was written, read back and removed)."""
        try:
            self._run(self._health)
        except StoreError as err:
            return err.problem
        return None

    def store(self, label: str, key: StoredKey) -> None:
        """Store and verify ``key`` under ``label`` (an existing document is replaced safely)."""
        self._run(self._replace, label, key)

    def load(self, label: str) -> StoredKey:
        """The key stored under ``label``; StoreError NOT_FOUND when there is none."""
        return self._run(self._load, label)

    def replace(self, label: str, key: StoredKey) -> StoredKey | None:
        """Replace ``label``'s key, verified before the old one goes; returns the previous key
        (None if there was none), so a rotation can prove the old key dead. On any failure the
        old document is still stored."""
        return self._run(self._replace, label, key)

    def delete(self, label: str) -> bool:
        """Delete ``label``; False when it was not there."""
        return self._run(self._delete, label)

    def labels(self) -> list[str] | None:
        """Every label this store holds, sorted."""
        return self._run(self._labels)

    # -- async --
    async def acheck_health(self) -> StoreProblem | None:
        """Async :meth:`check_health`."""
        try:
            await self._arun(self._health)
        except StoreError as err:
            return err.problem
        return None

    async def astore(self, label: str, key: StoredKey) -> None:
        """Async :meth:`store`."""
        await self._arun(self._replace, label, key)

    async def aload(self, label: str) -> StoredKey:
        """Async :meth:`load`."""
        return await self._arun(self._load, label)

    async def areplace(self, label: str, key: StoredKey) -> StoredKey | None:
        """Async :meth:`replace`."""
        return await self._arun(self._replace, label, key)

    async def adelete(self, label: str) -> bool:
        """Async :meth:`delete`."""
        return await self._arun(self._delete, label)

    async def alabels(self) -> list[str] | None:
        """Async :meth:`labels`."""
        return await self._arun(self._labels)

    # -- to implement --
    def _where(self) -> str:
        raise NotImplementedError

    def _health(self) -> None:
        raise NotImplementedError

    def _load(self, label: str) -> StoredKey:
        raise NotImplementedError

    def _replace(self, label: str, key: StoredKey) -> StoredKey | None:
        raise NotImplementedError

    def _delete(self, label: str) -> bool:
        raise NotImplementedError

    def _labels(self) -> list[str] | None:
        raise NotImplementedError

    def _timeout_problem(self) -> StoreProblem:
        """What a call that outlived :attr:`timeout` says."""
        return store_problem(
            ProblemKind.TIMEOUT, f"The {self.kind_title} did not answer within {self.timeout:g} seconds.",
            f"Check that {self._where()} is reachable and responsive, then try again.", self._where())

    # -- threading --
    @staticmethod
    def _stop_if_abandoned() -> None:
        """In an operation: raise :class:`Abandoned` if its caller stopped waiting."""
        op = getattr(_running, "op", None)
        if op is not None and op.abandoned.is_set():
            raise Abandoned

    def _start(self, fn: Callable[..., T], args: tuple) -> tuple[_Operation, concurrent.futures.Future]:
        op, future = _Operation(), concurrent.futures.Future()

        def body() -> None:
            if not future.set_running_or_notify_cancel():
                return
            _running.op = op
            try:
                with self._lock_for(fn, args):
                    self._stop_if_abandoned()  # it waited behind another call past its caller's patience
                    result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                _running.op = None

        daemon_pool.submit(body)  # kept daemon threads: a Thread.start per call stalls the event loop
        return op, future

    def _lock_for(self, fn: Callable[..., Any], args: tuple) -> threading.Lock:
        """The lock the operation runs under (see :attr:`PER_LABEL`, :attr:`READS_IN_PARALLEL`)."""
        if self.PER_LABEL:
            name = str(args[0]) if args else ""  # "": the health check, which has no label
        elif self.READS_IN_PARALLEL and fn == self._load and args:
            name = f"read:{args[0]}"  # a fleet ``check`` reads hundreds of keys: one at a time they queue
        else:
            return self._lock
        with self._locks_guard:
            return self._label_locks.setdefault(name, threading.Lock())

    def _timed_out(self, op: _Operation) -> StoreError:
        op.abandoned.set()
        return StoreError(self._timeout_problem())

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
