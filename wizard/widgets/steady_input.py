"""An Input whose typing repaints the field, not the whole screen's layout.

Textual's ``Input`` sets its virtual size to the text's width on every key, and
``Widget.virtual_size`` is a reactive that asks the screen for a full layout
pass (every widget of the screen re-arranged: 5-15 ms a key on step 2, which
holds a QR code, a radio set and, in the demo, the simulator's panel). An
Input has no scrollbars (``scrollbar-size-horizontal: 0``), so its virtual
size only bounds how far its text scrolls, which Input reads from the value
itself: :class:`SteadyInput` makes that reactive a repaint. Everything else
that needs a layout (display, CSS, a size ``auto``) still gets one.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class SteadyInput(Input):
    """``Input`` that repaints instead of re-laying-out the screen while typed into."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=True)
