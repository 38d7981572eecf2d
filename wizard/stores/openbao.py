"""The ``vault+https://HOST:PORT/MOUNT/PREFIX`` store: HashiCorp Vault or OpenBao, KV version 2.

One document per label at ``MOUNT/PREFIX/LABEL`` (the key document's fields
as the secret's data), so every server of a fleet with its own token or
AppRole reads the same key. The token comes from ``VAULT_TOKEN`` or
``BAO_TOKEN``, or an AppRole login with ``VAULT_ROLE_ID`` + ``VAULT_SECRET_ID``
(``BAO_ROLE_ID``/``BAO_SECRET_ID``) — never from argv or the URI.

Every write uses check-and-set: a new label is written with ``cas=0`` (only if
no one else created it), a replacement with the version it read, so two
writers can't overwrite each other; the loser gets a CONFLICT error. A
replacement is a new version, read back and compared; the previous version
stays in the KV history, and a new version that does not read back equal is
undone by writing the old document again. Every call runs in a daemon thread
with a timeout (:class:`~wizard.stores.base.BoundedStore`). ``hvac`` is
imported inside calls only.
"""

from __future__ import annotations

import json
import os
import secrets as _random
import threading
from typing import Any

from wizard.crash import scrub
from wizard.secret import Secret
from wizard.stored_key import StoredKey
from wizard.stores.base import BoundedStore, ProblemKind, StoreError, store_problem
from wizard.stores.uri import StoreURI

HEALTH_FOLDER = ".health"  # labels can't contain "/", so nothing here is ever a label
_TOKEN_FIX = ("Give this machine a token in the environment: `read -rs VAULT_TOKEN && export VAULT_TOKEN`, or an "
              "AppRole: `export VAULT_ROLE_ID=... ; read -rs VAULT_SECRET_ID && export VAULT_SECRET_ID`. "
              "Never pass a token on the command line.")


