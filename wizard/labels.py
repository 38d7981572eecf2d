"""Key labels: the rules a label must pass, the labels the wizard suggests, and what a label names.

A label is what the user sees next to the key in Binance's API Management,
months later, when deciding which key to revoke. So it must name something
specific — the tool, the machine — not just words every key could carry
("bot", "spot", "api", "key") and numbers. :func:`validate_label` enforces
that; :func:`suggest_label` only ever suggests labels that pass it (or
nothing, when it knows nothing specific); :func:`label_names` says what a
label actually contains, so the summary praises only what is there.

Re-exported by :mod:`wizard.parsing` (every parser of user input lives there).
No Textual here.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from wizard.parsing import LABEL_MAX_LENGTH, LABEL_MIN_LENGTH, InputError

_LABEL_CHARS = re.compile(r"[A-Za-z0-9 ._-]+")
_ALNUM = re.compile(r"[A-Za-z0-9]+")
_WORDS = re.compile(r"[A-Za-z0-9]+")
_DATE = re.compile(r"(?<!\d)(19|20)\d\d([-_.]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")
_EXAMPLE = "e.g. 'portfolio-tracker-laptop' or '3commas-spot-vps1'"

_GENERIC_LABELS = frozenset(
    {
        "bot", "test", "testing", "key", "keys", "api", "apikey", "api key", "binance", "binance api",
        "binance key", "my key", "mykey", "my api", "my bot", "trading", "trade", "trader",
        "trading bot", "tradingbot", "default", "new", "new key", "main", "temp", "tmp", "secret",
        "label", "name", "untitled", "key label", "read", "read only", "readonly", "spot", "demo",
    }
)
# Words any key's label could carry: they tell no key apart from another. A label needs
# at least one word that is not one of these (nor a number).
GENERIC_WORDS = frozenset(
    {
        "bot", "bots", "test", "testing", "key", "keys", "api", "apikey", "binance", "my", "new", "main",
        "temp", "tmp", "secret", "label", "name", "untitled", "default", "demo", "trading", "trade",
        "trader", "tradingbot", "tracker", "read", "readonly", "only", "ro", "spot", "the", "for",
        "localhost", "host", "machine", "computer", "wizard",
    }
)
PURPOSE_WORDS = frozenset({"read", "readonly", "ro", "spot", "trade", "trading", "tracker", "tax"})


def _generic_core(label: str) -> str:
    """Lower-case, separators as single spaces, trailing digits dropped ("Bot_2" -> "bot")."""
    core = re.sub(r"[\s._-]+", " ", label.lower()).strip()
    return re.sub(r"[\s\d]+$", "", core)


def specific_words(label: str) -> list[str]:
    """The words of ``label`` that can tell one key from another (not generic, not numbers)."""
    words = _WORDS.findall(_DATE.sub(" ", label.lower()))
    return [w for w in words if not w.isdigit() and w not in GENERIC_WORDS]


def validate_label(text: str) -> str:
    """Return the trimmed label (inner whitespace runs collapsed) or explain what is wrong."""
    label = " ".join(text.split())
    if not label:
        raise InputError(f"Give the key a label that says which tool and machine use it ({_EXAMPLE}).")
    if len(label) < LABEL_MIN_LENGTH:
        raise InputError(
            f"The label is too short ({len(label)} characters; at least {LABEL_MIN_LENGTH}). "
            f"Say which tool and machine use the key ({_EXAMPLE})."
        )
    if len(label) > LABEL_MAX_LENGTH:
        raise InputError(
            f"The label is too long ({len(label)} characters; at most {LABEL_MAX_LENGTH}). Shorten it."
        )
    bad = sorted({ch for ch in label if not _LABEL_CHARS.fullmatch(ch)})
    if bad:
        shown = " ".join(repr(ch) for ch in bad[:5])
        raise InputError(
            f"The label may only contain letters A-Z, digits, spaces and - _ . (remove {shown})."
        )
    if not any(ch.isalpha() for ch in label):
        raise InputError(f"Use words in the label, not just numbers ({_EXAMPLE}).")
    if _generic_core(label) in _GENERIC_LABELS:
        raise InputError(
            f"'{label}' is too generic: months from now you must be able to tell which tool and machine "
            f"use this key, so you can revoke the right one. Be specific ({_EXAMPLE})."
        )
    if not specific_words(label):
        raise InputError(
            f"'{label}' names no tool or machine, only words any key could carry and numbers. Add the "
            f"tool's or the machine's name, so you can tell this key from others ({_EXAMPLE})."
        )
    return label


@dataclass(frozen=True)
class LabelNames:
    """What a label names: the tool (the profile's product), this machine, other specific words
    (a tool or machine the wizard cannot tell apart), the purpose, and a date."""

    tool: tuple[str, ...]
    machine: tuple[str, ...]
    other: tuple[str, ...]
    purpose: tuple[str, ...]
    date: str | None

    @property
    def names_tool(self) -> bool:
        """True when a word could name the tool (the product's, or one that isn't this machine's)."""
        return bool(self.tool or self.other)

    def described(self) -> str:
        """``the tool (acme), the machine (vps1) and the date``, from what is there."""
        parts = []
        if self.tool:
            parts.append(f"the tool ({'-'.join(self.tool)})")
        if self.other:
            parts.append(f"'{'-'.join(self.other)}'")
        if self.machine:
            parts.append(f"this machine ({'-'.join(self.machine)})")
        if self.purpose:
            parts.append(f"the purpose ({'-'.join(self.purpose)})")
        if self.date:
            parts.append("the date")
        if not parts:
            return "nothing specific"
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def label_names(label: str, *, host: str = "", product: str = "") -> LabelNames:
    """Split a label into what it names: this machine is recognised by ``host``'s name, the
    tool by the profile's ``product`` id; other specific words are kept as they are."""
    found = _DATE.search(label)
    words = _WORDS.findall(_DATE.sub(" ", label.lower()))
    host_words = set(_WORDS.findall(host_slug(host))) - GENERIC_WORDS if host else set()
    product_words = set(_WORDS.findall(slugify(product))) - GENERIC_WORDS if product else set()
    specific = [w for w in words if not w.isdigit() and w not in GENERIC_WORDS]
    return LabelNames(
        tool=tuple(w for w in specific if w in product_words),
        machine=tuple(w for w in specific if w in host_words and w not in product_words),
        other=tuple(w for w in specific if w not in host_words and w not in product_words),
        purpose=tuple(w for w in words if w in PURPOSE_WORDS),
        date=found.group(0) if found else None,
    )


def slugify(text: str) -> str:
    """Label-safe lower-case slug: ASCII letters and digits joined by single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(_ALNUM.findall(ascii_text.lower()))


def host_slug(host: str) -> str:
    """The machine part of a host name as a slug: "my-laptop.local" -> "my-laptop"."""
    try:
        ipaddress.ip_address(host.strip())
    except ValueError:
        return slugify(host.strip().split(".")[0]) or slugify(host)
    return slugify(host)


def suggest_label(tool: str, purpose: str, host: str, day: date | datetime) -> str:
    """Suggest a label like ``3commas-read-myhost-2026-11-24`` that passes :func:`validate_label`.

    ``tool`` may be empty: the wizard does not know the tool without a profile,
    and says so rather than suggest a made-up name ("bot"). Tool and host are
    shortened (the longer one first) to fit :data:`LABEL_MAX_LENGTH`; purpose
    and date are always kept. Returns "" when neither names anything
    specific: no suggestion is better than one the rules refuse.
    """
    day_text = (day.date() if isinstance(day, datetime) else day).isoformat()
    purpose_slug = slugify(purpose)[:6].strip("-")
    tool_slug = slugify(tool)[:LABEL_MAX_LENGTH]
    if not specific_words(tool_slug):
        tool_slug = ""  # "bot", "tracker": a word that would pass for the tool's name, but isn't one
    machine = host_slug(host)[:LABEL_MAX_LENGTH]

    def joined() -> str:
        return "-".join(p for p in (tool_slug, purpose_slug, machine, day_text) if p)

    while len(joined()) > LABEL_MAX_LENGTH:
        if len(tool_slug) >= len(machine):
            tool_slug = tool_slug[:-1].rstrip("-")
        else:
            machine = machine[:-1].rstrip("-")
    try:
        return validate_label(joined())
    except InputError:
        return ""
