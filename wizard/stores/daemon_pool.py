"""Kept daemon threads for blocking store calls, started once and reused.

The keyring Vault runs every call in a daemon thread so a keyring stuck behind
a prompt can't keep the process alive at exit (an executor's threads are joined
at exit). Starting a fresh thread per call costs the caller a hand-off: on a
busy 2-core machine ``Thread.start()`` waits 2-4 ms for the new thread to be
scheduled, and a 200-key ``check`` spent 0.4-0.8 s of its event loop in it.
Here idle workers wait on a queue for the next call; a new worker starts only
when none is idle, so a call stuck forever blocks no other call. Workers stay
daemon threads: exit never waits for them.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
# A job may return a callable, run after its worker is back among the idle ones: the
# caller that wakes up on it and submits again finds that worker free, not a new thread.
Job = Callable[[], "Callable[[], None] | None"]

_jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
_lock = threading.Lock()
_idle = 0  # workers waiting on _jobs (or about to take the job just queued)
# Idle workers kept beyond this exit, so a burst doesn't leave hundreds parked.
MAX_IDLE = 16


def run(fn: Callable[[], T]) -> concurrent.futures.Future[T]:
    """``fn()`` on a kept daemon thread; its result (or exception) in the future returned."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def job() -> Callable[[], None] | None:
        if not future.set_running_or_notify_cancel():
            return None
        try:
            result = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
            return lambda: future.set_exception(exc)
        return lambda: future.set_result(result)

    submit(job)
    return future


def submit(job: Job) -> None:
    """Run ``job()`` in a daemon thread: an idle kept one, else a new one. Never blocks."""
    global _idle
    with _lock:
        start = _idle == 0
        if not start:
            _idle -= 1  # that worker is spoken for: the next submit won't count on it
    _jobs.put(job)
    if start:
        threading.Thread(target=_work, name="vault", daemon=True).start()


def _work() -> None:
    global _idle
    while True:
        job = _jobs.get()
        finish: Any = None
        try:
            finish = job()
        except BaseException:  # noqa: BLE001 - a job hands its own errors to its caller
            pass
        with _lock:
            leaving = _idle >= MAX_IDLE
            if not leaving:
                _idle += 1
        if finish is not None:
            finish()
        if leaving:
            return
