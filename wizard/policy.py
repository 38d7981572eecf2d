"""The verdict on a key: which of its permissions fit the purpose, and what to change.

One implementation for the TUI, ``add`` and ``check``: :func:`evaluate_permissions`
turns :class:`~wizard.exchange.model.KeyPermissions` into a :class:`Verdict` of
:class:`Finding` s, each with a stable id, a severity, a plain-language message
and a fix naming the exact setting in Binance's API Management.

Fail closed: a dangerous permission that is on, or that Binance did not
confirm is off, blocks. Withdrawals and transfers are never acceptable,
whatever a profile says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

from wizard.exchange.model import RESTRICTION_FIELDS, Environment, KeyPermissions, Problem, ProblemKind

if TYPE_CHECKING:
    from wizard.profiles import Profile
    from wizard.session import Purpose

Severity = Literal["block", "warn", "info"]
_SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}

# attr -> the checkbox text in Binance's API Management ("Edit restrictions"). Binance
# renames these now and then; the two FIX labels are the least certain (named after
# the apiRestrictions fields enableFixApiTrade / enableFixReadOnly).
SETTING_LABELS: dict[str, str] = {
    "reading": "Enable Reading",
    "spot_trading": "Enable Spot & Margin Trading",
    "withdrawals": "Enable Withdrawals",
    "internal_transfer": "Enable Internal Transfer",
    "universal_transfer": "Permits Universal Transfer",
    "margin": "Enable Margin Loan, Repay & Transfer",
    "futures": "Enable Futures",
    "options": "Enable European Options",
    "portfolio_margin": "Enable Portfolio Margin Trading",
    "fix_trade": "Enable FIX API Trade",
    "fix_read_only": "Enable FIX API Read Only",
}

# Never acceptable; a profile cannot allow them (profiles.py rejects them too).
FORBIDDEN = ("withdrawals", "internal_transfer", "universal_transfer")
# Not dangerous to funds by themselves outside this wizard's scope, but never needed for spot.
UNNEEDED = ("margin", "futures", "options", "portfolio_margin")
# What a profile may require or allow.
HARMLESS = ("reading", "spot_trading", "fix_read_only", "fix_trade")

_WHY = {
    "withdrawals": "anyone holding this key could send your funds out of Binance",
    "internal_transfer": "anyone holding this key could move your funds to another Binance account",
    "universal_transfer": "anyone holding this key could move funds between your accounts and sub-accounts",
    "margin": "borrowing on margin can lose more than you put in",
    "futures": "leveraged futures trading can wipe out your balance",
    "options": "options trading is not something this key's purpose needs",
    "portfolio_margin": "portfolio margin trading uses leverage across your whole account",
}
_EDIT = "in API Management → Edit restrictions"
EXPIRY_WARNING = timedelta(days=7)


@dataclass(frozen=True)
class Finding:
    """One thing the user should know about the key, and what to do about it."""

    id: str
    severity: Severity
    message: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        """JSON-friendly form."""
        return {"id": self.id, "severity": self.severity, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class Verdict:
    """All findings for one key, most severe first."""

    findings: tuple[Finding, ...] = ()

    @property
    def blocked(self) -> bool:
        """True when any finding blocks storing or using the key."""
        return any(f.severity == "block" for f in self.findings)

    @property
    def exit_code(self) -> int:
        """1 (policy violation) when blocked, else 0."""
        return 1 if self.blocked else 0

    @property
    def ids(self) -> tuple[str, ...]:
        """The finding ids in order."""
        return tuple(f.id for f in self.findings)

    def by_id(self, finding_id: str) -> Finding | None:
        """The finding with this id, or None."""
        return next((f for f in self.findings if f.id == finding_id), None)

    def of_severity(self, severity: Severity) -> tuple[Finding, ...]:
        """The findings of one severity."""
        return tuple(f for f in self.findings if f.severity == severity)

    def as_json(self) -> list[dict[str, str]]:
        """``[{id, severity, message, fix}, ...]``."""
        return [f.as_dict() for f in self.findings]


def _sorted(findings: list[Finding]) -> Verdict:
    return Verdict(tuple(sorted(findings, key=lambda f: _SEVERITY_ORDER[f.severity])))


def _label(attr: str) -> str:
    return f"'{SETTING_LABELS[attr]}'"


def intended_permissions(purpose: Purpose, profile: Profile | None = None) -> dict[str, bool]:
    """Which settings should be ticked (attr -> wanted), in Binance's order, for the UI's table."""
    required = set(profile.permissions_required) if profile else set()
    wanted = {attr: attr in required for attr in RESTRICTION_FIELDS.values()}
    wanted["reading"] = True
    wanted["spot_trading"] = purpose == "spot"
    for attr in FORBIDDEN + UNNEEDED:  # fail closed even against a hand-built Profile
        wanted[attr] = False
    return wanted


def _allowed(profile: Profile | None) -> set[str]:
    if profile is None:
        return set()
    return (set(profile.permissions_allowed) | set(profile.permissions_required)) - set(FORBIDDEN + UNNEEDED)


def _dangerous(perms: KeyPermissions) -> list[Finding]:
    findings = []
    for attr in FORBIDDEN + UNNEEDED:
        value = getattr(perms, attr)
        if value:
            findings.append(
                Finding(
                    f"{attr}_enabled",
                    "block",
                    f"{SETTING_LABELS[attr]} is on: {_WHY[attr]}. The wizard never stores such a key.",
                    f"Untick {_label(attr)} {_EDIT}, then check again.",
                )
            )
        elif value is None and perms.confirmed and attr in FORBIDDEN:
            findings.append(
                Finding(
                    f"{attr}_enabled",
                    "block",
                    f"Binance did not say whether {SETTING_LABELS[attr]} is off, so the wizard must "
                    "assume it is on.",
                    f"Make sure {_label(attr)} is unticked {_EDIT}, then check again.",
                )
            )
    if perms.fix_trade and not _fix_exists(perms):
        findings.append(
            Finding(
                "fix_trade_on_hmac",
                "block",
                "Binance reports FIX API trading on for this HMAC key, although FIX API "
                "permissions exist only on Ed25519 keys: the wizard can't tell what this key may do.",
                "Delete this key in API Management and create a new one.",
            )
        )
    if perms.unknown_enabled:
        names = ", ".join(perms.unknown_enabled)
        findings.append(
            Finding(
                "unknown_permission_enabled",
                "block",
                f"Binance reports permission settings this wizard can't read ({names}): unknown, "
                "treated as on. An unknown permission could let the key move funds, so the wizard "
                "will not store it until you have looked.",
                f"Open the key {_EDIT} and look at every ticked box: untick everything except "
                f"{_label('reading')} (and {_label('spot_trading')} for a trading bot), then check "
                "again. If a setting there is new to you, delete the key and create a new one.",
            )
        )
    return findings


def _fix_exists(perms: KeyPermissions) -> bool:
    """FIX API permissions exist only on Ed25519 keys: never send an HMAC user to tick one."""
    return perms.key_type != "hmac"


def _trading(perms: KeyPermissions, purpose: Purpose, allowed: set[str]) -> list[Finding]:
    findings = []
    if purpose == "read":
        trading_attrs = ("spot_trading", "fix_trade") if _fix_exists(perms) else ("spot_trading",)
        on = [attr for attr in trading_attrs if getattr(perms, attr) and attr not in allowed]
        if on:
            settings = " and ".join(_label(a) for a in on)
            findings.append(
                Finding(
                    "trading_not_needed",
                    "block",
                    "This key can place orders, but a portfolio tracker or tax tool only needs to read. "
                    "A leaked trading key can be used to dump your coins into a bad market.",
                    f"Untick {settings} {_EDIT}.",
                )
            )
        return findings
    # Unknown is not "on": a probe whose test order was refused for a reason that says
    # nothing about the key (an account limit, "Rest API trading is not enabled.") blocks too.
    if perms.spot_trading is not True:
        ip_note = (
            " Binance unticks it automatically after 30 days on keys without an IP allowlist, so "
            "restrict the key to your bot's IPs first."
            if perms.ip_restricted is False
            else ""
        )
        findings.append(
            Finding(
                "trading_missing",
                "block",
                "A trading bot needs this key to place orders, but "
                f"{SETTING_LABELS['spot_trading']} is "
                f"{'off' if perms.spot_trading is False else 'not confirmed'}.",
                f"Tick {_label('spot_trading')} {_EDIT}.{ip_note}",
            )
        )
    if perms.fix_trade and "fix_trade" not in allowed and _fix_exists(perms):
        findings.append(
            Finding(
                "fix_trade_not_needed",
                "warn",
                "FIX API trading is on, but this bot trades through the REST API: one more way in "
                "that nothing here needs.",
                f"Untick {_label('fix_trade')} {_EDIT}.",
            )
        )
    return findings


def _required(perms: KeyPermissions, purpose: Purpose, profile: Profile | None) -> list[Finding]:
    findings = []
    if perms.reading is False or (perms.reading is None and perms.confirmed):
        findings.append(
            Finding(
                "reading_missing",
                "block",
                f"{SETTING_LABELS['reading']} is {'off' if perms.reading is False else 'not confirmed'}: "
                "nothing can read balances or orders with this key.",
                f"Tick {_label('reading')} {_EDIT}.",
            )
        )
    extra = [a for a in (profile.permissions_required if profile else ()) if a.startswith("fix_")]
    for attr in extra:
        value = getattr(perms, attr)
        if not _fix_exists(perms):
            findings.append(
                Finding(
                    "required_permission_missing",
                    "block",
                    f"{profile.product if profile else 'The product'} needs "
                    f"{SETTING_LABELS[attr]}, and FIX API permissions exist only on Ed25519 keys: "
                    "this is an HMAC key.",
                    "Create an Ed25519 key instead (the wizard can generate the pair; choose "
                    "Ed25519 on the key step), then tick the FIX setting on that key.",
                )
            )
        elif value is False or (value is None and perms.confirmed):
            findings.append(
                Finding(
                    "required_permission_missing",
                    "block",
                    f"{profile.product if profile else 'The product'} needs {SETTING_LABELS[attr]}, "
                    "which is not on.",
                    f"Tick {_label(attr)} {_EDIT}.",
                )
            )
    return findings


def _ip(perms: KeyPermissions, purpose: Purpose, profile: Profile | None) -> list[Finding]:
    if perms.ip_restricted:
        return _ip_list_unproven(profile)
    if perms.ip_restricted is None and not perms.confirmed:
        if profile and profile.require_ip_restriction:
            return [
                Finding(
                    "ip_restriction_required",
                    "warn",
                    f"{profile.product} requires an IP allowlist, and this environment cannot confirm one.",
                    "Check that 'Restrict access to trusted IPs only' is selected for this key.",
                )
            ]
        return []
    state = "could not be confirmed" if perms.ip_restricted is None else "is not set"
    where = "Select 'Restrict access to trusted IPs only' in API Management → Edit restrictions and add"
    if profile and profile.require_ip_restriction:
        ips = ", ".join(str(n) for n in profile.egress_ips) or "your bot's public IPs"
        return [
            Finding(
                "ip_restriction_required",
                "block",
                f"{profile.product} requires the key to be restricted to its IPs, "
                f"and the IP allowlist {state}.",
                f"{where} {ips}.",
            )
        ]
    expiry = (
        " Binance also unticks 'Enable Spot & Margin Trading' 30 days after it was enabled on keys "
        "without an IP allowlist, and the bot will stop trading."
        if purpose == "spot"
        else ""
    )
    return [
        Finding(
            "ip_unrestricted",
            "warn",
            f"The IP allowlist {state}: a leaked key works from anywhere in the world.{expiry}",
            f"{where} the public IPs the tool connects from.",
        )
    ]


def _ip_list_unproven(profile: Profile | None) -> list[Finding]:
    """Binance tells only THAT a key has an IP list, never which IPs: the bot's are unproven."""
    if profile is None or not profile.egress_ips:
        return []
    return [Finding(
        "ip_list_unproven", "info",
        f"Binance confirms the key is IP-restricted but never says which IPs are on its list, so "
        f"whether {profile.product}'s addresses are on it is not proven.",
        "Prove it from the bot's server: `binance-key-wizard check LABEL` there must say ok.")]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _dates(
    perms: KeyPermissions, purpose: Purpose, now: datetime, rotation_due_at: datetime | None
) -> list[Finding]:
    findings = []
    expires = perms.trading_expires_at
    if expires is not None and purpose == "spot" and perms.spot_trading:
        expires = _aware(expires)
        day = expires.date().isoformat()
        left = expires - now
        if left <= timedelta(0):
            when = f"Binance's trading permission for this key expired on {day}."
        elif left <= EXPIRY_WARNING:
            when = f"Binance will untick {SETTING_LABELS['spot_trading']} on {day} — within a week."
        else:
            when = f"Binance will untick {SETTING_LABELS['spot_trading']} on {day}."
        findings.append(
            Finding(
                "trading_expires_soon",
                "warn" if left <= EXPIRY_WARNING else "info",
                when,
                "Restrict the key to trusted IPs in API Management: IP-restricted keys keep trading "
                "permission; otherwise tick it again before then.",
            )
        )
    if rotation_due_at is not None and _aware(rotation_due_at) <= now:
        findings.append(
            Finding(
                "rotation_due",
                "warn",
                f"This key was due for rotation on {_aware(rotation_due_at).date().isoformat()}.",
                "Run 'binance-key-wizard rotate LABEL' to replace it with a fresh key.",
            )
        )
    return findings


