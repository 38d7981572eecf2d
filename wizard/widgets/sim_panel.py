"""Demo mode's stand-in for Binance's API Management page, backed by the simulator.

The user plays Binance's part: creates a key with the boxes they would tick
(dangerous ones included, so step 3's block can be seen), edits them later,
restricts IPs or deletes the key. Only simulated credentials pass through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Static

from wizard.exchange.model import CREATABLE_PERMISSIONS
from wizard.widgets.steady_input import SteadyInput

# KeyPermissions attribute -> Binance's apiRestrictions field (what the sim edits).
SIM_FIELDS: dict[str, str] = CREATABLE_PERMISSIONS


def find_sim_key(sim: Any, api_key: str) -> Any | None:
    """The simulator's key with this API key, if it has one."""
    if sim is None or not api_key:
        return None
    try:
        return sim.key(api_key)
    except KeyError:
        return None


class SimApiPanel(Vertical):
    """Create, edit and delete keys on the simulated exchange."""

    @dataclass
    class KeyIssued(Message):
        """The simulator created a key; the session holds it now."""

        api_key: str
        secret: Any  # wizard.secret.Secret for HMAC keys, None for self-generated Ed25519

    @dataclass
    class KeyEdited(Message):
        """The key's simulated restrictions changed (or it was deleted)."""

        what: str

    DEFAULT_CSS = """
    SimApiPanel {
        height: auto;
        border: round $accent;
        border-title-color: $accent;
        padding: 0 1;
        margin: 1 0;
    }
    SimApiPanel Grid { grid-size: 1; height: auto; }
    SimApiPanel Checkbox { width: 1fr; }
    SimApiPanel .danger { color: $error; }
    SimApiPanel Horizontal { height: auto; }
    SimApiPanel Button { margin-right: 1; }
    SimApiPanel #sim-ips { width: 1fr; }
    SimApiPanel #sim-restrict { width: auto; margin-right: 1; }
    SimApiPanel #sim-status { color: $text-muted; }
    """

    def __init__(self, labels: dict[str, str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._labels = labels
        self.border_title = "Simulated API Management (demo)"
        self._shown_status: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("You play Binance here: create the key with the boxes you would tick. Tick a "
                     "dangerous one (in red) to see step 3 refuse the key.")
        with Grid():
            for attr in SIM_FIELDS:
                box = Checkbox(self._labels.get(attr, attr), id=f"sim-{attr}", compact=True)
                if attr not in ("reading", "spot_trading"):
                    box.add_class("danger")
                yield box
        with Horizontal():
            yield Checkbox("Restrict to trusted IPs:", id="sim-restrict", compact=True)
            yield SteadyInput("127.0.0.1", id="sim-ips", compact=True)
        with Horizontal():
            yield Button("Create key", id="sim-create", compact=True, variant="primary")
            yield Button("Apply changes", id="sim-apply", compact=True)
            yield Button("Delete key", id="sim-delete", compact=True, variant="error")
        yield Static("", id="sim-status")

    # -- the app's state ----------------------------------------------------------------
    @property
    def _wizard(self) -> Any:
        return self.app

    def sync(self, intended: dict[str, bool]) -> None:
        """Show the current simulated key's settings, or ``intended`` for a new one."""
        key = find_sim_key(self._wizard.services.sim, self._wizard.session.api_key)
        for attr in SIM_FIELDS:
            value = bool(key.restrictions.get(SIM_FIELDS[attr])) if key else intended.get(attr, False)
            self.query_one(f"#sim-{attr}", Checkbox).value = value
        if key is not None:
            self.query_one("#sim-restrict", Checkbox).value = key.ip_restricted
            if key.ip_allowlist:
                self.query_one("#sim-ips", Input).value = ", ".join(key.ip_allowlist)
        self.query_one("#sim-apply", Button).disabled = key is None
        self.query_one("#sim-delete", Button).disabled = key is None
        status = (f"Simulated key {key.api_key[:8]}… ({'deleted' if key.deleted else 'active'})"
                  if key else "No simulated key yet.")
        if status != self._shown_status:  # Static.update lays the screen out again: only on change
            self._shown_status = status
            self.query_one("#sim-status", Static).update(escape(status))

    def _ticked(self) -> dict[str, bool]:
        return {attr: self.query_one(f"#sim-{attr}", Checkbox).value for attr in SIM_FIELDS}

    def _allowlist(self) -> list[str] | None:
        """The IPs to restrict to ([] when unrestricted), or None after showing an error."""
        if not self.query_one("#sim-restrict", Checkbox).value:
            return []
        from wizard.parsing import InputError, format_ip, parse_ip_list

        try:
            networks = parse_ip_list(self.query_one("#sim-ips", Input).value, allow_private=True)
        except InputError as exc:
            self._say(str(exc))
            return None
        if not networks:
            self._say("List at least one IP to restrict to (this computer is 127.0.0.1 to the simulator).")
            return None
        return [format_ip(net) for net in networks]

    def _say(self, text: str) -> None:
        self._shown_status = text
        self.query_one("#sim-status", Static).update(escape(text))

    # -- actions --------------------------------------------------------------------------
    @on(Button.Pressed, "#sim-create")
    def create(self) -> None:
        """Create a key on the simulator with the ticked permissions."""
        session = self._wizard.session
        allowlist = self._allowlist()
        if allowlist is None:
            return
        if not session.label.strip():
            self._say("Enter a label above first.")
            return
        if session.key_type == "ed25519" and not session.public_key_pem:
            self._say("Generate the Ed25519 key pair, or load your key file, above first: its public key "
                      "is what you register.")
            return
        try:
            key = self._wizard.services.sim.create_key(
                label=session.label.strip(), ip_allowlist=allowlist, key_type=session.key_type,
                public_key_pem=session.public_key_pem if session.key_type == "ed25519" else None,
                **self._ticked())
        except ValueError as exc:  # Binance's own rules, e.g. withdrawals need an IP allowlist
            self._say(f"The simulated Binance refused: {exc}.")
            return
        from wizard.secret import Secret

        secret = Secret(key.secret) if key.key_type == "hmac" and key.secret else None
        self.post_message(self.KeyIssued(key.api_key, secret))

    @on(Button.Pressed, "#sim-apply")
    def apply(self) -> None:
        """Edit the existing simulated key's restrictions."""
        sim, api_key = self._wizard.services.sim, self._wizard.session.api_key
        allowlist = self._allowlist()
        if allowlist is None or find_sim_key(sim, api_key) is None:
            return
        try:
            if allowlist:  # restrict first: Binance allows withdrawals only on restricted keys
                sim.set_ip_allowlist(api_key, allowlist)
            for attr, value in self._ticked().items():
                sim.set_permission(api_key, SIM_FIELDS[attr], value)
            if not allowlist:
                sim.set_ip_allowlist(api_key, [])
        except ValueError as exc:
            self._say(f"The simulated Binance refused: {exc}.")
            return
        self.post_message(self.KeyEdited("changed"))

    @on(Button.Pressed, "#sim-delete")
    def delete(self) -> None:
        """Delete the simulated key (what a user does in Binance when retiring a key)."""
        sim, api_key = self._wizard.services.sim, self._wizard.session.api_key
        if find_sim_key(sim, api_key) is not None:
            sim.delete_key(api_key)
            self.post_message(self.KeyEdited("deleted"))
