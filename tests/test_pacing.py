"""The weight pacer and the progress line, on their own (a fake clock, no network).

The pacer's end-to-end proof is tests/test_fleet.py (500 keys, a small limit,
zero 429s); here: header parsing against an independent oracle, caps, waiting
for the window to roll over, the lone first request of a window, and the
progress line's counts and time left.
"""

from __future__ import annotations

import asyncio
import io

from hypothesis import given
from hypothesis import strategies as st

from wizard.exchange.pacing import HEADROOM, WeightPacer, parse_weight_headers
from wizard.progress import ProgressBar, format_line, progress_bar

BUCKETS = ["mbx-used-weight", "sapi-used-ip-weight", "sapi-used-uid-weight"]
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@given(st.lists(st.tuples(st.sampled_from(BUCKETS), st.integers(1, 120), st.sampled_from("smhdSMHD"),
                          st.integers(0, 10**6), st.booleans()), max_size=6),
       st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=8), max_size=4))
def test_weight_headers_parse_like_binance_names_them(readings, noise):
    headers = dict(noise)
    expected = {}
    for bucket, n, unit, used, upper in readings:
        name = f"X-{bucket}-{n}{unit}"
        headers[name.upper() if upper else name.lower()] = str(used)
        expected[(bucket, float(n * UNITS[unit.lower()]))] = used
    # The oracle: exactly the well-formed weight headers, whatever their case; noise ignored
    # unless it happens to be one (hypothesis's text can't spell these names by chance here).
    assert parse_weight_headers(headers) == expected


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_budget_caps_every_window_and_the_pacer_waits_for_the_next_one():
    clock = Clock(1000.2)  # 0.2 s into a one-second window
    pacer = WeightPacer(budget=10, clock=clock)
    assert pacer._try_admit(None) is None  # the first request goes
    assert pacer._try_admit(None) is not None  # ...alone, until its answer says what is used
    pacer.answered({"X-MBX-USED-WEIGHT-1S": "7"})
    assert pacer._try_admit(None) is None and pacer._try_admit(None) is None  # 7 used + 2 in flight
    assert pacer._try_admit(None) is None  # 7 + 3 = 10: the budget is reached, not passed
    wait = pacer._try_admit(None)  # an 11th would pass it: wait for the next window
    assert wait is not None and abs(wait - (1001 - 1000.2 + 0.05)) < 1e-6
    clock.now = 1001.3  # the next window: the count starts again
    for _ in range(3):
        pacer.answered({})
    assert pacer._try_admit(None) is None


def test_published_limits_leave_headroom_and_other_windows_are_not_capped_without_a_budget():
    pacer = WeightPacer()
    assert pacer.cap("mbx-used-weight", 60) == 6000 - HEADROOM
    assert pacer.cap("sapi-used-ip-weight", 60) == 12000 - HEADROOM
    assert pacer.cap("mbx-used-weight", 10) is None
    assert WeightPacer(budget=50).cap("mbx-used-weight", 60) == 50


def test_admit_sleeps_until_the_window_rolls_over():
    clock = Clock(59.5)
    pacer = WeightPacer(budget=3, clock=clock)
    pacer._try_admit(None)
    pacer.answered({"x-mbx-used-weight-1m": "3"})

    async def go() -> None:
        task = asyncio.ensure_future(pacer.admit())
        await asyncio.sleep(0.05)
        assert not task.done()  # waiting: the window is full
        clock.now = 60.1
        await asyncio.wait_for(task, 2)

    asyncio.run(go())
    assert pacer.stats.waits >= 1


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_counts_and_time_left():
    assert format_line(50, 2, 200, 5.0, "checking keys", width=8) == \
        "checking keys [##------]  50/200  2 failing  ~15 s left"
    assert format_line(200, 0, 200, 9.0, "checking keys", width=8) == "checking keys [########] 200/200"
    assert "min" in format_line(1, 0, 200, 5.0, "x")  # 995 s left


def test_progress_bar_only_on_a_terminal_and_only_once_work_is_slow():
    assert progress_bar(100, what="x", stream=io.StringIO()) is None  # piped
    assert progress_bar(100, what="x", stream=FakeTerminal(), json_mode=True) is None
    assert progress_bar(1, what="x", stream=FakeTerminal()) is None  # one key: nothing to show
    clock = Clock(0.0)
    out = FakeTerminal()
    bar = ProgressBar(10, what="checking keys", stream=out, delay=0.3, clock=clock)
    bar.update(1, 0)
    assert out.getvalue() == ""  # quick so far: nothing drawn
    clock.now = 0.5
    bar.update(5, 1)
    clock.now = 0.55
    bar.update(6, 1)  # within the redraw interval: skipped
    clock.now = 0.7
    bar.update(10, 1)
    bar.close()
    drawn = out.getvalue()
    assert drawn.count("\r") == 3 and "5/10" in drawn and "10/10" in drawn and "6/10" not in drawn
    assert drawn.endswith("\r\x1b[K")
