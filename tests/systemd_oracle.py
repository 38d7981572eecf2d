"""An independent reading of a systemd ``ExecStart=`` value, written from systemd.service(5)
("Command lines") and systemd.syntax(7), to test wizard/systemd_syntax.py against.

Order as systemd applies it (load-fragment.c, config_parse_exec): word splitting
with quotes and C escapes, then ``%`` specifiers per word, then ``$`` variables
per word when the command runs. Anything
that systemd would expand (a lone ``%x`` or ``$VAR``) is an error here: the
encoder must never leave one.
"""

from __future__ import annotations

_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
           "\\": "\\", '"': '"', "'": "'", "s": " ", ";": ";"}


def _specifiers(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "%":
            if value[i + 1:i + 2] != "%":
                raise ValueError(f"unescaped specifier at {i}: {value[i:i + 2]!r}")
            out.append("%")
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _escape(value: str, i: int) -> tuple[str, int]:
    """The character of the escape starting after the backslash at ``i``; the next index."""
    ch = value[i]
    if ch in _SIMPLE:
        return _SIMPLE[ch], i + 1
    widths = {"x": 2, "u": 4, "U": 8}
    if ch in widths:
        digits = value[i + 1:i + 1 + widths[ch]]
        return chr(int(digits, 16)), i + 1 + widths[ch]
    if ch in "01234567":
        return chr(int(value[i:i + 3], 8)), i + 3
    raise ValueError(f"unknown escape \\{ch}")


def _words(value: str) -> list[str]:
    words: list[str] = []
    current: list[str] | None = None
    quote, i = None, 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            decoded, i = _escape(value, i + 1)
            current = (current or []) + [decoded]
            continue
        if quote:
            if ch == quote:
                quote = None
            else:
                current = (current or []) + [ch]
        elif ch in "\"'":
            quote, current = ch, current or []
        elif ch in " \t":
            if current is not None:
                words.append("".join(current))
            current = None
        elif ch == ";" and current is None and value[i + 1:i + 2] in ("", " "):
            raise ValueError("a lone ';' separates commands")
        else:
            current = (current or []) + [ch]
        i += 1
    if quote:
        raise ValueError("unterminated quote")
    if current is not None:
        words.append("".join(current))
    return words


def _dollars(word: str) -> str:
    out, i = [], 0
    while i < len(word):
        if word[i] == "$":
            if word[i + 1:i + 2] != "$":
                raise ValueError(f"unescaped variable in {word!r}")
            out.append("$")
            i += 2
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def split_command_line(value: str) -> list[str]:
    """The argv systemd runs for an ``ExecStart=`` value (ValueError for anything it would expand)."""
    return [_dollars(_specifiers(word)) for word in _words(value)]
