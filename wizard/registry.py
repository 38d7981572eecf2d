"""What the wizard remembers about each key: never a secret, never lost.

The registry is one JSON file (``keys.json`` in the user config dir) with the
non-secret facts per label: purpose, environment, fingerprint, permissions,
when it was verified and rotated. Writes are atomic (temp file in the same
directory, fsync, ``os.replace``) and serialised by an exclusive lock file, so
two overlapping runs never lose each other's records. A damaged file is backed
up and reported, never silently replaced.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

# The record type and its field checks live in wizard/key_record.py; importable from here as before.
from wizard.key_record import (  # noqa: F401 - re-exported
    _DATETIME_FIELDS,
    _ENVS,
    _OPTIONAL_STR,
    APP_NAME,
    DEFAULT_SERVICE,
    KeyRecord,
    _as_utc,
    _check_field_types,
    _parse_time,
    fingerprint,
    utcnow,
)
from wizard.locking import LabelLock, LockError, fsync_directory, open_lock_file, try_lock, unlock
from wizard.secret import Secret

FILE_VERSION = 1
# 40+ characters of base64/alphanumerics in a row: API keys, HMAC secrets, key material.
_SECRET_SHAPED = re.compile(r"[A-Za-z0-9+/=]{40,}")


class RegistryError(Exception):
    """The registry file can't be used. ``kind``: "corrupt", "version", "locked",
    "unknown_label", "secret" or "io"; ``backup`` is the copy made of a damaged file."""

    def __init__(self, message: str, *, kind: str = "io", backup: Path | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.backup = backup


def assert_no_secret(record: KeyRecord) -> None:
    """Refuse a record that holds, or looks like it holds, a secret (the message never quotes it)."""

    def walk(value: Any, where: str) -> None:
        if isinstance(value, Secret):
            raise RegistryError(f"refusing to write a secret into the registry ({where})", kind="secret")
        if isinstance(value, str) and (_SECRET_SHAPED.search(value) or "PRIVATE KEY" in value):
            raise RegistryError(
                f"refusing to write {where}: it looks like an API key or secret, and the registry "
                "never holds those (only the keyring does)",
                kind="secret",
            )
        if isinstance(value, dict):
            for key, item in value.items():
                walk(key, f"{where} key")
                walk(item, f"{where}.{key}")
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")

    for f in dataclasses.fields(record):
        walk(getattr(record, f.name), f.name)
    if record.fingerprint and ("…" not in record.fingerprint or len(record.fingerprint) > 9):
        raise RegistryError("the fingerprint must be fingerprint(api_key), never the key", kind="secret")


_IO_FIX = ("make the directory writable (or point XDG_CONFIG_HOME at one that is) and free some disk "
           "space; keys already stored are not affected")


def default_path(filename: str = "keys.json") -> Path:
    """``keys.json`` (or the demo's ``demo-keys.json``) in the user config directory."""
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / filename


class Registry:
    """The key registry file. ``lock_timeout`` bounds the wait for another run's write."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.lock_timeout = lock_timeout

    # -- reading --
    def get(self, label: str) -> KeyRecord | None:
        """The record for ``label``, or None."""
        return self._read().get(label)

    def all(self) -> list[KeyRecord]:
        """Every record, sorted by label."""
        records = self._read()
        return [records[label] for label in sorted(records)]

    # -- writing (each a locked read-modify-write) --
    def put(self, record: KeyRecord) -> None:
        """Add or replace the record for ``record.label``."""
        assert_no_secret(record)
        self._modify(lambda records: records.__setitem__(record.label, record))

    def put_many(self, records: list[KeyRecord]) -> None:
        """Add or replace several records in one locked write (an import, a fleet's set-up)."""
        for record in records:
            assert_no_secret(record)
        self._modify(lambda current: current.update({r.label: r for r in records}))

    def remove(self, label: str) -> bool:
        """Drop ``label``'s record; False if there was none."""
        removed: list[bool] = []
        self._modify(lambda records: removed.append(records.pop(label, None) is not None))
        return removed[0]

    def update(self, label: str, **changes: Any) -> KeyRecord:
        """Change some fields of ``label``'s record (e.g. ``last_verified_at``)."""
        return self._change(label, lambda record: dataclasses.replace(record, **changes))

    def update_many(self, changes: dict[str, tuple[str, dict[str, Any]]]) -> list[str]:
        """Apply ``{label: (fingerprint, fields)}`` in one locked write (a fleet ``check``).

        A label that is gone, or now holds another key (its fingerprint changed:
        rotated by another run meanwhile), is skipped: what was read about the
        old key must not land on the new one's record. Returns the labels changed.
        """
        done: list[str] = []

        def apply(records: dict[str, KeyRecord]) -> None:
            for label, (fp, fields) in changes.items():
                record = records.get(label)
                if record is None or record.fingerprint != fp:
                    continue
                new = dataclasses.replace(record, **fields)
                assert_no_secret(new)
                records[label] = new
                done.append(label)

        if changes:
            self._modify(apply)
        return done

    def record_rotation(
        self, label: str, old_fingerprint: str, new_fingerprint: str, at: datetime | None = None
    ) -> KeyRecord:
        """Note that ``label`` now holds a new key; the record's fingerprint becomes the new one."""
        entry = {
            "at": (_as_utc(at) or utcnow()).isoformat(),
            "old_fingerprint": old_fingerprint,
            "new_fingerprint": new_fingerprint,
        }
        return self._change(
            label,
            lambda r: dataclasses.replace(r, fingerprint=new_fingerprint, rotations=[*r.rotations, entry]),
        )

    def _change(self, label: str, fn: Callable[[KeyRecord], KeyRecord]) -> KeyRecord:
        result: list[KeyRecord] = []

        def apply(records: dict[str, KeyRecord]) -> None:
            if label not in records:
                raise RegistryError(
                    f"no key labelled {label!r} in {self.path}: run `binance-key-wizard review` to list them",
                    kind="unknown_label",
                )
            new = fn(records[label])
            assert_no_secret(new)
            records[label] = new
            result.append(new)

        self._modify(apply)
        return result[0]

    def _modify(self, fn: Callable[[dict[str, KeyRecord]], None]) -> None:
        with self._locked():
            records = self._read()
            fn(records)
            doc = {"version": FILE_VERSION, "keys": {k: records[k].to_dict() for k in sorted(records)}}
            try:
                self._write_atomic(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
            except OSError as exc:  # read-only config dir, disk full, quota: nothing was changed
                raise RegistryError(f"can't write {self.path}: {exc.strerror or exc}; {_IO_FIX}",
                                    kind="io") from None

    def label_lock(self, label: str) -> LabelLock:
        """The cross-process lock that makes "label is free" and "store it" one step (not yet held)."""
        return LabelLock(self.path, label)

    # -- file handling --
    def _read(self) -> dict[str, KeyRecord]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise RegistryError(f"can't read {self.path}: {exc.strerror}", kind="io") from None
        try:
            doc = json.loads(raw.decode("utf-8"))
            if not isinstance(doc, dict) or not isinstance(doc.get("keys"), dict):
                raise ValueError("no 'keys' table")
            version = doc.get("version", 1)
            if isinstance(version, int) and version > FILE_VERSION:
                raise RegistryError(
                    f"{self.path} was written by a newer binance-key-wizard: upgrade it to use this file",
                    kind="version",
                )
            return {label: KeyRecord.from_dict(rec) for label, rec in doc["keys"].items()}
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        try:
            backup: Path | None = self._backup(raw)
            saved = f"A copy was saved as {backup}."
        except OSError:  # a read-only config dir: report the damage all the same
            backup, saved = None, "No copy could be saved (the directory is not writable)."
        raise RegistryError(
            f"{self.path} is damaged ({reason}). {saved} Fix the file or move it "
            "away, then run again (keys in the keyring are not affected).",
            kind="corrupt",
            backup=backup,
        )

    def _backup(self, raw: bytes) -> Path:
        """Copy a damaged file aside once (the same content is not copied twice)."""
        for existing in sorted(self.path.parent.glob(f"{self.path.name}.corrupt-*")):
            try:
                if existing.read_bytes() == raw:
                    return existing
            except OSError:
                continue
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        counter = 1
        while target.exists():
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{counter}")
            counter += 1
        shutil.copyfile(self.path, target)
        os.chmod(target, 0o600)
        return target

    def _write_atomic(self, text: str) -> None:
        directory = self.path.parent
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        fsync_directory(directory)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """An exclusive lock on ``keys.json.lock`` around a read-modify-write."""
        try:
            fd = open_lock_file(self.path.with_name(self.path.name + ".lock"))
        except LockError as exc:
            raise RegistryError(f"{exc.strerror}; {_IO_FIX}", kind="io") from None
        try:
            deadline = time.monotonic() + self.lock_timeout
            while not try_lock(fd):
                if time.monotonic() >= deadline:
                    raise RegistryError(
                        f"another binance-key-wizard is writing {self.path}; try again when it finishes",
                        kind="locked",
                    )
                time.sleep(0.02)
            try:
                yield
            finally:
                unlock(fd)
        finally:
            os.close(fd)
