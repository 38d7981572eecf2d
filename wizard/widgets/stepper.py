"""The progress line at the top of every step: where the user is, what's done."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class Stepper(Widget):
    """Shows the wizard's steps with the current one highlighted.

    Falls back to "Step N of M: Name" when the terminal is too narrow for
    the whole line, so a resize never wraps or truncates it mid-word.
    """

    COMPONENT_CLASSES = {"stepper--done", "stepper--current", "stepper--todo", "stepper--sep"}

    DEFAULT_CSS = """
    Stepper {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $panel;
    }
    Stepper > .stepper--done { color: $success; }
    Stepper > .stepper--current { color: $primary; text-style: bold reverse; }
    Stepper > .stepper--todo { color: $text-muted; }
    Stepper > .stepper--sep { color: $text-muted; }
    """

    current: reactive[int] = reactive(0)

    def __init__(self, steps: list[str], current: int = 0, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.steps = list(steps)
        self.set_reactive(Stepper.current, current)

    def _style(self, index: int) -> str:
        if index < self.current:
            return "stepper--done"
        if index == self.current:
            return "stepper--current"
        return "stepper--todo"

    def _full(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        sep = self.get_component_rich_style("stepper--sep")
        for index, name in enumerate(self.steps):
            if index:
                text.append(" › ", sep)
            if index < self.current and name[:1].isdigit():
                name = "✓" + name[1:]  # done: the tick takes the number's place (same width)
            text.append(name if index != self.current else f" {name} ",
                        self.get_component_rich_style(self._style(index)))
        return text

    def _compact(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        name = self.steps[self.current] if self.steps else ""
        text.append(f" {name} ", self.get_component_rich_style("stepper--current"))
        text.append(f"  step {self.current + 1} of {len(self.steps)}",
                    self.get_component_rich_style("stepper--todo"))
        return text

    def render(self) -> Text:
        full = self._full()
        width = self.content_size.width or self.size.width
        return full if width == 0 or full.cell_len <= width else self._compact()
