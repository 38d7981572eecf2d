"""The verdict's types: a :class:`Finding` per thing to know, a :class:`Verdict` of them.

Kept apart from :mod:`wizard.policy` (which decides them) so each stays short;
``wizard.policy`` re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["block", "warn", "info"]
_SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One thing the user should know about the key, and what to do about it."""

    id: str
    severity: Severity
    message: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        """JSON-friendly form."""
        return {"id": self.id, "severity": self.severity, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class Verdict:
    """All findings for one key, most severe first."""

    findings: tuple[Finding, ...] = ()

    @property
    def blocked(self) -> bool:
        """True when any finding blocks storing or using the key."""
        return any(f.severity == "block" for f in self.findings)

    @property
    def exit_code(self) -> int:
        """1 (policy violation) when blocked, else 0."""
        return 1 if self.blocked else 0

    @property
    def ids(self) -> tuple[str, ...]:
        """The finding ids in order."""
        return tuple(f.id for f in self.findings)

    def by_id(self, finding_id: str) -> Finding | None:
        """The finding with this id, or None."""
        return next((f for f in self.findings if f.id == finding_id), None)

    def of_severity(self, severity: Severity) -> tuple[Finding, ...]:
        """The findings of one severity."""
        return tuple(f for f in self.findings if f.severity == severity)

    def as_json(self) -> list[dict[str, str]]:
        """``[{id, severity, message, fix}, ...]``."""
        return [f.as_dict() for f in self.findings]


def sorted_verdict(findings: list[Finding]) -> Verdict:
    """A Verdict of ``findings``, most severe first."""
    return Verdict(tuple(sorted(findings, key=lambda f: _SEVERITY_ORDER[f.severity])))
