"""Text from outside (a server's ``msg``, a ``Location`` header, a file) made safe to show.

A hostile or broken server can put terminal escapes in any string it sends:
ANSI sequences that clear the screen, set the window title or recolour text,
a carriage return that overwrites a line with a fake "✓ Stored", bidi
overrides that show text in another order than it is. :func:`printable` is the
one place that turns such text into plain, single-line, visible characters;
it is applied where exchange text enters the app and again by the printers.
No Textual, no third-party imports.
"""

from __future__ import annotations

import re
import unicodedata

# Whole escape sequences go, not just the ESC: "[2J" left behind would be noise.
# CSI (ESC [ or the C1 CSI), OSC (ESC ] ... BEL/ST), and two-byte ESC sequences.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[@-Z\\-_]"
)
_SPACES = re.compile(r"[\t\n\r\v\f\u0085\u2028\u2029]+")
# Categories never shown raw: controls (Cc: C0, DEL, C1), format characters
# (Cf: bidi overrides and isolates, zero-width characters), surrogates (Cs),
# unassigned code points (Cn) and the line/paragraph separators (Zl, Zp).
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})


def is_printable_char(ch: str) -> bool:
    """True for a character that shows as itself on a terminal, moves nothing and hides nothing."""
    return unicodedata.category(ch) not in _HIDDEN


def printable(text: object, limit: int | None = None) -> str:
    """``text`` as one line of visible characters, at most ``limit`` long (with "…").

    Escape sequences are removed, line breaks and tabs become one space, every
    other control, format or bidi character is dropped. ``None`` gives "".
    """
    if text is None:
        return ""
    value = text if isinstance(text, str) else str(text)
    # Fast path (C speed; the printers pass every line of a 200-key JSON report through
    # here, ~0.7 s per run character by character): str.isprintable() is False for every
    # character the slow path would touch (ESC and every other Cc, Cf, Cs, Cn, Zl, Zp),
    # so a string it accepts comes out of the slow path unchanged.
    if not value.isprintable():
        value = _ESCAPES.sub("", value)
        value = _SPACES.sub(" ", value)
        value = "".join(ch for ch in value if is_printable_char(ch))
    if limit is not None and len(value) > limit:
        value = value[: max(0, limit - 1)] + "…"
    return value


def printable_lines(text: object) -> str:
    """Like :func:`printable` but keeps line breaks (for multi-line output the app itself wrote)."""
    if text is None:
        return ""
    value = text if isinstance(text, str) else str(text)
    return "\n".join(printable(line) for line in value.split("\n"))
