"""The chart of bench/run.py's ratios (issue 28): an SVG written by hand, no
plotting library, so the bench renders it offline wherever it runs.

One horizontal bar per figure: portside's ratio to its reference (LWA, or
for JSON shapes also a binary body of the same size) on a logarithmic axis,
green where the goal is met and red where it is missed (grey: no goal), a
black tick at the goal, a thin line over the range of the ratio across runs,
and a dashed line at 1× (parity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

LOW, HIGH = 0.03, 3.0  # the axis, ×
WIDTH, LABEL_W, RIGHT = 980, 470, 70
ROW, TOP, HEADING = 17, 44, 22
GREEN, RED, GREY = "#2e7d32", "#c62828", "#9e9e9e"


@dataclass
class Bar:
    label: str
    ratio: float | None  # None: measured, but no ratio means anything (a median at or below zero)
    low: float  # the range over runs (or rounds)
    high: float
    goal: float | None
    met: bool | None  # None: no goal
    group: str


def x_of(value: float) -> float:
    value = min(max(value, LOW), HIGH)
    span = math.log10(HIGH) - math.log10(LOW)
    return LABEL_W + (math.log10(value) - math.log10(LOW)) / span * (WIDTH - LABEL_W - RIGHT)


def svg(bars: list[Bar], title: str) -> str:
    groups: list[str] = []
    for b in bars:
        if b.group not in groups:
            groups.append(b.group)
    height = TOP + len(bars) * ROW + len(groups) * HEADING + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="10" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<text x="10" y="34" fill="#555">portside / reference (log scale; below 1×: portside uses less).'
        f' Bar: this run; thin line: the range over runs; black tick: the goal.</text>',
    ]
    y = TOP
    grid_top = TOP
    for group in groups:
        y += HEADING
        out.append(f'<text x="10" y="{y - 6}" font-weight="bold">{escape(group)}</text>')
        for b in (b for b in bars if b.group == group):
            mid = y + ROW / 2
            out.append(f'<text x="{LABEL_W - 6}" y="{mid + 4}" text-anchor="end">{escape(b.label)}</text>')
            if b.ratio is None:
                out.append(f'<text x="{x_of(LOW) + 4:.1f}" y="{mid + 4}" fill="#555">not judged: a median'
                           f' at or below zero (noise)</text>')
                y += ROW
                continue
            colour = GREY if b.met is None else GREEN if b.met else RED
            x0, x1 = x_of(LOW), x_of(b.ratio)
            out.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(1.0, x1 - x0):.1f}" height="{ROW - 6}"'
                       f' fill="{colour}" fill-opacity="0.8"/>')
            if b.high > b.low:
                out.append(f'<line x1="{x_of(b.low):.1f}" x2="{x_of(b.high):.1f}" y1="{mid}" y2="{mid}"'
                           f' stroke="black" stroke-width="1"/>')
            if b.goal is not None:
                gx = x_of(b.goal)
                out.append(f'<line x1="{gx:.1f}" x2="{gx:.1f}" y1="{y + 1}" y2="{y + ROW - 1}"'
                           f' stroke="black" stroke-width="2"/>')
            out.append(f'<text x="{WIDTH - RIGHT + 6}" y="{mid + 4}">{b.ratio:.2f}×</text>')
            y += ROW
    for tick in (0.05, 0.1, 0.2, 0.3, 0.5, 1, 2):
        tx = x_of(tick)
        dash = ' stroke-dasharray="4 3"' if tick == 1 else ""
        out.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{grid_top}" y2="{y}" stroke="#bbb"{dash}/>')
        out.append(f'<text x="{tx:.1f}" y="{y + 14}" text-anchor="middle" fill="#555">{tick:g}×</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
