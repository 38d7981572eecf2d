"""The permission verdict: every finding id, fail-closed rules, and properties over all flag combinations."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wizard.exchange.model import RESTRICTION_FIELDS, Environment, KeyPermissions, Problem, ProblemKind
from wizard.policy import (
    SETTING_LABELS,
    Finding,
    Verdict,
    evaluate_permissions,
    finding_for_problem,
    intended_permissions,
)
from wizard.profiles import Profile

LIVE = Environment.live()
TESTNET = Environment.testnet()
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
ALL_OFF = {attr: False for attr in RESTRICTION_FIELDS.values()}


def perms(confirmed: bool = True, **flags) -> KeyPermissions:
    """A confirmed read-only, IP-restricted key, changed by ``flags``."""
    values = {**ALL_OFF, "reading": True, "ip_restricted": True, **flags}
    return KeyPermissions(confirmed=confirmed, **values)


def spot(**flags) -> KeyPermissions:
    return perms(spot_trading=True, **flags)


def verdict(p: KeyPermissions, purpose="read", **kwargs) -> Verdict:
    kwargs.setdefault("env", LIVE)
    kwargs.setdefault("now", NOW)
    return evaluate_permissions(p, purpose, **kwargs)


BOT = Profile(
    name="acme-bot",
    product="Acme Bot",
    purpose="spot",
    egress_ips=(ipaddress.ip_network("203.0.113.10/32"),),
    require_ip_restriction=True,
)


def test_least_privilege_keys_pass_clean():
    assert verdict(perms()).findings == ()
    assert verdict(spot(), "spot").findings == ()
    assert verdict(perms()).exit_code == 0 and not verdict(perms()).blocked
    assert verdict(perms()).as_json() == []


@pytest.mark.parametrize(
    ("attr", "finding_id", "label"),
    [
        ("withdrawals", "withdrawals_enabled", "Enable Withdrawals"),
        ("internal_transfer", "internal_transfer_enabled", "Enable Internal Transfer"),
        ("universal_transfer", "universal_transfer_enabled", "Permits Universal Transfer"),
        ("margin", "margin_enabled", "Enable Margin Loan, Repay & Transfer"),
        ("futures", "futures_enabled", "Enable Futures"),
        ("options", "options_enabled", "Enable European Options"),
        ("portfolio_margin", "portfolio_margin_enabled", "Enable Portfolio Margin Trading"),
    ],
)
@pytest.mark.parametrize("purpose", ["read", "spot"])
def test_dangerous_permission_blocks(attr, finding_id, label, purpose):
    base = spot() if purpose == "spot" else perms()
    result = verdict(replace(base, **{attr: True}), purpose)
    finding = result.by_id(finding_id)
    assert finding is not None and finding.severity == "block"
    assert finding.fix == f"Untick '{label}' in API Management → Edit restrictions, then check again."
    assert result.blocked and result.exit_code == 1


@pytest.mark.parametrize("attr", ["withdrawals", "internal_transfer", "universal_transfer"])
def test_unknown_transfer_flag_on_confirmed_read_blocks(attr):
    finding = verdict(perms(**{attr: None})).by_id(f"{attr}_enabled")
    assert finding is not None and finding.severity == "block"
    assert "did not say" in finding.message


def test_unknown_trading_flags_elsewhere_do_not_block_on_confirmed_read():
    # Binance leaves out fields for products the account does not have.
    assert verdict(perms(margin=None, futures=None, options=None, portfolio_margin=None)).findings == ()


def test_unknown_permission_enabled():
    finding = verdict(perms(unknown_enabled=("enableCopyTrading",))).by_id("unknown_permission_enabled")
    assert finding.severity == "block" and "enableCopyTrading" in finding.message


def test_trading_not_needed_for_read_purpose():
    finding = verdict(spot()).by_id("trading_not_needed")
    assert finding.severity == "block"
    assert "'Enable Spot & Margin Trading'" in finding.fix
    fix_only = verdict(perms(fix_trade=True)).by_id("trading_not_needed")
    assert fix_only.severity == "block" and "'Enable FIX API Trade'" in fix_only.fix


def test_trading_missing_for_spot_purpose():
    finding = verdict(perms(), "spot").by_id("trading_missing")
    assert finding.severity == "block" and "Tick 'Enable Spot & Margin Trading'" in finding.fix
    unrestricted = verdict(perms(ip_restricted=False), "spot").by_id("trading_missing")
    assert "30 days" in unrestricted.fix
    assert verdict(perms(spot_trading=None), "spot").by_id("trading_missing").severity == "block"


def test_reading_missing():
    finding = verdict(perms(reading=False)).by_id("reading_missing")
    assert finding.severity == "block" and "Tick 'Enable Reading'" in finding.fix
    assert verdict(perms(reading=None)).by_id("reading_missing") is not None


def test_fix_trade_on_a_spot_key_is_a_warning_unless_the_profile_allows_it():
    assert verdict(spot(fix_trade=True), "spot").by_id("fix_trade_not_needed").severity == "warn"
    allowing = replace(BOT, permissions_allowed=("fix_trade",))
    assert verdict(spot(fix_trade=True), "spot", profile=allowing).by_id("fix_trade_not_needed") is None


def test_profile_required_fix_read_only():
    tracker = Profile(name="t", product="Tracker", purpose="read", permissions_required=("fix_read_only",))
    finding = verdict(perms(), profile=tracker).by_id("required_permission_missing")
    assert finding.severity == "block" and "'Enable FIX API Read Only'" in finding.fix
    assert verdict(perms(fix_read_only=True), profile=tracker).findings == ()
    assert intended_permissions("read", tracker)["fix_read_only"] is True


def test_ip_unrestricted_warns_and_explains_the_30_day_rule_for_trading_keys():
    read = verdict(perms(ip_restricted=False)).by_id("ip_unrestricted")
    assert read.severity == "warn" and "30 days" not in read.message
    trading = verdict(spot(ip_restricted=False), "spot").by_id("ip_unrestricted")
    assert trading.severity == "warn" and "30 days" in trading.message
    assert "Restrict access to trusted IPs only" in trading.fix
    assert not verdict(spot(ip_restricted=False), "spot").blocked
    assert verdict(perms(ip_restricted=None)).by_id("ip_unrestricted").severity == "warn"


def test_ip_restriction_required_by_profile_blocks():
    finding = verdict(spot(ip_restricted=False), "spot", profile=BOT).by_id("ip_restriction_required")
    assert finding.severity == "block" and "203.0.113.10" in finding.fix
    assert verdict(spot(ip_restricted=False), "spot", profile=BOT).by_id("ip_unrestricted") is None
    # Restricted: nothing to fix, but Binance never says WHICH IPs, so the bot's are unproven.
    assert verdict(spot(), "spot", profile=BOT).ids == ("ip_list_unproven",)
    unproven = verdict(spot(), "spot", profile=BOT).by_id("ip_list_unproven")
    assert unproven.severity == "info" and "binance-key-wizard check" in unproven.fix
    assert verdict(spot(), "spot").by_id("ip_list_unproven") is None  # no profile, no list to doubt


def test_trading_expires_soon():
    within = verdict(spot(trading_expires_at=NOW + timedelta(days=3)), "spot").by_id("trading_expires_soon")
    assert within.severity == "warn" and "2026-03-04" in within.message
    later = verdict(spot(trading_expires_at=NOW + timedelta(days=20)), "spot").by_id("trading_expires_soon")
    assert later.severity == "info" and "2026-03-21" in later.message
    past = verdict(spot(trading_expires_at=NOW - timedelta(days=1)), "spot").by_id("trading_expires_soon")
    assert past.severity == "warn" and "expired" in past.message
    naive = verdict(spot(trading_expires_at=datetime(2026, 3, 2)), "spot").by_id("trading_expires_soon")
    assert naive.severity == "warn"
    assert verdict(perms(trading_expires_at=NOW + timedelta(days=3))).by_id("trading_expires_soon") is None


def test_rotation_due():
    due = verdict(perms(), rotation_due_at=NOW - timedelta(days=1)).by_id("rotation_due")
    assert due.severity == "warn" and "rotate" in due.fix
    assert verdict(perms(), rotation_due_at=NOW).by_id("rotation_due") is not None
    assert verdict(perms(), rotation_due_at=NOW + timedelta(days=1)).by_id("rotation_due") is None


def test_permissions_unconfirmed_on_testnet_warns_and_says_what_to_check():
    probed = KeyPermissions(confirmed=False, reading=True, spot_trading=True)
    result = verdict(probed, "spot", env=TESTNET)
    finding = result.by_id("permissions_unconfirmed")
    assert finding.severity == "warn" and "probed, not confirmed" in finding.message
    assert "'Enable Reading' and 'Enable Spot & Margin Trading'" in finding.fix
    assert not result.blocked
    # A probe that shows trading off still fails a spot key.
    assert verdict(replace(probed, spot_trading=False), "spot", env=TESTNET).by_id("trading_missing")


def test_unconfirmed_where_binance_could_confirm_blocks():
    probed = KeyPermissions(confirmed=False, reading=True)
    assert verdict(probed, env=LIVE).by_id("permissions_unconfirmed").severity == "block"


def test_unconfirmed_ip_with_a_profile_that_requires_it_warns_on_testnet():
    probed = KeyPermissions(confirmed=False, reading=True, spot_trading=True)
    finding = verdict(probed, "spot", env=TESTNET, profile=BOT).by_id("ip_restriction_required")
    assert finding.severity == "warn"


def test_findings_are_ordered_by_severity_and_serialise():
    result = verdict(
        spot(ip_restricted=False, withdrawals=True, trading_expires_at=NOW + timedelta(days=30)), "spot"
    )
    severities = [f.severity for f in result.findings]
    assert severities == sorted(severities, key=["block", "warn", "info"].index)
    assert result.ids[0] == "withdrawals_enabled"
    assert result.as_json()[0] == {
        "id": "withdrawals_enabled",
        "severity": "block",
        "message": result.findings[0].message,
        "fix": result.findings[0].fix,
    }
    assert result.of_severity("info")[0].id == "trading_expires_soon"


@pytest.mark.parametrize(
    ("kind", "finding_id"),
    [
        (ProblemKind.KEY_INVALID, "key_invalid"),
        (ProblemKind.KEY_FORMAT, "key_invalid"),
        (ProblemKind.SIGNATURE_INVALID, "signature_invalid"),
        (ProblemKind.IP_NOT_ALLOWED, "ip_not_allowed"),
        (ProblemKind.CLOCK_SKEW, "clock_skew"),
        (ProblemKind.PERMISSION_MISSING, "trading_missing"),
        (ProblemKind.KEY_REJECTED, "key_rejected"),
        (ProblemKind.TIMEOUT, "exchange_unreachable"),
        (ProblemKind.UNREACHABLE, "exchange_unreachable"),
        (ProblemKind.SERVER_ERROR, "exchange_unreachable"),
        (ProblemKind.RATE_LIMITED, "rate_limited"),
        (ProblemKind.REGION_BLOCKED, "region_blocked"),
        (ProblemKind.FILTER_FAILURE, "test_order_rejected"),
        (ProblemKind.UNKNOWN, "exchange_error"),
    ],
)
def test_finding_for_problem(kind, finding_id):
    problem = Problem(kind, "What happened.", "What to do.", code=-1)
    assert finding_for_problem(problem) == Finding(finding_id, "block", "What happened.", "What to do.")


def test_every_problem_kind_maps_to_a_blocking_finding():
    for kind in ProblemKind:
        assert finding_for_problem(Problem(kind, "m", "f")).severity == "block"


def test_intended_permissions_and_labels():
    assert set(SETTING_LABELS) == set(RESTRICTION_FIELDS.values())
    read = intended_permissions("read")
    assert list(read) == list(RESTRICTION_FIELDS.values())
    assert read["reading"] and not read["spot_trading"] and not read["withdrawals"]
    assert intended_permissions("spot")["spot_trading"] is True
    # A hand-built profile that asks for withdrawals still does not get them.
    rogue = Profile(name="r", product="Rogue", purpose="read", permissions_required=("withdrawals",))
    assert intended_permissions("read", rogue)["withdrawals"] is False
    rogue_allowed = replace(rogue, permissions_required=(), permissions_allowed=("withdrawals",))
    assert verdict(perms(withdrawals=True), profile=rogue_allowed).blocked


flag = st.sampled_from([True, False, None])
flags = st.fixed_dictionaries({attr: flag for attr in RESTRICTION_FIELDS.values()})


@given(flags, st.booleans(), flag, st.sampled_from(["read", "spot"]), st.sampled_from([LIVE, TESTNET]))
def test_properties_over_every_flag_combination(values, confirmed, ip, purpose, env):
    p = KeyPermissions(confirmed=confirmed, ip_restricted=ip, **values)
    result = evaluate_permissions(p, purpose, env=env, now=NOW)
    assert result.exit_code == (1 if result.blocked else 0)
    # Any dangerous permission on: blocked, with the fix naming its checkbox.
    for attr in ("withdrawals", "internal_transfer", "universal_transfer", "margin", "futures", "options"):
        if values[attr]:
            assert result.by_id(f"{attr}_enabled").severity == "block"
            assert SETTING_LABELS[attr] in result.by_id(f"{attr}_enabled").fix
    # Fail closed: a confirmed read only passes when withdrawals/transfers are known to be off.
    if confirmed and not result.blocked:
        assert values["withdrawals"] is False
        assert values["internal_transfer"] is False and values["universal_transfer"] is False
    # A read key never passes with trading on; a spot key never passes with trading off.
    if purpose == "read" and (values["spot_trading"] or values["fix_trade"]):
        assert result.blocked
    if purpose == "spot" and values["spot_trading"] is False:
        assert result.blocked
    if not confirmed:
        assert result.by_id("permissions_unconfirmed") is not None
    for finding in result.findings:
        assert finding.message and finding.fix and finding.severity in ("block", "warn", "info")
