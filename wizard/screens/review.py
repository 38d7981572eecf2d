"""``binance-key-wizard review`` on a terminal: every managed key in a table, what is due."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import RowKey

if TYPE_CHECKING:
    from wizard.registry import KeyRecord
    from wizard.review import ReviewRow


OVERDUE_NAMED = 8  # the notes name this many overdue labels, then count the rest
HEADERS = {"KEY": "Key", "IP": "IP", "TRADING EXPIRES": "Trading expires", "ROTATE BY": "Rotate by"}


def _named(labels: list[str]) -> str:
    """The first :data:`OVERDUE_NAMED` labels, then how many more (a fleet has thousands)."""
    more = len(labels) - OVERDUE_NAMED
    return ", ".join(labels[:OVERDUE_NAMED]) + (f" and {more} more" if more > 0 else "")


class ReviewTable(DataTable):
    """A DataTable whose columns all have widths given up front (from the plain text).

    DataTable sizes auto-width columns by measuring every new cell through Rich
    (9000 cells for 1000 keys: about a second, after the first frame, while keys
    wait). Here no width depends on that measure, and rows are one line high,
    so new rows skip it; the virtual size is computed as DataTable does.
    """

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        if any(column.auto_width for column in self.columns.values()):
            super()._update_dimensions(new_rows)
        else:
            super()._update_dimensions(())


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
        yield ReviewTable(id="review-table", zebra_stripes=True, cursor_type="row")
        yield Static(id="review-notes")
        yield Footer()

    def on_mount(self) -> None:
        from wizard.review import COLUMNS, review_rows

        table = self.query_one(DataTable)
        rows = review_rows(self._records, self._now)
        # Widths from the plain text (one len() per cell), so the columns never jump.
        headers = [HEADERS.get(name, name.title()) for name in COLUMNS]
        for i, header in enumerate(headers):
            table.add_column(Text(header), width=max([len(header), *(len(row.cells()[i]) for row in rows)]))  # Text: no markup parse
        error, warning = "bold " + self._colour("error"), self._colour("warning")
        # One add_rows: a row at a time, the table re-sorts its bookkeeping for each.
        table.add_rows(self._cells(row, error, warning) for row in rows)
        overdue = [row.label for row in rows if row.rotation_overdue]
        failed = [row.label for row in rows if row.last_check_failed]
        dated = [f"{row.label}: next date {row.next_date}" for row in rows if row.next_date_at]
        notes = dated[:OVERDUE_NAMED] + (
            [f"… and {len(dated) - OVERDUE_NAMED} more keys with a date (see `binance-key-wizard review --json`)."]
            if len(dated) > OVERDUE_NAMED else [])
        if failed:
            notes.insert(0, f"Last check failed: {_named(failed)} — run `binance-key-wizard check LABEL`.")
        if overdue:
            notes.insert(0, f"Rotation due: {_named(overdue)} — run `binance-key-wizard rotate LABEL`.")
        unfinished = [row.label for row in rows if row.pending]
        if unfinished:  # an add that died (wizard/adding.py): never a usable key
            notes.insert(0, f"Unfinished add: {_named(unfinished)} — run `binance-key-wizard check LABEL`, "
                         "then add it again or `binance-key-wizard forget LABEL`.")
        notes.append("Read-only view. Re-verify with `binance-key-wizard check`.")
        if not rows:
            notes = ["No managed keys yet. Set one up with `binance-key-wizard`."]
        self.query_one("#review-notes", Static).update("\n".join(notes))
        table.focus()

    @staticmethod
    def _cells(row: ReviewRow, error: str, warning: str) -> list[Text]:
        cells = [Text(cell) for cell in row.cells()]
        if row.rotation_overdue:
            cells[-1].stylize(error)
        if any(word in row.permissions for word in ("WITHDRAWALS", "TRANSFER")):
            cells[5].stylize(error)
        if row.ip_restriction == "NONE":
            cells[6].stylize(warning)
        if row.last_check_failed or row.pending:
            cells[4].stylize(error)
        return cells

    def _colour(self, name: str) -> str:
        # DataTable cells are Rich Text: take the colour from the current theme.
        return str(self.app.theme_variables.get(name, "red"))


class ReviewApp(App[None]):
    """A small app around :class:`ReviewScreen`."""

    TITLE = "binance-key-wizard review"

    def __init__(self, records: list[KeyRecord], now: datetime | None = None) -> None:
        super().__init__()
        self._records, self._now = records, now
        from wizard.gc_pause import CollectorPause

        self._collector = CollectorPause(self)

    def on_mount(self) -> None:
        self.push_screen(ReviewScreen(self._records, self._now))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._collector.key()  # a thousand rows are a big heap: no GC pass mid-scroll
        await super().on_event(event)

    def on_unmount(self) -> None:
        self._collector.resume()
