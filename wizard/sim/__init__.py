"""A simulated Binance exchange for tests and the ``--demo`` rehearsal.

``from wizard.sim import SimExchange, SimKey, LogEntry`` — names are resolved
lazily so importing this package stays cheap; aiohttp itself is imported only
when a sim starts serving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wizard.sim.exchange import SimExchange
    from wizard.sim.faults import Faults
    from wizard.sim.keys import SimKey
    from wizard.sim.state import LogEntry

__all__ = ["Faults", "LogEntry", "SimExchange", "SimKey"]

_HOMES = {
    "SimExchange": "wizard.sim.exchange",
    "SimKey": "wizard.sim.keys",
    "LogEntry": "wizard.sim.state",
    "Faults": "wizard.sim.faults",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'wizard.sim' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
