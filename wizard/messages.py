"""Results coming back from workers, as small past-tense messages.

Workers never touch widgets: they post one of these to their screen, and the
screen's handler updates the session and the display on the UI thread. None of
them carries a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from textual.message import Message

from wizard.exchange.model import AccountFacts, Balance, Environment, KeyPermissions, OrderProbe, Problem

if TYPE_CHECKING:
    from wizard.exchange.orders import PlannedOrder
    from wizard.lifecycle import KeyCheck
    from wizard.vault import KeyringProblem


@dataclass
class SimStarted(Message):
    """The demo's simulated exchange is serving at ``env``."""

    env: Environment


@dataclass
class SimFailed(Message):
    """The demo's simulated exchange could not start."""

    reason: str


@dataclass
class KeyPairGenerated(Message):
    """An Ed25519 pair was made; the private half went into the session."""

    public_key_pem: str


@dataclass
class PermissionsRead(Message):
    """The key's permissions were read and judged (``check.problem`` set if the read failed)."""

    check: KeyCheck
    at: datetime


@dataclass
class AccountFactsRead(Message):
    """What the API could see of the account-prep checklist."""

    facts: AccountFacts


@dataclass
class ExchangeFailed(Message):
    """A call to the exchange failed; ``stage`` names what was being done."""

    problem: Problem
    stage: str


@dataclass
class KeyringChecked(Message):
    """The keyring backend was checked: ``problem`` is None when it is usable."""

    backend: str
    problem: KeyringProblem | None


@dataclass
class KeyStored(Message):
    """The credentials were stored, read back, compared and used for a signed call."""

    service: str
    label: str
    backend: str
    permissions: KeyPermissions
    registry_path: str


@dataclass
class StoreFailed(Message):
    """Storing failed; nothing was left half-written (``message``/``fix`` are plain language)."""

    message: str
    fix: str
    stage: str = "stored"  # the step that failed: stored, signed or recorded


@dataclass
class BalancesRead(Message):
    """A balance read with the stored copy of the key succeeded."""

    balances: list[Balance]


@dataclass
class TestOrderPlaced(Message):
    """The exchange accepted a test order (it never reaches the matching engine).

    ``order`` is what was tested (its value and quote asset word the visible order).
    """

    order: PlannedOrder | None = None


@dataclass
class TestOrderRefused(Message):
    """The exchange refused a test order."""

    problem: Problem


@dataclass
class OrderProbed(Message):
    """The visible post-only order was placed, seen, cancelled and seen gone."""

    probe: OrderProbe


@dataclass
class OldKeyChecked(Message):
    """Rotation: the old key was tried; ``dead`` holds the rejection when it is gone."""

    dead: Problem | None
    at: datetime


@dataclass
class RotationRecorded(Message):
    """Rotation: the registry now records the replacement."""

    label: str
