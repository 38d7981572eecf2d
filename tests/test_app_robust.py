"""The wizard's step 5 under the same label lock and pending record as `add` (issue 12), with Pilot.

Another run records the label while this wizard sits at step 5: the store is refused and the other
run's entry is left alone. A pending record left by a killed run: the wizard takes the label over.
"""

from __future__ import annotations

from tests.test_app_full import through_ip
from tests.test_app_harness import SIZE, make_app, settle, text_of
from wizard.app import DEMO_SERVICE
from wizard.registry import KeyRecord, Registry


async def test_a_label_recorded_by_another_run_meanwhile_is_refused_and_untouched(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await through_ip(pilot, key.api_key, key.secret, "read")
        label = app.session.label
        Registry(tmp_path / "keys.json").put(KeyRecord(label, fingerprint="Othr…Othr", service=DEMO_SERVICE))
        memory_keyring.set_password(DEMO_SERVICE, label, "the other run's document")
        await pilot.press("s")
        await settle(pilot)
        assert not app.session.stored and app.session.secret is not None  # nothing lost: try again
        assert "already managed" in text_of(app, "#problem")
    assert memory_keyring.get_password(DEMO_SERVICE, label) == "the other run's document"
    assert Registry(tmp_path / "keys.json").get(label).fingerprint == "Othr…Othr"


async def test_the_wizard_takes_over_a_label_a_killed_run_left_pending(sim, memory_keyring, tmp_path):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await through_ip(pilot, key.api_key, key.secret, "read")
        label = app.session.label
        registry = Registry(tmp_path / "keys.json")
        registry.put(KeyRecord(label, fingerprint="Dead…Dead", service=DEMO_SERVICE, pending=True))
        memory_keyring.set_password(DEMO_SERVICE, label, "half-written by a dead run")
        await pilot.press("s")
        await settle(pilot)
        assert app.session.stored
    record = Registry(tmp_path / "keys.json").get(label)
    assert record.pending is False and record.fingerprint != "Dead…Dead"
    assert key.secret in memory_keyring.get_password(DEMO_SERVICE, label)


async def test_the_review_screen_names_an_unfinished_add():
    from wizard.screens.review import ReviewApp

    records = [KeyRecord("tracker-laptop", fingerprint="Ab12…xY9z", pending=True),
               KeyRecord("portfolio-vps1", fingerprint="Qw34…pL0k")]
    app = ReviewApp(records)
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        notes = str(app.screen.query_one("#review-notes").render())
        assert "Unfinished add: tracker-laptop" in notes and "forget LABEL" in notes
        table = app.screen.query_one("DataTable")
        rows = [" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]
        assert [row for row in rows if "UNFINISHED" in row] == [r for r in rows if "tracker-laptop" in r]
