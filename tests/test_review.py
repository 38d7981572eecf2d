"""`review`: every managed key and what is due, as a plain table or JSON, with no network."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.cli_helpers import LABEL, add_key, cli, store, use_keyring  # noqa: F401 - fixtures
from wizard import review
from wizard.registry import KeyRecord, Registry, fingerprint

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
API_KEY = "Ab12" + "x" * 56 + "yZ9z"


def record(label: str = LABEL, **changes) -> KeyRecord:
    values = dict(
        label=label, purpose="spot", env="live", fingerprint=fingerprint(API_KEY),
        created_at=NOW - timedelta(days=10), last_verified_at=NOW - timedelta(hours=3),
        permissions={"confirmed": True, "reading": True, "spot_trading": True, "withdrawals": False},
        ip_restricted=False, trading_expires_at=NOW + timedelta(days=20), rotation_days=90,
    )
    values.update(changes)
    return KeyRecord(**values)


def test_row_says_what_is_due():
    row = review.review_row(record(), NOW)
    assert row.fingerprint == "Ab12…yZ9z"
    assert row.age == "10 days" and row.last_verified == "3 h ago"
    assert row.permissions == "read, spot"
    assert row.ip_restriction == "NONE"
    assert row.trading_expiry == "2026-03-21 (in 20 days)"
    assert row.rotation_due == "2026-05-20 (in 80 days)" and not row.rotation_overdue


def test_overdue_rotation_and_expired_trading():
    old = record(created_at=NOW - timedelta(days=100), trading_expires_at=NOW - timedelta(days=1),
                 last_verified_at=None, ip_restricted=True)
    row = review.review_row(old, NOW)
    assert row.rotation_overdue and row.rotation_due.endswith("(OVERDUE)")
    assert row.trading_expiry.endswith("(EXPIRED)")
    assert row.last_verified == "never" and row.ip_restriction == "restricted"
    table = review.render_table([row])
    assert "Rotation due: tracker-laptop" in table and "binance-key-wizard rotate" in table


def test_rotation_counts_from_the_last_rotation():
    rotated = record(created_at=NOW - timedelta(days=100),
                     rotations=[{"at": (NOW - timedelta(days=5)).isoformat(), "old_fingerprint": "a…b",
                                 "new_fingerprint": "c…d"}])
    assert not review.review_row(rotated, NOW).rotation_overdue


def test_dangerous_and_unconfirmed_permissions_stand_out():
    perms = {"confirmed": False, "reading": True, "withdrawals": True, "unknown_enabled": ["enableNewThing"]}
    assert review.permissions_summary(perms) == "read, WITHDRAWALS, enableNewThing (unconfirmed)"
    assert review.permissions_summary({}) == "unknown"


def test_table_has_a_header_and_a_row_per_key():
    rows = review.review_rows([record("zeta-bot-vps"), record("alpha-tracker")], NOW)
    lines = review.render_table(rows).splitlines()
    assert lines[0].split()[:3] == ["LABEL", "PURPOSE", "KEY"]
    assert [line.split()[0] for line in lines[1:3]] == ["alpha-tracker", "zeta-bot-vps"]


def test_review_command_prints_a_table_when_piped(add_key, cli, sim):
    assert add_key("read_only").code == 0
    sim.stop_in_thread()  # no network: review works with the exchange gone
    try:
        result = cli("review")
    finally:
        sim.start_in_thread(port=0)
    assert result.code == 0
    assert LABEL in result.out and "LABEL" in result.out
    api_key = sim.keys["read_only"].api_key
    assert api_key not in result.out
    assert fingerprint(api_key) in result.out


def test_review_json(add_key, cli, sim):
    assert add_key("read_only").code == 0
    before = len(sim.request_log)
    result = cli("review", "--json")
    assert result.code == 0
    (row,) = result.json["keys"]
    assert row["label"] == LABEL and row["purpose"] == "read"
    assert row["fingerprint"] == fingerprint(sim.keys["read_only"].api_key)
    assert row["ip_restriction"] == "restricted" and row["rotation_overdue"] is False
    assert {"age", "last_verified_at", "permissions", "trading_expiry", "rotation_due_at"} <= set(row)
    assert len(sim.request_log) == before


def test_review_with_no_keys(cli):
    result = cli("review")
    assert result.code == 0 and "No managed keys" in result.out


def test_review_of_a_damaged_registry_exits_3(cli, isolated_home):
    path = Registry().path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    result = cli("review")
    assert result.code == 3 and "damaged" in result.err
    assert cli("check").code == 3


def test_review_on_a_terminal_opens_the_review_screen(isolated_home):
    import sys

    from tests.test_lifecycle import run_in_pty

    Registry().put(record(created_at=datetime.now(timezone.utc) - timedelta(days=3)))
    code, screen = run_in_pty([sys.executable, "-m", "wizard", "review"], LABEL.encode(), b"q", timeout=20)
    assert code == 0, screen[-1500:]
    assert LABEL.encode() in screen and "Ab12…yZ9z".encode() in screen
    assert b"\x1b[?1049h" in screen  # the alternate screen: a Textual app, not the plain table
