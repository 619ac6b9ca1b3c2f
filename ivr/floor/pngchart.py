"""A chart of a day as a PNG, in plain Python (zlib and struct): no plotting library to install.

`day_chart` draws calls per interval (answered, abandoned, other outcomes stacked) and the
service level as a line on a 0-100 % scale. Text uses a classic 5x7 pixel font (upper case,
digits and a little punctuation), scaled up.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
INK: RGB = (40, 40, 40)
GRID: RGB = (225, 225, 225)
ANSWERED: RGB = (76, 153, 92)
ABANDONED: RGB = (214, 76, 60)
OTHER: RGB = (170, 170, 170)
LEVEL: RGB = (45, 95, 190)

# 5x7 glyphs, five columns each, bit 0 the top row.
FONT: dict[str, tuple[int, ...]] = {
    " ": (0, 0, 0, 0, 0), "0": (0x3E, 0x51, 0x49, 0x45, 0x3E), "1": (0, 0x42, 0x7F, 0x40, 0),
    "2": (0x42, 0x61, 0x51, 0x49, 0x46), "3": (0x21, 0x41, 0x45, 0x4B, 0x31),
    "4": (0x18, 0x14, 0x12, 0x7F, 0x10), "5": (0x27, 0x45, 0x45, 0x45, 0x39),
    "6": (0x3C, 0x4A, 0x49, 0x49, 0x30), "7": (0x01, 0x71, 0x09, 0x05, 0x03),
    "8": (0x36, 0x49, 0x49, 0x49, 0x36), "9": (0x06, 0x49, 0x49, 0x29, 0x1E),
    "A": (0x7E, 0x11, 0x11, 0x11, 0x7E), "B": (0x7F, 0x49, 0x49, 0x49, 0x36),
    "C": (0x3E, 0x41, 0x41, 0x41, 0x22), "D": (0x7F, 0x41, 0x41, 0x22, 0x1C),
    "E": (0x7F, 0x49, 0x49, 0x49, 0x41), "F": (0x7F, 0x09, 0x09, 0x09, 0x01),
    "G": (0x3E, 0x41, 0x49, 0x49, 0x7A), "H": (0x7F, 0x08, 0x08, 0x08, 0x7F),
    "I": (0, 0x41, 0x7F, 0x41, 0), "J": (0x20, 0x40, 0x41, 0x3F, 0x01),
    "K": (0x7F, 0x08, 0x14, 0x22, 0x41), "L": (0x7F, 0x40, 0x40, 0x40, 0x40),
    "M": (0x7F, 0x02, 0x0C, 0x02, 0x7F), "N": (0x7F, 0x04, 0x08, 0x10, 0x7F),
    "O": (0x3E, 0x41, 0x41, 0x41, 0x3E), "P": (0x7F, 0x09, 0x09, 0x09, 0x06),
    "Q": (0x3E, 0x41, 0x51, 0x21, 0x5E), "R": (0x7F, 0x09, 0x19, 0x29, 0x46),
    "S": (0x46, 0x49, 0x49, 0x49, 0x31), "T": (0x01, 0x01, 0x7F, 0x01, 0x01),
    "U": (0x3F, 0x40, 0x40, 0x40, 0x3F), "V": (0x1F, 0x20, 0x40, 0x20, 0x1F),
    "W": (0x3F, 0x40, 0x38, 0x40, 0x3F), "X": (0x63, 0x14, 0x08, 0x14, 0x63),
    "Y": (0x07, 0x08, 0x70, 0x08, 0x07), "Z": (0x61, 0x51, 0x49, 0x45, 0x43),
    "%": (0x23, 0x13, 0x08, 0x64, 0x62), ":": (0, 0x36, 0x36, 0, 0), ".": (0, 0x60, 0x60, 0, 0),
    "-": (0x08, 0x08, 0x08, 0x08, 0x08), "/": (0x20, 0x10, 0x08, 0x04, 0x02),
    "(": (0, 0x1C, 0x22, 0x41, 0), ")": (0, 0x41, 0x22, 0x1C, 0), ",": (0, 0x50, 0x30, 0, 0),
    "=": (0x14, 0x14, 0x14, 0x14, 0x14), "+": (0x08, 0x08, 0x3E, 0x08, 0x08),
}


class Canvas:
    """An RGB raster with the few drawing operations a chart needs."""

    def __init__(self, width: int, height: int, background: RGB = WHITE) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: RGB) -> None:
        """Fill [x0, x1) x [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, min(x0, x1)), min(self.width, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.height, max(y0, y1))
        if x0 >= x1:
            return
        row = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start:start + len(row)] = row

    def line(self, x0: int, y0: int, x1: int, y1: int, color: RGB, width: int = 2) -> None:
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(steps + 1):
            x = round(x0 + (x1 - x0) * i / steps)
            y = round(y0 + (y1 - y0) * i / steps)
            self.rect(x - width // 2, y - width // 2, x - width // 2 + width,
                      y - width // 2 + width, color)

    def text(self, x: int, y: int, text: str, color: RGB = INK, scale: int = 2) -> int:
        """Draw `text` with its top left at (x, y); returns the x after it."""
        for ch in text.upper():
            for col, bits in enumerate(FONT.get(ch, FONT[" "])):
                for row in range(7):
                    if bits >> row & 1:
                        self.rect(x + col * scale, y + row * scale, x + (col + 1) * scale,
                                  y + (row + 1) * scale, color)
            x += 6 * scale
        return x

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(self.pixels[y * self.width * 3:(y + 1) * self.width * 3])
                       for y in range(self.height))

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def text_width(text: str, scale: int = 2) -> int:
    return len(text) * 6 * scale


