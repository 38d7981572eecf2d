"""Step 1: account preparation — the user's word, and what the API could confirm."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.markup import escape
from textual.widgets import Checkbox, RadioButton, RadioSet, Static

from wizard.exchange.model import AccountFacts
from wizard.screens.base import StepScreen

PURPOSES = {
    "read": "Portfolio tracker or tax history — read-only",
    "spot": "Spot trading bot — read + spot trading",
}

# item -> (the checkbox, why it matters)
ITEMS = {
    "two_factor": ("2FA uses an authenticator app or a hardware key (not only SMS)",
                   "SIM-swap attacks take over phone numbers; an app or a security key cannot be "
                   "redirected."),
    "withdraw_allowlist": ("The withdrawal address allowlist is on (recommended)",
                           "Binance → Security → Address Management. Even a stolen login can then only "
                           "withdraw to your own addresses."),
    "purpose_understood": ("I know which tool will use this key, for the purpose above",
                           "One key per tool: if it leaks, you revoke just that one."),
    "risk_understood": ("I understand \"non-custodial\" is not \"risk-free\"",
                        "A tool holding a trading key can still lose money through bad trades — and so "
                        "can anyone who gets the key."),
}
REQUIRED = ("two_factor", "purpose_understood", "risk_understood")
# How the status line names an unticked required item (short: the line is narrow).
SHORT_NAMES = {"two_factor": "2FA with an app or key", "purpose_understood": "which tool uses the key",
               "risk_understood": "non-custodial is not risk-free"}


def seen_on_account(item: str, facts: AccountFacts | None) -> str | None:
    """What the API showed about a checklist item, or None when it cannot see it."""
    if facts is None:
        return None
    if item == "withdraw_allowlist" and facts.whitelisted_addresses is not None:
        if facts.whitelisted_addresses:
            return f"seen on the account: {facts.whitelisted_addresses} allowlisted withdrawal address(es)"
        total = facts.total_addresses or 0
        return f"seen on the account: none of {total} saved withdrawal address(es) is allowlisted"
    return None


def account_status_text(facts: AccountFacts | None) -> str:
    """A line about the account's status, as the key sees it."""
    if facts is None:
        return "Once a key exists, the wizard shows here what the API can see of the account."
    status = facts.status or "not reported"
    locked = {True: "trading locked", False: "trading not locked", None: "trading lock not reported"}
    return f"Seen on the account: status {escape(status)}, {locked[facts.trading_locked]}."


class ChecklistScreen(StepScreen):
    """Account prep: 2FA, withdrawal allowlist, the key's purpose, the operating model."""

    STEP = "checklist"
    HEADING = "1 · Prepare your account"

    def compose_body(self) -> ComposeResult:
        yield Static("What is the key for?", classes="section")
        with RadioSet(id="purpose", compact=True):
            for purpose, text in PURPOSES.items():
                yield RadioButton(text, id=f"purpose-{purpose}")
        yield Static(id="purpose-note", classes="hint")
        yield Static("Tick what is true (this is your word; the API cannot see 2FA)", classes="section")
        for item, (text, why) in ITEMS.items():
            yield Checkbox(text, id=f"check-{item}", compact=True)
            yield Static(why, classes="why")
            yield Static(id=f"seen-{item}", classes="seen")
        yield Static(id="account-status", classes="hint")

    def setup(self) -> None:
        session = self.session
        self.query_one(f"#purpose-{session.purpose}", RadioButton).value = True
        fixed = session.profile is not None or session.rotating_label is not None
        self.query_one("#purpose", RadioSet).disabled = fixed
        note = ""
        if session.profile is not None:
            note = f"Set by the {escape(session.profile.product)} profile."
        elif session.rotating_label:
            note = "Kept from the key being rotated."
        self.query_one("#purpose-note", Static).update(note)
        self.query_one("#purpose-note").display = bool(note)
        for item in ITEMS:
            self.query_one(f"#check-{item}", Checkbox).value = session.checklist.get(item, False)

    def refresh_state(self) -> None:
        facts = self.session.account
        for item in ITEMS:
            seen = seen_on_account(item, facts)
            widget = self.query_one(f"#seen-{item}", Static)
            widget.update(f"✓ {seen}" if seen else "")
            widget.display = bool(seen)
        self.query_one("#account-status", Static).update(account_status_text(facts))
        super().refresh_state()

    @on(RadioSet.Changed, "#purpose")
    def _purpose_changed(self, event: RadioSet.Changed) -> None:
        chosen = (event.pressed.id or "").removeprefix("purpose-")
        if chosen in PURPOSES and chosen != self.session.purpose:
            self.session.purpose = chosen  # type: ignore[assignment]
            self.session.verdict = None  # a verdict was for the other purpose
        self.refresh_state()

    @on(Checkbox.Changed)
    def _ticked(self, event: Checkbox.Changed) -> None:
        item = (event.checkbox.id or "").removeprefix("check-")
        if item in ITEMS:
            self.session.checklist[item] = event.value
            self.refresh_state()

    def can_go_next(self) -> tuple[bool, str]:
        missing = [item for item in REQUIRED if not self.session.checklist.get(item)]
        if missing:
            names = "; ".join(SHORT_NAMES[item] for item in missing)
            return False, f"Still to tick: {names}."
        return True, ""
