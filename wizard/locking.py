"""File locks the OS releases when a process dies: one for the registry file, one per label.

``flock`` (``msvcrt.locking`` on Windows) on a small lock file: no stale lock
survives ``kill -9``, a crash or a reboot, because the kernel drops the lock
with the last file descriptor. Lock files are never deleted (deleting one while
another process waits on it would let two runs hold "the" lock at once); they
are empty and tiny.

:class:`LabelLock` makes "is this label free?" and "store the key under it" one
step across processes: whoever holds it is the only run adding that label.
Store-agnostic: it guards the registry record, whichever store holds the secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from pathlib import Path

LOCK_DIR = "locks"


class LockError(OSError):
    """A lock file can't be created or opened (read-only directory, a directory in its place)."""


class LockBusy(Exception):
    """Another process held the lock for the whole wait."""


def label_lock_name(label: str) -> str:
    """A safe file name for ``label``'s lock: a readable slug plus a hash (labels differing
    only in case, spaces or punctuation still get different files)."""
    slug = re.sub(r"[^a-z0-9_-]+", "_", label.lower()).strip("_")[:40] or "label"
    digest = hashlib.sha256(label.encode("utf-8")).hexdigest()[:16]
    return f"{slug}-{digest}.lock"


def open_lock_file(path: Path) -> int:
    """Open (creating it, and its directory, 0700) a lock file; LockError with a sentence if impossible."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise LockError(exc.errno, f"can't create the lock file {path}: {exc.strerror or exc}") from None


class LabelLock:
    """An exclusive, cross-process lock on one label of one registry.

    ``acquire`` / ``aacquire`` wait up to ``timeout`` seconds and raise
    :class:`LockBusy` if another run still holds it; :meth:`held_elsewhere` asks
    without waiting (``check`` uses it to tell a running add from a dead one).
    """

    def __init__(self, registry_path: Path, label: str) -> None:
        self.path = Path(registry_path).parent / LOCK_DIR / label_lock_name(label)
        self.label = label
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free right now."""
        if self._fd is not None:
            return True
        fd = open_lock_file(self.path)
        if try_lock(fd):
            self._fd = fd
            return True
        os.close(fd)
        return False

    def acquire(self, timeout: float = 0.0) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; LockBusy if still held."""
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise LockBusy(self.label)
            time.sleep(0.02)

    async def aacquire(self, timeout: float = 0.0) -> None:
        """:meth:`acquire` without blocking the event loop (polls; a cancel leaves nothing held)."""
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise LockBusy(self.label)
            await asyncio.sleep(0.02)

    def release(self) -> None:
        """Let the next run in (the file stays)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                unlock(fd)
            finally:
                os.close(fd)

    def held_elsewhere(self) -> bool:
        """True if another process holds the lock now (False also when the lock can't be opened)."""
        if self._fd is not None:
            return False
        try:
            if self.try_acquire():
                self.release()
                return False
        except LockError:
            return False
        return True

    def __enter__(self) -> LabelLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def try_lock(fd: int) -> bool:
        """Non-blocking exclusive lock on the first byte of ``fd``."""
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def unlock(fd: int) -> None:
        """Release :func:`try_lock`."""
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def fsync_directory(directory: Path) -> None:
        """Windows can't open a directory for fsync; os.replace is durable enough there."""

else:
    import fcntl

    def try_lock(fd: int) -> bool:
        """Non-blocking exclusive ``flock`` on ``fd``."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(fd: int) -> None:
        """Release :func:`try_lock`."""
        fcntl.flock(fd, fcntl.LOCK_UN)

    def fsync_directory(directory: Path) -> None:
        """Make a rename durable: without this a power cut can bring back the old file."""
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
