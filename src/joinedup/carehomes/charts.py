"""The planner's chart: beds per 1,000 registered patients by practice, now and proposed.

Inline SVG, no JavaScript. It has a title and a plain-language description, every bar
says in words which alignment it is and its value, so colour is never the only cue, and
the page gives the same figures in a table.
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from joinedup.carehomes.planner import Comparison

WIDTH = 720
LEFT = 230
RIGHT = 130
BAR = 12
GAP = 12
CURRENT = "#768692"  # NHS mid grey
PROPOSED = "#005eb8"  # NHS blue
INK = "#212b32"
LINE = "#d5281b"
TITLE = "Beds per 1,000 registered patients, current and proposed"


def _text(x: float, y: float, label: str, anchor: str = "start", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{INK}" '
        f'text-anchor="{anchor}">{escape(label)}</text>'
    )


def describe(c: Comparison) -> str:
    cur, pro = c.current, c.proposed
    return (
        f"Care-home beds per 1,000 registered patients for {len(c.practices)} practices. "
        f"The borough has {c.borough_rate:.1f}. Now practices range from {cur.lowest_rate:.1f} "
        f"to {cur.highest_rate:.1f}; under the proposal from {pro.lowest_rate:.1f} to "
        f"{pro.highest_rate:.1f}. The table below gives every value."
    )


def _value(v: float) -> float:
    return v if math.isfinite(v) else 0.0


def rates_chart(c: Comparison, ident: str = "rates") -> Markup:
    values = [_value(v) for p in c.practices for v in (p.current_rate, p.proposed_rate)]
    high = max([c.borough_rate, *values, 1.0])
    plot = WIDTH - LEFT - RIGHT
    group = 2 * BAR + GAP
    height = 40 + len(c.practices) * group + 20
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
            f'width="100%" aria-labelledby="{ident}-title {ident}-desc" class="app-chart">'
        ),
        f'<title id="{ident}-title">{escape(TITLE)}</title>',
        f'<desc id="{ident}-desc">{escape(describe(c))}</desc>',
        f'<rect x="{LEFT}" y="6" width="12" height="10" fill="{CURRENT}"/>',
        _text(LEFT + 16, 15, "Current"),
        f'<rect x="{LEFT + 90}" y="6" width="12" height="10" fill="{PROPOSED}"/>',
        _text(LEFT + 106, 15, "Proposed"),
    ]
    x_line = LEFT + c.borough_rate / high * plot
    parts.append(
        f'<line x1="{x_line:.1f}" x2="{x_line:.1f}" y1="28" y2="{height - 14}" '
        f'stroke="{LINE}" stroke-dasharray="4 3"/>'
    )
    parts.append(_text(x_line, height - 3, f"Borough {c.borough_rate:.1f}", anchor="middle"))
    for i, p in enumerate(c.practices):
        y = 36 + i * group
        parts.append(_text(LEFT - 8, y + BAR + 4, p.name[:34], anchor="end"))
        for k, (label, value, colour) in enumerate(
            (("Current", p.current_rate, CURRENT), ("Proposed", p.proposed_rate, PROPOSED))
        ):
            v = _value(value)
            w = v / high * plot
            top = y + k * BAR
            parts.append(
                f'<rect x="{LEFT}" y="{top:.1f}" width="{w:.1f}" height="{BAR - 1}" '
                f'fill="{colour}"/>'
            )
            parts.append(_text(LEFT + w + 4, top + BAR - 2, f"{label} {v:.1f}", size=10))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
