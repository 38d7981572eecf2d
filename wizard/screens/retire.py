"""Rotation's last step: delete the OLD key in Binance, and prove the exchange rejects it.

The wizard polls (and the user can Re-check) until /sapi answers -2008
"Invalid Api-Key ID." for the old key: the only answer that proves deletion.
A -2015 is not proof (a live key gets it from an IP outside its allowlist),
and an unreachable exchange never is. Only with the proof is the rotation
recorded in the registry. Where there is no /sapi (testnet, demo) deletion
can't be proven: the screen says so and lets the user finish unrecorded.
"""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.widgets import Button, Static

from wizard.exchange.model import ProblemKind
from wizard.messages import ExchangeFailed, OldKeyChecked, RotationRecorded
from wizard.screens.base import StepScreen
from wizard.widgets.status import Busy, ProblemBox

POLL_SECONDS = 15.0


class RetireScreen(StepScreen):
    """Ask for the old key's deletion; poll until the exchange rejects it; record the rotation."""

    STEP = "retire"
    HEADING = "Retire the old key"
    NEXT_LABEL = "Finish"
    BINDINGS = [Binding("r", "recheck", "Check now")]
    KEY_BUTTONS = {**StepScreen.KEY_BUTTONS, "r": "#recheck"}

    def __init__(self) -> None:
        super().__init__()
        self._status = ""
        self._unprovable = False  # no /sapi here: deletion can never be proven

    def compose_body(self) -> ComposeResult:
        yield Static(id="retire-intro")
        yield Busy(id="busy")
        yield ProblemBox(id="problem")
        yield Static(id="retire-status")
        with Horizontal(classes="actions"):
            yield Button("Check now (r)", id="recheck", compact=True)
            if self.wizard.is_demo:
                yield Button("Delete the old key in the simulator", id="sim-delete-old", compact=True,
                             variant="error")

    def setup(self) -> None:
        wizard, session = self.wizard, self.session
        old = wizard.old_record
        old_fp = escape(old.fingerprint) if old else "the previous key"
        self.query_one("#retire-intro", Static).update(
            f"The new key is stored under [b]{escape(session.label)}[/b] and works. Now delete the OLD key in "
            f"Binance so nobody can use it: API Management → the key [b]{old_fp}[/b] → [b]Delete[/b].\n"
            f"The wizard checks every {POLL_SECONDS:g} seconds (press r to check now) until Binance rejects "
            "the old key (only 'Invalid Api-Key ID' proves it was deleted). If you stop now, the new "
            "key stays stored; delete the old one yourself.")
        if wizard.old_key is None:
            self._status = ("[$warning]The old key could not be loaded from the keyring, so its deletion "
                            "can't be checked here. Delete it in Binance.[/]")
            self._show()
            return
        self.set_interval(POLL_SECONDS, self._poll)
        self.action_recheck()

    def _poll(self) -> None:
        if not self.wizard.rotation_done and not self.query_one(Busy).active:
            self.action_recheck()

    def action_recheck(self) -> None:
        """Ask the exchange about the old key now."""
        if self.wizard.rotation_done or self.wizard.old_key is None:
            return
        self.query_one(Busy).start("Trying the old key…")
        self.query_one(ProblemBox).clear()
        self.check_old_key()

    @on(Button.Pressed, "#recheck")
    def _recheck(self) -> None:
        self.action_recheck()

    @on(Button.Pressed, "#sim-delete-old")
    def _delete_in_sim(self) -> None:
        old = self.wizard.old_key
        if old is not None and self.wizard.services.sim is not None:
            try:
                self.wizard.services.sim.delete_key(old.api_key)
            except KeyError:
                self.notify("The simulator does not know the old key.", severity="warning")
                return
            self.notify("Old key deleted in the simulator.")
            self.action_recheck()

    @work(exclusive=True, group="retire")
    async def check_old_key(self) -> None:
        """confirm_key_dead with the old key; record the rotation once it is rejected."""
        wizard = self.wizard
        try:
            async with wizard.gateway(wizard.old_key) as gateway:
                dead = await self.bounded(gateway.confirm_key_dead())
        except Exception as exc:  # noqa: BLE001 - unknown is not dead: shown with Retry
            self.post_message(ExchangeFailed(self.problem(exc, "trying the old key"), "retire"))
            return
        self.post_message(OldKeyChecked(dead, wizard.now()))
        if dead is None:
            return
        try:
            await asyncio.to_thread(self._record, dead)
        except Exception as exc:  # noqa: BLE001 - the registry's message is plain already
            self.post_message(ExchangeFailed(self.problem(exc, "recording the rotation"), "record"))
            return
        self.post_message(RotationRecorded(self.session.label))

    def _record(self, dead: object) -> None:
        from wizard.registry import fingerprint

        wizard = self.wizard
        old = wizard.old_record
        new_fp = fingerprint(self.session.api_key)
        old_fp = old.fingerprint if old else fingerprint(wizard.old_key.api_key)  # type: ignore[union-attr]
        wizard.services.registry.record_rotation(self.session.label, old_fp, new_fp, wizard.now())

    def on_old_key_checked(self, message: OldKeyChecked) -> None:
        self.query_one(Busy).stop()
        at = message.at.strftime("%H:%M:%S")
        if message.dead is None:
            self._status = (f"[$warning]! The old key still works[/] (checked {at}). Delete it in Binance; "
                            "the wizard keeps checking.")
        else:
            code = f" (code {message.dead.code})" if message.dead.code is not None else ""
            self._status = (f"[$success]✓ Binance no longer knows the old key{code}: it was "
                            "deleted.[/] Recording…")
        self._show()

    def on_rotation_recorded(self, message: RotationRecorded) -> None:
        self.wizard.rotation_done = True
        self._status = ("[$success]✓ Binance no longer knows the old key: it was deleted.[/]\n"
                        f"[$success]✓ Rotation of {escape(message.label)} recorded.[/]")
        self._show()

    def on_exchange_failed(self, message: ExchangeFailed) -> None:
        self.query_one(Busy).stop()
        problem = message.problem
        title = "Could not record the rotation" if message.stage == "record" else "Not verified"
        if problem.kind is ProblemKind.UNPROVEN and not self.session.env.has_sapi:
            self._unprovable = True
            title = "Can't be proven here"
        self.query_one(ProblemBox).show_problem(title, problem.message, problem.fix)
        self._show()

    def _show(self) -> None:
        self.query_one("#retire-status", Static).update(self._status)
        waiting = not self.wizard.rotation_done and self.wizard.old_key is not None
        self.query_one("#recheck").display = waiting
        for button in self.query("#sim-delete-old"):
            button.display = waiting
        self.refresh_state()

    def can_go_back(self) -> bool:
        return False

    def can_go_next(self) -> tuple[bool, str]:
        if self.wizard.rotation_done or self.wizard.old_key is None or self._unprovable:
            return True, ""
        return False, "Waiting for Binance to reject the old key…"

    def before_next(self) -> bool:
        self.wizard.finish()
        return False
