"""Small status widgets: a busy line with a spinner, and a problem box."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.markup import escape
from textual.widgets import Label, LoadingIndicator, Static


class Busy(Horizontal):
    """A one-line spinner with what is being waited for; hidden when idle."""

    DEFAULT_CSS = """
    Busy {
        height: 1;
        width: 1fr;
        display: none;
    }
    Busy.-active { display: block; }
    Busy > LoadingIndicator {
        width: 6;
        height: 1;
        min-height: 1;
        background: transparent;
    }
    Busy > Label { color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield LoadingIndicator()
        yield Label("")

    def start(self, text: str) -> None:
        """Show the spinner with ``text`` (e.g. "Reading the key's permissions…")."""
        self.query_one(Label).update(text)
        self.add_class("-active")

    def stop(self) -> None:
        """Hide the spinner."""
        self.remove_class("-active")

    @property
    def active(self) -> bool:
        """True while something is being waited for."""
        return self.has_class("-active")


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
