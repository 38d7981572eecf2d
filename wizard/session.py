"""What the user has entered and what the wizard has learned, in one place.

The App owns exactly one :class:`WizardSession`; screens read and write it and
keep no private copies, so Back never loses anything and a crash handler knows
what to scrub. No Textual imports here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    # Annotations only: the session is created before the first frame, the exchange
    # model (whose dataclasses cost import time) loads after it.
    from wizard.exchange.environment import Environment
    from wizard.exchange.model import AccountFacts, KeyMaterial, KeyPermissions, KeyType
    from wizard.policy import Verdict
    from wizard.profiles import Profile
    from wizard.secret import Secret

Purpose = Literal["read", "spot"]

CHECKLIST_ITEMS: tuple[str, ...] = ("two_factor", "withdraw_allowlist", "purpose_understood", "risk_understood")


@dataclass
class WizardSession:
    """Everything entered or verified so far in one run of the wizard."""

    env: Environment
    purpose: Purpose = "read"
    profile: Profile | None = None
    rotating_label: str | None = None  # set when the run replaces an existing key
    store_uri: str | None = None  # --store, or chosen on the store step (None: profile, else keyring)
    checklist: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(CHECKLIST_ITEMS, False))
    label: str = ""
    api_key: str = ""
    key_type: KeyType = "ed25519"  # the recommended type (Binance calls HMAC deprecated)
    secret: Secret | None = None  # HMAC secret or Ed25519 private key PEM; memory only until stored
    public_key_pem: str | None = None  # for self-generated Ed25519 keys
    key_file: str | None = None  # the path an Ed25519 private key was loaded from (not secret)
    permissions: KeyPermissions | None = None
    verdict: Verdict | None = None
    account: AccountFacts | None = None
    stored: bool = False
    test_passed: bool = False
    test_summary: list[str] = field(default_factory=list)

    def key_material(self) -> KeyMaterial | None:
        """The key as the gateway needs it, or None until both parts are entered."""
        if not self.api_key or self.secret is None:
            return None
        from wizard.exchange.model import KeyMaterial

        return KeyMaterial(self.api_key, self.key_type, self.secret)

    def forget_secret(self) -> None:
        """Drop the in-memory secret once the keyring holds it."""
        self.secret = None

    def __repr__(self) -> str:
        # Never let a debugger, log or traceback print the secret.
        return (
            f"WizardSession(env={self.env.name!r}, purpose={self.purpose!r}, label={self.label!r}, "
            f"key_type={self.key_type!r}, has_secret={self.secret is not None}, stored={self.stored})"
        )
