"""Server-rendered SVG charts for the citizens' pages: pure (numbers in, escaped markup
out), no JavaScript, no inline styles (the content security policy forbids them).

Each chart has a title and a plain-language description for screen readers, and the page
shows the same figures in a table. Colour is never the only cue: the pool's bars are
solid, the population's are outlined, and every bar has its value written beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
LEFT = 230
RIGHT = 70
BAR = 12
ROW = 34
BLUE = "#005eb8"
GREY = "#4c6272"
INK = "#212b32"
GRID = "#d8dde0"


@dataclass(frozen=True)
class Pair:
    label: str
    pool: float  # a share, 0..1
    population: float | None


def _text(x: float, y: float, label: str, anchor: str = "start", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{INK}" '
        f'text-anchor="{anchor}">{escape(label)}</text>'
    )


def _open(ident: str, title: str, desc: str, height: float) -> list[str]:
    return [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} '
            f'{height:.0f}" width="100%" aria-labelledby="{ident}-title {ident}-desc" '
            'class="citizens-chart">'
        ),
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]


def describe_shares(title: str, pairs: Sequence[Pair]) -> str:
    """The chart in a sentence: the largest shortfall against the population, if any."""
    gaps = [(p.label, p.pool - p.population) for p in pairs if p.population is not None]
    if not gaps:
        return f"{title}: the pool's share of each group; the population is not known."
    label, gap = min(gaps, key=lambda g: g[1])
    if gap >= 0:
        return f"{title}: no group's share of the pool is below its share of the population."
    return (
        f"{title}: the pool against the adult population. The largest shortfall is "
        f"{label}, {-100 * gap:.1f} percentage points below its population share. "
        "The table gives every figure."
    )


def share_chart(ident: str, title: str, pairs: Sequence[Pair]) -> Markup:
    """For each group, the pool's share (solid bar) above the population's (outline)."""
    top = 34
    height = top + len(pairs) * ROW + 8
    largest = max([0.01, *(max(p.pool, p.population or 0.0) for p in pairs)])
    scale = (WIDTH - LEFT - RIGHT) / largest
    parts = _open(ident, title, describe_shares(title, pairs), height)
    parts += [
        f'<rect x="{LEFT}" y="6" width="14" height="10" fill="{BLUE}"/>',
        _text(LEFT + 20, 15, "Volunteers (solid)"),
        (
            f'<rect x="{LEFT + 170}" y="6" width="14" height="10" fill="#ffffff" '
            f'stroke="{GREY}" stroke-width="1.5"/>'
        ),
        _text(LEFT + 190, 15, "Adult population (outline)"),
    ]
    for i, pair in enumerate(pairs):
        y = top + i * ROW
        parts.append(_text(LEFT - 8, y + BAR + 4, pair.label[:34], anchor="end"))
        width = pair.pool * scale
        parts.append(
            f'<rect x="{LEFT}" y="{y:.1f}" width="{width:.1f}" height="{BAR}" fill="{BLUE}"/>'
        )
        parts.append(_text(LEFT + width + 4, y + BAR - 2, f"{100 * pair.pool:.1f}%", size=11))
        if pair.population is not None:
            width = pair.population * scale
            parts.append(
                f'<rect x="{LEFT}" y="{y + BAR + 2:.1f}" width="{width:.1f}" height="{BAR - 2}" '
                f'fill="#ffffff" stroke="{GREY}" stroke-width="1.5"/>'
            )
            label = f"{100 * pair.population:.1f}%"
            parts.append(_text(LEFT + width + 4, y + 2 * BAR, label, size=11))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or a number


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    count: int

    @property
    def label(self) -> str:
        return f"{self.low:.3f} to {self.high:.3f}"


def chance_bands(probabilities: Sequence[float], *, bands: int = 10) -> list[Band]:
    """Volunteers counted by chance of selection, in equal-width bands from 0 to the
    highest chance (so an even lottery shows as one tall bar)."""
    high = max([*probabilities, 1e-9])
    width = high / bands
    counts = [0] * bands
    for p in probabilities:
        counts[min(int(p / width), bands - 1)] += 1
    return [Band(i * width, (i + 1) * width, n) for i, n in enumerate(counts)]


def chance_chart(ident: str, bands: Sequence[Band], equal_share: float) -> Markup:
    """How many volunteers have each chance, with the equal share k/n marked."""
    top, bottom, left = 20, 44, 60
    plot_w, plot_h = WIDTH - left - 20, 200.0
    height = top + plot_h + bottom
    most = max([1, *(b.count for b in bands)])
    high = bands[-1].high if bands else 1.0
    step = plot_w / max(1, len(bands))
    desc = (
        f"How many of the {sum(b.count for b in bands)} volunteers have each chance of "
        f"selection. The equal share, panel size over pool size, is {equal_share:.4f}. "
        "The table gives every band."
    )
    parts = _open(ident, "Volunteers by chance of selection", desc, height)
    base = top + plot_h
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{base}" y2="{base}" stroke="{GRID}"/>'
    )
    for i, band in enumerate(bands):
        h = band.count / most * plot_h
        x = left + i * step
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{base - h:.1f}" width="{step - 4:.1f}" height="{h:.1f}" '
            f'fill="{BLUE}"/>'
        )
        parts.append(_text(x + step / 2, base - h - 4, str(band.count), anchor="middle", size=11))
        parts.append(_text(x + step / 2, base + 14, f"{band.low:.3f}", anchor="middle", size=10))
    x = left + min(equal_share / high, 1.0) * plot_w if high else left
    parts.append(
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{base}" stroke="{INK}" '
        'stroke-width="2" stroke-dasharray="6 4"/>'
    )
    parts.append(_text(x + 4, top + 10, f"equal share {equal_share:.4f} (dashed line)", size=11))
    parts.append(_text(left + plot_w / 2, base + 34, "Chance of selection", anchor="middle"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or a number
