"""A QR code drawn with half-block characters, so a phone can scan the terminal.

Each character cell holds two QR modules stacked vertically (a half-block
glyph and the cell's background). Terminal cells
are about twice as tall as wide, so modules come out square. ``qrcode`` is
imported only when the widget first renders, never at start-up.
"""

from __future__ import annotations

from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

# A QR code must be dark on light whatever the theme: scanners (and zbar)
# expect that contrast, so these two colours are deliberately fixed.
_DARK = "#000000"
_LIGHT = "#ffffff"
QUIET_ZONE = 2  # modules of light border on every side


@lru_cache(maxsize=16)
def qr_matrix(data: str, border: int = QUIET_ZONE) -> tuple[tuple[bool, ...], ...]:
    """The module matrix (True = dark) for ``data``, quiet zone included."""
    import qrcode  # lazy: keep start-up light
    from qrcode.constants import ERROR_CORRECT_L

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_L, border=border)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


def qr_lines(data: str, border: int = QUIET_ZONE) -> list[list[Segment]]:
    """Rows of segments, two modules high per row.

    Uniform cells are plain background; mixed cells draw the LIGHT half as a
    half-block glyph over a dark background. Glyph edges are the imprecise
    part of any rendering (fonts in SVG screenshots especially), and this way
    a slightly short glyph only thickens dark modules, which scanners tolerate.
    """
    matrix = qr_matrix(data, border)
    width = len(matrix[0])
    rows = list(matrix)
    if len(rows) % 2:
        rows.append(tuple(False for _ in range(width)))
    dark, light = Style(bgcolor=_DARK), Style(bgcolor=_LIGHT)
    light_top = Style(color=_LIGHT, bgcolor=_DARK)
    lines: list[list[Segment]] = []
    for top, bottom in zip(rows[0::2], rows[1::2]):
        segments = []
        for upper, lower in zip(top, bottom):
            if upper == lower:
                segments.append(Segment(" ", dark if upper else light))
            else:  # one light half: draw it, over the dark other half
                segments.append(Segment("▄" if upper else "▀", light_top))
        lines.append(segments)
    return lines


class QRCode(Widget):
    """Shows ``data`` as a scannable QR code (dark modules on a light quiet zone)."""

    DEFAULT_CSS = """
    QRCode {
        width: auto;
        height: auto;
    }
    """

    def __init__(self, data: str, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._data = data
        self._cache: tuple[str, list[list[Segment]]] | None = None

    @property
    def data(self) -> str:
        """The encoded text."""
        return self._data

    def set_data(self, data: str) -> None:
        """Encode different text and resize to fit it."""
        self._data = data
        self.refresh(layout=True)

    def _lines(self) -> list[list[Segment]]:
        if self._cache is None or self._cache[0] != self._data:
            self._cache = (self._data, qr_lines(self._data) if self._data else [])
        return self._cache[1]

    def get_content_width(self, container: Size, viewport: Size) -> int:
        lines = self._lines()
        return len(lines[0]) if lines else 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines())

    def render_line(self, y: int) -> Strip:
        lines = self._lines()
        if y >= len(lines):
            return Strip.blank(self.size.width)
        return Strip(lines[y]).crop_extend(0, self.size.width, None)
