"""The key bar (wizard/widgets/key_bar.py): what it draws is what works, and a click presses it."""

from __future__ import annotations

from tests.test_app_harness import SIZE, make_app, press_next, settle
from wizard.widgets.key_bar import KeyBar


def _drawn(app) -> str:
    return app.screen.query_one(KeyBar).render().plain


async def test_the_bar_draws_the_shown_bindings_in_the_buttons_words(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        drawn = _drawn(app)
        assert "^q Quit" in drawn and "Start" in drawn  # Next in the Start button's words
        assert "esc" not in drawn  # no step before the first: Back is left out
        assert len(drawn) == SIZE[0] and drawn.rstrip().endswith("palette")  # palette on the right
        await press_next(pilot)
        drawn = _drawn(app)
        assert app.screen.STEP == "checklist" and "esc Back" in drawn
        assert "^n" not in drawn  # nothing ticked yet: Next does not work, so it is not offered


async def test_clicking_a_key_presses_it(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_next(pilot)
        assert app.screen.STEP == "checklist"
        bar = app.screen.query_one(KeyBar)
        x = bar.render().plain.index(" esc ") + 1
        await pilot.click(KeyBar, offset=(x, 0))
        await settle(pilot)
        assert app.screen.STEP == "welcome"
