"""The OS keyring store, made honest: refuse stores that are not safe, verify every write.

A :class:`Vault` keeps one JSON document per label in the OS keyring (macOS
Keychain, Windows Credential Manager, Secret Service/KWallet on Linux). Every
write is read back and compared; a replacement is written and verified under a
side name before the old entry is touched; every keyring call runs in a daemon
thread with a timeout (:class:`~wizard.stores.base.BoundedStore`, as every store),
because a desktop keyring may sit behind an unlock prompt. Anything that is not a real OS keyring
(no backend, the null backend, keyrings.alt's file backends) is refused with a
:class:`KeyringProblem` that says how to fix it on this OS. ``keyring`` is imported only inside calls.
"""

from __future__ import annotations

import contextlib
import secrets as _random
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from wizard.keyring_health import (
    KeyringProblem,
    KeyringProblemKind,
    backend_name,
    classify_backend,
    is_chainer,
    is_windows,
    problem,
    problem_from_exception,
)
from wizard.secret import Secret
from wizard.stores.base import Abandoned, BoundedStore, StoreError
from wizard.stored_key import StoredKey as StoredKey  # re-exported: what a Vault stores and loads

SERVICE = "binance-key-wizard"
# Control characters never pass label validation, so these names cannot collide with a label.
PENDING_SUFFIX = "\x1fpending"
PROBE_USERNAME = "\x1fhealth-check"
WINDOWS_MAX_CHARS = 1280  # CRED_MAX_CREDENTIAL_BLOB_SIZE (2560 bytes) in UTF-16
_RESOLVING = threading.Lock()


# Every store raises the one StoreError; the keyring's name for it stays for its callers.
VaultError = StoreError


