"""Writing values into systemd unit files so systemd reads back exactly what was meant.

systemd.service(5) "Command lines" and systemd.syntax(7): words are split on
whitespace, may be quoted with ``"..."``, take C escapes (``\\n``, ``\\t``,
``\\\\``, ``\\"``, ``\\xHH``, ``\\uXXXX``), and two more rewrites happen on top:
``%`` starts a specifier (``%%`` is a literal percent) and, on ``Exec*=``
lines only, ``$`` starts a variable (``$$`` is a literal dollar). A lone ``;``
separates commands. Anything that is not plainly safe is therefore quoted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Characters that need no quoting anywhere (no whitespace, quotes, escapes, %, $ or ;).
_SAFE = re.compile(r"[A-Za-z0-9_@+=:,./-]+")
_NAMED_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r",
                  "\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v"}
UNIT_NAME = re.compile(r"[A-Za-z0-9:_.@-]+")  # systemd also allows \\ escapes; not needed here
UNIT_SUFFIXES = (".service", ".target", ".timer", ".socket", ".path", ".mount")


def _escape_char(ch: str, *, dollar: bool) -> str:
    if ch in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[ch]
    if ch == "%":
        return "%%"
    if ch == "$" and dollar:
        return "$$"
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"\\x{ord(ch):02x}"
    if ord(ch) > 0x7F and (not ch.isprintable() or unicodedata.category(ch) in ("Zl", "Zp", "Cf")):
        return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"
    return ch


def quote_word(word: str, *, dollar: bool = True) -> str:
    """One word as systemd will split and unescape it back to ``word``.

    ``dollar`` doubles ``$`` (``Exec*=`` lines expand variables; ``Environment=`` does not).
    NUL can't be represented in a unit file and raises ValueError.
    """
    if "\0" in word:
        raise ValueError("a NUL character can't be written into a unit file")
    if _SAFE.fullmatch(word):
        return word
    return '"' + "".join(_escape_char(ch, dollar=dollar) for ch in word) + '"'


def command_line(argv: Iterable[str]) -> str:
    """An ``ExecStart=`` value that runs exactly ``argv`` (the first word an absolute path)."""
    words = list(argv)
    if not words or not words[0].startswith("/"):
        raise ValueError("the first word of a systemd command line must be an absolute path")
    return " ".join(quote_word(word) for word in words)


def specifier_safe(text: str) -> str:
    """Text for a setting that expands ``%`` specifiers but is not split into words."""
    if "\0" in text or "\n" in text:
        raise ValueError("a unit setting can't hold NUL or a line break")
    return text.replace("%", "%%")


def unit_name(name: str, suffix: str = ".service", *, specifiers: bool = False) -> str:
    """``name`` with ``suffix`` unless it already has a unit suffix; ValueError if systemd would refuse it.

    ``specifiers`` allows ``%n``-style specifiers (``OnFailure=alert@%n.service`` is the usual
    way to tell an alert unit which unit failed).
    """
    full = name if name.endswith(UNIT_SUFFIXES) else name + suffix
    stem = full.rsplit(".", 1)[0]
    plain = re.sub(r"%[A-Za-z]", "x", full) if specifiers else full
    if not stem or len(full) > 255 or not UNIT_NAME.fullmatch(plain) or stem.startswith("-"):
        raise ValueError(
            f"{name!r} is not a valid systemd unit name: use letters, digits and : _ . - @ "
            "(e.g. freqtrade-bot)"
        )
    return full
