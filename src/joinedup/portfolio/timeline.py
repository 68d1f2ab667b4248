"""The programme timeline by financial year, as server-rendered SVG. Pure: no Django.

A financial year runs from 1 April to 31 March ("2025/26"). Each programme is a bar from
its start to its end; each milestone a marker at the date it happened or is forecast,
its shape as well as its colour saying its RAG (circle green, triangle amber, square
red, diamond complete), and a thin line back to its planned date when it has slipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH = 960
LEFT = 230
RIGHT = 20
ROW = 34
TOP = 40
COLOURS = {"green": "#007f3b", "amber": "#ffb81c", "red": "#d5281b", "complete": "#005eb8"}
INK = "#212b32"


@dataclass(frozen=True)
class Mark:
    title: str
    planned: date
    expected: date
    rag: str


@dataclass(frozen=True)
class Lane:
    label: str
    start: date
    end: date
    marks: Sequence[Mark]


def financial_year(day: date) -> int:
    """The calendar year a financial year starts in (1 April)."""
    return day.year if day.month >= 4 else day.year - 1


def fy_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def _el(tag: str, body: str = "", /, **attrs: object) -> str:
    """One SVG element; attribute names use _ for -."""
    pairs = " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f"<{tag} {pairs}>{body}</{tag}>" if body else f"<{tag} {pairs}/>"


def _points(*xy: float) -> str:
    return " ".join(f"{xy[i]:.1f},{xy[i + 1]:.1f}" for i in range(0, len(xy), 2))


def _shape(rag: str, x: float, y: float) -> str:
    paint: dict[str, object] = {"fill": COLOURS.get(rag, INK), "stroke": INK}
    if rag == "amber":
        return _el("polygon", points=_points(x, y - 7, x + 7, y + 6, x - 7, y + 6), **paint)
    if rag == "red":
        return _el("rect", x=f"{x - 6:.1f}", y=f"{y - 6:.1f}", width=12, height=12, **paint)
    if rag == "complete":
        diamond = _points(x, y - 7, x + 7, y, x, y + 7, x - 7, y)
        return _el("polygon", points=diamond, **paint)
    return _el("circle", cx=f"{x:.1f}", cy=f"{y:.1f}", r=6, **paint)


def _label(x: float, y: float, text: str, anchor: str) -> str:
    return _el(
        "text",
        str(escape(text)),
        x=f"{x:.1f}",
        y=f"{y:.1f}",
        font_size=12,
        text_anchor=anchor,
        fill=INK,
    )


def _vline(x: float, top: float, bottom: float, stroke: str, **extra: object) -> str:
    return _el("line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=top, y2=bottom, stroke=stroke, **extra)


def describe(lanes: Sequence[Lane], today: date) -> str:
    marks = [m for lane in lanes for m in lane.marks]
    counts = {rag: sum(m.rag == rag for m in marks) for rag in COLOURS}
    return (
        f"{len(lanes)} programmes with {len(marks)} milestones: {counts['complete']} complete, "
        f"{counts['green']} green, {counts['amber']} amber and {counts['red']} red on "
        f"{today:%-d %B %Y}. The table below lists every milestone."
    )


def timeline_svg(ident: str, lanes: Sequence[Lane], *, today: date) -> Markup:
    if not lanes:
        return Markup("")
    first = financial_year(min(*(lane.start for lane in lanes), today))
    dates = [d for lane in lanes for d in (lane.end, *(m.expected for m in lane.marks))]
    last = financial_year(max([*dates, today])) + 1
    origin, finish = date(first, 4, 1), date(last, 4, 1)
    span = (finish - origin).days
    plot = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        return LEFT + (day - origin).days / span * plot

    height = TOP + len(lanes) * ROW + 10
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" aria-labelledby="{ident}-title {ident}-desc" class="app-chart">'
        ),
        f'<title id="{ident}-title">Programme timeline by financial year</title>',
        f'<desc id="{ident}-desc">{escape(describe(lanes, today))}</desc>',
    ]
    for year in range(first, last + 1):
        parts.append(_vline(x(date(year, 4, 1)), 20, height - 5, "#d8dde0"))
        if year < last:
            parts.append(_label(x(date(year, 10, 1)), 16, fy_label(year), "middle"))
    parts.append(_vline(x(today), 22, height - 5, INK, stroke_dasharray="4 3"))
    for i, lane in enumerate(lanes):
        y = TOP + i * ROW + ROW / 2
        label = lane.label if len(lane.label) <= 32 else lane.label[:31] + "…"
        parts.append(_label(LEFT - 8, y + 4, label, "end"))
        width = max(1.0, x(lane.end) - x(lane.start))
        parts.append(
            _el(
                "rect",
                x=f"{x(lane.start):.1f}",
                y=f"{y - 4:.1f}",
                width=f"{width:.1f}",
                height=8,
                fill="#aeb7bd",
            )
        )
        for mark in lane.marks:
            if mark.expected != mark.planned:
                parts.append(
                    _el(
                        "line",
                        x1=f"{x(mark.planned):.1f}",
                        x2=f"{x(mark.expected):.1f}",
                        y1=f"{y:.1f}",
                        y2=f"{y:.1f}",
                        stroke=INK,
                    )
                )
            parts.append(_shape(mark.rag, x(mark.expected), y))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label is escaped above