@dataclass(frozen=True)
class Interval:
    """One bar of the chart."""

    label: str  # "07:00"
    answered: int
    abandoned: int
    other: int  # offered but neither answered nor abandoned (voicemail, callback)
    service_level: float | None  # 0 to 1


def _nice_top(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if value <= step * 5:
            return step * 5
    return value


def day_chart(intervals: Sequence[Interval], title: str, width: int = 1000,
              height: int = 460) -> bytes:
    """Calls per interval as stacked bars, service level as a line; PNG bytes."""
    c = Canvas(width, height)
    left, right, top, bottom = 70, width - 70, 60, height - 70
    c.text(left, 18, title, scale=2)
    top_calls = _nice_top(max((i.answered + i.abandoned + i.other for i in intervals), default=1))
    for k in range(6):  # grid and both axes' labels
        y = bottom - (bottom - top) * k // 5
        c.rect(left, y, right, y + 1, GRID)
        label = str(top_calls * k // 5)
        c.text(left - 10 - text_width(label), y - 7, label)
        c.text(right + 10, y - 7, f"{20 * k}%", LEVEL)
    c.rect(left, top, left + 1, bottom + 1, INK)
    c.rect(left, bottom, right, bottom + 1, INK)
    n = max(len(intervals), 1)
    slot = (right - left) / n
    bar = max(int(slot * 0.7), 1)
    points: list[tuple[int, int]] = []
    every = max(1, round(n / 12))
    for i, iv in enumerate(intervals):
        x = int(left + i * slot + (slot - bar) / 2)
        y = bottom
        for count, color in ((iv.answered, ANSWERED), (iv.abandoned, ABANDONED),
                             (iv.other, OTHER)):
            h = round((bottom - top) * count / top_calls)
            c.rect(x, y - h, x + bar, y, color)
            y -= h
        if iv.service_level is not None:
            points.append((int(left + i * slot + slot / 2),
                           round(bottom - (bottom - top) * iv.service_level)))
        if i % every == 0:
            c.text(x, bottom + 10, iv.label, scale=1)
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        c.line(x0, y0, x1, y1, LEVEL)
    x = left
    for name, color in (("ANSWERED", ANSWERED), ("ABANDONED", ABANDONED),
                        ("VOICEMAIL/CALLBACK", OTHER), ("SERVICE LEVEL", LEVEL)):
        c.rect(x, height - 32, x + 16, height - 18, color)
        x = c.text(x + 22, height - 32, name) + 24
    return c.png()
