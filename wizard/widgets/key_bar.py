"""The key bar: the keys that work on this screen, drawn as one line by one widget.

Textual's ``Footer`` builds a widget per key, each styled on its own, and only
after the screen has announced its bindings and a further refresh (~50 ms of
CPU on the first screen, and a recompose each time the bindings change).
This bar shows the same bindings, in the same words and the same theme
colours, from a single ``render``: it reads ``screen.active_bindings`` when
drawn and redraws when the screen says its bindings changed. A key whose
action can't run now (``check_action`` False) is not in ``active_bindings``'
shown set; a disabled one (``check_action`` None) is drawn dimmed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen


class Key(NamedTuple):
    """One key as the bar shows it."""

    key: str  # what ``simulate_key`` presses when the key is clicked
    display: str  # how the key is written ("^n", "esc")
    description: str
    enabled: bool


class KeyBar(Widget, can_focus=False):
    """A one-line bar of the screen's shown key bindings; clicking a key presses it."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        text-overflow: clip;
        & > .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._spans: list[tuple[int, int, str, bool]] = []  # (start, end, key, enabled) of the last draw

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen:
            self.refresh()

    def keys(self) -> list[Key]:
        """The keys shown now: one per action (as Footer does), the command palette's last."""
        app, shown, seen = self.app, [], set()
        palette = None
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            if app.ENABLE_COMMAND_PALETTE and key == app.COMMAND_PALETTE_BINDING:
                palette = Key(binding.key, app.get_key_display(binding), binding.description, enabled)
            elif binding.show and binding.action not in seen:
                seen.add(binding.action)
                shown.append(Key(binding.key, app.get_key_display(binding), binding.description, enabled))
        return shown + ([palette] if palette else [])

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        words_style = self.get_component_rich_style("key-bar--description", partial=True)
        dim = Style(dim=True)
        text, spans = Text(no_wrap=True, overflow="crop", end=""), []
        keys = self.keys()
        palette = keys.pop() if keys and keys[-1].key == self.app.COMMAND_PALETTE_BINDING else None
        for item in keys + ([palette] if palette else []):
            if item is palette:  # on the right, as Footer docks it
                text.append(" " * max(1, self.size.width - text.cell_len - self._width(palette)))
            start = text.cell_len
            extra = Style() if item.enabled else dim
            text.append(f" {item.display} ", key_style + extra)
            if item.description:
                text.append(f"{item.description} ", words_style + extra)
            spans.append((start, text.cell_len, item.key, item.enabled))
        self._spans = spans
        return text

    @staticmethod
    def _width(item: Key) -> int:
        return len(item.display) + 2 + (len(item.description) + 1 if item.description else 0)

    def on_click(self, event: events.Click) -> None:
        """A click on a key presses it, as on Textual's Footer."""
        for start, end, key, enabled in self._spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
