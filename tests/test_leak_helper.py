"""tests/leaks.py finds a secret in pieces, the way real leaks come (cut, wrapped, partial)."""

from __future__ import annotations

import pytest

from tests.conftest import SENTINEL_SECRET
from tests.leaks import PIECE, assert_no_leak, files_holding, leaked_piece


def test_a_crash_panel_cut_at_80_columns_is_still_a_leak():
    # What Textual's crash panel showed: 55 of the 64 characters, the rest cut off.
    line = f"│   plain_secret = '{SENTINEL_SECRET}'"[:80]
    assert SENTINEL_SECRET not in line  # the whole-string check this replaces saw nothing
    with pytest.raises(AssertionError, match="leaked into the panel"):
        assert_no_leak(line, where="the panel")


@pytest.mark.parametrize("start", [0, 9, 30, len(SENTINEL_SECRET) - PIECE])
def test_any_twelve_consecutive_characters_count(start):
    piece = SENTINEL_SECRET[start:start + PIECE]
    assert leaked_piece(f"...{piece}...") is not None
    assert leaked_piece(f"...{piece}...".encode()) is not None


def test_shorter_runs_and_other_text_are_not_leaks():
    assert leaked_piece(SENTINEL_SECRET[:PIECE - 1]) is None
    assert leaked_piece("x" * 500 + SENTINEL_SECRET[:6] + "…" + SENTINEL_SECRET[-6:]) is None  # a masked view
    assert leaked_piece(None) is None and leaked_piece("") is None
    assert_no_leak("Stored 'tracker-laptop': read; IP-restricted")


def test_files_holding_finds_a_partial_copy(tmp_path):
    (tmp_path / "clean.txt").write_text("nothing here")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "log.txt").write_bytes(b"sig=" + SENTINEL_SECRET[20:40].encode())
    assert files_holding(tmp_path) == [tmp_path / "sub" / "log.txt"]
