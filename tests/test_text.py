"""wizard/text.py: text from the network is shown without control characters, everywhere.

Property tests against an oracle written here from the Unicode categories and
the terminal's own rules (ESC, CSI, C1, bidi overrides), not from the code
under test; then the same property through every place exchange text reaches
the user: a Problem, Binance's echoed msg, the CLI printer (text and --json).
"""

from __future__ import annotations

import io
import json
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from wizard.exchange.errors import problem_from_api_error
from wizard.exchange.messages import echo
from wizard.exchange.model import Problem, ProblemKind
from wizard.lifecycle import problem_check
from wizard.review import Printer
from wizard.text import printable

# The oracle: what a terminal may act on instead of showing.
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def acts_on_terminal(ch: str) -> bool:
    code = ord(ch)
    return (code < 0x20 or 0x7F <= code <= 0x9F or ch in BIDI or ch in "\u2028\u2029"
            or unicodedata.category(ch) in ("Cf", "Cs", "Cn"))


def clean(text: str) -> bool:
    return not any(acts_on_terminal(ch) for ch in text)


pieces = st.one_of(
    st.characters(),
    st.sampled_from(["\x1b", "\x9b", "\x9d", "\r", "\n", "\x07", "\x00", "\x7f", *sorted(BIDI)]),
    st.sampled_from(["\x1b[2J", "\x1b]0;title\x07", "\x1b[31m", "\r✓ Stored ", "\x1bP", "\x1b]8;;http://x\x1b\\"]),
)
nasty = st.lists(pieces, max_size=40).map("".join)


@given(nasty)
@example("\x1b[2J\x1b]0;pwned\x07\r\n✓ Stored \u202eevil\u202c")
def test_printable_never_returns_a_control_character(text):
    out = printable(text)
    assert clean(out)
    assert printable(out) == out  # idempotent: cleaning twice changes nothing


@given(nasty, st.integers(1, 300))
def test_printable_respects_the_limit(text, limit):
    assert len(printable(text, limit=limit)) <= limit


def test_printable_keeps_ordinary_text_and_drops_whole_sequences():
    assert printable("Order would immediately match and take.") == "Order would immediately match and take."
    assert printable("a\x1b[2Jb\x1b]0;title\x07c") == "abc"
    assert printable("line1\r\nline2\tend") == "line1 line2 end"
    assert printable("Prix: 12 €, 注文") == "Prix: 12 €, 注文"
    assert printable(None) == ""


@given(nasty, nasty)
def test_a_problem_is_always_printable(message, fix):
    problem = Problem(ProblemKind.UNKNOWN, message, fix)
    assert clean(problem.message) and clean(problem.fix)


@given(nasty, st.sampled_from([-1013, -2010, -2011, -9999, 0, -2015, -1021]), st.sampled_from([400, 401, 403, 404]))
def test_a_binance_msg_never_reaches_a_problem_raw(msg, code, status):
    problem = problem_from_api_error(code=code, status=status, msg=msg)
    assert clean(problem.message) and clean(problem.fix)
    assert clean(echo(msg))


@given(nasty)
def test_the_cli_printer_never_prints_a_control_character(msg):
    problem = Problem(ProblemKind.UNKNOWN, "x", "y")
    # Bypass the Problem's own cleaning, as a future builder might: the printer cleans again.
    object.__setattr__(problem, "message", msg)
    check = problem_check("label-x", problem)
    for json_mode in (False, True):
        for show in (lambda p: p.add_result(check, env_title=msg), lambda p: p.check_results([check]),
                     lambda p: p.error(msg, msg)):
            out, err = io.StringIO(), io.StringIO()
            show(Printer(json_mode=json_mode, stdout=out, stderr=err))
            for text in (out.getvalue(), err.getvalue()):
                assert clean(text.replace("\n", ""))
            if json_mode and out.getvalue():
                _all_strings_clean(json.loads(out.getvalue()))


def _all_strings_clean(value):
    if isinstance(value, str):
        assert clean(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _all_strings_clean(k)
            _all_strings_clean(v)
    elif isinstance(value, list):
        for v in value:
            _all_strings_clean(v)


@given(nasty, nasty)
@example("http://x.example/\x1b[", "")  # an escape that would swallow the '?'
def test_a_redirect_location_is_shown_clean_and_without_its_query(before, after):
    from wizard.exchange.hostile import redirected

    signature = "f00d" * 16
    problem = redirected(302, f"{before}?signature={signature}&{after}")
    assert clean(problem.message)
    assert signature not in problem.message and "signature=" not in problem.message


@given(nasty)
def test_a_store_problem_is_always_printable(text):
    from wizard.keyring_health import KeyringProblem, KeyringProblemKind

    problem = KeyringProblem(KeyringProblemKind.UNAVAILABLE, f"OpenBao said: {text}", "Step 1\nStep 2")
    assert clean(problem.message.replace("\n", "")) and problem.fix == "Step 1\nStep 2"


@given(nasty)
def test_a_review_row_of_an_edited_registry_is_printable(name):
    from wizard.review import permissions_summary

    summary = permissions_summary({"confirmed": True, "reading": True, "unknown_enabled": [name]})
    assert clean(summary) and summary.startswith("read")


def _full_clean(text: str) -> str:
    """printable() without its fast path: the three steps applied to every string."""
    from wizard import text as t

    value = t._SPACES.sub(" ", t._ESCAPES.sub("", text))
    return "".join(ch for ch in value if t.is_printable_char(ch))


@given(st.one_of(nasty, st.text()))
@example("plain ascii, nothing to strip")
@example("Prix: 12 €, 注文\u00a0\ue000")  # NBSP (Zs) and private use (Co): not isprintable(), kept
def test_the_fast_path_gives_what_the_full_cleaning_gives(text):
    assert printable(text) == _full_clean(text)
