"""Charts as inline SVG that read without anything else: an axis with values, the number at each bar or
point, no scripts and no fonts from outside. Every drawn mark carries data attributes, so a test can check
in a browser what is drawn."""

from __future__ import annotations

import html
import math

from vt_warehouse.publish.cells import ONTBREEKT, Cel, number

BLUE, ORANGE, GRID, INK = "#1f6fb4", "#e07b14", "#d8d8d8", "#222"


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and a few round values (steps of 1, 2, 2.5 or 5 times a power of ten) up to at least `top`."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def _number(value: float) -> str:
    """An axis value as the page writes numbers: a space between thousands, a decimal comma."""
    return number(value, " ", ",")


def _text(x: float, y: float, body: str, anchor: str = "start", size: int = 11, cls: str = "", extra: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return (
        f'<text{c} x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{INK}"{extra}>'
        f"{html.escape(body)}</text>"
    )


def bar_chart(title: str, rows: list[tuple[str, str, Cel]], color: str = BLUE) -> str:
    """Horizontal bars, one per (code, label, cell), with the value at the end of each bar and a value axis
    below; a suppressed or missing cell gets its symbol instead of a bar."""
    label_w, plot_w, row_h, top_pad = 200, 420, 19, 8
    values = [float(c.waarde) for _, _, c in rows if c.waarde is not None]
    ticks = nice_ticks(max(values, default=0))
    scale = plot_w / ticks[-1]
    height = top_pad + row_h * len(rows) + 36
    width = label_w + plot_w + 70
    parts = [
        f'<svg class="chart bars" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">'
    ]
    axis_y = top_pad + row_h * len(rows) + 4
    for t in ticks:
        x = label_w + t * scale
        parts.append(f'<line x1="{x:.1f}" y1="{top_pad}" x2="{x:.1f}" y2="{axis_y}" stroke="{GRID}"/>')
        parts.append(_text(x, axis_y + 14, _number(t), "middle", 10, "tick"))
    parts.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" stroke="{INK}"/>')
    for i, (code, label, cel) in enumerate(rows):
        y = top_pad + i * row_h
        parts.append(_text(label_w - 6, y + 13, label, "end", 11))
        if cel.waarde is None:  # a mark, no bar; `.` said in words, as a dot alone is easily missed
            said = f"{cel.symbool} (gegevens ontbreken)" if cel.symbool == ONTBREEKT else cel.symbool
            parts.append(
                _text(
                    label_w + 4, y + 13, said, "start", 11, "value", f' data-region="{code}" data-value="{cel.symbool}"'
                )
            )
            continue
        w = float(cel.waarde) * scale
        parts.append(
            f'<rect class="bar" data-region="{code}" data-value="{cel.waarde}" x="{label_w}" y="{y + 3}" '
            f'width="{w:.1f}" height="{row_h - 6}" fill="{color}"/>'
        )
        parts.append(_text(label_w + w + 4, y + 13, cel.text(" ", ","), "start", 10, "value", f' data-region="{code}"'))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str, points: list[tuple[str, Cel | None]], color: str = BLUE, breuken: list[int] | None = None
) -> str:
    """A line over the half-years (label, cell): a y axis with values, a dot and its value at every point with
    a number; the line breaks where a half-year has none (a symbol is written at the axis instead), and at a
    trendbreuk before point i in `breuken`, where a dashed vertical line is drawn."""
    left, plot_w, plot_h, top = 56, 380, 150, 34
    values = [float(c.waarde) for _, c in points if c is not None and c.waarde is not None]
    ticks = nice_ticks(max(values, default=0))
    scale = plot_h / (ticks[-1] or 1)
    step = plot_w / max(len(points), 1)
    width, height = left + plot_w + 12, top + plot_h + 52
    parts = [
        f'<svg class="chart line" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">',
        _text(left, 14, title, "start", 12, "title", ' font-weight="bold"'),
    ]
    base = top + plot_h
    for t in ticks:
        y = base - t * scale
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 4, y + 4, _number(t), "end", 10, "tick"))
    parts.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="{INK}"/>')
    label_every = 1 if len(points) <= 8 else 2
    segment: list[str] = []
    dots = []
    for i, (label, cel) in enumerate(points):
        x = left + step * (i + 0.5)
        if i in (breuken or []):
            if len(segment) > 1:
                parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(segment)}"/>')
            segment = []
            xb = x - step / 2
            parts.append(
                f'<line class="trendbreuk" x1="{xb:.1f}" y1="{top - 6}" x2="{xb:.1f}" y2="{base}" '
                f'stroke="{INK}" stroke-dasharray="4 3"/>'
            )
            parts.append(_text(xb + 3, top, "trendbreuk", "start", 9, "trendbreuk"))
        if i % label_every == 0 or i == len(points) - 1:
            parts.append(_text(x, base + 14, label, "middle", 9, "xlabel"))
        if cel is None or cel.waarde is None:
            if len(segment) > 1:
                parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(segment)}"/>')
            segment = []
            parts.append(_text(x, base - 4, cel.symbool if cel is not None else "", "middle", 11, "value"))
            continue
        y = base - float(cel.waarde) * scale
        segment.append(f"{x:.1f},{y:.1f}")
        dots.append(
            f'<circle class="punt" data-periode="{html.escape(label)}" data-value="{cel.waarde}" '
            f'cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>'
        )
        if len(points) <= 8 or i in (0, len(points) - 1):
            dots.append(_text(x, y - 7, cel.text(" ", ","), "middle", 10, "value"))
    if len(segment) > 1:
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(segment)}"/>')
    parts += dots
    parts.append("</svg>")
    return "".join(parts)
