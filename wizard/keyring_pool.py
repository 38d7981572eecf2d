"""Many Secret Service reads without paying for a new D-Bus session each time.

keyring's Secret Service backend opens a D-Bus connection and negotiates an
encrypted session (a 1024-bit Diffie-Hellman exchange) for every
``get_password``: about 25-35 ms each, almost all of it the key exchange. A
fleet ``check`` of 200 keys spent 5 s there. :class:`ReadPool` keeps a few
connections, each with its session, and lends one to each read. A jeepney
connection is not thread-safe, so each is used by one thread at a time;
``size`` of them let that many reads run at once.

A read is two D-Bus calls: the preferred collection's ``SearchItems`` (the
same collection and query as keyring's backend) and the service's
``GetSecrets`` for the first item found, decrypted with the session's key.
keyring's own way is six (the search, the item's label, an unlock request,
two lock checks, ``GetSecret``): 200 reads took 0.7 s of which 0.45 s of
CPU, now 0.3 s and 0.2 s. The Secret Service returns no secret for a locked
item; that item then goes keyring's way, unlock prompt included.

Other backends don't need any of this: :func:`read_pool_for` returns None and
reads go to the backend as before. No secret is kept here: each value goes
straight back to the caller.
"""

from __future__ import annotations

import threading
from typing import Any

SECRET_SERVICE_MODULE = "keyring.backends.SecretService"


class _Reader:
    """One D-Bus connection, its collection and one encrypted session."""

    def __init__(self, backend: Any) -> None:
        from secretstorage.defines import SS_PATH, SS_PREFIX
        from secretstorage.util import DBusAddressWrapper, open_session

        self._backend = backend
        self._collection = backend.get_preferred_collection()  # unlocks, as keyring does
        connection = self._collection.connection
        self._session = self._collection.session = open_session(connection)
        self._search = DBusAddressWrapper(self._collection.collection_path, SS_PREFIX + "Collection", connection)
        self._service = DBusAddressWrapper(SS_PATH, SS_PREFIX + "Service", connection)

    def get_password(self, service: str, username: str) -> str | None:
        query = (self._backend._query(service, username) if hasattr(self._backend, "_query")
                 else {"username": username, "service": service})
        found, = self._search.call("SearchItems", "a{ss}", query)
        if not found:
            return None
        answer, = self._service.call("GetSecrets", "aoo", found[:1], self._session.object_path)
        secret = answer.get(found[0])
        if secret is None:  # locked: keyring's way, which asks to unlock it
            return self._read_as_keyring_does(found[0])
        return self._decrypt(secret).decode("utf-8")

    def _read_as_keyring_does(self, path: str) -> str:
        from secretstorage.item import Item

        item = Item(self._collection.connection, path, self._session)
        self._backend.unlock(item)
        return item.get_secret().decode("utf-8")

    def _decrypt(self, secret: tuple) -> bytes:
        """The value of a Secret Service ``Secret`` struct (session, parameters, value, content
        type), decrypted as secretstorage's ``Item.get_secret`` does."""
        if not self._session.encrypted:
            return bytes(secret[2])
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        decryptor = Cipher(algorithms.AES(self._session.aes_key), modes.CBC(bytes(secret[1]))).decryptor()
        padded = decryptor.update(bytes(secret[2])) + decryptor.finalize()
        return padded[:-padded[-1]]

    def close(self) -> None:
        self._collection.connection.close()


class ReadPool:
    """Lends up to ``size`` kept Secret Service connections to reading threads."""

    def __init__(self, backend: Any, size: int = 4) -> None:
        self._backend = backend
        self._size = size
        self._free: list[_Reader] = []
        self._made = 0
        self._closed = False
        self._cond = threading.Condition()

    def get_password(self, service: str, username: str) -> str | None:
        """``backend.get_password`` on a kept connection (exceptions as the backend raises them)."""
        reader = self._take()
        try:
            value = reader.get_password(service, username)
        except BaseException:
            self._discard(reader)  # a broken connection is not lent again
            raise
        self._give(reader)
        return value

    def close(self) -> None:
        """Close every idle connection; ones still lent are closed when given back."""
        with self._cond:
            self._closed = True
            idle, self._free = self._free, []
        for reader in idle:
            reader.close()

    def _take(self) -> _Reader:
        with self._cond:
            while not self._free and self._made >= self._size:
                self._cond.wait()
            if self._free:
                return self._free.pop()
            self._made += 1
        try:
            return _Reader(self._backend)  # connect outside the lock: others may read meanwhile
        except BaseException:
            self._discard(None)
            raise

    def _give(self, reader: _Reader) -> None:
        with self._cond:
            if not self._closed:
                self._free.append(reader)
                self._cond.notify()
                return
        reader.close()

    def _discard(self, reader: _Reader | None) -> None:
        with self._cond:
            self._made -= 1
            self._cond.notify()
        if reader is not None:
            try:
                reader.close()
            except Exception:  # noqa: BLE001 - it was broken already
                pass


def read_pool_for(backend: Any, size: int = 4) -> ReadPool | None:
    """A :class:`ReadPool` for a Secret Service backend; None for any other backend."""
    if type(backend).__module__ != SECRET_SERVICE_MODULE:
        return None
    return ReadPool(backend, size)
