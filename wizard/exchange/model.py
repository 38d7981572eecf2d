"""Plain data the exchange gateway speaks in (no python-binance, no Textual).

Everything the rest of the wizard knows about Binance comes through these
types: where to connect (:class:`Environment`, defined in
:mod:`wizard.exchange.environment`), what a key may do
(:class:`KeyPermissions`), and what went wrong (:class:`Problem`, raised inside
:class:`ExchangeError`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

# Part of the model; a module of its own so the first frame can import it alone.
from wizard.exchange.environment import Environment as Environment

KeyType = Literal["hmac", "ed25519"]


# Names of the apiRestrictions flags, mapped to KeyPermissions attributes.
RESTRICTION_FIELDS: dict[str, str] = {
    "enableReading": "reading",
    "enableSpotAndMarginTrading": "spot_trading",
    "enableWithdrawals": "withdrawals",
    "enableInternalTransfer": "internal_transfer",
    "permitsUniversalTransfer": "universal_transfer",
    "enableMargin": "margin",
    "enableFutures": "futures",
    "enableVanillaOptions": "options",
    "enablePortfolioMarginTrading": "portfolio_margin",
    "enableFixApiTrade": "fix_trade",
    "enableFixReadOnly": "fix_read_only",
}

# The permissions a key can be created with in API Management (FIX access aside),
# KeyPermissions attribute -> Binance's field name: what the simulator edits.
CREATABLE_PERMISSIONS: dict[str, str] = {
    attr: name for name, attr in RESTRICTION_FIELDS.items() if not attr.startswith("fix_")
}


@dataclass(frozen=True)
class KeyPermissions:
    """What one API key may do, as read from the exchange.

    Each flag is ``True``/``False`` when known and ``None`` when the exchange
    could not tell (a probed environment, or a field Binance left out).
    ``confirmed`` is True only when the flags came from ``apiRestrictions``.
    ``unknown_enabled`` lists every permission-looking field this version could
    not understand — an unknown ``enable*``/``permit*`` name whose value isn't
    plainly off, or a known name with a value that isn't a boolean: each is
    "unknown, treated as on", and the policy blocks on it. ``key_type`` is the
    key's signing type when the gateway knows it (FIX permissions exist only
    on Ed25519 keys).
    """

    confirmed: bool
    reading: bool | None = None
    spot_trading: bool | None = None
    withdrawals: bool | None = None
    internal_transfer: bool | None = None
    universal_transfer: bool | None = None
    margin: bool | None = None
    futures: bool | None = None
    options: bool | None = None
    portfolio_margin: bool | None = None
    fix_trade: bool | None = None
    fix_read_only: bool | None = None
    unknown_enabled: tuple[str, ...] = ()
    ip_restricted: bool | None = None
    created_at: datetime | None = None
    trading_expires_at: datetime | None = None
    key_type: KeyType | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form (datetimes as ISO 8601 strings)."""
        out: dict[str, object] = {"confirmed": self.confirmed}
        for attr in RESTRICTION_FIELDS.values():
            out[attr] = getattr(self, attr)
        out["unknown_enabled"] = list(self.unknown_enabled)
        out["ip_restricted"] = self.ip_restricted
        out["created_at"] = self.created_at.isoformat() if self.created_at else None
        out["trading_expires_at"] = (
            self.trading_expires_at.isoformat() if self.trading_expires_at else None
        )
        return out


class ProblemKind(enum.Enum):
    """Every way a call to Binance can fail, as the user needs to know it."""

    KEY_FORMAT = "key_format"  # -2014
    KEY_INVALID = "key_invalid"  # -2008: unknown or deleted key
    SIGNATURE_INVALID = "signature_invalid"  # -1022
    IP_NOT_ALLOWED = "ip_not_allowed"  # -2015, probe says IP
    PERMISSION_MISSING = "permission_missing"  # -2015, probe says permission
    KEY_REJECTED = "key_rejected"  # -2015, cannot tell which
    READ_REFUSED = "read_refused"  # -2015 on apiRestrictions: IP allowlist or Enable Reading off
    CLOCK_SKEW = "clock_skew"  # -1021
    RATE_LIMITED = "rate_limited"  # 429 / -1003
    BANNED = "banned"  # 418
    ORDER_REJECTED = "order_rejected"  # -2010
    FILTER_FAILURE = "filter_failure"  # -1013
    REGION_BLOCKED = "region_blocked"  # 451 / 403 non-JSON
    NOT_FOUND = "not_found"  # 404 non-JSON: wrong URL or no /sapi
    SERVER_ERROR = "server_error"  # 5xx: status unknown
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # DNS, refused, reset
    UNPROVEN = "unproven"  # an answer that proves nothing either way (a -2015 is not -2008)
    UNKNOWN = "unknown"  # any other Binance code

    @property
    def exit_code(self) -> int:
        """The CLI exit code: 4 the exchange rejected the key, 5 unusable."""
        return 4 if self in _KEY_REJECTIONS else 5


