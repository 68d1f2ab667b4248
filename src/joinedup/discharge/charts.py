"""Server-rendered SVG charts for the discharge pages: pure (numbers in, escaped markup
out), no JavaScript. Each has a title and a description a screen reader reads instead
of the picture; the page shows the same figures in a table. Meaning never rests on
colour alone: lines carry markers and labels, the target line is dashed and named.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 24, 56
BLUE, INK, GRID, RED = "#005eb8", "#212b32", "#d8dde0", "#d5281b"


def _svg(ident: str, title: str, desc: str, body: list[str], height: int = HEIGHT) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" aria-labelledby="{ident}-title {ident}-desc" class="app-chart">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text is escaped


def _text(x: float, y: float, label: str, anchor: str = "middle", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{INK}" '
        f'text-anchor="{anchor}">{escape(label)}</text>'
    )


def _y_axis(high: float, unit: str) -> tuple[list[str], float]:
    top = _nice(high)
    parts = []
    for i in range(5):
        v = top * i / 4
        y = _y(v, top)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, f"{v:g}", anchor="end"))
    parts.append(_text(14, TOP - 8, unit, anchor="start"))
    return parts, top


def _nice(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return float(step * 4)
    return float(value)


def _y(value: float, top: float) -> float:
    return TOP + (1 - value / top) * (HEIGHT - TOP - BOTTOM)


def trend_chart(
    ident: str, title: str, points: Sequence[tuple[str, float | None]], *, unit: str, what: str
) -> Markup:
    """A line over periods (labels on the x axis, every few shown)."""
    known = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    if not known:
        return _svg(ident, title, f"No {what} to show.", [_text(WIDTH / 2, 40, "No data")], 60)
    axis, top = _y_axis(max(v for _, v in known), unit)
    span = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i / span * (WIDTH - LEFT - RIGHT)

    path = " ".join(
        f"{'M' if n == 0 else 'L'}{x(i):.1f},{_y(v, top):.1f}" for n, (i, v) in enumerate(known)
    )
    body = [*axis, f'<path d="{path}" fill="none" stroke="{BLUE}" stroke-width="2"/>']
    body += [
        f'<circle cx="{x(i):.1f}" cy="{_y(v, top):.1f}" r="2.5" fill="{BLUE}"/>' for i, v in known
    ]
    every = max(1, len(points) // 8)
    for i, (label, _) in enumerate(points):
        if i % every == 0 or i == len(points) - 1:
            body.append(_text(x(i), HEIGHT - BOTTOM + 16, label))
    first, last = known[0], known[-1]
    desc = (
        f"{what.capitalize()} over {len(points)} periods, from {first[1]:.1f} {unit} in "
        f"{points[first[0]][0]} to {last[1]:.1f} {unit} in {points[last[0]][0]}; highest "
        f"{max(v for _, v in known):.1f}, lowest {min(v for _, v in known):.1f}. "
        "The table below gives every value."
    )
    return _svg(ident, title, desc, body)


def curve_chart(
    ident: str,
    title: str,
    points: Sequence[tuple[float, float, float, float]],
    *,
    target: float,
    least: float | None,
    current: float | None,
    x_label: str,
) -> Markup:
    """Mean delay (with its 95% interval) against capacity, the target dashed, the least
    capacity meeting it and today's capacity marked and named."""
    if not points:
        return _svg(ident, title, "No capacities were simulated.", [], 60)
    xs = [p[0] for p in points]
    lo_x, hi_x = min(xs), max(xs)
    span = (hi_x - lo_x) or 1.0
    axis, top = _y_axis(max(*(p[3] for p in points), target * 1.2), "days")

    def x(v: float) -> float:
        return LEFT + (v - lo_x) / span * (WIDTH - LEFT - RIGHT)

    ty = _y(min(target, top), top)
    body = [
        *axis,
        (
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{RED}" stroke-dasharray="6 4"/>'
        ),
        _text(WIDTH - RIGHT, ty - 5, f"target {target:g} days", anchor="end"),
    ]
    for cap, _mean, low, high in points:
        body.append(
            f'<line x1="{x(cap):.1f}" x2="{x(cap):.1f}" y1="{_y(min(high, top), top):.1f}" '
            f'y2="{_y(max(low, 0), top):.1f}" stroke="{INK}"/>'
        )
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{x(c):.1f},{_y(min(m, top), top):.1f}"
        for i, (c, m, _, _) in enumerate(points)
    )
    body.append(f'<path d="{path}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    body += [
        f'<circle cx="{x(c):.1f}" cy="{_y(min(m, top), top):.1f}" r="3" fill="{BLUE}"/>'
        for c, m, _, _ in points
    ]
    for value, name, dy in ((least, "least meeting target", 14), (current, "today", 28)):
        if value is not None and lo_x <= value <= hi_x:
            body.append(
                f'<line x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                f'stroke="{INK}" stroke-dasharray="2 3"/>'
            )
            body.append(_text(x(value) + 4, TOP + dy, f"{name}: {value:g}", anchor="start"))
    for v in (lo_x, (lo_x + hi_x) / 2, hi_x):
        body.append(_text(x(v), HEIGHT - BOTTOM + 16, f"{v:,.0f}"))
    body.append(_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 12, x_label))
    at_least = f" The least capacity meeting the target is {least:g}." if least is not None else ""
    desc = (
        f"Mean delay against capacity from {lo_x:g} to {hi_x:g} {x_label}: "
        f"{points[0][1]:.1f} days at the lowest, {points[-1][1]:.1f} days at the highest; "
        f"target {target:g} days.{at_least} The table below gives every value with its interval."
    )
    return _svg(ident, title, desc, body)


def bands_chart(ident: str, title: str, bands: Sequence[tuple[str, float]]) -> Markup:
    """Share of discharges in each delay band, as labelled vertical bars."""
    axis, top = _y_axis(max([v for _, v in bands] + [1.0]), "%")
    slot = (WIDTH - LEFT - RIGHT) / max(len(bands), 1)
    body = list(axis)
    for i, (label, value) in enumerate(bands):
        x0 = LEFT + i * slot + slot * 0.2
        y = _y(value, top)
        body.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" '
            f'height="{HEIGHT - BOTTOM - y:.1f}" fill="{BLUE}"/>'
        )
        body.append(_text(x0 + slot * 0.3, y - 4, f"{value:.1f}%"))
        body.append(_text(x0 + slot * 0.3, HEIGHT - BOTTOM + 16, f"{label} days"))
    desc = (
        "Share of discharges by days of delay: "
        + ", ".join(f"{label} days {value:.1f}%" for label, value in bands)
        + "."
    )
    return _svg(ident, title, desc, body)
