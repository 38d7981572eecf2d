"""Which market the trading test uses, and why (pure, no I/O).

An order on a symbol outside the account's ``permissionSets`` is refused with
-2010 "This symbol is not permitted for this account.", and the visible order
is paid in the symbol's quote asset, so BTCUSDT is not a safe default for
everyone. A profile's ``[test] symbol`` wins; otherwise the first well-known
market quoted in an asset the user holds, and BTCUSDT only when they hold none.
The account's own permissions are only known where the balances came from
``GET /api/v3/account`` (no /sapi); elsewhere asking would cost weight 20, so
the exchange's refusal, if any, is turned into "use another symbol".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wizard.exchange.model import Balance

DEFAULT_SYMBOL = "BTCUSDT"
PROFILE_ORIGIN = "the profile's [test] symbol"
# (symbol, quote asset), most liquid first: the first one quoted in an asset the user holds.
CANDIDATES: tuple[tuple[str, str], ...] = (
    ("BTCUSDT", "USDT"), ("BTCUSDC", "USDC"), ("BTCFDUSD", "FDUSD"), ("ETHBTC", "BTC"),
    ("BTCEUR", "EUR"), ("BTCTRY", "TRY"), ("BTCBRL", "BRL"), ("BTCJPY", "JPY"),
    ("ETHUSDT", "USDT"),
)


@dataclass(frozen=True)
class TestSymbol:
    """The market for the trading test, and the reason in words."""

    symbol: str
    reason: str
    origin: str = ""  # where the name came from, for an "invalid symbol" answer


def choose_test_symbol(balances: Iterable[Balance], profile_symbol: str | None = None,
                       exclude: Sequence[str] = ()) -> TestSymbol:
    """The profile's symbol, else the first candidate whose quote asset is held."""
    if profile_symbol:
        return TestSymbol(profile_symbol, f"{profile_symbol} is {PROFILE_ORIGIN}.", PROFILE_ORIGIN)
    free = {b.asset: b.free for b in balances if b.free > 0}
    for symbol, quote in CANDIDATES:
        if quote in free and symbol not in exclude:
            return TestSymbol(symbol, f"{symbol}: you hold {free[quote].normalize():f} {quote} free, "
                              f"and its orders are paid in {quote}.", "the wizard's choice")
    return TestSymbol(DEFAULT_SYMBOL, f"{DEFAULT_SYMBOL}: you hold none of the usual quote "
                      "assets (USDT, USDC, FDUSD, BTC, EUR, ...), so the most common market.",
                      "the wizard's default")


def account_may_trade(permission_sets: Sequence[Sequence[str]], account: Sequence[str]) -> bool:
    """Binance's rule (CHANGELOG 2024-08-26): one permission from EVERY set."""
    return all(any(p in account for p in group) for group in permission_sets)
