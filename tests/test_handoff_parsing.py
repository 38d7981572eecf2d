"""Property tests for the hand-off's input handling, each against an independent oracle:
systemd quoting (tests/systemd_oracle.py), the ``--`` split of the command line, the
PATH search (``shutil.which``), and the preset environment."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.systemd_oracle import split_command_line
from wizard.cli import HANDOFF_COMMANDS, _split_bot_command, build_parser
from wizard.exec_command import EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND, CommandError, resolve_program
from wizard.handoff import PRESETS, bot_environment
from wizard.secret import Secret
from wizard.stored_key import StoredKey
from wizard.systemd_syntax import command_line, quote_word, unit_name

words = st.text(st.characters(exclude_characters="\0"), max_size=20)


@given(st.lists(words, max_size=8))
def test_systemd_reads_back_every_argument_exactly(args):
    argv = ["/usr/bin/bot", *args]
    assert split_command_line(command_line(argv)) == argv


@given(words)
def test_a_quoted_word_is_one_word_with_no_expansion_left(word):
    quoted = quote_word(word)
    assert "\n" not in quoted  # a unit setting is one line
    assert split_command_line("/x " + quoted) == ["/x", word]


def test_nul_and_relative_programs_are_refused():
    with pytest.raises(ValueError):
        quote_word("a\0b")
    with pytest.raises(ValueError):
        command_line(["bot", "run"])


@given(st.text(st.sampled_from("abcXYZ09-_.@:"), min_size=1, max_size=30))
def test_unit_names_of_allowed_characters_are_accepted(name):
    if name.startswith("-") or name.rsplit(".", 1)[0] == "":
        return
    full = unit_name(name)
    assert full.endswith((".service", ".timer", ".target", ".socket", ".path", ".mount"))


@given(st.text(min_size=1, max_size=20).filter(lambda s: any(c in s for c in " /!$;\"'\n\\")))
def test_unit_names_with_other_characters_are_refused(name):
    with pytest.raises(ValueError):
        unit_name(name)


# --- `exec LABEL [options] -- COMMAND...` ----------------------------------------------------

tokens = st.text(st.characters(exclude_characters="\0"), max_size=10)


@given(st.sampled_from(HANDOFF_COMMANDS), st.lists(tokens.filter(lambda t: t != "--"), max_size=4),
       st.lists(tokens, max_size=6))
def test_everything_after_the_first_double_dash_is_the_bots(command, options, tail):
    head = [command, "some-label", *options]
    assert _split_bot_command([*head, "--", *tail]) == (head, tail)


@given(st.lists(tokens.filter(lambda t: t not in HANDOFF_COMMANDS), max_size=6))
def test_other_subcommands_keep_their_double_dash(argv):
    assert _split_bot_command(["check", *argv, "--", "x"])[1] is None


def test_exec_parses_options_before_the_double_dash():
    head, tail = _split_bot_command(["exec", "bot-key", "--as", "freqtrade", "--allow-unverified", "--", "a", "--as"])
    args = build_parser().parse_args(head)
    assert (args.label, args.preset, args.allow_unverified, tail) == ("bot-key", "freqtrade", True, ["a", "--as"])


# --- the PATH search ---------------------------------------------------------------------------

modes = st.sampled_from([0o755, 0o644, 0o700, 0o600, None])  # None: a directory of that name


@settings(max_examples=40, deadline=None)
@given(st.lists(modes, min_size=1, max_size=4), st.booleans())
def test_the_program_found_is_the_one_which_finds(layout, empty_entry):
    with tempfile.TemporaryDirectory() as root:
        dirs = []
        for index, mode in enumerate(layout):
            d = Path(root, f"d{index}")
            d.mkdir()
            dirs.append(str(d))
            if mode is None:
                (d / "bot").mkdir()
            else:
                (d / "bot").write_text("#!/bin/sh\n")
                (d / "bot").chmod(mode)
        path = os.pathsep.join(([""] if empty_entry else []) + dirs)
        expected = shutil.which("bot", path=os.pathsep.join(dirs))  # no "bot" in the cwd
        try:
            found = resolve_program("bot", path)
        except CommandError as exc:
            assert expected is None
            any_file = any(m is not None for m in layout)  # directories on PATH are skipped
            assert exc.exit_code == (EXIT_NOT_EXECUTABLE if any_file else EXIT_NOT_FOUND)
        else:
            assert found == expected


def test_a_missing_program_is_127_and_a_plain_file_126(tmp_path):
    with pytest.raises(CommandError) as missing:
        resolve_program("surely-not-a-bot", str(tmp_path))
    assert missing.value.exit_code == EXIT_NOT_FOUND
    plain = tmp_path / "bot"
    plain.write_text("x")
    plain.chmod(stat.S_IRUSR)
    with pytest.raises(CommandError) as not_exec:
        resolve_program(str(plain), None)
    assert not_exec.value.exit_code == EXIT_NOT_EXECUTABLE


# --- the presets -------------------------------------------------------------------------------

env_names = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ_"), min_size=1, max_size=12)
every_preset_var = sorted({var for table in PRESETS.values() for var in table})


@given(st.sampled_from(sorted(PRESETS)),
       st.dictionaries(st.one_of(env_names, st.sampled_from(every_preset_var)), st.text(max_size=8), max_size=8))
def test_the_bot_gets_exactly_its_presets_variables(preset, base):
    stored = StoredKey("K" * 64, "hmac", Secret("S" * 64))
    env = bot_environment(preset, stored, base)
    values = {"api_key": "K" * 64, "secret": "S" * 64, "key_type": "hmac"}
    assert {var: env[var] for var in PRESETS[preset]} == {var: values[f] for var, f in PRESETS[preset].items()}
    assert not (set(every_preset_var) - set(PRESETS[preset])) & set(env)  # no stale key beside it
    assert {k: v for k, v in env.items() if k not in every_preset_var} == \
        {k: v for k, v in base.items() if k not in every_preset_var}
