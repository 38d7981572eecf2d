"""SimExchange: the simulated Binance and its Python API for tests and the demo.

Construction creates the preset keys; ``start()`` serves them on 127.0.0.1 in
the running loop, ``start_in_thread()`` in a thread of its own. Every method
here takes the sim's lock, so a test thread can delete a key or toggle a
permission while the server thread answers requests. aiohttp is imported only
when the server starts (the TUI imports this module after its first frame).
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import secrets
import threading
import time
import weakref
from decimal import Decimal
from typing import Any, Literal

from wizard.sim.faults import Faults
from wizard.sim.keys import KWARG_FIELDS, SimKey, build_key, random_token
from wizard.sim.market import SymbolSpec
from wizard.sim.symbols import default_symbols
from wizard.sim.limits import RateLimits
from wizard.sim.state import Account, LogEntry, SimBalance

DAY_MS = 86_400_000
START_BALANCES = {"USDT": Decimal("100"), "BTC": Decimal("0.0015")}

# name -> (create_key kwargs, created how many days ago, deleted)
PRESETS: dict[str, tuple[dict[str, Any], int, bool]] = {
    "read_only": ({"ip_allowlist": ["127.0.0.1"]}, 12, False),
    "spot_trading": ({"spot_trading": True, "ip_allowlist": ["127.0.0.1"]}, 40, False),
    # Binance only lets IP-restricted keys withdraw; the sim's own client IP is allowed.
    "withdrawals": ({"withdrawals": True, "ip_allowlist": ["127.0.0.1"]}, 90, False),
    "internal_transfer": ({"internal_transfer": True, "ip_allowlist": ["127.0.0.1"]}, 30, False),
    "futures": ({"futures": True, "ip_allowlist": ["127.0.0.1"]}, 20, False),
    # No IP restriction: spot trading lapses 30 days after creation.
    "trading_unrestricted": ({"spot_trading": True}, 3, False),
    "ed25519": ({"key_type": "ed25519", "ip_allowlist": ["127.0.0.1"]}, 5, False),
    "deleted": ({"ip_allowlist": ["127.0.0.1"]}, 200, True),
}


class SimExchange:
    """A Binance-compatible REST server with scriptable keys, faults and clock.

    ``seed`` makes keys, secrets and order ids reproducible (screenshots);
    without it they are random per instance. ``weight_limit`` is the request
    weight per IP per window past which the sim answers 429; the window is
    Binance's minute unless ``weight_window_s`` says otherwise (tests of pacing).
    """

    def __init__(self, *, seed: int | str | None = None, weight_limit: int = 6000,
                 presets: bool = True, weight_window_s: int = 60) -> None:
        self._lock = threading.RLock()
        # The /_sim admin routes' per-run token (X-Sim-Token); never derived from ``seed``.
        self.admin_token: str = secrets.token_urlsafe(24)
        self._rng: random.Random = random.Random(seed) if seed is not None else random.SystemRandom()
        self.faults = Faults()
        # Connections that have had their first API request (weak: a closed one's transport
        # leaves the set), and how many there have been: a new one costs faults.handshake_rtts.
        self.connections_seen: weakref.WeakSet[Any] = weakref.WeakSet()
        self.connections_opened = 0
        self.limits = RateLimits(weight_limit, weight_window_s * 1000)
        # False: the REST server refuses TRADE requests (-2010 "Rest API trading is not enabled.").
        self.rest_trading = True
        # Called (under the lock) with each order that comes to rest: a test can
        # move the market onto it, e.g. ``lambda o: sim.fill_order(key, o.order_id)``.
        self.on_order_placed: Any = None
        self.market: dict[str, SymbolSpec] = default_symbols()
        self._client_ip: str | None = None
        self._keys: dict[str, SimKey] = {}
        self._by_api_key: dict[str, SimKey] = {}
        self._accounts: dict[str, Account] = {}
        self._log_entries: list[LogEntry] = []
        self._next_order_id = 4_000_001 + self._rng.randrange(100_000)
        self._next_uid = 350_000_000 + self._rng.randrange(1_000_000)
        self._runner: Any = None
        self._base_url: str | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        if presets:
            self._create_presets()

    # ----- keys -------------------------------------------------------------

    def _create_presets(self) -> None:
        now = int(time.time() * 1000)
        for name, (kwargs, age_days, deleted) in PRESETS.items():
            key = self._add_key(label=name, create_time_ms=now - age_days * DAY_MS, **kwargs)
            key.deleted = deleted

    @property
    def keys(self) -> dict[str, SimKey]:
        """Every key by name (presets by preset name, others by label)."""
        with self._lock:
            return dict(self._keys)

    def create_key(self, *, label: str, reading: bool = True, spot_trading: bool = False,
                   withdrawals: bool = False, internal_transfer: bool = False,
                   universal_transfer: bool = False, margin: bool = False, futures: bool = False,
                   options: bool = False, portfolio_margin: bool = False,
                   ip_allowlist: list[str] | tuple[str, ...] = (),
                   key_type: Literal["hmac", "ed25519"] = "hmac",
                   public_key_pem: str | None = None) -> SimKey:
        """Create a key as a user would on API Management (ValueError if Binance refuses).

        With ``key_type="ed25519"`` and ``public_key_pem`` the key is a
        "Self-generated" one: the sim holds only the public half.
        """
        flags = dict(reading=reading, spot_trading=spot_trading, withdrawals=withdrawals,
                     internal_transfer=internal_transfer, universal_transfer=universal_transfer,
                     margin=margin, futures=futures, options=options,
                     portfolio_margin=portfolio_margin)
        return self._add_key(label=label, ip_allowlist=ip_allowlist, key_type=key_type,
                             public_key_pem=public_key_pem, create_time_ms=self.now_ms(), **flags)

    def _add_key(self, *, label: str, create_time_ms: int, ip_allowlist: Any = (),
                 key_type: Literal["hmac", "ed25519"] = "hmac", public_key_pem: str | None = None,
                 **flags: bool) -> SimKey:
        if not label or not label.strip():
            raise ValueError("a key needs a label")
        permissions = {"enableReading": flags.pop("reading", True)}
        for kwarg, value in flags.items():
            permissions[KWARG_FIELDS[kwarg]] = value
        with self._lock:
            key = build_key(self._rng, name=self._unique_name(label.strip()), permissions=permissions,
                            ip_allowlist=list(ip_allowlist), key_type=key_type,
                            public_key_pem=public_key_pem, create_time_ms=create_time_ms)
            self._keys[key.name] = key
            self._by_api_key[key.api_key] = key
            account = Account(uid=self._next_uid)
            self._next_uid += 1
            for asset, amount in START_BALANCES.items():
                account.set_free(asset, amount)
            self._accounts[key.api_key] = account
            return key

    def adopt_key(self, *, label: str, api_key: str, key_type: Literal["hmac", "ed25519"],
                  secret: str | None = None, public_key_pem: str | None = None,
                  ip_allowlist: list[str] | tuple[str, ...] = (), **flags: bool) -> SimKey:
        """Bring a key made in an earlier run into this simulator, under its own API key.

        For the demo's ``rotate``: the simulator of the run that created the key is gone,
        and the rotation must still find the old key alive, to watch it die. ``flags`` are
        :meth:`create_key`'s permission keywords; Binance's rules apply as at creation.
        """
        if key_type == "hmac" and not secret:
            raise ValueError("an HMAC key needs its secret")
        key = self._add_key(label=label, create_time_ms=self.now_ms(), ip_allowlist=ip_allowlist,
                            key_type=key_type, public_key_pem=public_key_pem, **flags)
        with self._lock:
            account = self._accounts.pop(key.api_key)
            del self._by_api_key[key.api_key]
            key.api_key, key.secret, key.private_key_pem = api_key, secret, None
            self._by_api_key[api_key] = key
            self._accounts[api_key] = account
        return key

    def _unique_name(self, label: str) -> str:
        name, n = label, 2
        while name in self._keys:
            name, n = f"{label}-{n}", n + 1
        return name

    def key(self, ref: str) -> SimKey:
        """A key by API key or by name; KeyError when there is none."""
        with self._lock:
            found = self._by_api_key.get(ref) or self._keys.get(ref)
            if found is None:
                raise KeyError("no such simulated key")
            return found

    def delete_key(self, api_key: str) -> None:
        """Delete a key (API calls with it answer -2008 from now on)."""
        with self._lock:
            self.key(api_key).deleted = True

    def set_permission(self, api_key: str, field: str, value: object) -> None:
        """Set one apiRestrictions field by Binance's name, e.g. "enableWithdrawals".

        Unknown ``enable*``/``permits*`` names are added as new permissions;
        ``tradingAuthorityExpirationTime`` (ms, or None) can be set too.
        """
        with self._lock:
            self.key(api_key).set_flag(field, value, self.now_ms())

    def set_ip_allowlist(self, api_key: str, ips: list[str] | tuple[str, ...]) -> None:
        """Replace a key's allowlist (addresses or CIDR); empty lifts the restriction."""
        with self._lock:
            self.key(api_key).set_allowlist(list(ips), self.now_ms())

    # ----- accounts ----------------------------------------------------------

    def _account(self, api_key: str) -> Account:
        return self._accounts[self.key(api_key).api_key]

    def balances(self, api_key: str) -> dict[str, SimBalance]:
        """The key's account balances by asset (free and locked)."""
        with self._lock:
            return {
                asset: SimBalance(asset, free, locked)
                for asset, (free, locked) in sorted(self._account(api_key).balances.items())
            }

    def set_balance(self, api_key: str, asset: str, free: Decimal | str | int) -> None:
        """Set the free amount of ``asset`` in the key's account."""
        with self._lock:
            self._account(api_key).set_free(asset, Decimal(str(free)))

    def open_orders(self, api_key: str) -> list[dict[str, object]]:
        """The key's open orders, shaped like GET /api/v3/openOrders."""
        with self._lock:
            return [o.as_query() for o in self._account(api_key).open_orders()]

    def fill_order(self, api_key: str, order_id: int, quantity: Decimal | str | None = None) -> None:
        """The market reaches a resting order: fill it (all, or ``quantity``) at its price."""
        from wizard.sim.orders import fill_resting

        with self._lock:
            account = self._account(api_key)
            order = account.orders[order_id]
            amount = order.quantity if quantity is None else Decimal(str(quantity))
            fill_resting(account, self.market[order.symbol], order, amount, self.now_ms())

    def set_withdraw_addresses(self, api_key: str, addresses: list[dict[str, object]]) -> None:
        """Replace the account's withdrawal address book (entries carry ``whiteStatus``)."""
        with self._lock:
            self._account(api_key).withdraw_addresses = [dict(a) for a in addresses]

    def set_account_status(self, api_key: str, *, status: str | None = None,
                           trading_locked: bool | None = None, can_trade: bool | None = None,
                           permissions: list[str] | None = None) -> None:
        """Change account/status ``data``, apiTradingStatus ``isLocked``, and the
        account's own ``canTrade`` and ``permissions`` (GET /api/v3/account)."""
        with self._lock:
            account = self._account(api_key)
            if status is not None:
                account.status = status
            if trading_locked is not None:
                account.trading_locked = trading_locked
            if can_trade is not None:
                account.can_trade = can_trade
            if permissions is not None:
                account.permissions = list(permissions)

    def set_market(self, symbol: str, *, bid: Decimal | str | None = None,
                   ask: Decimal | str | None = None, avg_price: Decimal | str | None = None) -> None:
        """Move a symbol's top of book and average price."""
        with self._lock:
            spec = self.market[symbol]
            if bid is not None:
                spec.bid = Decimal(str(bid))
            if ask is not None:
                spec.ask = Decimal(str(ask))
            if avg_price is not None:
                spec.avg_price = Decimal(str(avg_price))

    # ----- clock, network, accounting ----------------------------------------

    def now_ms(self) -> int:
        """The sim's clock: real time plus ``faults.clock_skew_ms``."""
        return int(time.time() * 1000) + int(self.faults.clock_skew_ms)

    @property
    def client_ip(self) -> str | None:
        """The caller IP allowlists are checked against; None means the real peer."""
        return self._client_ip

    @client_ip.setter
    def client_ip(self, value: str | None) -> None:
        if value is not None:
            value = str(ipaddress.ip_address(value))
        self._client_ip = value

    @property
    def request_log(self) -> list[LogEntry]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._log_entries)

    def clear_log(self) -> None:
        """Forget logged requests."""
        with self._lock:
            self._log_entries.clear()

    def _log(self, entry: LogEntry) -> None:
        with self._lock:
            self._log_entries.append(entry)

    @property
    def weight_limit(self) -> int:
        """The /api request weight per IP per minute past which the sim answers 429."""
        return self.limits.api_limit

    @weight_limit.setter
    def weight_limit(self, value: int) -> None:
        self.limits.api_limit = value

    @property
    def used_weight(self) -> int:
        """IP weight used this minute, /api and /sapi buckets together (on loopback, one IP)."""
        with self._lock:
            return self.limits.used(int(time.time() * 1000))

    def reset_weight(self) -> None:
        """Start every weight and order count from zero."""
        with self._lock:
            self.limits.reset()

    def next_order_id(self) -> int:
        """A fresh order or trade id."""
        with self._lock:
            self._next_order_id += 1
            return self._next_order_id

    def random_client_id(self) -> str:
        """A Binance-style generated clientOrderId."""
        with self._lock:
            return random_token(self._rng, 22)

    # ----- serving -----------------------------------------------------------

    @property
    def base_url(self) -> str | None:
        """``http://127.0.0.1:PORT`` while serving, else None."""
        return self._base_url

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve in the running loop; returns the base URL (the real port when 0)."""
        from aiohttp import web

        from wizard.sim.server import build_app

        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        # access_log=None: aiohttp would log request lines, signatures included.
        # A short shutdown_timeout: stopping must not wait a minute on a slow (faulted) request.
        runner = web.AppRunner(build_app(self), access_log=None, handle_signals=False,
                               shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self._base_url = f"http://{host}:{bound_port}"
        return self._base_url

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        runner, self._runner = self._runner, None
        self._base_url = None
        if runner is not None:
            await runner.cleanup()

    def start_in_thread(self, port: int = 0, host: str = "127.0.0.1", timeout: float = 10.0) -> str:
        """Serve from a daemon thread with its own event loop; returns the base URL."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="binance-sim", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            return asyncio.run_coroutine_threadsafe(self.start(port, host), loop).result(timeout)
        except BaseException:
            self.stop_in_thread()
            raise

    def stop_in_thread(self, timeout: float = 10.0) -> None:
        """Stop the server thread started by :meth:`start_in_thread` (idempotent)."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            loop.close()
