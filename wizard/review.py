"""Plain-text and JSON rendering for the commands: the review table and check results.

No Textual and no network: everything here works from registry records and
:class:`~wizard.lifecycle.KeyCheck` results, so it is cheap to test and safe to
pipe. The review rows are also what the TUI's review screen can show
(:func:`review_rows`), so both agree on what "due" means.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from wizard import lifecycle
from wizard.text import printable, printable_lines

if TYPE_CHECKING:
    from wizard.lifecycle import KeyCheck
    from wizard.registry import KeyRecord

# Short names for the permission flags, in the order Binance's API Management lists them.
SHORT_NAMES: dict[str, str] = {
    "reading": "read",
    "spot_trading": "spot",
    "margin": "margin",
    "futures": "futures",
    "options": "options",
    "portfolio_margin": "portfolio-margin",
    "withdrawals": "WITHDRAWALS",
    "internal_transfer": "TRANSFER",
    "universal_transfer": "UNIVERSAL-TRANSFER",
    "fix_trade": "fix-trade",
    "fix_read_only": "fix-read",
}
STATUS: dict[int, str] = {
    0: "ok",
    1: "policy violation",
    2: "usage error",
    3: "no usable credentials",
    4: "rejected by the exchange",
    5: "exchange unreachable",
}
COLUMNS = ("LABEL", "PURPOSE", "KEY", "AGE", "VERIFIED", "PERMISSIONS", "IP", "TRADING EXPIRES", "ROTATE BY")


@dataclass(frozen=True)
class ReviewRow:
    """One managed key as the review shows it (strings ready to print; never the whole key)."""

    label: str
    purpose: str
    env: str
    fingerprint: str
    created_at: str | None
    age: str
    last_verified_at: str | None
    last_verified: str
    permissions: str
    ip_restriction: str
    trading_expires_at: str | None
    trading_expiry: str
    rotation_due_at: str | None
    rotation_due: str
    rotation_overdue: bool
    next_date_at: str | None = None
    next_date: str = "-"  # the earliest date that matters, with what happens then and why
    last_check_failed: bool = False
    pending: bool = False  # an add that never finished (see wizard/adding.py)
    store: str = "keyring"
    # Facts this machine's registry does not know (a key found in a shared store, e.g. by `review --store`).
    unrecorded: tuple[str, ...] = ()

    def cells(self) -> tuple[str, ...]:
        """The table's cells, in :data:`COLUMNS` order."""
        return (self.label, self.purpose, self.fingerprint, self.age, self.last_verified,
                self.permissions, self.ip_restriction, self.trading_expiry, self.rotation_due)


def review_rows(records: Iterable[KeyRecord], now: datetime | None = None) -> list[ReviewRow]:
    """Rows for every record, sorted by label."""
    now = now or lifecycle.utcnow()
    return [review_row(r, now) for r in sorted(records, key=lambda r: r.label.lower())]


def review_row(record: KeyRecord, now: datetime) -> ReviewRow:
    """What the review says about one record."""
    from wizard.key_dates import dates_of_record, earliest

    unrecorded = tuple(record.extra.get("unrecorded") or ())
    created = None if "created_at" in unrecorded else _dt(record.key_created_at)  # Binance's createTime when known
    verified = _dt(record.last_verified_at)
    expires = _dt(record.trading_expires_at)
    due = record.rotation_due_at
    first = earliest(dates_of_record(record), now)
    return ReviewRow(
        label=record.label,
        purpose=record.purpose,
        env=record.env,
        fingerprint=record.fingerprint,
        created_at=_iso(created),
        age=_span(now - created) if created else "?",
        last_verified_at=_iso(verified),
        last_verified="UNFINISHED" if record.pending else ("not here" if unrecorded else _verified(record, verified, now)),
        permissions=permissions_summary(record.permissions),
        ip_restriction={True: "restricted", False: "NONE"}.get(record.ip_restricted, "?"),
        trading_expires_at=_iso(expires),
        trading_expiry=_when(expires, now, past="EXPIRED") if expires else "-",
        rotation_due_at=_iso(due),
        rotation_due=_when(due, now) if due else "?",
        rotation_overdue=bool(due and due <= now),
        next_date_at=_iso(first.at) if first else None,
        next_date=first.sentence(now) if first else "-",
        last_check_failed=bool(record.last_check_failed),
        pending=bool(record.pending),
        store=record.store_uri,
        unrecorded=unrecorded,
    )


def _verified(record: KeyRecord, verified: datetime | None, now: datetime) -> str:
    """When the key last passed; a failing last check says so instead of looking verified."""
    checked = _dt(record.last_checked_at)
    if record.last_check_failed:
        when = f" {_span(now - checked)} ago" if checked else ""
        return f"FAILED{when}"
    return f"{_span(now - verified)} ago" if verified else "never"


def permissions_summary(perms: dict[str, Any] | None) -> str:
    """``read, spot`` from a KeyPermissions.as_dict(); dangerous ones in capitals."""
    if not perms:
        return "unknown"
    enabled = [short for attr, short in SHORT_NAMES.items() if perms.get(attr)]
    enabled += [str(name) for name in perms.get("unknown_enabled") or ()]
    text = ", ".join(enabled) or "none"
    return text if perms.get("confirmed", True) else f"{text} (unconfirmed)"


