"""The wizard's short option parser (wizard.cli._wizard_run) against its oracle, the full
parser: whatever it accepts, the full parser reads the same way; whatever it can't be sure
of, it leaves to the full parser."""

from __future__ import annotations

import contextlib
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.cli import _wizard_run, build_parser, main

OPTIONS = ["--demo", "--purpose", "--store", "--debug", "--env", "--base-url", "--profile",
           "--dem", "--pur", "--p", "--d", "--bogus", "-h", "--help", "--version", "--"]
VALUES = ["read", "spot", "live", "testnet", "demo", "keyring", "http://127.0.0.1:1", "bad", "x.toml"]
COMMANDS = ["add", "check", "review", "rotate", "forget", "sim", "exec", "systemd-unit", "chek"]
tokens = st.sampled_from(OPTIONS + VALUES + COMMANDS) | st.text(max_size=6)


def full_parse(argv: list[str]):
    """The full parser's reading, or the exit it makes (help, version, an error)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            return build_parser().parse_args(argv)
        except SystemExit as exit_:
            return f"exit {exit_.code}"


@settings(max_examples=400, deadline=None)
@given(st.lists(tokens, max_size=6))
def test_what_the_short_parser_accepts_the_full_parser_reads_the_same(argv):
    quick = _wizard_run(argv)
    if quick is not None:
        assert quick == full_parse(argv)


@settings(deadline=None)
@given(st.lists(tokens, max_size=6))
def test_the_short_parser_never_prints_or_exits(argv):
    """An ambiguous ``--p`` or a bad value is not its to word: it hands over, silently."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        _wizard_run([a for a in argv if not a.startswith("--v")])  # --version prints, as it must
    assert (out.getvalue(), err.getvalue()) == ("", "")


def test_a_plain_wizard_run_takes_the_short_path():
    for argv in ([], ["--demo"], ["--env", "testnet", "--purpose", "read"], ["--profile", "check"]):
        args = _wizard_run(argv)
        assert args is not None and args.command is None and args == full_parse(argv)


def test_subcommands_help_and_errors_go_to_the_full_parser():
    for argv in (["check"], ["--demo", "add", "x"], ["--purpose", "bad"], ["--help"], ["--version"], ["--p", "x"],
                 ["--env", "live", "--base-url", "http://x"], ["--bogus"], ["chek"]):
        assert _wizard_run(argv) is None


def test_an_error_is_still_worded_by_the_full_parser(capsys):
    try:
        main(["--purpose", "bad"])
    except SystemExit as exit_:
        assert exit_.code == 2
    assert "invalid choice: 'bad'" in capsys.readouterr().err
