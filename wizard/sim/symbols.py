"""The simulated market's symbols: live-like filter values, and the odd cases.

BTCUSDT and ETHUSDT carry Binance's real filter values; BTCUSDC and ETHBTC let
the test symbol follow the quote asset a user holds; HALTUSDT, BREAKUSDT and
EODUSDT are served with the statuses HALT, BREAK and END_OF_DAY (enums.md
"Symbol status") so a symbol that can't take orders is met end to end.
"""

from __future__ import annotations

from decimal import Decimal

from wizard.sim.market import SymbolSpec

D = Decimal


def _spot(symbol: str, base: str, quote: str, *, tick: str, step: str, notional: str,
          bid: str, ask: str, avg: str, status: str = "TRADING") -> SymbolSpec:
    tick_d, step_d = D(tick), D(step)
    return SymbolSpec(
        symbol=symbol, base=base, quote=quote,
        tick_size=tick_d, min_price=tick_d, max_price=D("1000000"),
        step_size=step_d, min_qty=step_d, max_qty=D("9000"),
        min_notional=D(notional), max_notional=D("9000000"),
        bid=D(bid), ask=D(ask), avg_price=D(avg), status=status,
    )


def default_symbols() -> dict[str, SymbolSpec]:
    """Every symbol a fresh simulator lists, by name."""
    specs = [
        _spot("BTCUSDT", "BTC", "USDT", tick="0.01", step="0.00001", notional="5",
              bid="59999.99", ask="60000.00", avg="59987.41235118"),
        _spot("ETHUSDT", "ETH", "USDT", tick="0.01", step="0.0001", notional="5",
              bid="2999.98", ask="2999.99", avg="3001.27384615"),
        _spot("BTCUSDC", "BTC", "USDC", tick="0.01", step="0.00001", notional="5",
              bid="59998.50", ask="60001.20", avg="59990.08311220"),
        # Quoted in BTC: its minimum notional is 0.0001 BTC, not "about 5 USDT".
        _spot("ETHBTC", "ETH", "BTC", tick="0.00001", step="0.0001", notional="0.0001",
              bid="0.05000", ask="0.05001", avg="0.05002113"),
        _spot("HALTUSDT", "HALT", "USDT", tick="0.0001", step="0.1", notional="5",
              bid="1.2000", ask="1.2001", avg="1.20047", status="HALT"),
        _spot("BREAKUSDT", "BREAK", "USDT", tick="0.0001", step="0.1", notional="5",
              bid="0.5000", ask="0.5001", avg="0.50012", status="BREAK"),
        _spot("EODUSDT", "EOD", "USDT", tick="0.01", step="0.001", notional="5",
              bid="101.00", ask="101.02", avg="100.97", status="END_OF_DAY"),
    ]
    return {spec.symbol: spec for spec in specs}
