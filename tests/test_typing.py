"""Typing keeps up: Tab moves the focus before the next key, per-key work runs once per
pause, and an Input that repaints instead of re-laying-out still shows what was typed.

Keys are posted the way the terminal driver posts them from its input thread
(``driver.send_message``), back to back, so the app sees them queued as it does
when a user types fast; the timing figures themselves are tests/bench.py's.
"""

from __future__ import annotations

import asyncio

from textual import events
from textual.app import App, ComposeResult
from textual.keys import _character_to_key
from textual.widgets import Input, Static

from tests.test_app_harness import SIZE, make_app, to_label_screen
from wizard.widgets.debounce import TYPING_PAUSE, Debouncer
from wizard.widgets.steady_input import SteadyInput


def send(app, *keys: str) -> None:
    """Post keys as the terminal driver does, without waiting between them."""
    for key in keys:
        char = key if len(key) == 1 else None
        app._driver.send_message(events.Key(_character_to_key(key) if char else key, char))


async def wait_for(predicate, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_a_tab_right_after_typing_moves_focus_before_the_next_key(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        app.screen.query_one("#kt-hmac").value = True
        api_key = app.screen.query_one("#api-key", Input)
        api_key.focus()
        await pilot.pause()
        send(app, *"abc", "tab", *"xyz")  # the Tab and the keys behind it, all queued at once
        await wait_for(lambda: len(app.screen.query_one("#secret", Input).value) == 3)
        assert api_key.value == "abc"
        assert app.screen.query_one("#secret", Input).value == "xyz"


async def test_typed_label_is_judged_once_typing_pauses(sim, memory_keyring, tmp_path):
    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        label = app.screen.query_one("#label", Input)
        label.value = ""
        label.focus()
        await pilot.pause()
        send(app, *"trading bot")
        await wait_for(lambda: label.value == "trading bot")
        assert app.session.label == "trading bot"  # the session follows every key at once
        await pilot.pause(TYPING_PAUSE + 0.2)
        assert "too generic" in str(app.screen.query_one("#label-error", Static).render())


class Counter(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("x")


async def test_debouncer_runs_at_the_first_change_and_once_after_a_burst():
    app = Counter()
    calls: list[float] = []
    async with app.run_test() as pilot:
        debounce = Debouncer(app.screen, lambda: calls.append(1), delay=0.1)
        debounce.poke()
        assert len(calls) == 1  # a single change shows at once
        for _ in range(30):
            debounce.poke()
            await asyncio.sleep(0.01)
        assert len(calls) == 1 and debounce.pending  # 30 keys in 0.3 s: nothing per key
        await pilot.pause(0.25)
        assert len(calls) == 2 and not debounce.pending  # once after the burst
        await pilot.pause(0.25)
        assert len(calls) == 2  # and nothing more while idle


class TwoInputs(App[None]):
    CSS = "Input { width: 30; }"

    def compose(self) -> ComposeResult:
        yield Input(id="plain")
        yield SteadyInput(id="steady")


async def test_steady_input_shows_and_scrolls_like_textuals_input():
    text = "abcdefghijklmnopqrstuvwxyz0123456789-" * 3  # longer than the field: it scrolls
    app = TwoInputs()
    async with app.run_test(size=(60, 10)) as pilot:
        for selector in ("#plain", "#steady"):
            widget = app.query_one(selector, Input)
            widget.focus()
            await pilot.pause()
            send(app, *text)
            await wait_for(lambda widget=widget: widget.value == text)
            await pilot.pause()
        plain, steady = app.query_one("#plain", Input), app.query_one("#steady", Input)
        assert steady.scroll_offset == plain.scroll_offset and steady.scroll_offset.x > 0
        lines = [[seg.text for seg in w.render_line(1)] for w in (plain, steady)]
        assert "".join(lines[0]) == "".join(lines[1])  # the same visible tail of the text


async def test_review_of_a_thousand_keys_shows_every_row_and_scrolls_to_the_last():
    from tests.bench_review import NOW, records
    from wizard.screens.review import ReviewApp

    rows = records(1000)
    app = ReviewApp(rows, now=NOW)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("DataTable")
        assert table.row_count == 1000
        assert table.virtual_size.height == 1000 + 1  # every row, one line each, and the header
        send(app, "ctrl+end")  # DataTable's "Bottom"
        await wait_for(lambda: table.cursor_row == 999)
        await pilot.pause()
        assert "bot-0999" in "".join(seg.text for seg in table.render_line(table.size.height - 1))
        notes = str(app.screen.query_one("#review-notes").render())
        assert "more" in notes and len(notes) < 3000  # labels counted past a few, not all 1000 listed


async def test_the_collector_is_back_on_after_the_app_exits_mid_typing(sim, memory_keyring, tmp_path):
    import gc

    app = make_app(sim, memory_keyring, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_label_screen(pilot)
        app.screen.query_one("#label", Input).focus()
        send(app, *"abc")
        await wait_for(lambda: not gc.isenabled())  # held while keys arrive
    assert gc.isenabled()
