"""The record type of :mod:`wizard.registry`: the non-secret facts about one key, checked field by field.

:class:`KeyRecord` with its JSON form (``to_dict``/``from_dict``, which refuses a
field of the wrong kind with a sentence naming record and field), the key's
``fingerprint`` and the UTC time helpers. No file handling here: reading and
writing ``keys.json`` is :class:`wizard.registry.Registry`'s, and every name
below is re-exported from :mod:`wizard.registry`, where callers import it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

APP_NAME = "binance-key-wizard"
DEFAULT_SERVICE = APP_NAME  # the keyring service name (wizard.vault.SERVICE)
_DATETIME_FIELDS = ("created_at", "last_verified_at", "trading_expires_at", "binance_created_at", "last_checked_at")


def fingerprint(api_key: str) -> str:
    """A short, recognisable form of an API key (``"Ab12…xY9z"``); never the whole key."""
    key = api_key.strip()
    if not key:
        raise ValueError("an empty API key has no fingerprint")
    n = 4 if len(key) >= 16 else max(1, len(key) // 4)
    return f"{key[:n]}…{key[-n:]}"


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(timezone.utc)


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)  # naive times are taken as UTC


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    return _as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


@dataclass
class KeyRecord:
    """The non-secret facts about one stored key."""

    label: str
    purpose: str = "read"
    env: str = "live"
    base_url: str | None = None
    key_type: str = "hmac"
    fingerprint: str = ""
    service: str = DEFAULT_SERVICE
    # The store's URI (wizard.stores.uri; never a secret). None in records written before
    # there were other stores: those keys are in the keyring under ``service``.
    store: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    last_verified_at: datetime | None = None
    permissions: dict[str, Any] = field(default_factory=dict)
    ip_restricted: bool | None = None
    trading_expires_at: datetime | None = None
    rotation_days: int | None = 90
    profile: str | None = None
    rotations: list[dict[str, Any]] = field(default_factory=list)
    # Binance's createTime for the current key (None when the exchange did not say).
    binance_created_at: datetime | None = None
    # The last `check` (or wizard run): when, and whether it failed. Older files lack them.
    last_checked_at: datetime | None = None
    last_check_failed: bool = False
    # True from just before the secret is written until the stored copy is verified: a record
    # still pending later means that run died, and `check`/`review` say so (wizard/adding.py).
    pending: bool = False
    # Fields written by a newer version: kept so rewriting the file never drops them.
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def store_uri(self) -> str:
        """Where the key lives: ``store``, else the keyring service it was stored under."""
        if self.store:
            return self.store
        return "keyring" if self.service == DEFAULT_SERVICE else f"keyring:{self.service}"

    @property
    def last_rotated_at(self) -> datetime:
        """When the current key came into use (last rotation, else creation)."""
        times = [t for t in (_parse_time(r.get("at")) for r in self.rotations) if t]
        return max(times, default=_as_utc(self.created_at))  # type: ignore[arg-type]

    @property
    def key_created_at(self) -> datetime:
        """When the current key was created: Binance's createTime when known, else when it came in."""
        return _as_utc(self.binance_created_at) or self.last_rotated_at

    @property
    def rotation_due_at(self) -> datetime | None:
        """When the key should be rotated (counted from its creation), if an interval is set."""
        if not self.rotation_days:
            return None
        return self.key_created_at + timedelta(days=self.rotation_days)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO 8601 times); unknown fields written back as read."""
        out: dict[str, Any] = dict(self.extra)
        for f in dataclasses.fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if f.name in _DATETIME_FIELDS and value is not None:
                value = _as_utc(value).isoformat()  # type: ignore[union-attr]
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KeyRecord:
        """Parse one record; ValueError/TypeError if it is malformed."""
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        values = {k: v for k, v in data.items() if k in known}
        if not isinstance(values.get("label"), str):
            raise ValueError("a record has no label")
        for name in _DATETIME_FIELDS:
            if name in values:
                values[name] = _parse_time(values[name])
        if values.get("created_at") is None:
            values.pop("created_at", None)
        if not isinstance(values.get("permissions", {}), dict) or not isinstance(values.get("rotations", []), list):
            raise ValueError(f"record {values['label']!r} has malformed permissions or rotations")
        _check_field_types(values)
        return cls(**values, extra={k: v for k, v in data.items() if k not in known})


_ENVS = ("live", "testnet", "demo", "custom", "sim")
_OPTIONAL_STR = ("base_url", "profile", "store")


def _check_field_types(values: dict[str, Any]) -> None:
    """Refuse values of the wrong kind with a sentence naming record and field (a hand-edited
    ``"rotation_days": "ninety"`` must not surface later as a TypeError deep in ``review``)."""
    label = values["label"]

    def bad(name: str, expected: str) -> ValueError:
        return ValueError(f"record {label!r} has {name} = {values[name]!r}, expected {expected}")

    for name in ("purpose", "fingerprint", "service"):
        if name in values and not isinstance(values[name], str):
            raise bad(name, "text")
    for name in _OPTIONAL_STR:
        if values.get(name) is not None and not isinstance(values[name], str):
            raise bad(name, "text or null")
    if "env" in values and values["env"] not in _ENVS:
        raise bad("env", "one of " + ", ".join(_ENVS))
    if values.get("env") in ("custom", "sim") and not values.get("base_url"):
        raise ValueError(f"record {label!r} has env {values['env']!r} but no base_url")
    if "key_type" in values and values["key_type"] not in ("hmac", "ed25519"):
        raise bad("key_type", "hmac or ed25519")
    days = values.get("rotation_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 36500):
        raise bad("rotation_days", "a whole number of days (0-36500) or null")
    for name in ("ip_restricted", "pending", "last_check_failed"):
        if values.get(name) is not None and not isinstance(values[name], bool):
            raise bad(name, "true, false or null")
    if any(not isinstance(r, dict) for r in values.get("rotations", [])):
        raise ValueError(f"record {label!r} has a malformed rotations list")
    for entry in values.get("rotations", []):
        try:
            _parse_time(entry.get("at"))
        except (TypeError, ValueError):
            raise ValueError(f"record {label!r} has a rotation with an unreadable time") from None
    if values.get("pending") is None:
        values.pop("pending", None)
