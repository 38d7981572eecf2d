"""The dates that matter for one key, and the earliest of them with the reason.

Three dates can end a key's usefulness, and the user must see the first one
coming, whatever screen or command they look at (summary, ``review``,
``check``):

* Binance's ``tradingAuthorityExpirationTime``: when spot/margin trading
  permission expires, as the exchange itself reports it;
* the 30-day cut-off of a spot key without an IP allowlist (Binance unticks
  "Enable Spot & Margin Trading" 30 days after it was enabled). When Binance
  gave no expiry time, the earliest it can be is 30 days after the key was
  created (``createTime``), so that date is named as "as early as";
* the rotation date (the profile's or the default interval).

No Textual, no network: plain facts in, plain sentences out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

UNRESTRICTED_TRADING_DAYS = 30


@dataclass(frozen=True)
class KeyDate:
    """One date that matters: when, what happens then, and why."""

    at: datetime
    what: str
    why: str

    @property
    def day(self) -> str:
        """The date as YYYY-MM-DD (UTC)."""
        return self.at.date().isoformat()

    def sentence(self, now: datetime) -> str:
        """``2026-03-02: trading stops (why)`` with "passed" for a date already gone."""
        passed = " — already passed" if _aware(self.at) <= _aware(now) else ""
        return f"{self.day}: {self.what}{passed}. {self.why}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def key_dates(
    *, purpose: str, spot_trading: bool | None, ip_restricted: bool | None,
    trading_expires_at: datetime | None, created_at: datetime | None, rotation_due_at: datetime | None,
) -> list[KeyDate]:
    """Every date that matters for the key, earliest first."""
    dates: list[KeyDate] = []
    trades = purpose == "spot" and spot_trading is not False
    if trades and trading_expires_at is not None:
        dates.append(KeyDate(
            _aware(trading_expires_at), "the key's trading permission ends",
            "Binance reports this expiry for 'Enable Spot & Margin Trading'"
            + (" because the key has no IP allowlist; restrict it to trusted IPs to keep trading."
               if ip_restricted is False else ".")))
    elif trades and ip_restricted is False:
        start = _aware(created_at) if created_at is not None else None
        if start is not None:
            dates.append(KeyDate(
                start + timedelta(days=UNRESTRICTED_TRADING_DAYS), "trading may stop, as early as this",
                "Binance unticks 'Enable Spot & Margin Trading' 30 days after it was enabled on keys "
                "without an IP allowlist; restrict the key to trusted IPs to keep trading."))
    if rotation_due_at is not None:
        dates.append(KeyDate(_aware(rotation_due_at), "rotation is due",
                             "Replace the key with `binance-key-wizard rotate LABEL`."))
    return sorted(dates, key=lambda d: d.at)


def earliest(dates: list[KeyDate], now: datetime | None = None) -> KeyDate | None:
    """The first date still to come (what the user must act on next); with every date
    passed, the first of them. None when no date is known."""
    if now is not None:
        coming = [d for d in dates if d.at > _aware(now)]
        if coming:
            return coming[0]
    return dates[0] if dates else None


def dates_of_record(record: object) -> list[KeyDate]:
    """The dates for a registry record (:class:`wizard.registry.KeyRecord`)."""
    perms = getattr(record, "permissions", None) or {}
    return key_dates(
        purpose=getattr(record, "purpose", "read"), spot_trading=perms.get("spot_trading"),
        ip_restricted=getattr(record, "ip_restricted", None),
        trading_expires_at=getattr(record, "trading_expires_at", None),
        created_at=getattr(record, "binance_created_at", None) or getattr(record, "created_at", None),
        rotation_due_at=getattr(record, "rotation_due_at", None))