def render_table(rows: Sequence[ReviewRow]) -> str:
    """A fixed-width table with a header; an explanatory line when there are no keys."""
    if not rows:
        return "No managed keys. Set one up with `binance-key-wizard` or `binance-key-wizard add`."
    table = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in table]
    lines.append("")
    lines += [f"{row.label}: next date {row.next_date}" for row in rows if row.next_date_at]
    failed = [row.label for row in rows if row.last_check_failed]
    if failed:
        lines.append(f"Last check failed: {', '.join(failed)}. Run `binance-key-wizard check LABEL` to see why.")
    overdue = [row.label for row in rows if row.rotation_overdue]
    if overdue:
        lines.append(f"Rotation due: {', '.join(overdue)}. Run `binance-key-wizard rotate LABEL`.")
    unfinished = [row.label for row in rows if row.pending]
    if unfinished:
        lines.append("")
        lines.append(f"Unfinished add (the run stopped before the key was verified): {', '.join(unfinished)}. "
                     "Run `binance-key-wizard check LABEL` to see what was left, then add it again or "
                     "`binance-key-wizard forget LABEL`.")
    return "\n".join(lines)


def print_table(records: Iterable[KeyRecord], stream: TextIO | None = None) -> None:
    """The review as a plain table (for pipes and files)."""
    _emit(render_table(review_rows(records)), stream or sys.stdout)


def print_json(records: Iterable[KeyRecord], stream: TextIO | None = None) -> None:
    """The review as ``{"keys": [row, ...]}``."""
    rows = [asdict(row) for row in review_rows(records)]
    print(json.dumps(clean_json({"keys": rows}), indent=2), file=stream or sys.stdout)


# --- check/add results -----------------------------------------------------------------------


class Printer:
    """Prints command results: JSON on stdout, or one line per key plus findings with fixes."""

    def __init__(self, *, json_mode: bool, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        encoding = (getattr(self.stdout, "encoding", None) or "").lower().replace("-", "")
        self.ok_mark, self.bad_mark = ("✓", "✗") if encoding.startswith("utf") else ("OK", "!!")

    def add_result(self, check: KeyCheck, env_title: str) -> None:
        """``add``: one JSON object, or a line on stdout (stored) / stderr (not stored)."""
        if self.json_mode:
            self._json(check.as_json())
            return
        if check.ok:
            _emit(f"{self.ok_mark} Stored {check.label!r}: {describe(check)} — verified on {env_title}.",
                  self.stdout)
            self._findings(check, self.stdout)
        else:
            _emit(f"{self.bad_mark} Not stored {check.label!r}: {STATUS.get(check.exit_code, 'failed')} "
                  f"(exit {check.exit_code}).", self.stderr)
            self._findings(check, self.stderr)

    def check_results(self, checks: Sequence[KeyCheck]) -> int:
        """``check``: ``{"keys": [...], "exit_code": N}`` or a line per key; returns the worst code."""
        worst = max((c.exit_code for c in checks), default=0)
        if self.json_mode:
            self._json({"keys": [c.as_json() for c in checks], "exit_code": worst})
            return worst
        for c in checks:
            name = c.label or "(all keys)"
            if c.ok:
                _emit(f"{self.ok_mark} {name}: ok — {describe(c)}", self.stdout)
            else:
                _emit(f"{self.bad_mark} {name}: {STATUS.get(c.exit_code, 'failed')} (exit {c.exit_code})",
                      self.stdout)
            self._findings(c, self.stdout)
        if len(checks) > 1:
            failing = sum(1 for c in checks if not c.ok)
            _emit(f"{len(checks)} keys checked, {failing} failing; exit {worst}.", self.stdout)
        return worst

    def usage_error(self, label: str | None, exc: Any) -> None:
        """Malformed input (exit 2): JSON with one finding, or the message and fix on stderr."""
        if self.json_mode:
            found = {"id": exc.id, "severity": "block", "message": exc.message, "fix": exc.fix}
            self._json({"label": label, "ok": False, "exit_code": 2, "permissions": None, "findings": [found]})
        self.error(exc.message, exc.fix)

    def error(self, message: str, fix: str = "") -> None:
        """An error line (and what to do) on stderr."""
        _emit(f"error: {message}", self.stderr)
        if fix:
            _emit(f"  fix: {fix}", self.stderr)

    def _findings(self, check: KeyCheck, stream: TextIO) -> None:
        for f in check.findings:
            _emit(f"    {f.severity:<5}  {f.id}: {f.message}", stream)
            if f.fix:
                _emit(f"           fix: {f.fix}", stream)

    def _json(self, payload: dict[str, Any]) -> None:
        _emit(json.dumps(clean_json(payload), indent=2, default=str), self.stdout)


def _emit(text: str, stream: TextIO) -> None:
    """Print the app's own lines; anything inside them that came from outside (an
    exchange message, a header) loses its control characters on the way out."""
    print(printable_lines(text), file=stream)


def clean_json(value: Any) -> Any:
    """``value`` with every string (keys included) passed through :func:`printable`."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {clean_json(k) if isinstance(k, str) else k: clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value


def describe(check: KeyCheck) -> str:
    """``read, spot; IP-restricted`` for a key whose permissions were read."""
    perms = check.permissions
    if perms is None:
        return "permissions not read"
    ip = {True: "IP-restricted", False: "no IP restriction"}.get(perms.ip_restricted, "IP restriction unknown")
    return f"{permissions_summary(perms.as_dict())}; {ip}"


def _dt(value: datetime | None) -> datetime | None:
    """Registry times are aware datetimes; naive ones (built in memory) are taken as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _span(delta: Any) -> str:
    """A rough human length of time: ``5 min``, ``3 h``, ``12 days``."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return "<1 min"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _when(moment: datetime, now: datetime, past: str = "OVERDUE") -> str:
    """``2026-03-01 (in 12 days)`` or ``2026-01-01 (OVERDUE)``."""
    day = moment.date().isoformat()
    if moment <= now:
        return f"{day} ({past})"
    return f"{day} (in {_span(moment - now)})"
