"""Charts people can read at a glance: small server-side SVGs, always beside a table of the numbers.

No JavaScript and no charting library: an SVG with a <title> and <desc>, labelled axes, the
target drawn as a line, and colours that do not carry meaning on their own (each bar is labelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 24, 56
BAR = "#1d70b8"  # GOV.UK blue
TARGET = "#d4351c"  # GOV.UK red, dashed as well, so it does not rely on colour


@dataclass(frozen=True)
class Point:
    """One labelled value (a period, an organisation, a lot)."""

    label: str
    value: float | None


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value  # pragma: no cover


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"


def bar_chart(
    title: str,
    points: list[Point],
    *,
    target: float | None = None,
    unit: str = "",
    ident: str = "chart",
) -> str:
    """A bar chart as SVG; missing values are shown as gaps labelled 'no data'.

    `ident` keeps the title's and description's ids unique when a page has several charts.
    """
    values = [p.value for p in points if p.value is not None]
    top = _nice_max(max([*values, target or 0, 0]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points), 1)
    summary = "; ".join(
        f"{p.label}: {'no data' if p.value is None else _fmt(p.value) + unit}" for p in points
    )
    if target is not None:
        summary += f"; target {_fmt(target)}{unit}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" class="app-chart">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(summary)}</desc>',
    ]
    for i in range(5):  # gridlines and the value axis
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b1b4b6" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12">{_fmt(value)}</text>'
        )
    for i, p in enumerate(points):
        x = LEFT + step * i + step * 0.15
        width = step * 0.7
        label_x = LEFT + step * i + step / 2
        if p.value is None:
            parts.append(
                f'<text x="{label_x:.1f}" y="{TOP + plot_h - 4:.1f}" text-anchor="middle" font-size="11">no data</text>'
            )
        else:
            h = plot_h * max(p.value, 0) / top
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{BAR}"/>'
            )
            parts.append(
                f'<text x="{label_x:.1f}" y="{TOP + plot_h - h - 4:.1f}" text-anchor="middle" font-size="12">{_fmt(p.value)}</text>'
            )
        parts.append(
            f'<text x="{label_x:.1f}" y="{HEIGHT - BOTTOM + 18:.1f}" text-anchor="middle" font-size="12">{escape(p.label[:18])}</text>'
        )
    if target is not None:
        y = TOP + plot_h - plot_h * target / top
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{TARGET}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{y - 6:.1f}" text-anchor="end" font-size="12">target {_fmt(target)}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
