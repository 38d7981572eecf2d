"""The Profile data type: a validated profile, its label rendering and its TOML form.

The file format and its validation live in :mod:`wizard.profiles`, which
re-exports :class:`Profile`; this module only holds the checked result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from wizard.parsing import (
    LABEL_MAX_LENGTH,
    IPNetwork,
    format_ip,
    host_slug,
    slugify,
    suggest_label,
    validate_label,
)
from wizard.session import Purpose

TestAction = Literal["balance", "test_order", "place_cancel"]
TEST_ACTIONS: tuple[str, ...] = ("balance", "test_order", "place_cancel")
PLACEHOLDERS: tuple[str, ...] = ("product", "host", "date", "purpose")
DEFAULT_SERVICE = "binance-key-wizard"
DEFAULT_TEMPLATE = "{product}-{host}-{date}"
DEFAULT_ROTATION_DAYS = 90


@dataclass(frozen=True)
class Profile:
    """A validated profile (see :mod:`wizard.profiles` for the file format)."""

    name: str
    product: str
    purpose: Purpose
    url: str | None = None
    permissions_required: tuple[str, ...] = ()
    permissions_allowed: tuple[str, ...] = ()
    egress_ips: tuple[IPNetwork, ...] = ()
    require_ip_restriction: bool = False
    label_template: str = DEFAULT_TEMPLATE
    keyring_service: str = DEFAULT_SERVICE
    test_action: TestAction = "balance"
    test_symbol: str = "BTCUSDT"
    rotation_days: int = DEFAULT_ROTATION_DAYS
    store_uri: str | None = None  # [store] uri: where the key goes (None: the keyring service)
    source: str = field(default="<profile>", compare=False)

    def render_label(self, host: str, day: date | datetime) -> str:
        """The key label for one machine and day: a valid label, or "" when neither the
        product nor the host names anything specific (the user then types one)."""
        try:
            return _render(self.label_template, self.name, self.purpose, host, day)
        except (ValueError, KeyError, IndexError, AttributeError):  # InputError is a ValueError
            return suggest_label(self.name, self.purpose, host, day)

    def to_toml(self) -> str:
        """This profile as TOML that :func:`~wizard.profiles.parse_profile` reads back equal."""
        lines = ["schema_version = 1", "", "[product]", f"name = {_q(self.product)}", f"id = {_q(self.name)}"]
        if self.url is not None:
            lines.append(f"url = {_q(self.url)}")
        lines += [
            "", "[key]", f"purpose = {_q(self.purpose)}",
            f"permissions_required = {_qlist(self.permissions_required)}",
            f"permissions_allowed = {_qlist(self.permissions_allowed)}",
            f"label_template = {_q(self.label_template)}",
            f"rotation_days = {self.rotation_days}",
            f"keyring_service = {_q(self.keyring_service)}",
            "", "[ip]", f"egress = {_qlist([format_ip(n) for n in self.egress_ips])}",
            f"require_restriction = {'true' if self.require_ip_restriction else 'false'}",
            "", "[test]", f"action = {_q(self.test_action)}", f"symbol = {_q(self.test_symbol)}",
        ]
        if self.store_uri is not None:
            lines += ["", "[store]", f"uri = {_q(self.store_uri)}"]
        return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    """A TOML basic string: backslash, quote and control characters escaped."""
    escape = {ch: f"\\u{ch:04x}" for ch in [*range(0x20), 0x7F]} | {ord('"'): '\\"', ord("\\"): "\\\\"}
    return '"' + text.translate(escape) + '"'


def _qlist(items: Any) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


def _render(template: str, product: str, purpose: str, host: str, day: date | datetime) -> str:
    """Fill the template, shortening host then product to fit; InputError if still invalid.

    ``{product}`` is the profile's short id, made label-safe.
    """
    values = {
        "product": slugify(product)[:LABEL_MAX_LENGTH],
        "host": host_slug(host)[:LABEL_MAX_LENGTH],
        "date": (day.date() if isinstance(day, datetime) else day).isoformat(),
        "purpose": purpose,
    }

    def fill() -> str:
        # An empty slug would leave "acme--2026-01-31": collapse the separators it leaves behind.
        text = re.sub(r"([-_. ])[-_. ]+", r"\1", template.format(**values))
        return text.strip("-_. ")

    label = fill()
    while len(label) > LABEL_MAX_LENGTH and (values["host"] or values["product"]):
        longest = "host" if len(values["host"]) >= len(values["product"]) else "product"
        values[longest] = values[longest][:-1].rstrip("-")
        label = fill()
    return validate_label(label)

