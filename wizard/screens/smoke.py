"""Step 6: a small test with the stored copy of the key.

Read-only: a balance read works and a trade attempt is refused. Spot: a test
order is accepted; then, only after explicit confirmation, one visible
post-only order that cannot fill is placed, seen, cancelled and seen gone.
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.widgets import Button, DataTable, Static

from wizard.exchange.model import ExchangeError, OrderProbe, Problem, ProblemKind
from wizard.exchange.orders import PlannedOrder
from wizard.exchange.symbols import TestSymbol, choose_test_symbol
from wizard.messages import BalancesRead, ExchangeFailed, OrderProbed, TestOrderPlaced, TestOrderRefused
from wizard.screens.base import StepScreen
from wizard.screens.dialogs import ConfirmDialog
from wizard.widgets.status import Busy, ProblemBox

REFUSALS = (ProblemKind.PERMISSION_MISSING, ProblemKind.KEY_REJECTED)


def probe_lines(probe: OrderProbe) -> list[str]:
    """What happened to the visible order, step by step."""
    def mark(ok: bool) -> str:
        return "[$success]✓[/]" if ok else "[$error]✗[/]"

    cancelled = f"{mark(probe.cancelled)} Cancelled"
    if probe.filled:
        cancelled = (f"{mark(False)} The market reached the order before the cancel: it is "
                     f"{escape(probe.final_status)}, {probe.filled_quantity.normalize():f} "
                     f"{escape(probe.symbol)} bought")
    elif not probe.cancelled:
        cancelled += f" — Binance reports the order as {escape(probe.final_status)}"
    return [
        f"{mark(True)} Placed order {probe.order_id}: LIMIT_MAKER BUY {probe.quantity} {escape(probe.symbol)} "
        f"at {probe.price} (far below the market: post-only can't fill when placed)",
        f"{mark(probe.seen_open)} Seen in open orders",
        cancelled,
        f"{mark(probe.seen_gone)} Seen gone from open orders",
    ]


class SmokeTestScreen(StepScreen):
    """Prove the stored key does what it should, and nothing more."""

    STEP = "test"
    HEADING = "6 · A small test with the stored key"
    BINDINGS = [Binding("r", "run_test", "Run again")]
    KEY_BUTTONS = {**StepScreen.KEY_BUTTONS, "r": "#rerun"}

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[str] = []
        self._probe_done = False
        self._planned: PlannedOrder | None = None  # the accepted test order: its value
        self._choice: TestSymbol | None = None  # the test market, and why

    @property
    def symbol(self) -> str:
        """The market the test order uses (chosen once the balances are read)."""
        if self._choice is not None:
            return self._choice.symbol
        return getattr(self.session.profile, "test_symbol", None) or "BTCUSDT"

    @property
    def _origin(self) -> str:
        return self._choice.origin if self._choice is not None else ""

    @property
    def probe_required(self) -> bool:
        """A profile may insist on the visible order."""
        return getattr(self.session.profile, "test_action", None) == "place_cancel"

    def compose_body(self) -> ComposeResult:
        yield Static(id="smoke-intro")
        yield Busy(id="busy")
        yield ProblemBox(id="problem")
        yield DataTable(id="balances", show_cursor=False, zebra_stripes=True)
        yield Static(id="results")
        with Horizontal(classes="actions"):
            yield Button("Run the test again (r)", id="rerun", compact=True)
            yield Button("Place a visible test order…", id="probe", compact=True, variant="warning")

    def setup(self) -> None:
        spot = self.session.purpose == "spot"
        intro = ("Using the copy stored in the keyring: read the balances, then send a test order "
                 "that the exchange checks but never executes, on a market paid in an asset you "
                 "hold (or the profile's \\[test] symbol)."
                 if spot else
                 "Using the copy stored in the keyring: read the balances, then try a test order, "
                 "which the exchange must refuse — proof this key cannot trade.")
        self.query_one("#smoke-intro", Static).update(intro)
        table = self.query_one(DataTable)
        # Text, not str: DataTable reads a str as Rich markup, whose emoji codes (~0.8 MiB) load
        # on first use; and exchange text (an asset name) is never markup.
        table.add_columns(Text("Asset"), Text("Free"), Text("Locked"))
        table.display = False
        self.query_one("#probe").display = False
        self.action_run_test()

    # -- the automatic part -----------------------------------------------------------------
    def action_run_test(self) -> None:
        """Balance read and test order, again."""
        if self.query_one(Busy).active:
            return
        self.session.test_passed = False
        self._lines = []
        self._probe_done = False
        self.query_one(ProblemBox).clear()
        self.query_one(Busy).start("Loading the key from the keyring and reading balances…")
        self._show()
        self.run_test()

    @on(Button.Pressed, "#rerun")
    def _rerun(self) -> None:
        self.action_run_test()

    async def _stored_gateway(self):  # noqa: ANN202 - a Gateway
        stored = await self.wizard.vault().aload(self.session.label)
        return self.wizard.gateway(stored.key_material())

    @work(exclusive=True, group="smoke")
    async def run_test(self) -> None:
        """Balances, then the test order (its refusal is a result, not a failure)."""
        doing = "loading the key from the keyring"
        try:
            async with await self.bounded(self._stored_gateway()) as gateway:
                doing = "reading balances"
                balances = await self.bounded(gateway.balances())
                self._choice = choose_test_symbol(
                    balances, getattr(self.session.profile, "test_symbol", None))
                self.post_message(BalancesRead(balances))
                doing = "sending a test order"
                if self.session.purpose == "read":
                    # One order/test (w1), no exchangeInfo/avgPrice: the refusal is the proof.
                    refusal = await self.bounded(gateway.trade_refusal_probe(
                        self.symbol, origin=self._origin))
                    self.post_message(TestOrderRefused(refusal.problem) if refusal.refused
                                      else TestOrderPlaced())
                    return
                try:
                    order = await self.bounded(gateway.test_order(self.symbol, origin=self._origin))
                except ExchangeError as exc:
                    self.post_message(TestOrderRefused(exc.problem))
                else:
                    self.post_message(TestOrderPlaced(order))
        except Exception as exc:  # noqa: BLE001 - shown with Retry
            self.post_message(ExchangeFailed(self._problem(exc, doing), "test"))

    def _problem(self, exc: BaseException, doing: str) -> Problem:
        from wizard.vault import VaultError

        if isinstance(exc, VaultError):
            return Problem(ProblemKind.UNKNOWN, exc.problem.message, exc.problem.fix)
        return self.problem(exc, doing)

    def on_balances_read(self, message: BalancesRead) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for balance in message.balances:
            table.add_row(Text(balance.asset), Text(f"{balance.free.normalize():f}"),
                          Text(f"{balance.locked.normalize():f}"))
        table.display = bool(message.balances)
        count = len(message.balances)
        self._lines.append(f"[$success]✓[/] Balances read with the stored key ({count} asset(s) with a balance).")
        if self._choice is not None and self.session.purpose == "spot":
            self._lines.append(f"  Test market: {escape(self._choice.reason)}")
        self.query_one(Busy).start("Sending a test order…")
        self._show()

    def on_test_order_placed(self, message: TestOrderPlaced) -> None:
        self.query_one(Busy).stop()
        self._planned = message.order
        if self.session.purpose == "spot":
            self._lines.append(f"[$success]✓[/] Test order for {escape(self.symbol)} accepted (test orders "
                               "are checked by the exchange but never executed).")
            self.session.test_passed = True
        elif self.session.permissions is not None and self.session.permissions.spot_trading is False:
            self._lines.append(
                "[$success]✓[/] The exchange accepted a test order. Test orders never trade, and Binance "
                "does not document that they check the trading permission; the key's settings "
                "(apiRestrictions) already show trading off, so it cannot place real orders.")
            self.session.test_passed = True
        else:
            self._lines.append("[$error]✗[/] The exchange accepted a test order, and the key's settings "
                               "could not confirm trading is off. Untick Enable Spot & Margin Trading.")
        self._finish()

    def on_test_order_refused(self, message: TestOrderRefused) -> None:
        self.query_one(Busy).stop()
        problem = message.problem
        code = f" (code {problem.code})" if problem.code is not None else ""
        if self.session.purpose == "read" and problem.kind in REFUSALS:
            self._lines.append(f"[$success]✓[/] A trade attempt was refused by the exchange{code}: "
                               "this key cannot trade.")
            self.session.test_passed = True
        else:
            self.query_one(ProblemBox).show_problem(f"The test order was refused{code}", problem.message,
                                                    problem.fix)
            self._lines.append("[$error]✗[/] The test order was refused.")
        self._finish()

    def on_exchange_failed(self, message: ExchangeFailed) -> None:
        self.query_one(Busy).stop()
        problem = message.problem
        code = f" (Binance code {problem.code})" if problem.code is not None else ""
        if message.stage == "probe":
            self.query_one(ProblemBox).show_problem(f"The visible order did not go through{code}",
                                                    problem.message, problem.fix)
            self.query_one("#probe", Button).disabled = False
        else:
            self.query_one(ProblemBox).show_problem(f"Not verified{code}", problem.message, problem.fix)
            self._lines.append("[$error]✗[/] Not verified: press Run the test again once it is fixed.")
        self._finish()

    def _finish(self) -> None:
        self.session.test_summary = [line for line in self._lines]
        self._show()

    # -- the visible order (spot only, after confirmation) -----------------------------------
    @on(Button.Pressed, "#probe")
    def _ask_probe(self) -> None:
        question = (f"Place a post-only LIMIT_MAKER BUY of {self.symbol} for the smallest amount the "
                    f"exchange allows ({self._order_value()}), priced far below the market, then cancel "
                    "it at once? It shows briefly in your open orders. Post-only means it can't fill "
                    "when placed; while it rests it is an ordinary bid, and would buy only if the "
                    "market fell to it before the cancel.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.query_one(Busy).start("Placing, checking and cancelling the order…")
                self.query_one("#probe", Button).disabled = True
                self.place_probe()

        self.app.push_screen(ConfirmDialog("Place a visible test order?", question, yes="Place and cancel",
                                           no="Not now"), answered)

    def _order_value(self) -> str:
        """"about 0.00017 BTC"-style: the tested order's value in its quote asset."""
        order = self._planned
        if order is None or not order.quote_asset:
            return "the symbol's minimum order value"
        value = order.notional.quantize(Decimal("0.01")) if order.notional >= 1 else order.notional
        return f"about {value.normalize():f} {escape(order.quote_asset)}"

    @work(exclusive=True, group="smoke")
    async def place_probe(self) -> None:
        """place_and_cancel_probe with the stored key."""
        try:
            async with await self.bounded(self._stored_gateway()) as gateway:
                probe = await self.bounded(gateway.place_and_cancel_probe(
                    self.symbol, origin=self._origin))
        except Exception as exc:  # noqa: BLE001 - shown with Retry
            self.post_message(ExchangeFailed(self._problem(exc, "placing the visible order"), "probe"))
            return
        self.post_message(OrderProbed(probe))

    def on_order_probed(self, message: OrderProbed) -> None:
        self.query_one(Busy).stop()
        probe = message.probe
        self._lines.extend(probe_lines(probe))
        self._probe_done = probe.seen_open and probe.cancelled and probe.seen_gone
        if probe.filled:
            self.query_one(ProblemBox).show_problem(
                "The test order traded", f"Order {probe.order_id} is {probe.final_status}: "
                f"{probe.filled_quantity.normalize():f} {probe.symbol} was bought at {probe.price} "
                "before the cancel reached it.",
                "Nothing is wrong with the key. Look at the order in Binance → Orders → Order "
                "History; sell what was bought if you don't want it.", warning=True)
        elif not probe.seen_gone:
            self.query_one(ProblemBox).show_problem(
                "The order may still be open", f"Order {probe.order_id} was not seen gone.",
                f"Open Binance → Orders → Open Orders and cancel order {probe.order_id}.", warning=True)
        self._finish()

    # -- showing ------------------------------------------------------------------------------
    def _show(self) -> None:
        self.query_one("#results", Static).update("\n".join(self._lines))
        spot = self.session.purpose == "spot"
        probe = self.query_one("#probe", Button)
        probe.display = spot and self.session.test_passed and not self._probe_done
        probe.disabled = self.query_one(Busy).active
        self.refresh_state()

    def can_go_next(self) -> tuple[bool, str]:
        if self.query_one(Busy).active:
            return False, "Testing…"
        if not self.session.test_passed:
            return False, "The test must pass to go on."
        if self.probe_required and not self._probe_done:
            return False, "The profile asks for the visible test order."
        return True, ""
