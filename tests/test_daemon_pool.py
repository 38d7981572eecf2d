"""wizard/stores/daemon_pool.py: kept daemon threads run every job, reuse idle workers,
and a job stuck forever holds up no other job."""

from __future__ import annotations

import threading
import time

from wizard.stores import daemon_pool


def test_every_job_runs_in_a_daemon_thread_and_idle_workers_are_reused():
    done, daemons = threading.Semaphore(0), set()

    def job() -> None:
        daemons.add(threading.current_thread().daemon)
        done.release()

    def workers() -> set[int | None]:
        return {t.ident for t in threading.enumerate() if t.name == "vault"}

    before = workers()  # earlier tests' kept workers serve jobs too
    for _ in range(50):  # one after another: kept workers serve them
        daemon_pool.submit(job)
        assert done.acquire(timeout=5)
        deadline = time.monotonic() + 5  # the worker signals before it is back on the queue
        while daemon_pool._idle == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
    assert daemons == {True}
    # At most the first job started a thread (a fresh thread each would be 50). Counted as
    # threads started, not threads used: which idle worker takes a job is the queue's choice,
    # and a sleep of 10 ms to let the worker get back failed under load (6 threads).
    assert len(workers() - before) <= 1


def test_a_stuck_job_does_not_hold_up_the_others():
    release, ran = threading.Event(), threading.Semaphore(0)
    daemon_pool.submit(release.wait)  # stuck until the end of the test
    try:
        for _ in range(20):
            daemon_pool.submit(ran.release)
        assert all(ran.acquire(timeout=5) for _ in range(20))
    finally:
        release.set()


def test_a_burst_runs_concurrently():
    barrier = threading.Barrier(8, timeout=5)
    finished = threading.Semaphore(0)

    def job() -> None:
        barrier.wait()  # only passes when 8 jobs are running at once
        finished.release()

    for _ in range(8):
        daemon_pool.submit(job)
    assert all(finished.acquire(timeout=10) for _ in range(8))
