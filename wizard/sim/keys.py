"""Simulated API keys: what Binance's API Management page holds for each key.

A :class:`SimKey` carries the key, what signs for it (an HMAC secret, or an
Ed25519 public key whose private half the sim hands to tests), the
``apiRestrictions`` JSON exactly as Binance shapes it, and the IP allowlist.
The rules Binance enforces when a user edits a key live here too: withdrawals
only on IP-restricted keys, and spot trading on an unrestricted key lapsing
after 30 days (``tradingAuthorityExpirationTime``).
"""

from __future__ import annotations

import ipaddress
import random
import re
import string
from dataclasses import dataclass, field
from typing import Literal

ALPHANUMERIC = string.ascii_letters + string.digits
API_KEY_RE = re.compile(r"^[A-Za-z0-9]{64}$")
TRADING_GRACE_MS = 30 * 24 * 3600 * 1000  # Binance: unrestricted keys trade for 30 days

# Every flag apiRestrictions reports, in Binance's order, and the defaults of a new key.
PERMISSION_FIELDS: tuple[str, ...] = (
    "enableReading",
    "enableSpotAndMarginTrading",
    "enableWithdrawals",
    "enableInternalTransfer",
    "permitsUniversalTransfer",
    "enableMargin",
    "enableFutures",
    "enableVanillaOptions",
    "enablePortfolioMarginTrading",
    "enableFixApiTrade",
    "enableFixReadOnly",
)

# create_key's keyword arguments -> Binance's field names: the simulator's own
# table, written from the Wallet docs' apiRestrictions example, never imported
# from the client (a belief shared by both sides would pass every test).
KWARG_FIELDS: dict[str, str] = {
    "reading": "enableReading",
    "spot_trading": "enableSpotAndMarginTrading",
    "withdrawals": "enableWithdrawals",
    "internal_transfer": "enableInternalTransfer",
    "universal_transfer": "permitsUniversalTransfer",
    "margin": "enableMargin",
    "futures": "enableFutures",
    "options": "enableVanillaOptions",
    "portfolio_margin": "enablePortfolioMarginTrading",
}
# FIX API permissions exist only on Ed25519 keys (Binance's sub-account API refuses
# them on other key types with -9000 "Unsupported operation").
FIX_FIELDS: tuple[str, ...] = ("enableFixApiTrade", "enableFixReadOnly")

EXPIRY_FIELD = "tradingAuthorityExpirationTime"


def random_token(rng: random.Random, length: int = 64) -> str:
    """A Binance-shaped key or secret: ``length`` letters and digits."""
    return "".join(rng.choice(ALPHANUMERIC) for _ in range(length))


def parse_networks(entries: list[str] | tuple[str, ...]) -> list[str]:
    """Validate allowlist entries (addresses or CIDR blocks); ValueError names the bad one."""
    cleaned = []
    for entry in entries:
        text = str(entry).strip()
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"not an IP address or CIDR block: {text!r}") from None
        cleaned.append(text)
    return cleaned


