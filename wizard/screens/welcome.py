"""Step 0: what the wizard does, where it connects, what the user needs, and the promise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import Static

from wizard.screens.base import StepScreen
from wizard.widgets.status import Busy

if TYPE_CHECKING:
    from wizard.exchange.environment import Environment

ENV_NOTES = {
    "live": "Binance.com, with your real funds.",
    "testnet": ("Binance Spot Testnet: test funds only. The testnet cannot report a key's permissions, "
                "so the wizard can only probe them."),
    "demo": ("Binance demo trading: demo funds only. Demo trading cannot report a key's permissions, "
             "so the wizard can only probe them."),
    "custom": "A Binance-compatible server you named with --base-url.",
    "sim": ("The built-in simulated exchange on this computer. Rehearse every step with pretend keys "
            "and funds: no Binance account is needed and nothing real changes."),
}


NEEDS = ("• A browser logged in to your Binance account, and your 2FA device\n"
         "• About ten minutes\n"
         "• If the tool runs on a server: that server's public IP address(es)")
# The rehearsal needs no Binance account: the simulator plays API Management in step 2.
DEMO_NEEDS = ("• Only this terminal: step 2 has a simulated API Management to create pretend keys in\n"
              "• About five minutes\n"
              "• A working OS keyring, where the demo key is stored (checked now)")
KEYRING_CHECK_DELAY = 0.3  # after the first frame: the keyring module loads only then
DEMO_KEYRING_FIX = ("Run the demo with [b]bash wizard/demo.sh[/b]: on a machine without a keyring it "
                    "starts a private GNOME Keyring for the demo (installing gnome-keyring and dbus if "
                    "needed). On a desktop, unlock or start your keyring, then run the demo again.")


def environment_text(env: Environment) -> str:
    """One paragraph naming the environment and its address."""
    address = env.base_url or env.api_url.removesuffix("/api")
    return f"[b]{escape(env.title)}[/b] — {escape(address)}\n{escape(ENV_NOTES.get(env.name, ''))}"


class WelcomeScreen(StepScreen):
    """What this does, where it connects, what you need, and the promise: withdrawals stay off."""

    # Enter on the first screen starts the wizard, as a newcomer expects.
    BINDINGS = [Binding("enter", "next", "Start", show=False)]

    # Start has the focus, as on any first page.
    AUTO_FOCUS = "#next"

    STEP = "welcome"
    HEADING = "Set up a safe Binance API key"
    NEXT_LABEL = "Start →"

    def compose_body(self) -> ComposeResult:
        yield Static(id="intro")
        yield Static("Where this connects", classes="section")
        yield Static(id="env")
        yield Busy(id="sim-busy")
        yield Static("What you will need", classes="section")
        yield Static(DEMO_NEEDS if self.session.env.name == "sim" else NEEDS, id="needs")
        yield Static(id="keyring-warning", classes="error")
        yield Static("The promise", classes="section")
        yield Static(
            "[b]Withdrawals stay off.[/b] The wizard never stores a key that can withdraw or transfer "
            "funds, and the secret goes only into your operating system's keyring — never to a file, "
            "the clipboard or the screen.",
            id="promise",
            classes="promise",
        )

    def setup(self) -> None:
        session = self.session
        lines = ["This wizard walks you through creating a Binance API key that can do only what your "
                 "tool needs, checks every setting against the live key, stores the key in the OS "
                 "keyring and proves it works."]
        if session.profile is not None:
            lines.append(f"You are setting up a key for [b]{escape(session.profile.product)}[/b].")
        if session.rotating_label:
            lines.append(f"[b]Rotating {escape(session.rotating_label)}[/b]: you will create a new key; the "
                         "old one stays stored and working until the new one is verified.")
        self.query_one("#intro", Static).update("\n\n".join(lines))
        self.query_one("#keyring-warning").display = False
        if session.env.name == "sim" and session.rotating_label is None:
            # Say now, not at step 5, when the demo has nowhere to store its key.
            self.set_timer(KEYRING_CHECK_DELAY, self.check_keyring)

    @work(exclusive=True, group="welcome-keyring", exit_on_error=False)
    async def check_keyring(self) -> None:
        """The demo's keyring health, read while the user reads this screen."""
        try:
            problem = await self.bounded(self.wizard.vault().acheck_health())
            text = None if problem is None else f"{problem.message} {problem.fix}"
        except Exception as exc:  # noqa: BLE001 - shown, never fatal
            text = self.problem(exc, "checking the keyring").message
        if text is not None:
            warning = self.query_one("#keyring-warning", Static)
            warning.update(f"[b]No usable keyring:[/b] the demo could not store its key at step 5. "
                           f"{escape(text)}\n{DEMO_KEYRING_FIX}")
            warning.display = True

    def refresh_state(self) -> None:
        self.query_one("#env", Static).update(environment_text(self.session.env))
        busy = self.query_one(Busy)
        if self.wizard.sim_ready:
            busy.stop()
        else:
            busy.start("Starting the simulated exchange…")
        super().refresh_state()

    def can_go_next(self) -> tuple[bool, str]:
        if not self.wizard.sim_ready:
            return False, "Waiting for the simulated exchange…"
        return True, ""