_KEY_REJECTIONS = frozenset(
    {
        ProblemKind.KEY_FORMAT,
        ProblemKind.KEY_INVALID,
        ProblemKind.SIGNATURE_INVALID,
        ProblemKind.IP_NOT_ALLOWED,
        ProblemKind.PERMISSION_MISSING,
        ProblemKind.KEY_REJECTED,
        ProblemKind.READ_REFUSED,
    }
)


@dataclass(frozen=True)
class Problem:
    """A failure in plain language: what happened, and what the user can do.

    ``code`` is Binance's error code when there was one; ``status`` the HTTP
    status. Messages never contain the secret or a signature, and are one line
    of printable text (:func:`wizard.text.printable`).
    ``passed_key_check`` is True only for the refusals Binance documents as
    coming after the key's permission check (a price or size filter, "Order
    would immediately match and take.", insufficient balance): only those
    show an order got past the key; every other refusal proves nothing.
    """

    kind: ProblemKind
    message: str
    fix: str
    code: int | None = None
    status: int | None = None
    retry_after: float | None = None
    passed_key_check: bool = False

    def __post_init__(self) -> None:
        # Messages quote the server (its msg, a Location): whatever built this
        # Problem, no control or escape character from the network survives.
        from wizard.text import printable

        object.__setattr__(self, "message", printable(self.message))
        object.__setattr__(self, "fix", printable(self.fix))

    @property
    def exit_code(self) -> int:
        """The CLI exit code for this problem."""
        return self.kind.exit_code


class ExchangeError(Exception):
    """Raised by the gateway; carries a :class:`Problem` and nothing secret."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True)
class Balance:
    """One asset's free and locked amounts."""

    asset: str
    free: Decimal
    locked: Decimal


@dataclass(frozen=True)
class AccountFacts:
    """What the API can see of the account-prep checklist (step 1)."""

    status: str | None  # "Normal" when the account is fine
    trading_locked: bool | None
    whitelisted_addresses: int | None  # addresses with whiteStatus true
    total_addresses: int | None


@dataclass(frozen=True)
class OrderProbe:
    """The outcome of the visible place-and-cancel test (spot purpose)."""

    symbol: str
    order_id: int
    price: Decimal
    quantity: Decimal
    seen_open: bool
    cancelled: bool
    seen_gone: bool
    # The order's real end: CANCELED, or FILLED / PARTIALLY_FILLED when the market
    # reached it before the cancel (a resting post-only order is an ordinary bid).
    final_status: str = "CANCELED"
    filled_quantity: Decimal = Decimal(0)

    @property
    def filled(self) -> bool:
        """True when any of the order traded."""
        return self.filled_quantity > 0 or self.final_status in ("FILLED", "PARTIALLY_FILLED")


@dataclass(frozen=True)
class ProbeReport:
    """Permission probe on an environment without /sapi: reads and trades."""

    can_read: bool
    can_trade: bool | None
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class KeyMaterial:
    """An API key and what signs for it.

    ``secret`` is the HMAC secret for ``key_type == "hmac"`` and the
    normalised PKCS#8 PEM private key for ``"ed25519"``.
    """

    api_key: str
    key_type: KeyType
    secret: "Secret"

    def __repr__(self) -> str:
        return f"KeyMaterial(api_key={self.api_key[:6]}…, key_type={self.key_type!r}, secret=<redacted>)"


from wizard.secret import Secret  # noqa: E402  (dataclass annotations resolve lazily)
