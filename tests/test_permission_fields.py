"""Unknown and odd permission fields fail closed, completely (issue 13), and FIX API
permissions are never suggested to an HMAC key (issue 11, item 9).

Any ``enable*``/``permit*`` field the wizard doesn't understand — an unknown
name whose value isn't plainly off (true, "yes", {...}, [...], 2), or a known
name whose value isn't a boolean ("maybe", null) — is "unknown, treated as on"
and blocks. A hypothesis property checks the parser against an independent
oracle; the simulator serves such fields through real python-binance.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.gateway_helpers import gateway
from wizard.exchange.model import Environment, KeyPermissions
from wizard.exchange.parse import parse_restrictions
from wizard.policy import evaluate_permissions
from wizard.profiles import Profile

LIVE = Environment.live()
GOOD = {"ipRestrict": True, "createTime": 1_700_000_000_000, "enableReading": True,
        "enableSpotAndMarginTrading": False, "enableWithdrawals": False,
        "enableInternalTransfer": False, "permitsUniversalTransfer": False, "enableMargin": False,
        "enableFutures": False, "enableVanillaOptions": False, "enablePortfolioMarginTrading": False}

# An independent oracle, written from the rule, not from the parser.
KNOWN = set(GOOD) - {"ipRestrict", "createTime"} | {"enableFixApiTrade", "enableFixReadOnly"}
OFF_VALUES = [False, 0, None, "false", "FALSE", "0", 0.0]


def oracle_not_understood(name: str, value: object) -> bool:
    if not name.lower().startswith(("enable", "permit")):
        return False
    if name in KNOWN:
        return not (isinstance(value, bool) or value in (0, 1) and not isinstance(value, float)
                    or (isinstance(value, str) and value.lower() in ("true", "false")))
    return not any(value is off or (type(value) is type(off) and value == off) for off in OFF_VALUES)


odd_values = st.one_of(st.booleans(), st.none(), st.integers(-3, 3), st.floats(allow_nan=False),
                       st.text(max_size=8), st.sampled_from(["true", "false", "maybe", "TRUE", "0"]),
                       st.dictionaries(st.text(max_size=3), st.booleans(), max_size=2),
                       st.lists(st.booleans(), max_size=2))
names = st.one_of(st.sampled_from(sorted(KNOWN)),
                  st.from_regex(r"(enable|permits|Enable|permit)[A-Z][a-zA-Z]{0,12}", fullmatch=True))


@given(names, odd_values)
def test_every_field_not_understood_is_listed_and_blocks(name, value):
    perms = parse_restrictions({**GOOD, name: value})
    listed = name in perms.unknown_enabled
    assert listed is oracle_not_understood(name, value), (name, value)
    verdict = evaluate_permissions(perms, "read", env=LIVE)
    if listed:
        finding = verdict.by_id("unknown_permission_enabled")
        assert finding is not None and finding.severity == "block"
        assert "unknown, treated as on" in finding.message and name in finding.message


@pytest.mark.parametrize(("name", "value"), [
    ("enableMargin", "maybe"), ("enableWithdrawals", None), ("enableTeleport", "yes"),
    ("enableTeleport", {"spot": True}), ("permitsCopyTrading", ["SPOT"]), ("enableNew", 2),
])
def test_odd_fields_that_passed_before_now_block(name, value):
    verdict = evaluate_permissions(parse_restrictions({**GOOD, name: value}), "read", env=LIVE)
    assert verdict.blocked and "unknown_permission_enabled" in verdict.ids


def test_plainly_off_unknown_fields_pass():
    for value in (False, "false", 0, None):
        perms = parse_restrictions({**GOOD, "enableTeleport": value})
        assert perms.unknown_enabled == ()
        assert not evaluate_permissions(perms, "read", env=LIVE).blocked


async def test_sim_serves_an_odd_field_and_the_wizard_blocks(sim):
    key = sim.keys["read_only"]
    key.restrictions["enableMargin"] = "maybe"  # what a changed Binance answer could look like
    key.restrictions["enableCopyTrading"] = {"spot": True}
    async with gateway(sim, "read_only") as gw:
        perms = await gw.read_permissions()
    assert perms.unknown_enabled == ("enableCopyTrading", "enableMargin")
    assert evaluate_permissions(perms, "read", env=LIVE).blocked


# -- FIX API permissions exist only on Ed25519 keys --------------------------------------------

def _perms(key_type, **flags) -> KeyPermissions:
    values = {"reading": True, "spot_trading": False, "withdrawals": False,
              "internal_transfer": False, "universal_transfer": False, "ip_restricted": True}
    return KeyPermissions(confirmed=True, key_type=key_type, **{**values, **flags})


def _all_text(verdict) -> str:
    return " ".join(f.message + " " + f.fix for f in verdict.findings)


def test_an_hmac_user_is_never_told_to_tick_or_untick_fix():
    tracker = Profile(name="t", product="Tracker", purpose="read",
                      permissions_required=("fix_read_only",))
    hmac = evaluate_permissions(_perms("hmac", fix_read_only=False), "read", env=LIVE,
                                profile=tracker)
    assert "Tick 'Enable FIX" not in _all_text(hmac) and "Ed25519" in _all_text(hmac)
    ed = evaluate_permissions(_perms("ed25519", fix_read_only=False), "read", env=LIVE,
                              profile=tracker)
    assert "Tick 'Enable FIX API Read Only'" in _all_text(ed)
    spot = evaluate_permissions(_perms("hmac", spot_trading=True, fix_trade=False), "spot", env=LIVE)
    assert "FIX" not in _all_text(spot)


def test_fix_trade_reported_on_an_hmac_key_blocks_without_a_checkbox_to_untick():
    verdict = evaluate_permissions(_perms("hmac", fix_trade=True), "read", env=LIVE)
    finding = verdict.by_id("fix_trade_on_hmac")
    assert finding is not None and finding.severity == "block"
    assert "Untick 'Enable FIX" not in _all_text(verdict)


async def test_the_gateway_tells_the_policy_the_key_type(sim):
    async with gateway(sim, "read_only") as gw:
        assert (await gw.read_permissions()).key_type == "hmac"
    async with gateway(sim, "ed25519") as gw:
        assert (await gw.read_permissions()).key_type == "ed25519"
