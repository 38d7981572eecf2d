"""The reusable widgets on their own, in a one-widget app."""

from __future__ import annotations

from textual.app import App, ComposeResult

from wizard.widgets.status import Busy


class BusyApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Busy(id="busy")


async def test_busy_spins_only_while_shown():
    app = BusyApp()
    async with app.run_test() as pilot:
        busy = app.query_one(Busy)
        assert not busy.active and busy.display is False

        busy.start("Reading the key's [permissions]…")
        await pilot.pause()
        assert busy.active and busy.region.height == 1
        first = str(busy.render())
        assert "Reading the key's [permissions]…" in first  # brackets are text, not markup
        await pilot.pause(0.35)
        assert str(busy.render()) != first  # the spinner moved on

        busy.stop()
        await pilot.pause()
        assert not busy.active and busy.region.height == 0
        stopped = str(busy.render())
        await pilot.pause(0.35)
        assert str(busy.render()) == stopped  # no timer left running


async def test_busy_restart_keeps_one_timer():
    app = BusyApp()
    async with app.run_test() as pilot:
        busy = app.query_one(Busy)
        busy.start("one")
        busy.start("two")  # a second start re-labels; it must not add a second timer
        await pilot.pause()
        assert busy.text == "two" and "two" in str(busy.render())
        busy.stop()
        stopped = str(busy.render())
        await pilot.pause(0.35)
        assert str(busy.render()) == stopped  # an orphaned second timer would still be spinning
