"""Server-rendered SVG bar charts: pure (strings in, escaped markup out), no JavaScript.

Each chart carries a title and a plain-language description (``aria-labelledby``); the
page shows the same numbers in a data table beside it. Colour is never the only cue:
every bar has its value written at its end.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 720
LEFT = 260
RIGHT = 70
BAR = 18
GAP = 8
BLUE = "#005eb8"
RED = "#d5281b"
INK = "#212b32"
GRID = "#d8dde0"


def _text(x: float, y: float, label: str, anchor: str = "start", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{INK}" '
        f'text-anchor="{anchor}">{escape(label)}</text>'
    )


def _short(label: str, limit: int = 40) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def describe(points: Sequence[tuple[str, float | None]], unit: str, what: str) -> str:
    """A sentence a screen reader can use instead of the picture."""
    known = [(label, v) for label, v in points if v is not None]
    if not known:
        return f"No {what} can be shown."
    high = max(known, key=lambda p: p[1])
    low = min(known, key=lambda p: p[1])
    hidden = len(points) - len(known)
    text = (
        f"{what.capitalize()} for {len(points)} groups: highest {high[0]} at "
        f"{high[1]:.1f}{unit}, lowest {low[0]} at {low[1]:.1f}{unit}."
    )
    if hidden:
        text += f" {hidden} not shown (hidden or not applicable)."
    return text + " The table below gives every value."


def bar_chart(
    ident: str, title: str, points: Sequence[tuple[str, float | None]], *, unit: str = "%"
) -> Markup:
    """Horizontal bars from a zero line; negative values (over establishment) go left."""
    values = [v for _, v in points if v is not None]
    low, high = min([0.0, *values]), max([0.0, *values])
    span = (high - low) or 1.0
    plot = WIDTH - LEFT - RIGHT
    zero = LEFT + (0 - low) / span * plot
    height = 30 + len(points) * (BAR + GAP) + 10
    desc = describe(points, unit, title.lower())
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" aria-labelledby="{ident}-title {ident}-desc" class="app-chart">'
        ),
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="20" y2="{height - 10}" stroke="{GRID}"/>',
        _text(zero, 14, f"0{unit}", anchor="middle", size=11),
    ]
    for i, (label, value) in enumerate(points):
        y = 30 + i * (BAR + GAP)
        parts.append(_text(LEFT - 8, y + BAR - 5, _short(label), anchor="end"))
        if value is None:
            parts.append(_text(zero + 6, y + BAR - 5, "not shown"))
            continue
        x = zero + min(value - 0, 0) / span * plot
        w = abs(value) / span * plot
        colour = RED if value < 0 else BLUE
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{BAR}" fill="{colour}"/>'
        )
        end = zero + value / span * plot
        anchor = "start" if value >= 0 else "end"
        offset = 6 if value >= 0 else -6
        parts.append(_text(end + offset, y + BAR - 5, f"{value:.1f}{unit}", anchor=anchor))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and number is escaped above
