"""``binance-key-wizard review`` on a terminal: every managed key in a table, what is due."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

if TYPE_CHECKING:
    from wizard.registry import KeyRecord


HEADERS = {"KEY": "Key", "IP": "IP", "TRADING EXPIRES": "Trading expires", "ROTATE BY": "Rotate by"}


class ReviewScreen(Screen[None]):
    """A read-only table of managed keys; overdue rotations and dangerous settings stand out."""

    BINDINGS = [Binding("q,escape", "app.quit", "Close")]

    DEFAULT_CSS = """
    ReviewScreen #review-title { text-style: bold; padding: 0 1; background: $panel; }
    ReviewScreen DataTable { height: 1fr; }
    ReviewScreen #review-notes { padding: 0 1; height: auto; max-height: 8; }
    """

    def __init__(self, records: list[KeyRecord], now: datetime | None = None) -> None:
        super().__init__()
        self._records = records
        self._now = now

    def compose(self) -> ComposeResult:
        yield Static(f"Managed Binance API keys ({len(self._records)})", id="review-title")
        yield DataTable(id="review-table", zebra_stripes=True, cursor_type="row")
        yield Static(id="review-notes")
        yield Footer()

    def on_mount(self) -> None:
        from wizard.review import COLUMNS, review_rows

        table = self.query_one(DataTable)
        table.add_columns(*(HEADERS.get(name, name.title()) for name in COLUMNS))
        rows = review_rows(self._records, self._now)
        for row in rows:
            cells = [Text(cell) for cell in row.cells()]
            if row.rotation_overdue:
                cells[-1].stylize("bold " + self._colour("error"))
            if any(word in row.permissions for word in ("WITHDRAWALS", "TRANSFER")):
                cells[5].stylize("bold " + self._colour("error"))
            if row.ip_restriction == "NONE":
                cells[6].stylize(self._colour("warning"))
            table.add_row(*cells, key=row.label)
            if row.last_check_failed:
                cells[4].stylize("bold " + self._colour("error"))
        overdue = [row.label for row in rows if row.rotation_overdue]
        failed = [row.label for row in rows if row.last_check_failed]
        notes = [f"{row.label}: next date {row.next_date}" for row in rows if row.next_date_at]
        if failed:
            notes.insert(0, f"Last check failed: {', '.join(failed)} — run `binance-key-wizard check LABEL`.")
        if overdue:
            notes.insert(0, f"Rotation due: {', '.join(overdue)} — run `binance-key-wizard rotate LABEL`.")
        notes.append("Read-only view. Re-verify with `binance-key-wizard check`.")
        if not rows:
            notes = ["No managed keys yet. Set one up with `binance-key-wizard`."]
        self.query_one("#review-notes", Static).update("\n".join(notes))
        table.focus()

    def _colour(self, name: str) -> str:
        # DataTable cells are Rich Text: take the colour from the current theme.
        return str(self.app.theme_variables.get(name, "red"))


class ReviewApp(App[None]):
    """A small app around :class:`ReviewScreen`."""

    TITLE = "binance-key-wizard review"

    def __init__(self, records: list[KeyRecord], now: datetime | None = None) -> None:
        super().__init__()
        self._records, self._now = records, now

    def on_mount(self) -> None:
        self.push_screen(ReviewScreen(self._records, self._now))
