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

import queue
import threading
from collections.abc import Callable

_jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
_lock = threading.Lock()
_idle = 0  # workers waiting on _jobs (or about to take the job just queued)
# Idle workers kept beyond this exit, so a burst doesn't leave hundreds parked.
MAX_IDLE = 16


def submit(job: Callable[[], None]) -> None:
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
        try:
            job()
        except BaseException:  # noqa: BLE001 - a job hands its own errors to its caller
            pass
        with _lock:
            if _idle >= MAX_IDLE:
                return
            _idle += 1
