"""The one leak check every test uses: ANY 12 consecutive characters of a secret count.

Searching for the whole sentinel misses partial leaks: Textual's crash panel cut
at 80 columns showed 55 of its 64 characters and every whole-string check still
passed. 12 characters of a random 64-character secret are ~71 bits of it: enough
to be a leak, and far too long to appear by chance in anything the app prints.

    from tests.leaks import assert_no_leak, leaked_piece
    assert_no_leak(out + err)                       # the sentinel by default
    assert_no_leak(screenshot, secret=OTHER, where="step 5 screen")
    assert leaked_piece(data) is None               # bytes work too
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tests.conftest import SENTINEL_SECRET

PIECE = 12


def pieces(secret: str = SENTINEL_SECRET, size: int = PIECE) -> list[str]:
    """Every run of ``size`` consecutive characters of ``secret`` (the whole, if shorter)."""
    if len(secret) <= size:
        return [secret]
    return list(dict.fromkeys(secret[i:i + size] for i in range(len(secret) - size + 1)))


def leaked_piece(text: str | bytes | None, secret: str = SENTINEL_SECRET, size: int = PIECE) -> str | None:
    """The first piece of ``secret`` found in ``text`` (None when there is none)."""
    if not text:
        return None
    if isinstance(text, bytes):
        hay = text
        return next((p for p in pieces(secret, size) if p.encode() in hay), None)
    return next((p for p in pieces(secret, size) if p in text), None)


def assert_no_leak(text: str | bytes | None, secret: str = SENTINEL_SECRET, where: str = "") -> None:
    """Fail, saying where and which piece, if any 12 consecutive characters of ``secret`` are in ``text``."""
    piece = leaked_piece(text, secret)
    if piece is not None:
        offset = secret.index(piece)
        raise AssertionError(f"secret characters {offset}-{offset + len(piece)} leaked"
                             + (f" into {where}" if where else ""))


def assert_none_leak(texts: Iterable[str | bytes | None], secret: str = SENTINEL_SECRET, where: str = "") -> None:
    """:func:`assert_no_leak` for each of ``texts``."""
    for text in texts:
        assert_no_leak(text, secret, where)


def files_holding(root: Path, secret: str = SENTINEL_SECRET) -> list[Path]:
    """Every regular file under ``root`` holding any piece of ``secret``."""
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if leaked_piece(data, secret) is not None:
                hits.append(path)
    return hits
