"""Step 3: read the live key's permissions; block until they are exactly right."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.widgets import Button, Static

from wizard.exchange.model import Problem
from wizard.messages import AccountFactsRead, ExchangeFailed, PermissionsRead
from wizard.screens.base import StepScreen
from wizard.screens.checks import findings_text, format_when, permission_rows, read_key, verdict_summary
from wizard.screens.checklist import account_status_text, seen_on_account
from wizard.widgets.status import Busy, ProblemBox

PURPOSE_TEXT = {"read": "a read-only tool (portfolio tracker, tax history)",
                "spot": "a spot trading bot (read + spot trading)"}


class PermissionsScreen(StepScreen):
    """Intended vs actual permissions, read from the exchange, with the exact fix for each."""

    STEP = "permissions"
    HEADING = "3 · Check the key's permissions"
    BINDINGS = [Binding("r", "recheck", "Re-check")]
    KEY_BUTTONS = {**StepScreen.KEY_BUTTONS, "r": "#recheck"}

    def __init__(self) -> None:
        super().__init__()
        self._problem: Problem | None = None  # the last exchange failure (display state only)
        self._read_at: str = ""

    def compose_body(self) -> ComposeResult:
        yield Static(id="perm-intro")
        yield Busy(id="busy")
        yield ProblemBox(id="problem")
        yield Static(id="verdict")
        yield Static(id="perm-table", classes="table")
        yield Static(id="findings")
        yield Static(id="facts", classes="hint")
        with Horizontal(classes="actions"):
            yield Button("Re-check (r)", id="recheck", compact=True)
            if self.wizard.is_demo:
                yield Button("← Edit the simulated key", id="edit-sim", compact=True)

    def setup(self) -> None:
        session = self.session
        self.query_one("#perm-intro", Static).update(
            f"The wizard reads [b]{escape(session.label)}[/b]'s settings from {escape(session.env.title)} "
            f"and compares them with what {PURPOSE_TEXT[session.purpose]} needs.")
        self.action_recheck()

    # -- reading ---------------------------------------------------------------------------
    def action_recheck(self) -> None:
        """Read the key's permissions again (after changing them in Binance)."""
        self._problem = None
        self.session.verdict = None
        self.query_one(ProblemBox).clear()
        self.query_one(Busy).start("Reading the key's permissions from the exchange…")
        self.query_one("#recheck", Button).disabled = True
        self._render_result()
        self.refresh_state()
        self.check_key()

    @work(exclusive=True, group="permissions")
    async def check_key(self) -> None:
        """validate_key in the background: the UI keeps answering."""
        await read_key(self, facts=True)

    @on(Button.Pressed, "#recheck")
    def _recheck_pressed(self) -> None:
        self.action_recheck()

    @on(Button.Pressed, "#edit-sim")
    def _edit_sim(self) -> None:
        self.action_back()

    def _done(self) -> None:
        self.query_one(Busy).stop()
        self.query_one("#recheck", Button).disabled = False

    def on_permissions_read(self, message: PermissionsRead) -> None:
        check = message.check
        self.session.permissions = check.permissions
        self.session.verdict = check.verdict
        self._problem = check.problem
        self._read_at = format_when(message.at)
        self._done()
        if check.problem is not None:
            self._show_problem(check.problem)
        self._render_result()
        self.refresh_state()

    def on_exchange_failed(self, message: ExchangeFailed) -> None:
        self._problem = message.problem
        self.session.verdict = None
        self._done()
        self._show_problem(message.problem)
        self._render_result()
        self.refresh_state()

    def on_account_facts_read(self, message: AccountFactsRead) -> None:
        self.session.account = message.facts
        self._render_facts()

    def _show_problem(self, problem: Problem) -> None:
        code = f" (Binance code {problem.code})" if problem.code is not None else ""
        self.query_one(ProblemBox).show_problem(f"Not verified{code}", problem.message, problem.fix)
        self.query_one("#recheck", Button).label = "Retry (r)"

    # -- showing -----------------------------------------------------------------------------
    def _render_result(self) -> None:
        from wizard.policy import SETTING_LABELS, intended_permissions

        session = self.session
        perms = session.permissions if self._problem is None else None
        verdict = session.verdict if self._problem is None else None
        verdict_widget = self.query_one("#verdict", Static)
        table = self.query_one("#perm-table", Static)
        findings = self.query_one("#findings", Static)
        if self.query_one(Busy).active or self._problem is not None:
            verdict_widget.update("" if self._problem is None else "[$error b]Not verified.[/] "
                                  "Nothing about this key is assumed until the exchange answers.")
            table.display = findings.display = False
            return
        self.query_one("#recheck", Button).label = "Re-check (r)"
        read = f" [$text-muted](read {self._read_at})[/]" if self._read_at else ""
        verdict_widget.update(verdict_summary(verdict, perms.confirmed if perms else None) + read)
        table.update(permission_rows(intended_permissions(session.purpose, session.profile), perms,
                                     SETTING_LABELS))
        findings.update(findings_text(verdict.findings) if verdict else "")
        table.display = True
        findings.display = bool(verdict and verdict.findings)
        self._render_facts()

    def _render_facts(self) -> None:
        facts = self.session.account
        lines = [account_status_text(facts)] if facts else []
        seen = seen_on_account("withdraw_allowlist", facts)
        if seen:
            lines.append(f"Withdrawal allowlist: {seen}.")
        self.query_one("#facts", Static).update("\n".join(lines))

    def can_go_next(self) -> tuple[bool, str]:
        verdict = self.session.verdict
        if self.query_one(Busy).active:
            return False, "Reading the key…"
        if self._problem is not None:
            return False, "Not verified: fix the problem above, then Retry."
        if verdict is None:
            return False, "Not verified yet."
        if verdict.blocked:
            where = "the simulated API Management (Back)" if self.wizard.is_demo else "Binance"
            return False, f"Blocked: change the ✗ settings in {where}, then Re-check."
        return True, ""
