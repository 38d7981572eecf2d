"""The collector's holds (wizard/gc_pause.py): off while keys arrive and back on after a
pause or at most ``max_hold``; off during start-up and back on at the first frame, or when
a start fails before it; never turned on when someone else turned it off."""

from __future__ import annotations

import gc

import pytest

from wizard import gc_pause
from wizard.cli import main
from wizard.gc_pause import CollectorPause, end_startup_hold, hold_for_startup


class Owner:
    """Stands in for the app: records timers instead of running them."""

    def __init__(self) -> None:
        self.timers: list[tuple[float, object]] = []

    def set_timer(self, delay, callback):  # noqa: ANN001 - Textual's signature
        owner = self

        class Timer:
            def stop(self) -> None:
                owner.timers = [t for t in owner.timers if t[1] is not callback]

        self.timers.append((delay, callback))
        return Timer()


@pytest.fixture(autouse=True)
def collector_back_on():
    yield
    gc_pause._startup_hold = False
    gc.enable()


def test_keys_hold_the_collector_until_a_pause():
    now = [100.0]
    pause = CollectorPause(Owner(), pause=0.3, max_hold=3.0, clock=lambda: now[0])
    owner = pause._owner
    pause.key()
    assert not gc.isenabled() and pause.holding
    now[0] += 0.1
    pause.key()
    delay, check = owner.timers[-1]
    now[0] += 0.2  # 0.3 s after the first key, 0.1 s after the last: not a pause yet
    check()
    assert not gc.isenabled()
    now[0] += 0.3
    owner.timers[-1][1]()
    assert gc.isenabled() and not pause.holding


def test_a_key_held_down_gets_the_collector_back_after_max_hold():
    now = [0.0]
    pause = CollectorPause(Owner(), pause=0.3, max_hold=3.0, clock=lambda: now[0])
    enabled_at = []
    for _ in range(40):  # a key every 0.1 s for 4 s: never a pause
        pause.key()
        if gc.isenabled():
            enabled_at.append(round(now[0], 1))
        now[0] += 0.1
    assert enabled_at == [3.0]  # back on once, at max_hold; the next key starts a new hold


def test_a_collector_someone_else_turned_off_stays_off():
    gc.disable()
    pause = CollectorPause(Owner())
    pause.key()
    pause.resume()
    hold_for_startup()
    end_startup_hold()
    assert not gc.isenabled()


def test_the_startup_hold_ends_once():
    hold_for_startup()
    assert not gc.isenabled()
    end_startup_hold()
    assert gc.isenabled()
    gc.disable()  # someone else's, later: the start-up hold is over and leaves it alone
    end_startup_hold()
    assert not gc.isenabled()


def test_a_wizard_start_that_fails_before_its_first_frame_turns_the_collector_back_on(tmp_path, capsys):
    assert main(["--profile", str(tmp_path / "missing.toml")]) == 2
    assert gc.isenabled()


async def test_the_first_frame_ends_the_startup_hold(sim, memory_keyring, tmp_path):
    from tests.test_app_harness import SIZE, make_app, settle

    app = make_app(sim, memory_keyring, tmp_path)
    hold_for_startup()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert gc.isenabled()
