"""A masked input for secrets that never hands its value to the clipboard.

Textual's ``Input(password=True)`` masks the text but still copies or cuts a
selection, keeps only the first line of a paste and keeps surrounding spaces.
:class:`SecretInput` refuses copy and cut, opts out of screen-level text selection, and
joins a multi-line paste with surrounding whitespace stripped, so a secret
that wrapped in a browser or an e-mail still arrives whole.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input

from wizard.widgets.steady_input import SteadyInput


def clean_paste(text: str) -> str:
    """Strip surrounding whitespace and drop line breaks inside a pasted secret."""
    return "".join(part.strip() for part in text.strip().splitlines())


class SecretInput(SteadyInput):
    """A password field: masked, no copy or cut, paste cleaned of line breaks."""

    ALLOW_SELECT = False  # screen-level mouse selection must not reach the value

    BINDINGS = [
        # Shadow Input's copy/cut bindings so the keys do nothing here.
        Binding("ctrl+x", "cut", "Cut disabled", show=False),
        Binding("ctrl+c,super+c", "copy", "Copy disabled", show=False),
    ]

    def __init__(self, value: str = "", *, placeholder: str = "", id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(value, placeholder=placeholder, password=True, id=id, classes=classes)

    def action_copy(self) -> None:
        """Copying a secret is refused: the keyring is the only place it goes."""
        self.notify("Copying the secret is disabled.", severity="warning", timeout=3)

    def action_cut(self) -> None:
        """Cutting would copy: refused like copy."""
        self.notify("Cutting the secret is disabled.", severity="warning", timeout=3)

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # Input's own handler would insert the first line again
        if event.text:
            cleaned = clean_paste(event.text)
            start, end = self.selection
            self.replace(cleaned, *sorted((start, end)))
        event.stop()