def _unconfirmed(perms: KeyPermissions, purpose: Purpose, env: Environment) -> list[Finding]:
    if perms.confirmed:
        return []
    ticked = _label("reading") + (f" and {_label('spot_trading')}" if purpose == "spot" else "")
    if env.has_sapi:
        return [
            Finding(
                "permissions_unconfirmed",
                "block",
                "Binance did not confirm this key's permissions, so the wizard cannot prove "
                "withdrawals are off.",
                "Try again in a minute; if it keeps failing, check the key in API Management.",
            )
        ]
    return [
        Finding(
            "permissions_unconfirmed",
            "warn",
            f"{env.title} cannot report a key's permissions: they were probed, not confirmed.",
            f"Check in API Management that only {ticked} is ticked, and that "
            f"{_label('withdrawals')} is off.",
        )
    ]


def evaluate_permissions(
    perms: KeyPermissions,
    purpose: Purpose,
    *,
    env: Environment,
    profile: Profile | None = None,
    now: datetime | None = None,
    rotation_due_at: datetime | None = None,
) -> Verdict:
    """Judge a key's permissions for ``purpose`` (``"read"`` or ``"spot"``)."""
    moment = _aware(now) if now else datetime.now(timezone.utc)
    allowed = _allowed(profile)
    findings = _dangerous(perms)
    findings += _required(perms, purpose, profile)
    findings += _trading(perms, purpose, allowed)
    findings += _unconfirmed(perms, purpose, env)
    findings += _ip(perms, purpose, profile)
    findings += _dates(perms, purpose, moment, rotation_due_at)
    return _sorted(findings)


