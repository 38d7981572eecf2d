"""The one place that talks to Binance.

:class:`Gateway` answers the wizard's questions about one key in one
environment, each answer a model type, each failure an
:class:`~wizard.exchange.model.ExchangeError` carrying a plain-language
:class:`~wizard.exchange.model.Problem`. Importing this module imports neither
python-binance nor aiohttp (the TUI imports it before its first frame); the
client is built on the first request.

Weights (Binance request weight):

=========================  ===========================================  ======
method                     requests                                     weight
=========================  ===========================================  ======
sync_time                  GET /api/v3/time                             1
read_permissions (sapi)    GET /sapi/v1/account/apiRestrictions         1
read_permissions (probe)   GET account, exchangeInfo, avgPrice,         20+20+2+1
                           POST order/test
account_facts              account/status, apiTradingStatus,            1+1+10
                           capital/withdraw/address/list
balances                   POST /sapi/v3/asset/getUserAsset             5
                           (no /sapi: GET /api/v3/account)              (20)
test_order                 exchangeInfo?symbol, referencePrice          20+2+1
                           (avgPrice only if that is null), order/test  (+2)
trade_refusal_probe        POST order/test (fixed shape, no lookups)    1
place_and_cancel_probe     exchangeInfo, prices, balance, order,        20+2+5+1
                           openOrders, DELETE order, openOrders         +6+1+6
confirm_key_dead           apiRestrictions (no /sapi: GET account)      1 (20)
                           (only -2008 on /sapi proves deletion)
=========================  ===========================================  ======

What is the same whichever key asks is shared by every gateway made with the
same :class:`Environment` object (:func:`~wizard.exchange.transport.shared_cache`):
the clock offset (10 min; a -1021 re-syncs), a symbol's rules (10 min) and its
average price (2 min). So the time sync (w1) happens once per run rather than
once per gateway, and the visible order after a test order costs no second
exchangeInfo (w20) or avgPrice (w2); its funds check reuses balances read
within the last minute (w5). A ``check`` of a healthy key is 2 requests, weight 2.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from wizard.exchange import trading
from wizard.exchange.errors import Context
from wizard.exchange.messages import death_unproven
from wizard.exchange.model import (
    AccountFacts,
    Balance,
    Environment,
    ExchangeError,
    KeyMaterial,
    KeyPermissions,
    OrderProbe,
    Problem,
    ProblemKind,
    ProbeReport,
)
from wizard.exchange.parse import (
    UnexpectedAnswer,
    decimal_or_zero,
    parse_account_balances,
    parse_account_facts,
    parse_restrictions,
    parse_user_assets,
)
from wizard.exchange.trading import TradeRefusal
from wizard.exchange.transport import SharedCache, Transport, TransportStats, unexpected_answer

if TYPE_CHECKING:
    from wizard.exchange.orders import MarketPrice, PlannedOrder, SymbolRules

__all__ = ["Gateway", "TradeRefusal"]

# Refusals of a key that do not, by themselves, prove it was deleted (see confirm_key_dead).
REFUSED_KINDS = frozenset(
    {ProblemKind.KEY_INVALID, ProblemKind.KEY_REJECTED, ProblemKind.KEY_FORMAT,
     ProblemKind.IP_NOT_ALLOWED, ProblemKind.READ_REFUSED, ProblemKind.PERMISSION_MISSING,
     ProblemKind.SIGNATURE_INVALID}
)

# How long shared market facts are reused (seconds). Filters change rarely, and
# an order refused by a filter drops them at once. The probe bids about half the
# 5-minute average price, far from both the band's floor and the market, so a
# two-minute-old average plans the same safe order.
RULES_TTL = 600.0
# The visible order's funds check may use balances this recent (the test step
# has just read them); the exchange checks funds again on the order anyway.
BALANCES_TTL = 60.0


class Gateway:
    """One key (or none, for public calls) in one :class:`Environment`.

    Use as ``async with Gateway(env, key) as gw:`` or call :meth:`close`.
    ``timeout`` bounds each HTTP request; GETs are retried up to ``retries``
    times on transport errors, 5xx and timeouts.
    """

    def __init__(
        self,
        env: Environment,
        key: KeyMaterial | None,
        *,
        timeout: float = 10.0,
        retries: int = 2,
    ) -> None:
        self.env = env
        self._transport = Transport(env, key, timeout=timeout, retries=retries)
        # The last confirmed permissions and whether any signed read worked:
        # they tell a -2015 on an order apart (permission vs IP).
        self.permissions: KeyPermissions | None = None
        self.signed_read_ok = False
        # On environments without /sapi: what the last permission probe found.
        self.last_probe: ProbeReport | None = None
        self._shared = self._transport.shared

    def __repr__(self) -> str:
        return f"Gateway({self._transport!r})"

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection and drop the client (which holds the secret)."""
        await self._transport.close()

    @property
    def key_type(self) -> str | None:
        """The key's signing type ("hmac", "ed25519"), None for a keyless gateway."""
        return self._transport.key_type

    @property
    def stats(self) -> TransportStats:
        """Requests made and the last X-MBX-USED-WEIGHT-1M seen (diagnostics)."""
        return self._transport.stats

    @property
    def requests_made(self) -> int:
        """HTTP requests this gateway has sent (retries included)."""
        return self._transport.stats.requests

    @property
    def used_weight(self) -> int | None:
        """The last X-MBX-USED-WEIGHT-1M Binance reported (per IP, this minute)."""
        return self._transport.stats.used_weight_1m

    @property
    def clock_offset_ms(self) -> int | None:
        """Binance's clock minus ours, in ms, once synced (None before)."""
        return self._transport.offset_ms

    async def sync_time(self) -> int:
        """``GET /api/v3/time`` (w1): sync the timestamp offset; returns it in ms.

        Done automatically before the first signed request and after a -1021.
        An offset another gateway of this environment measured in the last
        10 minutes is reused without a request.
        """
        return await self._transport.sync_time()

    async def read_permissions(self) -> KeyPermissions:
        """What the key may do: confirmed via apiRestrictions, else probed.

        Without /sapi (testnet, demo) the answer is ``confirmed=False``: a
        signed read and a test order show reading and trading, nothing else.
        """
        if not self.env.has_sapi:
            return await trading.probe_permissions(self)
        data = await self.signed(
            "get", "account/apiRestrictions", sapi=True, context="key_read"
        )
        permissions = _parsed(parse_restrictions, data, "apiRestrictions")
        permissions = replace(permissions, key_type=self._transport.key_type)
        self.permissions = permissions
        self.signed_read_ok = True
        return permissions

    async def account_facts(self) -> AccountFacts:
        """Account status, trading lock and withdrawal-address allowlist (step 1).

        All ``None`` where there is no /sapi: the API can't see these there.
        """
        if not self.env.has_sapi:
            return AccountFacts(None, None, None, None)
        status = await self.signed("get", "account/status", sapi=True)
        self.signed_read_ok = True
        trading_status = await self._optional_sapi_read("account/apiTradingStatus")
        addresses = await self.signed("get", "capital/withdraw/address/list", sapi=True)
        return parse_account_facts(status, trading_status, addresses)

    async def balances(self) -> list[Balance]:
        """Non-zero balances, by asset name."""
        if self.env.has_sapi:
            data = await self.signed("post", "asset/getUserAsset", sapi=True, version=3)
            self.signed_read_ok = True
            balances = _parsed(parse_user_assets, data, "getUserAsset")
        else:
            balances = _parsed(parse_account_balances, await self.account_read(), "account")
        self._shared.put(("balances", self._transport.api_key), balances)
        return balances

    def recent_balances(self) -> list[Balance] | None:
        """This key's balances if any gateway of this environment read them in the last minute."""
        return self._shared.get(("balances", self._transport.api_key), BALANCES_TTL)

    async def test_order(self, symbol: str = "BTCUSDT", *, origin: str = "") -> PlannedOrder:
        """``POST /api/v3/order/test`` of a harmless post-only BUY; never retried.

        Returns the order that was tested (the visible order will be the same).
        ``origin`` says where the symbol came from ("the profile's [test] symbol"):
        an unknown or unpermitted symbol is reported with it.
        """
        return await trading.test_order(self, symbol, origin)

    async def trade_refusal_probe(self, symbol: str = "BTCUSDT", *, origin: str = "") -> TradeRefusal:
        """For a key that should not trade: does the exchange refuse its order? (w1)

        Sends ``POST /api/v3/order/test`` of a fixed post-only BUY at 0.01, with
        no exchangeInfo or avgPrice lookup: a test order never reaches the
        matching engine, so this is harmless even for a key that may trade.
        The refusal is the expected answer, so it comes back as a
        :class:`TradeRefusal` rather than an exception; failures that say
        nothing about the key (network, 5xx, rate limit, invalid key) raise.
        """
        return await trading.trade_refusal(self, symbol, origin)

    async def place_and_cancel_probe(self, symbol: str = "BTCUSDT", *, origin: str = "") -> OrderProbe:
        """Place the smallest LIMIT_MAKER BUY far below the market, see it, cancel it, see it gone."""
        return await trading.place_and_cancel(self, symbol, origin)

    async def confirm_key_dead(self) -> Problem | None:
        """For rotation: is the old key gone from the exchange?

        Returns the -2008 Problem when ``/sapi`` answers "Invalid Api-Key ID.":
        the one answer that proves deletion. Returns None when a signed read
        works: still alive. Any other refusal raises :class:`ExchangeError`
        with a :attr:`ProblemKind.UNPROVEN` problem saying why it proves
        nothing: a -2015 also meets a live key from an IP outside its
        allowlist, and where there is no /sapi (testnet, demo) a deleted key
        gets -2015 too, so deletion can't be proven there at all. Network,
        5xx and rate limits raise their own problem: unknown is not dead.
        """
        problem = None
        try:
            if self.env.has_sapi:
                await self.signed("get", "account/apiRestrictions", sapi=True, context="key_read")
            else:
                await self.account_read()
        except ExchangeError as err:
            problem = err.problem
        if problem is None:
            return None
        if self.env.has_sapi and problem.kind is ProblemKind.KEY_INVALID and problem.code == -2008:
            return problem
        if problem.kind in REFUSED_KINDS:
            problem = death_unproven(problem, self.env)
        raise ExchangeError(problem) from None

    # -- building blocks shared with wizard.exchange.trading ---------------

    async def signed(
        self,
        method: str,
        path: str,
        *,
        data: dict[str, Any] | None = None,
        sapi: bool = False,
        version: int = 1,
        context: Context = "read",
    ) -> Any:
        """One signed request; ``data`` is copied afresh for every attempt."""
        params = dict(data or {})
        if sapi:
            def request(c: Any) -> Any:
                return c._request_margin_api(method, path, True, version=version, data=dict(params))
        else:
            request = _api_request(method, path, True, params)
        return await self._transport.call(
            request, method=method.upper(), signed=True, context=context
        )

    async def account_read(self) -> Any:
        """``GET /api/v3/account`` (w20): the signed read that exists everywhere."""
        data = await self.signed("get", "account", data={"omitZeroBalances": "true"})
        self.signed_read_ok = True
        permissions = data.get("permissions") if isinstance(data, dict) else None
        if isinstance(permissions, list):  # the ACCOUNT's permissions: which markets it may trade
            self._shared.put(("account_permissions", self._transport.api_key),
                             tuple(p for p in permissions if isinstance(p, str)))
        return data

    def account_permissions(self) -> tuple[str, ...] | None:
        """The account's permissions if a GET /api/v3/account of this run read them."""
        return self._shared.get(("account_permissions", self._transport.api_key), RULES_TTL)

    async def public(self, path: str, data: dict[str, Any] | None = None) -> Any:
        """One unsigned GET under /api/v3."""
        return await self._transport.call(_api_request("get", path, False, dict(data or {})))

    async def symbol_rules(self, symbol: str, origin: str = "") -> SymbolRules:
        """exchangeInfo for ONE symbol (w20), shared by this environment's gateways for 10 min."""
        rules = self._shared.get(("rules", symbol), RULES_TTL)
        if rules is not None:
            return rules
        from wizard.exchange.order_messages import invalid_symbol
        from wizard.exchange.orders import PlanError, SymbolRules

        problem = None
        try:
            info = await self.public("exchangeInfo", {"symbol": symbol})
        except ExchangeError as err:
            problem = err.problem
        if problem is not None:
            if problem.code == -1121:  # "Invalid symbol.": say which, and from where
                problem = invalid_symbol(symbol, origin)
            raise ExchangeError(problem) from None
        try:
            rules = SymbolRules.from_exchange_info(info, symbol)
        except PlanError:
            problem = invalid_symbol(symbol, origin, code=None, status=None)
        else:
            self._shared.put(("rules", symbol), rules)
            return rules
        raise ExchangeError(problem) from None

    async def avg_price(self, symbol: str) -> Decimal:
        """``GET /api/v3/avgPrice`` (w2): the 5-minute average, shared for 2 minutes (0 if missing)."""
        from wizard.exchange.market import average_price

        return (await average_price(self, symbol))[0]

    async def market_price(self, symbol: str) -> MarketPrice:
        """What the band filters measure against: referencePrice (w2), else avgPrice (w2)."""
        from wizard.exchange.market import market_price

        return await market_price(self, symbol)

    @property
    def shared(self) -> SharedCache:
        """Facts shared by every gateway of this environment (never credentials)."""
        return self._shared

    def forget_market(self, symbol: str) -> None:
        """Drop the shared rules and prices of ``symbol`` (an order just failed a filter)."""
        from wizard.exchange.market import forget

        self._shared.drop(("rules", symbol))
        forget(self, symbol)

    async def _optional_sapi_read(self, path: str) -> Any:
        """A nice-to-have read: None if this server doesn't offer it."""
        problem = None
        try:
            return await self.signed("get", path, sapi=True)
        except ExchangeError as err:
            problem = err.problem
        if problem.kind in (ProblemKind.NOT_FOUND, ProblemKind.UNKNOWN):
            return None
        raise ExchangeError(problem) from None


def _api_request(method: str, path: str, signed: bool, params: dict[str, Any]) -> Any:
    def request(c: Any) -> Any:
        if not params and not signed:  # python-binance signs into data; unsigned needs none
            return c._request_api(method, path, False)
        return c._request_api(method, path, signed, data=dict(params))

    return request


def _parsed(parser: Any, data: Any, what: str) -> Any:
    try:
        return parser(data)
    except UnexpectedAnswer:
        pass
    raise ExchangeError(unexpected_answer(what)) from None
