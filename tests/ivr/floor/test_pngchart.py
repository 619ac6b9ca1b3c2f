"""The day's chart is a PNG that any viewer can read: checked by decoding it here."""

from __future__ import annotations

import struct
import zlib

from ivr.floor.pngchart import ABANDONED, ANSWERED, Interval, day_chart


def decode(png: bytes) -> tuple[int, int, list[bytes]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks[kind] = data
        pos += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    raw = zlib.decompress(chunks[b"IDAT"])
    rows = [raw[y * (1 + 3 * width) + 1:(y + 1) * (1 + 3 * width)] for y in range(height)]
    return width, height, rows


def test_bars_are_drawn_in_their_colours() -> None:
    png = day_chart([Interval("07:00", 10, 0, 0, 1.0), Interval("07:15", 0, 10, 0, None)],
                    "A DAY", width=400, height=300)
    width, height, rows = decode(png)
    assert (width, height) == (400, 300)
    pixels = {bytes(r[i:i + 3]) for r in rows for i in range(0, len(r), 3)}
    assert bytes(ANSWERED) in pixels and bytes(ABANDONED) in pixels


def test_an_empty_day_still_draws() -> None:
    width, height, _rows = decode(day_chart([], "NOTHING", width=200, height=150))
    assert (width, height) == (200, 150)