_PROBLEM_IDS: dict[ProblemKind, str] = {
    ProblemKind.KEY_FORMAT: "key_invalid",
    ProblemKind.KEY_INVALID: "key_invalid",
    ProblemKind.SIGNATURE_INVALID: "signature_invalid",
    ProblemKind.IP_NOT_ALLOWED: "ip_not_allowed",
    ProblemKind.PERMISSION_MISSING: "trading_missing",
    ProblemKind.KEY_REJECTED: "key_rejected",
    ProblemKind.READ_REFUSED: "read_refused",
    ProblemKind.CLOCK_SKEW: "clock_skew",
    ProblemKind.RATE_LIMITED: "rate_limited",
    ProblemKind.BANNED: "rate_limited",
    ProblemKind.ORDER_REJECTED: "test_order_rejected",
    ProblemKind.FILTER_FAILURE: "test_order_rejected",
    ProblemKind.REGION_BLOCKED: "region_blocked",
    ProblemKind.NOT_FOUND: "exchange_unreachable",
    ProblemKind.SERVER_ERROR: "exchange_unreachable",
    ProblemKind.TIMEOUT: "exchange_unreachable",
    ProblemKind.UNREACHABLE: "exchange_unreachable",
    ProblemKind.UNPROVEN: "not_proven",
    ProblemKind.UNKNOWN: "exchange_error",
}


def finding_for_problem(problem: Problem) -> Finding:
    """The blocking finding for a failed call: the key is not verified until it succeeds."""
    return Finding(_PROBLEM_IDS.get(problem.kind, "exchange_error"), "block", problem.message, problem.fix)
