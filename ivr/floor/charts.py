"""Charts of the day as SVG text, drawn on the server: no chart library, no CDN, and the same
picture on the wallboard, the reports page and in a saved file.

Pure: figures in, markup out. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 28, 34
COLOURS = {"offered": "#6b7b8c", "answered": "#2f8a4e", "abandoned": "#c4452f",
           "service": "#1f5fbf"}


@dataclass(frozen=True)
class Point:
    """One interval: its label (``08:15``) and figures; `service_level` 0..1 or None."""

    label: str
    offered: int
    answered: int
    abandoned: int
    service_level: float | None


def _nice_max(value: int) -> int:
    for step in (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return step
    return value


def day_chart(points: Sequence[Point], title: str) -> str:
    """Bars of offered, answered and abandoned calls per interval, and the service level as a
    line on the right-hand axis (0-100%)."""
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_max(max((p.offered for p in points), default=0))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'role="img" aria-label="{escape(title)}" class="day-chart" fill="currentColor" '
           'font-family="sans-serif">',
           f'<title>{escape(title)}</title>',
           f'<text x="{LEFT}" y="16" font-size="15" font-weight="bold">{escape(title)}</text>']
    for frac in (0, 0.5, 1):
        y = TOP + inner_h * (1 - frac)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                   'stroke="#888" stroke-opacity="0.4"/>')
        out.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="12" '
                   f'text-anchor="end">{top * frac:g}</text>')
        out.append(f'<text x="{WIDTH - RIGHT + 4}" y="{y + 4:.1f}" font-size="12">'
                   f'{round(100 * frac)}%</text>')
    if not points:
        out.append(f'<text x="{WIDTH / 2}" y="{TOP + inner_h / 2}" font-size="14" '
                   'text-anchor="middle">No calls yet</text></svg>')
        return "".join(out)
    slot = inner_w / len(points)
    bar = max(1.0, slot / 4)
    line: list[str] = []
    every = max(1, len(points) // 12)
    for i, p in enumerate(points):
        x0 = LEFT + i * slot
        for j, (name, value) in enumerate((("offered", p.offered), ("answered", p.answered),
                                           ("abandoned", p.abandoned))):
            h = inner_h * value / top
            out.append(f'<rect x="{x0 + (j + 0.5) * bar:.1f}" y="{TOP + inner_h - h:.1f}" '
                       f'width="{bar:.1f}" height="{h:.1f}" fill="{COLOURS[name]}">'
                       f'<title>{escape(p.label)} {name}: {value}</title></rect>')
        if p.service_level is not None:
            y = TOP + inner_h * (1 - p.service_level)
            line.append(f"{x0 + slot / 2:.1f},{y:.1f}")
        if i % every == 0:
            out.append(f'<text x="{x0 + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 14}" '
                       f'font-size="12" text-anchor="middle">{escape(p.label)}</text>')
    if line:
        out.append(f'<polyline points="{" ".join(line)}" fill="none" '
                   f'stroke="{COLOURS["service"]}" stroke-width="2"/>')
    legend = [("offered", "offered"), ("answered", "answered"), ("abandoned", "abandoned"),
              ("service", "service level")]
    for k, (key, text) in enumerate(legend):
        x = WIDTH - RIGHT - 420 + k * 105
        out.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{COLOURS[key]}"/>'
                   f'<text x="{x + 14}" y="15" font-size="13">{text}</text>')
    out.append("</svg>")
    return "".join(out)
