"""Small status widgets: a busy line with a spinner, and a problem box."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.markup import escape
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.timer import Timer


class Busy(Static):
    """A one-line spinner with what is being waited for; hidden when idle.

    A text spinner rather than Textual's LoadingIndicator: it runs a timer only
    while shown (the indicator refreshes 16 times a second even when hidden) and
    it is one cheap widget on every step screen, the first one included.
    """

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    DEFAULT_CSS = """
    Busy {
        height: 1;
        width: 1fr;
        display: none;
        color: $text-muted;
    }
    Busy.-active { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._text = ""
        self._frame = 0
        self._spinning: Timer | None = None

    def start(self, text: str) -> None:
        """Show the spinner with ``text`` (e.g. "Reading the key's permissions…")."""
        self._text = text
        self._draw()
        if self._spinning is None:
            self._spinning = self.set_interval(0.1, self._next_frame)
        self.add_class("-active")

    def stop(self) -> None:
        """Hide the spinner."""
        if self._spinning is not None:
            self._spinning.stop()
            self._spinning = None
        self.remove_class("-active")

    @property
    def active(self) -> bool:
        """True while something is being waited for."""
        return self.has_class("-active")

    @property
    def text(self) -> str:
        """What is being waited for (empty when nothing has been)."""
        return self._text

    def _next_frame(self) -> None:
        self._frame = (self._frame + 1) % len(self.FRAMES)
        self._draw()

    def _draw(self) -> None:
        self.update(f"[b]{self.FRAMES[self._frame]}[/b] {escape(self._text)}")


class ProblemBox(Static):
    """What went wrong and what to do, in plain language; hidden when empty."""

    DEFAULT_CSS = """
    ProblemBox {
        display: none;
        border: round $error;
        padding: 0 1;
        margin: 1 0 0 0;
        height: auto;
    }
    ProblemBox.-shown { display: block; }
    ProblemBox.-warning { border: round $warning; }
    """

    def show_problem(self, title: str, message: str, fix: str, *, warning: bool = False) -> None:
        """Display ``message`` and ``fix`` under ``title``."""
        self.border_title = title
        self.set_class(warning, "-warning")
        body = escape(message)
        if fix:
            body += f"\n[b]What to do:[/b] {escape(fix)}"
        self.update(body)
        self.add_class("-shown")

    def clear(self) -> None:
        """Hide the box."""
        self.update("")
        self.remove_class("-shown")

    @property
    def shown(self) -> bool:
        """True while a problem is displayed."""
        return self.has_class("-shown")