class Vault(BoundedStore):
    """The keyring, verified: the ``keyring`` / ``keyring:SERVICE`` store. ``backend`` (any
    keyring backend object) is used as is; by default ``keyring.get_keyring()``.
    ``timeout`` bounds each whole operation."""

    kind_title = "OS keyring"
    # One operation at a time per label (a retry waits for a hung call on the same
    # entry); different labels go in parallel: Secret Service calls are per item
    # and keyring opens a D-Bus connection per call, so threads share nothing.
    PER_LABEL = True

    def __init__(self, backend: Any = None, service: str = SERVICE, timeout: float = 10.0) -> None:
        super().__init__(timeout)
        self._given = backend
        self._resolved: Any = None
        self.service = service
        self._pool: Any = None  # a keyring_pool.ReadPool inside pooled_reads()

    @property
    def backend(self) -> Any:
        """The backend this vault was given (None: keyring's configured default)."""
        return self._given

    @property
    def backend_name(self) -> str:
        """``module.Class`` of the backend in use, for messages ("the default keyring" before first use)."""
        return self._name()

    def with_service(self, service: str) -> Vault:
        """A vault on the same backend and timeout under another keyring service name."""
        return Vault(self._given, service=service, timeout=self.timeout)

    @property
    def uri(self) -> str:
        """``keyring`` for the default service, else ``keyring:SERVICE``."""
        return "keyring" if self.service == SERVICE else f"keyring:{self.service}"

    def describe(self) -> str:
        """Where the key lives, for messages."""
        return f"the OS keyring ({self._name()}), service {self.service!r}"

    def labels(self) -> list[str] | None:
        """None: an OS keyring can't list its entries (the registry knows the labels)."""
        return None

    async def alabels(self) -> list[str] | None:
        """Async :meth:`labels`."""
        return None

    @contextlib.contextmanager
    def pooled_reads(self, size: int = 4) -> Iterator[None]:
        """Inside, reads share ``size`` kept keyring connections (Secret Service; see
        :mod:`wizard.keyring_pool`) instead of opening one per read. An unusable
        keyring is not an error here: the reads themselves report it."""
        from wizard.keyring_pool import read_pool_for

        try:
            pool = read_pool_for(self._backend(), size)
        except VaultError:
            pool = None
        self._pool = pool
        try:
            yield
        finally:
            self._pool = None
            if pool is not None:
                pool.close()

    def _timeout_problem(self) -> KeyringProblem:
        return problem(KeyringProblemKind.TIMEOUT, f"The keyring did not answer within {self.timeout:g} seconds.",
                       self._name())

    def _where(self) -> str:
        return self._name()

    # -- backend --
    def _name(self) -> str:
        backend = self._resolved or self._given
        return "the default keyring" if backend is None else backend_name(backend)

    def _backend(self) -> Any:
        """The backend to use, or VaultError if it is not a real OS keyring."""
        if self._resolved is not None:
            return self._resolved
        with _RESOLVING:  # threads of a concurrent check must not race keyring's own set-up
            return self._resolve()

    def _resolve(self) -> Any:
        if self._resolved is not None:
            return self._resolved
        backend = self._given
        if backend is None:
            backend = _configured_backend()
        if is_chainer(backend):
            # Use the chain's best OS keyring directly, so reads never fall through to a file.
            children = list(backend.backends)
            usable = [b for b in children if classify_backend(b) is None]
            if not usable:
                found = classify_backend(children[0] if children else _NoBackend())
                raise VaultError(found)  # type: ignore[arg-type]
            backend = usable[0]
        found = classify_backend(backend)
        if found is not None:
            raise VaultError(found)
        self._resolved = backend
        return backend

    def _call(self, method: str, *args: Any, secrets: Iterable[Secret] = (), via: Any = None) -> Any:
        backend = self._backend()
        try:
            return getattr(via if via is not None else backend, method)(*args)
        except Exception as exc:  # noqa: BLE001 - every backend failure becomes a KeyringProblem
            failure = problem_from_exception(exc, backend_name(backend), secrets)
        raise VaultError(failure)  # outside the except: no chained exception to print

    def _get(self, name: str) -> Secret | None:
        value = self._call("get_password", self.service, name, via=self._pool)
        return None if value is None else Secret(value)

    def _put_verified(self, name: str, doc: Secret, secrets: Iterable[Secret]) -> None:
        self._call("set_password", self.service, name, doc.reveal(), secrets=secrets)
        if self._get(name) != doc:
            raise VaultError(
                problem(
                    KeyringProblemKind.READBACK_MISMATCH,
                    "The keyring accepted the key but did not give the same value back, so it is not stored.",
                    self._name(),
                )
            )

    def _forget(self, name: str) -> None:
        """Best-effort delete of a side entry."""
        try:
            if self._get(name) is not None:
                self._call("delete_password", self.service, name)
        except VaultError:
            pass

    # -- operations (run in a worker thread, under the label's lock) --
    def _health(self) -> None:
        self._backend()
        probe = Secret(_random.token_urlsafe(16))
        # A name of its own per call: concurrent runs must not overwrite or delete each other's probe.
        name = f"{PROBE_USERNAME}-{_random.token_hex(8)}"
        try:
            self._put_verified(name, probe, ())
        finally:
            self._forget(name)

    def _load(self, label: str) -> StoredKey:
        doc = self._get(label)
        if doc is not None:
            try:
                return StoredKey.from_json(doc)
            except ValueError:
                pass  # damaged: a side copy may hold the verified new key
        # The side copy matters only when the main entry is missing or damaged, so a
        # healthy load is one keyring read, not two.
        pending = self._get(label + PENDING_SUFFIX)
        if doc is None and pending is None:
            message = f"No key labelled {label!r} is stored in the keyring (service {self.service!r})."
            raise VaultError(problem(KeyringProblemKind.NOT_FOUND, message, self._name()))
        try:
            return StoredKey.from_json(doc or pending)  # type: ignore[arg-type]
        except ValueError as exc:
            reason = str(exc)
        # The side copy outlives the main entry only when a replacement failed halfway;
        # it is the verified new key, so it beats a missing or damaged main entry.
        if doc is not None and pending is not None:
            try:
                return StoredKey.from_json(pending)
            except ValueError:
                pass
        message = f"The keyring entry for {label!r} can't be used: {reason}."
        raise VaultError(problem(KeyringProblemKind.INVALID_ENTRY, message, self._name()))

    def _check_size(self, doc: Secret) -> None:
        if is_windows(self._backend()) and len(doc.reveal().encode("utf-16-le")) // 2 > WINDOWS_MAX_CHARS:
            raise VaultError(
                problem(
                    KeyringProblemKind.TOO_LARGE,
                    f"This key ({len(doc)} characters stored) is larger than Windows Credential Manager "
                    f"can hold ({WINDOWS_MAX_CHARS} characters per entry).",
                    self._name(),
                )
            )

    def _replace(self, label: str, key: StoredKey) -> StoredKey | None:
        new = key.to_json()
        secrets = (new, key.secret)
        self._check_size(new)
        pending = label + PENDING_SUFFIX
        old = self._get(label)
        self._stop_if_abandoned()
        if old is None:
            try:
                self._put_verified(label, new, secrets)
            except VaultError:
                self._forget(label)  # never leave a half-written entry behind
                raise
            self._forget(pending)  # left by a replacement that crashed halfway
            return None
        try:
            self._put_verified(pending, new, secrets)  # the new key is safe before the old one is touched
            self._stop_if_abandoned()
        except (VaultError, Abandoned):
            self._forget(pending)
            raise
        try:
            self._put_verified(label, new, secrets)
        except VaultError as err:
            self._restore(label, old, err, secrets)
        self._forget(pending)
        try:
            return StoredKey.from_json(old)
        except ValueError:
            return None

    def _restore(self, label: str, old: Secret, err: VaultError, secrets: tuple[Secret, ...]) -> None:
        """The final write failed: make sure the old entry is what ``label`` holds."""
        pending = label + PENDING_SUFFIX
        try:
            if self._get(label) != old:
                self._put_verified(label, old, secrets + (old,))
        except VaultError:
            # Keep the verified new copy under the side name: load() finds it, nothing is lost.
            raise VaultError(
                problem(
                    err.problem.kind,
                    f"{err.problem.message} The previous key could not be confirmed either. The new key "
                    "is kept in the keyring too: run `binance-key-wizard check` to see which key works.",
                    self._name(),
                )
            ) from None
        self._forget(pending)
        raise VaultError(
            problem(err.problem.kind, f"{err.problem.message} The previous key is still stored.", self._name())
        ) from None

    def _delete(self, label: str) -> bool:
        existed = False
        for name in (label, label + PENDING_SUFFIX):
            if self._get(name) is None:
                continue
            existed = existed or name == label
            self._call("delete_password", self.service, name)
            if self._get(name) is not None:
                raise VaultError(
                    problem(KeyringProblemKind.UNAVAILABLE, f"The keyring did not delete {label!r}.", self._name())
                )
        return existed


def _configured_backend() -> Any:
    """keyring's configured backend; a name that doesn't load (a typo in PYTHON_KEYRING_BACKEND or
    keyringrc.cfg) is an unusable keyring (exit 3), not a crash."""
    import keyring

    try:
        return keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - ImportError, AttributeError, whatever the config names
        message = (f"The keyring backend configured by PYTHON_KEYRING_BACKEND or keyringrc.cfg can't be "
                   f"loaded ({type(exc).__name__}): check the name for a typo, or remove the setting.")
        raise VaultError(problem(KeyringProblemKind.UNAVAILABLE, message, "the configured keyring")) from None


class _NoBackend:
    """Stands in for an empty keyring chain when classifying it."""

    __module__ = "keyring.backends.fail"


KeyringStore = Vault  # its name as one of the stores (wizard.stores)
