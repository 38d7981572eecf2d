"""Step 4: is the key restricted to trusted IPs, and can this machine still use it?"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.widgets import Button, Static

from wizard.exchange.model import Problem
from wizard.messages import ExchangeFailed, PermissionsRead
from wizard.screens.base import StepScreen
from wizard.screens.checks import findings_text, format_when, read_key
from wizard.widgets.status import Busy, ProblemBox

IP_FINDINGS = ("ip_unrestricted", "ip_restriction_required", "trading_expires_soon", "ip_not_allowed")
# Said by this screen in its own words (with the label filled in): not repeated from the verdict.
SAID_HERE = ("ip_list_unproven", "ip_unrestricted")


class IpScreen(StepScreen):
    """IP allowlist state, the IPs to add, the 30-day trading expiry, and a fresh signed call."""

    STEP = "ip"
    HEADING = "4 · Restrict the key to trusted IPs"
    BINDINGS = [Binding("r", "recheck", "Re-check")]
    KEY_BUTTONS = {**StepScreen.KEY_BUTTONS, "r": "#recheck"}

    def __init__(self) -> None:
        super().__init__()
        self._problem: Problem | None = None
        self._signed_ok_at: str = ""

    def compose_body(self) -> ComposeResult:
        yield Static(id="ip-state")
        yield Static(id="egress")
        yield Button("Copy these IPs", id="copy-ips", compact=True)
        yield Static(id="expiry")
        yield Busy(id="busy")
        yield ProblemBox(id="problem")
        yield Static(id="machine")
        yield Static(id="ip-findings")
        with Horizontal(classes="actions"):
            yield Button("Re-check (r)", id="recheck", compact=True)

    def setup(self) -> None:
        profile = self.session.profile
        ips = list(getattr(profile, "egress_ips", ()) or ())
        self.query_one("#copy-ips").display = bool(ips)
        if ips:
            from wizard.parsing import format_ip

            listed = "\n".join(f"  {format_ip(net)}" for net in ips)
            self.query_one("#egress", Static).update(
                f"{escape(profile.product)} connects from these addresses. In Binance: API Management → "
                f"Edit restrictions → [b]Restrict access to trusted IPs only[/b], and add:\n{listed}")
        else:
            self.query_one("#egress", Static).update(
                "If the tool runs on a server with a fixed public IP, add that IP in Binance: API "
                "Management → Edit restrictions → [b]Restrict access to trusted IPs only[/b]. Include "
                "this machine's public IP too if you want to keep using the key from here.")
        self.action_recheck()

    # -- reading -------------------------------------------------------------------------
    def action_recheck(self) -> None:
        """Make a fresh signed call and re-judge the key (after editing its IPs in Binance)."""
        self._problem = None
        self._signed_ok_at = ""
        self.session.verdict = None
        self.query_one(ProblemBox).clear()
        self.query_one(Busy).start("Making a signed call with the key from this machine…")
        self.query_one("#recheck", Button).disabled = True
        self._show()
        self.check_key()

    @work(exclusive=True, group="ip")
    async def check_key(self) -> None:
        """validate_key again: it proves a signed call from here works and re-reads ipRestrict."""
        await read_key(self, facts=False)

    @on(Button.Pressed, "#recheck")
    def _recheck_pressed(self) -> None:
        self.action_recheck()

    @on(Button.Pressed, "#copy-ips")
    def _copy_ips(self) -> None:
        from wizard.parsing import format_ip

        ips = getattr(self.session.profile, "egress_ips", ()) or ()
        self.app.copy_to_clipboard("\n".join(format_ip(net) for net in ips))
        self.notify("IP addresses copied (they are not secret).")

    def on_permissions_read(self, message: PermissionsRead) -> None:
        check = message.check
        self.query_one(Busy).stop()
        self.query_one("#recheck", Button).disabled = False
        self._problem = check.problem
        if check.problem is None:
            self.session.permissions = check.permissions
            self.session.verdict = check.verdict
            self._signed_ok_at = format_when(message.at)
        else:
            self._show_problem(check.problem)
        self._show()

    def on_exchange_failed(self, message: ExchangeFailed) -> None:
        self.query_one(Busy).stop()
        self.query_one("#recheck", Button).disabled = False
        self._problem = message.problem
        self._show_problem(message.problem)
        self._show()

    def _show_problem(self, problem: Problem) -> None:
        code = f" (Binance code {problem.code})" if problem.code is not None else ""
        self.query_one(ProblemBox).show_problem(f"This machine could not use the key{code}",
                                                problem.message, problem.fix)

    # -- showing -------------------------------------------------------------------------
    def _show(self) -> None:
        session = self.session
        perms = session.permissions
        state = self.query_one("#ip-state", Static)
        restricted = perms.ip_restricted if perms else None
        if restricted is True:
            state.update(self._restricted_text())
        elif restricted is False:
            state.update("[$warning b]! Not IP-restricted:[/] a leaked key and secret work from anywhere in "
                         "the world.")
        else:
            state.update("[$warning b]? IP restriction not confirmed[/] (this environment cannot report it).")
        expiry = self.query_one("#expiry", Static)
        expires = perms.trading_expires_at if perms else None
        expiry.display = session.purpose == "spot" and restricted is False
        if expiry.display:
            when = format_when(expires) if expires else "30 days after trading was enabled"
            expiry.update("Binance switches off [b]Enable Spot & Margin Trading[/b] on keys without an IP "
                          f"allowlist 30 days after it was enabled. This key's trading ends on [b]{when}[/b] "
                          "unless you restrict it to trusted IPs.")
        machine = self.query_one("#machine", Static)
        if self._signed_ok_at:
            on_list = " — so this machine's IP is on the key's list" if restricted else ""
            machine.update(f"[$success]✓ This machine can use the key:[/] a signed call succeeded "
                           f"({self._signed_ok_at}){on_list}.")
        elif self._problem is not None:
            machine.update("[$error b]✗ Not verified:[/] this machine's signed call failed.")
        else:
            machine.update("")
        verdict = session.verdict
        # The IP findings, and anything else that blocks (a setting changed since step 3).
        relevant = [f for f in verdict.findings
                    if (f.id in IP_FINDINGS or f.severity == "block") and f.id not in SAID_HERE] if verdict else []
        if expiry.display:  # the paragraph above already gives the date
            relevant = [f for f in relevant if f.id != "trading_expires_soon" or f.severity != "info"]
        self.query_one("#ip-findings", Static).update(findings_text(relevant))
        self.refresh_state()

    def _restricted_text(self) -> str:
        """What Binance proved (the key has an IP list) and what it cannot (which IPs are on it)."""
        session = self.session
        ips = getattr(session.profile, "egress_ips", ()) or ()
        check = f"binance-key-wizard check {escape(session.label)}"
        if ips:
            product = escape(session.profile.product)  # type: ignore[union-attr]
            return ("[$success b]✓ IP-restricted:[/] Binance confirms this key has a trusted-IP list.\n"
                    f"[$warning b]! Not proven:[/] that {product}'s addresses above are on it — Binance never "
                    f"says which IPs a key allows. Prove it from the bot's server: run [b]{check}[/b] "
                    "there once the key is stored; it must say ok.")
        return ("[$success b]✓ IP-restricted:[/] Binance confirms this key works only from the IPs on its "
                "trusted-IP list (Binance does not say which they are). To prove your bot's server is on "
                f"it, run [b]{check}[/b] there once the key is stored.")

    def can_go_next(self) -> tuple[bool, str]:
        verdict = self.session.verdict
        if self.query_one(Busy).active:
            return False, "Checking from this machine…"
        if self._problem is not None or not self._signed_ok_at:
            return False, "Not verified: this machine must make a signed call with the key first."
        if verdict is None:
            return False, "Not verified yet."
        if verdict.blocked:
            return False, "Blocked: see the fix above, then Re-check."
        return True, ""
