"""What every step screen shares: the stepper, a scrolling body, Back/Next, workers' errors."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING, ClassVar, TypeVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Static

from wizard.widgets.key_bar import KeyBar
from wizard.widgets.nav_button import NavButton
from wizard.widgets.stepper import Stepper

if TYPE_CHECKING:
    from wizard.app import WizardApp
    from wizard.exchange.model import Problem
    from wizard.session import WizardSession

T = TypeVar("T")


def problem_from(exc: BaseException, doing: str, timeout: float) -> Problem:
    """A plain-language :class:`Problem` for any failure inside a worker.

    Only the exception's type is named for unexpected errors: its message
    could, in principle, quote input.
    """
    from wizard.exchange.model import ExchangeError, Problem, ProblemKind  # not needed for the first frame

    if isinstance(exc, ExchangeError):
        return exc.problem
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return Problem(ProblemKind.TIMEOUT, f"No answer within {timeout:g} seconds while {doing}.",
                       "Check your internet connection, then press Retry.")
    return Problem(ProblemKind.UNKNOWN, f"Something unexpected went wrong while {doing} "
                   f"({type(exc).__name__}).", "Press Retry. If it happens again, please report it.")


class StepScreen(Screen[None]):
    """One wizard step: subclasses add ``compose_body`` and the ``can_go_next`` rule."""

    STEP: ClassVar[str] = ""
    HEADING: ClassVar[str] = ""
    NEXT_LABEL: ClassVar[str] = "Next →"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+n", "next", "Next"),
    ]
    # Keys that press a button: the key bar shows them only while the button works, and
    # in the button's own words ("Finish", "Store the key"), so the two never disagree.
    KEY_BUTTONS: ClassVar[dict[str, str]] = {"escape": "#back", "ctrl+n": "#next"}

    @property
    def wizard(self) -> WizardApp:
        """The running wizard app."""
        return cast("WizardApp", self.app)

    @property
    def session(self) -> WizardSession:
        """The app's one session (screens keep no copies)."""
        return self.wizard.session

    def compose(self) -> ComposeResult:
        wizard = self.wizard
        yield Stepper(wizard.step_titles, wizard.step_index(self.STEP))
        with VerticalScroll(id="body"):
            yield Static(self.HEADING, classes="heading")
            yield from self.compose_body()
        yield from self._controls()

    def _controls(self) -> list[Widget]:
        """Back/Next and the key bar, in the first frame with the step's text.

        Both are kept light because they are in the first frame: NavButton parses only the
        styles of its two variants (Button's full stylesheet took ~20 ms), and KeyBar is one
        widget where Footer made one per key and drew them a refresh later (~50 ms of CPU).
        Mounted just after the first frame instead, they cost a second layout and render
        of the whole screen (~35 ms more until the screen was complete)."""
        nav = Horizontal(
            NavButton("← Back", id="back"),
            Static("", id="nav-status"),
            NavButton(self.NEXT_LABEL, id="next", variant="primary"),
            id="nav",
        )
        return [nav, KeyBar()]

    def compose_body(self) -> ComposeResult:
        """The step's own widgets."""
        yield from ()

    def on_mount(self) -> None:
        self.setup()
        self.refresh_state()

    def setup(self) -> None:
        """Fill the widgets from the session and start any checks (subclasses; not on_mount,
        which Textual would call for every class in the MRO)."""

    # -- rules subclasses override ----------------------------------------------------
    def can_go_back(self) -> bool:
        """Back is possible until the key is stored (the secret is gone from memory then),
        and never while the keyring is being written (leaving would cancel it halfway)."""
        return (self.wizard.step_index(self.STEP) > 0 and not self.session.stored
                and not self.wizard.storing)

    def can_go_next(self) -> tuple[bool, str]:
        """(allowed, why not) for moving on."""
        return True, ""

    def before_next(self) -> bool:
        """Last checks when Next is pressed; False stays on the screen."""
        return True

    _nav_seen: tuple[bool, bool, str] | None = None

    def refresh_state(self, *, typing: bool = False) -> None:
        """Re-read the session and update the navigation bar and the key bar.

        ``typing``: called after a pause in typing, when only Next/Back can have
        changed; the key bar is then redrawn only if they did (a redraw
        re-renders the key bar) and an unchanged status line is left
        alone (``Static.update`` lays the whole screen out again).
        """
        ok, why = self.can_go_next()
        state = (ok, self.can_go_back(), why)
        if not typing or state[:2] != (self._nav_seen or (None, None))[:2]:
            self.refresh_bindings()
        if not (typing and state == self._nav_seen):
            self._nav_seen = state
            self.query_one("#next", Button).disabled = not ok
            self.query_one("#back", Button).display = state[1]
            self.query_one("#nav-status", Static).update(why)
            self._sync_key_bar()
        self._run_queued_next()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False, not None: what doesn't work now is left out of the key bar, not shown dimmed.
        if action == "next":  # while a check runs, Next is taken and queued (see action_next)
            return self.can_go_next()[0] or self.checking()
        if action == "back":
            return self.can_go_back()
        button = self._button_of(action)
        return button is None or bool(button.display and not button.disabled)

    def _button_of(self, action: str) -> Button | None:
        for key, selector in self.KEY_BUTTONS.items():
            bound = self._bindings.key_to_bindings.get(key) or []
            if any(b.action == action for b in bound):
                found = self.query(selector)
                return found.first(Button) if found else None
        return None

    def _sync_key_bar(self) -> None:
        """Give each button's key the button's words in the key bar."""
        for key, selector in self.KEY_BUTTONS.items():
            found = self.query(selector)
            bound = self._bindings.key_to_bindings.get(key)
            if not found or not bound:
                continue
            words = re.sub(r"\s*\([^)]*\)$", "", str(found.first(Button).label)).strip(" →←")
            if words and bound[0].description != words:
                self._bindings.key_to_bindings[key] = [dataclasses.replace(bound[0], description=words),
                                                      *bound[1:]]

    # -- navigation -------------------------------------------------------------------
    def checking(self) -> bool:
        """True while this screen waits for a check (a spinner is showing)."""
        from wizard.widgets.status import Busy

        return any(busy.active for busy in self.query(Busy))

    def action_next(self) -> None:
        """Move on if this step is satisfied; pressed while a check runs, go on once it passes."""
        ok, why = self.can_go_next()
        if not ok and self.checking():
            # Never drop the key silently: say so, and act on it when the answer comes.
            self._next_queued = True
            self.notify("Checking… the wizard goes on by itself if the check passes.", timeout=3)
            return
        self._next_queued = False
        if not ok:
            self.notify(why or "This step is not complete yet.", severity="warning")
            return
        if self.before_next():
            self.wizard.advance()

    def _run_queued_next(self) -> None:
        """A Next pressed during a check: go on now that it passed, or say why not."""
        if not getattr(self, "_next_queued", False) or self.checking():
            return
        self._next_queued = False
        ok, why = self.can_go_next()
        if ok:
            self.call_after_refresh(self.action_next)
        else:
            self.notify(why or "This step is not complete yet.", severity="warning")

    def action_back(self) -> None:
        """Go to the previous step; nothing entered is lost."""
        if self.can_go_back():
            self.wizard.go_back()

    @on(Button.Pressed, "#next")
    def _next_pressed(self) -> None:
        self.action_next()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    # -- workers ------------------------------------------------------------------------
    async def bounded(self, call: Awaitable[T]) -> T:
        """Await ``call`` with the app's timeout (raises TimeoutError)."""
        return await asyncio.wait_for(call, self.wizard.services.call_timeout)

    def problem(self, exc: BaseException, doing: str) -> Problem:
        """The user-facing problem for a worker's failure."""
        return problem_from(exc, doing, self.wizard.services.call_timeout)
