"""Back/Next: Textual's Button with only the styles those two buttons use.

Button's DEFAULT_CSS styles every variant in three looks (default, flat,
ANSI): 7 kB that take ~20 ms to parse, paid on the first screen just after
its first frame, when Back/Next arrive. These buttons are only ever the
default or the primary variant, so this class carries just those rules
(copied from Textual's Button, so they look the same) and nothing else
(``inherit_css=False``). Behaviour is Button's own. Rules written for
``Button`` still match it (the app's stylesheet, and Button's full CSS once a
later step shows another button), with the same result.
"""

from __future__ import annotations

from textual.widgets import Button


class NavButton(Button, inherit_css=False):
    """A Back/Next button: a :class:`~textual.widgets.Button` with a smaller stylesheet."""

    DEFAULT_CSS = """
    NavButton:ansi.-style-default {
        border: tall $border-blurred;
        background: ansi_default;
        &:disabled {
            text-opacity: 1;
            text-style: bold dim;
            border: tall $border-blurred !important;
            background: ansi_default !important;
            pointer: not-allowed;
            &:hover { background: ansi_default; }
        }
        &:hover { background: $ansi-background; border: tall $border; }
        &.-active {
            background: $ansi-background !important;
            border: blank $background !important;
            tint: transparent;
        }
        &.-primary {
            color: $primary;
            border: tall $primary;
            background: ansi_default;
            &:hover { background: $ansi-background; }
        }
    }
    NavButton {
        width: auto;
        min-width: 16;
        height: auto;
        line-pad: 1;
        text-align: center;
        content-align: center middle;
        pointer: pointer;
        &.-style-default {
            text-style: bold;
            color: $button-foreground;
            background: $surface;
            border: none;
            border-top: tall $surface-lighten-1;
            border-bottom: tall $surface-darken-1;
            &.-textual-compact { border: none !important; }
            &:disabled { text-opacity: 0.6; pointer: not-allowed; }
            &:focus {
                text-style: $button-focus-text-style;
                background-tint: $foreground 5%;
            }
            &:hover { border-top: tall $surface; background: $surface-darken-1; }
            &.-active {
                background: $surface;
                border-bottom: tall $surface-lighten-1;
                border-top: tall $surface-darken-1;
                tint: $background 30%;
            }
            &.-primary {
                color: $button-color-foreground;
                background: $primary;
                border-top: tall $primary-lighten-3;
                border-bottom: tall $primary-darken-3;
                &:hover { background: $primary-darken-2; border-top: tall $primary; }
                &.-active {
                    background: $primary;
                    border-bottom: tall $primary-lighten-3;
                    border-top: tall $primary-darken-3;
                }
            }
        }
    }
    """
