"""What `check` adds when the key it judged is one the wizard STORED.

The policy speaks of a key about to be stored; a key already in the keyring is
loadable right now, so a dangerous permission on it calls for action today, and
the user needs the next date that matters (trading cut-off, Binance's expiry,
rotation). Used by :func:`wizard.lifecycle.after_check`. No Textual here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from wizard.lifecycle import KeyCheck, finding, utcnow

if TYPE_CHECKING:
    from wizard.registry import KeyRecord


def for_stored_key(check: KeyCheck, label: str) -> KeyCheck:
    """A dangerous permission found on a key that IS stored: say so, and how to end it now.

    The policy's wording ("the wizard never stores such a key") is for a key about to be
    stored; this one is in the keyring and loadable, so the fix is to act on it today.
    """
    from wizard.policy import Finding, Verdict

    found = [f for f in check.findings if f.severity == "block" and f.id.endswith("_enabled")]
    if not found:
        return check
    where = (f" This key is still stored under {label!r} and anything that loads it can use it: "
             "it was changed in Binance after it was stored.")
    fix_tail = (f" Or delete the key in Binance's API Management now and replace it with "
                f"`binance-key-wizard rotate {label}`. Then run `binance-key-wizard check {label}` again.")
    findings = tuple(
        Finding(f.id, f.severity, f.message.replace(" The wizard never stores such a key.", "") + where,
                f"Now: {f.fix.removesuffix(', then check again.').rstrip('.')}.{fix_tail}")
        if f in found else f for f in check.findings)
    return replace(check, verdict=Verdict(findings))


def with_earliest_date(check: KeyCheck, record: KeyRecord, now: datetime | None = None) -> KeyCheck:
    """Add the first date that matters (trading cut-off, Binance's expiry, rotation) and why."""
    from datetime import timedelta

    from wizard.key_dates import dates_of_record, earliest
    from wizard.policy import Verdict

    moment = now or utcnow()
    first = earliest(dates_of_record(record), moment)
    if first is None or check.permissions is None:
        return check
    severity = "warn" if first.at - moment <= timedelta(days=7) else "info"
    note = finding("earliest_date", severity, f"Next date that matters: {first.sentence(moment)}", "")
    return replace(check, verdict=Verdict((*check.verdict.findings, note)))