class OpenBaoStore(BoundedStore):
    """Keys in a Vault/OpenBao KV v2 engine. ``environ`` (default ``os.environ``) gives the token."""

    kind_title = "Vault/OpenBao store"
    # A KV v2 read is atomic on the server, and hvac's requests session pools its connections
    # for threads; only the login is guarded (one token per store, not one per thread).
    READS_IN_PARALLEL = True

    def __init__(self, uri: StoreURI, *, environ: dict[str, str] | None = None, timeout: float = 10.0) -> None:
        super().__init__(timeout)
        self.location = uri
        self._environ = environ
        self._client: Any = None
        self._login_lock = threading.Lock()

    @property
    def uri(self) -> str:
        """The canonical ``vault+https://HOST:PORT/MOUNT/PREFIX``."""
        return str(self.location)

    def describe(self) -> str:
        """Where the key lives, for messages."""
        return f"Vault/OpenBao at {self.location.server_url}, KV v2 mount {self.location.mount!r}, " \
               f"path {self._path('LABEL')!r}"

    def _path(self, label: str) -> str:
        return "/".join(p for p in (self.location.prefix, label) if p)

    def _where(self) -> str:
        return self.uri

    def store(self, label: str, key: StoredKey) -> None:
        """Store a key under a label no one has used: check-and-set 0, so a label another
        machine of the fleet created meanwhile is never overwritten (CONFLICT instead)."""
        self._run(self._create, label, key)

    async def astore(self, label: str, key: StoredKey) -> None:
        """Async :meth:`store`."""
        await self._arun(self._create, label, key)

    # -- operations (worker thread) --
    def _create(self, label: str, key: StoredKey) -> None:
        if self._version(label):
            raise self._error(ProblemKind.CONFLICT, f"A key labelled {label!r} is already stored at "
                              f"{self.location.mount}/{self._path(label)} (another machine added it).",
                              f"Choose another label, or replace it with `binance-key-wizard rotate {label}` "
                              "on the machine that added it.")
        self._replace(label, key)

    def _health(self) -> None:
        client = self._connected()
        path = self._path(f"{HEALTH_FOLDER}/{_random.token_hex(8)}")  # unique per run: runs never collide
        probe = {"probe": _random.token_urlsafe(16)}
        try:
            self._kv("write", lambda kv: kv.create_or_update_secret(path, secret=probe, cas=0,
                                                                     mount_point=self.location.mount))
            back = self._kv("read", lambda kv: kv.read_secret_version(path, mount_point=self.location.mount,
                                                                       raise_on_deleted_version=True))
            if back["data"]["data"] != probe:
                raise self._error(ProblemKind.READBACK_MISMATCH, "The server did not give the probe value back.",
                                  "Check the server's storage backend.")
        finally:
            try:
                client.secrets.kv.v2.delete_metadata_and_all_versions(path, mount_point=self.location.mount)
            except Exception:  # noqa: BLE001 - best effort: the probe holds nothing secret
                pass

    def _load(self, label: str) -> StoredKey:
        current = self._current(label)
        if current is None:
            raise self._error(ProblemKind.NOT_FOUND, f"No key labelled {label!r} is stored at "
                              f"{self.location.mount}/{self._path(label)} on {self.location.server_url}.",
                              f"Store it with `binance-key-wizard add LABEL --store {self.uri}` (or the wizard); "
                              f"`binance-key-wizard review --store {self.uri}` lists the keys there.")
        return _parse(current[1], label)

    def _replace(self, label: str, key: StoredKey) -> StoredKey | None:
        current = self._current(label)
        version = current[0] if current else 0
        new = json.loads(key.to_json().reveal())
        secrets = (key.secret,)
        written = self._write(label, new, cas=version, secrets=secrets)
        back = self._read_version(label, written)
        if back != new:
            self._undo(label, written, current, secrets)
            raise self._error(ProblemKind.READBACK_MISMATCH, f"The server did not give {label!r} back as written, "
                              "so the new key is not stored (the previous one still is).",
                              "Check the server's storage backend and try again.")
        if current is None:
            return None
        try:
            return _parse(current[1], label)
        except StoreError:
            return None

    def _undo(self, label: str, written: int, current: tuple[int, dict] | None, secrets: tuple) -> None:
        """Make ``label`` hold the previous document again (or nothing, for a new label)."""
        if current is None:
            self._delete(label)
        else:
            self._write(label, current[1], cas=written, secrets=secrets)

    def _delete(self, label: str) -> bool:
        if self._version(label) is None:
            return False
        self._kv("delete", lambda kv: kv.delete_metadata_and_all_versions(self._path(label),
                                                                           mount_point=self.location.mount))
        return True

    def _labels(self) -> list[str]:
        _require_hvac()
        import hvac.exceptions

        try:
            listed = self._kv("list", lambda kv: kv.list_secrets(self.location.prefix or "",
                                                                  mount_point=self.location.mount), missing=True)
        except hvac.exceptions.InvalidPath:
            return []  # nothing stored under the prefix yet
        keys = (listed or {}).get("data", {}).get("keys", [])
        return sorted(k for k in keys if isinstance(k, str) and not k.endswith("/") and not k.startswith("."))

    # -- KV v2 --
    def _version(self, label: str) -> int | None:
        _require_hvac()
        import hvac.exceptions

        try:
            meta = self._kv("read", lambda kv: kv.read_secret_metadata(self._path(label),
                                                                        mount_point=self.location.mount), missing=True)
        except hvac.exceptions.InvalidPath:
            return None
        return int(meta["data"]["current_version"])

    def _current(self, label: str) -> tuple[int, dict] | None:
        """(version, data) of the newest version, or None when there is none (or it was deleted).

        One request: the latest version comes with its own metadata, so a fleet's check
        reads each key once (a metadata read first doubled the requests and the time)."""
        got = self._read(label, None)
        if got is None:
            return None
        data, version = got.get("data", {}).get("data"), got.get("data", {}).get("metadata", {}).get("version")
        return (int(version), data) if isinstance(data, dict) and isinstance(version, int) else None

    def _read_version(self, label: str, version: int) -> dict | None:
        """The document of ``version``; None if it is gone (deleted or destroyed)."""
        got = self._read(label, version)
        data = None if got is None else got.get("data", {}).get("data")
        return data if isinstance(data, dict) else None

    def _read(self, label: str, version: int | None) -> dict | None:
        """hvac's answer for ``version`` (None: the newest), or None when it isn't there."""
        _require_hvac()
        import hvac.exceptions

        try:
            return self._kv("read", lambda kv: kv.read_secret_version(
                self._path(label), version=version, mount_point=self.location.mount,
                raise_on_deleted_version=True), missing=True)
        except hvac.exceptions.InvalidPath:
            return None

    def _write(self, label: str, data: dict, *, cas: int, secrets: tuple) -> int:
        _require_hvac()
        import hvac.exceptions

        try:
            done = self._kv("write", lambda kv: kv.create_or_update_secret(
                self._path(label), secret=data, cas=cas, mount_point=self.location.mount), secrets=secrets,
                conflict=True)
        except hvac.exceptions.InvalidRequest:
            raise self._error(ProblemKind.CONFLICT, f"Another writer changed {label!r} on the server at the same "
                              "time, so nothing was overwritten.",
                              f"Run `binance-key-wizard review --store {self.uri}` to see what is stored now, "
                              "then try again.") from None
        return int(done["data"]["version"])

    def _kv(self, what: str, call: Any, *, secrets: tuple = (), missing: bool = False, conflict: bool = False) -> Any:
        """One KV call; every failure but the ones the caller handles becomes a StoreError."""
        _require_hvac()
        import hvac.exceptions

        kv = self._connected().secrets.kv.v2
        try:
            return call(kv)
        except hvac.exceptions.InvalidPath:
            if missing:
                raise
            failure = self._error(ProblemKind.UNAVAILABLE, f"There is no KV version 2 engine at "
                                  f"{self.location.mount!r} on {self.location.server_url}.",
                                  f"Enable one: `bao secrets enable -path={self.location.mount} kv-v2` "
                                  f"(Vault: `vault secrets enable -path={self.location.mount} kv-v2`).")
        except hvac.exceptions.InvalidRequest as exc:
            if conflict and "check-and-set" in str(exc):
                raise
            failure = self._error(ProblemKind.UNAVAILABLE, f"The server refused to {what} "
                                  f"({_detail(exc, secrets)}).", "Check the mount is KV version 2.")
        except Exception as exc:  # noqa: BLE001 - every client failure is a sentence
            failure = self._failure(exc, what, secrets)
        raise failure  # outside the except: no chained exception to print

    def _connected(self) -> Any:
        if self._client is None:
            with self._login_lock:
                if self._client is None:
                    self._client = self._login()
        return self._client

    def _login(self) -> Any:
        _require_hvac()
        import hvac

        env = self._environ if self._environ is not None else os.environ
        verify: Any = env.get("VAULT_CACERT") or env.get("BAO_CACERT") or True
        from wizard.exchange.hostile import no_redirect_session

        # Never follow a redirect: the token (and, on a write, the key) would go to its target.
        session = no_redirect_session()
        session.verify = verify  # hvac takes a given session's verify over its own argument
        client = hvac.Client(url=self.location.server_url, verify=verify, timeout=self.timeout,
                             allow_redirects=False, session=session)
        token = env.get("VAULT_TOKEN") or env.get("BAO_TOKEN")
        role_id = env.get("VAULT_ROLE_ID") or env.get("BAO_ROLE_ID")
        secret_id = env.get("VAULT_SECRET_ID") or env.get("BAO_SECRET_ID")
        try:
            if token:
                client.token = token
                client.auth.token.lookup_self()
            elif role_id and secret_id:
                mount = env.get("VAULT_APPROLE_MOUNT") or "approle"
                client.auth.approle.login(role_id=role_id, secret_id=secret_id, mount_point=mount)
            else:
                raise self._error(ProblemKind.UNAUTHENTICATED, "No Vault/OpenBao token is set (VAULT_TOKEN or "
                                  "BAO_TOKEN), and no AppRole (VAULT_ROLE_ID and VAULT_SECRET_ID).", _TOKEN_FIX)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001
            given = tuple(Secret(v) for v in (token, secret_id) if v)
            failure = self._failure(exc, "log in", given, login=True)
            raise failure from None
        return client

    def _failure(self, exc: BaseException, what: str, secrets: tuple, *, login: bool = False) -> StoreError:
        _require_hvac()
        import hvac.exceptions
        import requests

        from wizard.exchange.hostile import RedirectRefused

        server = self.location.server_url
        if isinstance(exc, RedirectRefused):
            return self._error(ProblemKind.UNAVAILABLE, f"The server at {server} answered with a redirect "
                               f"(HTTP {exc.status}){exc.where()}. It was not followed: the token and the key "
                               "would have gone to another server.",
                               "Give the store URI the server's own address (its api_addr), not one that forwards.")
        if isinstance(exc, hvac.exceptions.VaultDown) or "sealed" in str(exc).lower():
            return self._error(ProblemKind.SEALED, f"The Vault/OpenBao server at {server} is sealed.",
                               "Ask its operator to unseal it (`bao operator unseal`), then try again.")
        refused = (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized)
        if isinstance(exc, refused) or (login and isinstance(exc, hvac.exceptions.InvalidRequest)):
            if login or "invalid token" in str(exc).lower() or "token" in str(exc).lower():
                return self._error(ProblemKind.UNAUTHENTICATED, f"The server at {server} does not accept this "
                                   "machine's token or AppRole (wrong, expired or revoked).", _TOKEN_FIX)
            return self._error(ProblemKind.PERMISSION_DENIED, f"This machine's token may not {what} "
                               f"{self.location.mount}/{self._path('LABEL')} on {server}.",
                               "Give its policy create, read, update, delete and list on "
                               f"{self.location.mount}/data/{self._path('*')} and "
                               f"{self.location.mount}/metadata/{self._path('*')} (read and list are enough "
                               "for a server that only runs bots).")
        if isinstance(exc, requests.exceptions.SSLError):  # before ConnectionError: it is one
            return self._error(ProblemKind.UNREACHABLE, f"The TLS certificate of {server} is not trusted.",
                               "Set VAULT_CACERT to the server's CA certificate file.")
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
            return self._error(ProblemKind.UNREACHABLE, f"The Vault/OpenBao server at {server} can't be reached.",
                               "Check the host and port in the store URI, the network and the server "
                               "(`bao status`), then try again.")
        return self._error(ProblemKind.UNAVAILABLE, f"The Vault/OpenBao server failed to {what} "
                           f"({type(exc).__name__}: {_detail(exc, secrets)}).", "Check the server's log.")

    def _error(self, kind: ProblemKind, message: str, fix: str) -> StoreError:
        return StoreError(store_problem(kind, message, fix, self.uri))


def _require_hvac() -> None:
    """hvac (the Vault client) comes with the ``vault`` extra; without it, say how to get it."""
    try:
        import hvac  # noqa: F401
    except ImportError:
        raise StoreError(store_problem(
            ProblemKind.NO_BACKEND, "The Vault/OpenBao client (hvac) is not installed.",
            "Install it: `pip install 'binance-key-wizard[vault]'` (or `pip install hvac`).")) from None


def _detail(exc: BaseException, secrets: tuple) -> str:
    return scrub(str(exc).splitlines()[0] if str(exc) else "no message", secrets)[:200]


def _parse(data: dict, label: str) -> StoredKey:
    try:
        return StoredKey.from_json(Secret(json.dumps(data, separators=(",", ":"), sort_keys=True)))
    except ValueError as exc:
        raise StoreError(store_problem(
            ProblemKind.INVALID_ENTRY, f"The document for {label!r} can't be used: {exc}.",
            "Store the key again with the wizard or `binance-key-wizard add`.")) from None