@dataclass
class SimKey:
    """One key in the simulated API Management page.

    ``secret`` is set for HMAC keys; ``private_key_pem`` for Ed25519 keys the
    sim generated (``None`` for a self-generated key registered by its public
    half). Mutate keys through :class:`~wizard.sim.SimExchange` methods so the
    Binance rules above stay true and the server thread sees a consistent key.
    """

    name: str
    api_key: str
    key_type: Literal["hmac", "ed25519"]
    secret: str | None = field(default=None, repr=False)
    private_key_pem: str | None = field(default=None, repr=False)
    restrictions: dict[str, object] = field(default_factory=dict)
    ip_allowlist: list[str] = field(default_factory=list)
    deleted: bool = False
    public_key_pem: str | None = field(default=None, repr=False)

    @property
    def ip_restricted(self) -> bool:
        """True when only allowlisted IPs may use the key."""
        return bool(self.restrictions.get("ipRestrict"))

    def effective_restrictions(self, now_ms: int) -> dict[str, object]:
        """apiRestrictions as Binance reports it at ``now_ms``.

        Binance unchecks spot trading once the 30-day authority of an
        unrestricted key lapses, so an expired key reports it off.
        """
        out = dict(self.restrictions)
        expiry = out.get(EXPIRY_FIELD)
        if isinstance(expiry, int) and now_ms >= expiry:
            out["enableSpotAndMarginTrading"] = False
        return out

    def may_read(self) -> bool:
        """USER_DATA endpoints need "Enable Reading"."""
        return bool(self.restrictions.get("enableReading"))

    def may_trade(self, now_ms: int) -> bool:
        """TRADE endpoints need spot trading, still within its authority window."""
        return bool(self.effective_restrictions(now_ms).get("enableSpotAndMarginTrading"))

    def ip_allowed(self, ip: str) -> bool:
        """Whether a request from ``ip`` passes the key's allowlist (CIDR aware)."""
        if not self.ip_restricted:
            return True
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(
            address in ipaddress.ip_network(entry, strict=False) for entry in self.ip_allowlist
        )

    def set_flag(self, name: str, value: object, now_ms: int) -> None:
        """Change one apiRestrictions field the way the API Management page would.

        Unknown ``enable*``/``permits*`` names are accepted on purpose: Binance
        adds permissions without notice, and the wizard must treat a new one
        that is on as unwanted.
        """
        if name == EXPIRY_FIELD:
            if value is None:
                self.restrictions.pop(EXPIRY_FIELD, None)
            else:
                self.restrictions[EXPIRY_FIELD] = int(value)  # type: ignore[arg-type]
            return
        if not (name.startswith("enable") or name.startswith("permits")):
            raise ValueError(f"not a permission field: {name!r}")
        flag = bool(value)
        if name in FIX_FIELDS and flag and self.key_type != "ed25519":
            raise ValueError("FIX API permissions exist only on Ed25519 keys")
        if name == "enableWithdrawals" and flag and not self.ip_restricted:
            raise ValueError("Binance only allows withdrawals on IP-restricted keys")
        self.restrictions[name] = flag
        if name == "enableSpotAndMarginTrading":
            self._refresh_trading_expiry(now_ms)

    def set_allowlist(self, entries: list[str], now_ms: int) -> None:
        """Replace the IP allowlist; an empty list lifts the restriction."""
        self.ip_allowlist = parse_networks(entries)
        self.restrictions["ipRestrict"] = bool(self.ip_allowlist)
        if not self.ip_allowlist and self.restrictions.get("enableWithdrawals"):
            # Binance unchecks withdrawals when the IP restriction goes away.
            self.restrictions["enableWithdrawals"] = False
        self._refresh_trading_expiry(now_ms)

    def _refresh_trading_expiry(self, now_ms: int) -> None:
        trading = bool(self.restrictions.get("enableSpotAndMarginTrading"))
        if not trading or self.ip_restricted:
            self.restrictions.pop(EXPIRY_FIELD, None)
        elif EXPIRY_FIELD not in self.restrictions:
            self.restrictions[EXPIRY_FIELD] = now_ms + TRADING_GRACE_MS

    def as_json(self) -> dict[str, object]:
        """What ``binance-key-wizard sim --json`` and the admin route print.

        These are simulated credentials, printed on purpose so a demo or a
        test can use them; nothing real ever goes through here.
        """
        out: dict[str, object] = {
            "name": self.name,
            "api_key": self.api_key,
            "key_type": self.key_type,
        }
        if self.secret is not None:
            out["secret"] = self.secret
        if self.private_key_pem is not None:
            out["private_key_pem"] = self.private_key_pem
        out["restrictions"] = dict(self.restrictions)
        out["ip_allowlist"] = list(self.ip_allowlist)
        out["deleted"] = self.deleted
        return out


def generate_ed25519(rng: random.Random) -> tuple[str, str]:
    """A fresh Ed25519 pair as (private PKCS#8 PEM, public PEM).

    The seed comes from ``rng`` so a seeded sim gives the same keys every run.
    """
    from Crypto.PublicKey import ECC

    key = ECC.construct(curve="ed25519", seed=rng.randbytes(32))
    return key.export_key(format="PEM"), key.public_key().export_key(format="PEM")


def public_pem_is_ed25519(public_key_pem: str) -> bool:
    """True for a PEM the sim can verify Ed25519 signatures with."""
    from Crypto.PublicKey import ECC

    try:
        key = ECC.import_key(public_key_pem)
    except (ValueError, IndexError, TypeError):
        return False
    return key.curve in ("Ed25519", "ed25519") and not key.has_private()


def build_key(
    rng: random.Random,
    *,
    name: str,
    permissions: dict[str, bool],
    ip_allowlist: list[str] | tuple[str, ...],
    key_type: Literal["hmac", "ed25519"],
    public_key_pem: str | None,
    create_time_ms: int,
) -> SimKey:
    """Make a key as the API Management page would, enforcing Binance's rules."""
    allowlist = parse_networks(ip_allowlist)
    if permissions.get("enableWithdrawals") and not allowlist:
        raise ValueError("Binance only allows withdrawals on IP-restricted keys")
    secret = private_pem = None
    if key_type == "hmac":
        if public_key_pem is not None:
            raise ValueError("public_key_pem is only for ed25519 keys")
        secret = random_token(rng)
    elif key_type == "ed25519":
        if public_key_pem is None:
            private_pem, public_key_pem = generate_ed25519(rng)
        elif not public_pem_is_ed25519(public_key_pem):
            raise ValueError("public_key_pem is not an Ed25519 public key (PEM)")
    else:
        raise ValueError(f"unsupported key type {key_type!r}: use 'hmac' or 'ed25519'")
    restrictions: dict[str, object] = {"ipRestrict": bool(allowlist), "createTime": create_time_ms}
    for name_ in PERMISSION_FIELDS:
        restrictions[name_] = bool(permissions.get(name_, False))
    key = SimKey(
        name=name,
        api_key=random_token(rng),
        key_type=key_type,
        secret=secret,
        private_key_pem=private_pem,
        restrictions=restrictions,
        ip_allowlist=allowlist,
        public_key_pem=public_key_pem,
    )
    if restrictions["enableSpotAndMarginTrading"] and not allowlist:
        # The 30 days run from when trading was granted: creation, for a new key.
        key.restrictions[EXPIRY_FIELD] = create_time_ms + TRADING_GRACE_MS
    return key
