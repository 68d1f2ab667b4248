"""Server-rendered SVG charts: values with their confidence intervals, and trends.

Every chart is drawn from the same rows its data table shows, carries a title and a
plain-language description (``aria-labelledby`` on the SVG), and needs no JavaScript.
Pure: strings in, markup out; every label is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

ROW = 26
LEFT = 230
WIDTH = 720
PLOT = WIDTH - LEFT - 30
COLOURS = ("#005eb8", "#d5281b", "#007f3b", "#330072")


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None
    lower: float | None = None
    upper: float | None = None


def _text(
    x: float,
    y: float,
    label: object,
    *,
    size: int = 12,
    anchor: str = "middle",
    fill: str = "#212b32",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(str(label))}</text>'
    )


def _line(
    x1: float, x2: float, y1: float, y2: float, *, stroke: str = "#d8dde0", extra: str = ""
) -> str:
    return (
        f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="{stroke}"{extra}/>'
    )


def _open(ident: str, height: int, title: str, desc: str) -> list[str]:
    return [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="ju-chart" role="img" '
            f'viewBox="0 0 {WIDTH} {height}" width="100%" '
            f'aria-labelledby="{ident}-title {ident}-desc">'
        ),
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    span = high - low or 1.0
    raw = span / count
    step = min(
        (
            s
            for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000, 2000, 5000)
            if s >= raw
        ),
        default=raw,
    )
    start = (low // step) * step
    ticks = []
    value = start
    while value <= high + 1e-9:
        if value >= low - 1e-9:
            ticks.append(round(value, 6))
        value += step
    return ticks


def interval_chart(
    ident: str,
    title: str,
    points: Sequence[Point],
    *,
    unit: str,
    reference: float | None = None,
    reference_label: str = "",
) -> Markup:
    """Horizontal dots with whiskers, one row per point; a dashed line for the reference."""
    shown = [p for p in points if p.value is not None]
    values = [v for p in shown for v in (p.value, p.lower, p.upper) if v is not None]
    if reference is not None:
        values.append(reference)
    if not values:
        return Markup("")
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or 1.0
    low, high = low - pad, high + pad

    def x(v: float) -> float:
        return LEFT + (v - low) / (high - low) * PLOT

    height = 40 + ROW * len(points) + 30
    desc = describe(points, unit=unit, reference=reference, reference_label=reference_label)
    parts = _open(ident, height, title, desc)
    for tick in _ticks(low, high):
        parts.append(_line(x(tick), x(tick), 30, height - 30))
        parts.append(_text(x(tick), height - 12, f"{tick:g}"))
    if reference is not None:
        dash = ' stroke-dasharray="4 3"'
        parts.append(
            _line(x(reference), x(reference), 24, height - 30, stroke="#212b32", extra=dash)
        )
        parts.append(_text(x(reference), 18, reference_label))
    for i, p in enumerate(points):
        y = 40 + ROW * i + ROW / 2
        parts.append(_text(LEFT - 8, y + 4, p.label, size=13, anchor="end"))
        if p.value is None:
            parts.append(_text(LEFT + 4, y + 4, "not shown", anchor="start", fill="#4c6272"))
            continue
        if p.lower is not None and p.upper is not None:
            width = ' stroke-width="2"'
            parts.append(_line(x(p.lower), x(p.upper), y, y, stroke="#005eb8", extra=width))
        parts.append(f'<circle cx="{x(p.value):.1f}" cy="{y:.1f}" r="5" fill="#005eb8"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated label is escaped


def describe(
    points: Sequence[Point], *, unit: str, reference: float | None = None, reference_label: str = ""
) -> str:
    shown = [p for p in points if p.value is not None]
    if not shown:
        return "No values can be shown."
    top = max(shown, key=lambda p: p.value or 0.0)
    bottom = min(shown, key=lambda p: p.value or 0.0)
    text = (
        f"{len(shown)} values. Highest: {top.label}, {top.value:g} {unit}. "
        f"Lowest: {bottom.label}, {bottom.value:g} {unit}."
    )
    if reference is not None:
        text += f" {reference_label}: {reference:g} {unit}."
    hidden = len(points) - len(shown)
    if hidden:
        text += f" {hidden} not shown (small numbers)."
    return text


def line_chart(ident: str, title: str, series: dict[str, list[Point]], *, unit: str) -> Markup:
    """One line per series over the same labelled periods."""
    labels = next(iter(series.values()), [])
    values = [p.value for s in series.values() for p in s if p.value is not None]
    if len(labels) < 1 or not values:
        return Markup("")
    low, high = min(values), max(values)
    pad = (high - low) * 0.15 or 1.0
    low, high = low - pad, high + pad
    height, top, bottom = 280, 30, 240
    step = PLOT / max(len(labels) - 1, 1)

    def y(v: float) -> float:
        return bottom - (v - low) / (high - low) * (bottom - top)

    lines = [
        f"{name}: " + ", ".join(f"{p.label} {p.value:g}" for p in pts if p.value is not None)
        for name, pts in series.items()
    ]
    parts = _open(ident, height, title, f"Values in {unit}. " + "; ".join(lines) + ".")
    for tick in _ticks(low, high):
        parts.append(_line(LEFT, LEFT + PLOT, y(tick), y(tick)))
        parts.append(_text(LEFT - 8, y(tick) + 4, f"{tick:g}", anchor="end"))
    for i, p in enumerate(labels):
        parts.append(_text(LEFT + i * step, height - 16, p.label))
    for k, (name, pts) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        coords = [(LEFT + i * step, y(p.value)) for i, p in enumerate(pts) if p.value is not None]
        if len(coords) > 1:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for cx, cy in coords:
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}"/>')
        last = coords[-1][1] if coords else top
        parts.append(_text(LEFT + PLOT, last - 8, name, anchor="end", fill=colour))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - labels escaped
