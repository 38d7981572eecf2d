"""What the label step checks as the user types: the label's rules, what it names, and whether a
rotation's "new" key is the old one. Plain functions (no widgets), so the screen only shows them."""

from __future__ import annotations

import re
from typing import Any


def suggested_label(app: object) -> str:
    """The label the wizard proposes: from the profile's template, else tool-purpose-host-date."""
    from wizard.parsing import suggest_label

    session, services = app.session, app.services  # type: ignore[attr-defined]
    day = services.clock()
    if session.profile is not None:
        return session.profile.render_label(services.hostname, day)
    # Without a profile the tool is unknown: no made-up "bot" — purpose, machine and date.
    return suggest_label("", session.purpose, services.hostname, day)


def label_advice(label: str, app: object) -> str:
    """What the label does not name yet (not a refusal: the rules decide that)."""
    from wizard.labels import label_names

    session, services = app.session, app.services  # type: ignore[attr-defined]
    product = getattr(session.profile, "name", "") if session.profile is not None else ""
    names = label_names(label, host=services.hostname, product=product)
    if names.names_tool:
        return ""
    return "Tip: the label does not name the tool yet: put its name in front, e.g. 3commas-" + label[:12] + "…"


def label_problem(label: str) -> str:
    """The label's problem for the status line, in the rule's own words (its first clause:
    the line is short; the whole text is under the field). Empty when fine or not typed yet."""
    from wizard.parsing import InputError, validate_label

    if not label.strip():
        return ""
    try:
        validate_label(label)
    except InputError as exc:
        first = re.split(r": |\. ", str(exc), maxsplit=1)[0].rstrip(".")
        return f"Label: {first} (see under the label)."
    return ""


def same_as_old_key(api_key: str, old_key: Any, old_record: Any) -> str | None:
    """The refusal when a rotation's pasted key is the key being replaced: compared in full when
    the old key was loaded (``rotate`` loads it), else by the recorded fingerprint."""
    from wizard.registry import fingerprint

    api_key = api_key.strip()
    if not api_key:
        return None
    if old_key is not None:
        same = api_key == old_key.api_key
    else:
        same = old_record is not None and fingerprint(api_key) == old_record.fingerprint
    if not same:
        return None
    return (f"This is the key being rotated ({fingerprint(api_key)}), not a new one. Create a new key "
            "in API Management and paste it here; delete the old one only after the new one is stored.")
