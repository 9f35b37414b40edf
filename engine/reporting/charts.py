"""Charts people can read at a glance: small server-side SVGs, always beside a table of the numbers.

No JavaScript and no charting library: an SVG with a <title> and <desc>, labelled axes, the
target drawn as a line, and colours that do not carry meaning on their own (each bar is labelled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 24, 56
BAR = "#1d70b8"  # GOV.UK blue
TARGET = "#d4351c"  # GOV.UK red, dashed as well, so it does not rely on colour
# GOV.UK Frontend's font stack, as the site's CSS gives its text: an SVG's own default is a serif
FONT = "'GDS Transport', arial, sans-serif"


@dataclass(frozen=True)
class Point:
    """One labelled value (a period, an organisation, a lot)."""

    label: str
    value: float | None
    note: str = ""  # said instead of the value when there is none, e.g. "not reported"


def _ticks(low: float, high: float, whole: bool) -> list[float]:
    """Axis values from `low` (0 or below) to at least `high`, in about four even, round steps;
    whole numbers only when `whole` (counts: never half a person)."""
    span = high - low if high > low else 1.0
    raw = span / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = 10 * magnitude
    for m in (1, 2, 2.5, 5, 10):
        candidate = m * magnitude
        if whole and (candidate < 1 or not float(candidate).is_integer()):
            continue
        if candidate >= raw:
            step = candidate
            break
    step = max(step, 1.0) if whole else step
    bottom = math.floor(low / step + 1e-9) * step
    top = max(math.ceil(high / step - 1e-9) * step, bottom + step)
    return [bottom + step * i for i in range(round((top - bottom) / step) + 1)]


def _whole(values: list[float], unit: str) -> bool:
    """Whether an axis should count in whole numbers: every value is one, and none is a share."""
    return unit != "%" and all(float(v).is_integer() for v in values)


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
    whole: bool | None = None,
) -> str:
    """A bar chart as SVG; a missing value is a gap labelled with its note ('no data' without one).

    `ident` keeps the title's and description's ids unique when a page has several charts;
    `whole` makes the axis count in whole numbers (None: when every value is a whole number).
    """
    values = [p.value for p in points if p.value is not None]
    shown = [*values, *([target] if target is not None else [])]
    ticks = _ticks(0, max([*shown, 0]), _whole(shown, unit) if whole is None else whole)
    top = ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points), 1)
    summary = "; ".join(
        f"{p.label}: {(p.note or 'no data') if p.value is None else _fmt(p.value) + unit}"
        for p in points
    )
    if target is not None:
        summary += f"; target {_fmt(target)}{unit}"
    parts = _svg_open(ident, title, summary, HEIGHT)
    for value in ticks:  # gridlines and the value axis
        y = TOP + plot_h - plot_h * value / top
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
                f'<text x="{label_x:.1f}" y="{TOP + plot_h - 4:.1f}" text-anchor="middle" font-size="11">{escape(p.note or "no data")}</text>'
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


# Lines for trends: each series has its own colour, dash pattern and marker shape, so no series is
# told apart by colour alone (GOV.UK palette: blue, orange, green, purple, pink, turquoise, brown).
COLOURS = ("#1d70b8", "#f47738", "#00703c", "#4c2c92", "#d53880", "#28a197", "#b58840", "#0b0c0c")
DASHES = ("", "8 4", "2 3", "12 4 2 4")
MARKERS = ("circle", "square", "triangle", "diamond")


@dataclass(frozen=True)
class Series:
    """One line of a trend chart: a name and a value (or None, a gap) per period."""

    name: str
    values: tuple[float | None, ...]
    notes: tuple[str, ...] = ()  # what each gap is ("not reported"); "no data" where not given

    def note(self, i: int) -> str:
        """What the gap at period `i` is."""
        return (self.notes[i] if i < len(self.notes) else "") or "no data"


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == "triangle":
        return f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}" fill="{colour}"/>'
    if shape == "diamond":
        return f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'


def _svg_open(ident: str, title: str, summary: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" class="app-chart" font-family="{FONT}">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(summary)}</desc>',
    ]


def line_chart(
    title: str,
    labels: list[str],
    series: list[Series],
    *,
    target: float | None = None,
    unit: str = "",
    ident: str = "chart",
    whole: bool | None = None,
) -> str:
    """A line chart as SVG, one line per series over the labelled periods; gaps where no data
    (each said as its series' note: "not reported"), a whole-number axis as `bar_chart`'s.

    Every value is in the description; with one series each point is labelled with its value,
    with several a legend names each line by its colour, dash and marker.
    """
    values = [v for s in series for v in s.values if v is not None]
    shown = [*values, *([target] if target is not None else [])]
    ticks = _ticks(
        min([*values, 0]), max([*shown, 0]), _whole(shown, unit) if whole is None else whole
    )
    bottom, top = ticks[0], ticks[-1]
    legend_h = 0 if len(series) < 2 else 20 * ((len(series) + 2) // 3)
    height = HEIGHT + legend_h
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)

    def y_of(value: float) -> float:
        return TOP + plot_h - plot_h * (value - bottom) / (top - bottom)

    def show(s: Series, i: int) -> str:
        value = s.values[i] if i < len(s.values) else None
        return s.note(i) if value is None else _fmt(value) + unit

    if len(series) == 1:
        summary = "; ".join(f"{lab}: {show(series[0], i)}" for i, lab in enumerate(labels))
    else:
        summary = "; ".join(
            f"{lab}: " + ", ".join(f"{s.name} {show(s, i)}" for s in series)
            for i, lab in enumerate(labels)
        )
    if target is not None:
        summary += f"; target {_fmt(target)}{unit}"
    parts = _svg_open(ident, title, summary, height)
    for value in ticks:  # gridlines and the value axis
        y = y_of(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#b1b4b6" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12">{_fmt(value)}</text>'
        )
    every = max(1, -(-len(labels) // 8))  # at most eight period labels fit under the axis
    for i, lab in enumerate(labels):
        if (
            len(labels) - 1 - i
        ) % every == 0:  # counted back from the latest, which is always named
            x = LEFT + step * i + step / 2
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18:.1f}" text-anchor="middle" font-size="12">{escape(lab[:18])}</text>'
            )
    if target is not None:
        y = y_of(target)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{TARGET}" stroke-width="2" stroke-dasharray="6 4"/>'
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{y - 6:.1f}" text-anchor="end" font-size="12">target {_fmt(target)}{escape(unit)}</text>'
        )
    for n, s in enumerate(series):
        colour, dash, shape = (
            COLOURS[n % len(COLOURS)],
            DASHES[n % len(DASHES)],
            MARKERS[n % len(MARKERS)],
        )
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        points = [(LEFT + step * i + step / 2, v) for i, v in enumerate(s.values[: len(labels)])]
        run: list[str] = []
        for x, v in [*points, (0.0, None)]:  # a None ends a run: the line breaks at a gap
            if v is not None:
                run.append(f"{x:.1f},{y_of(v):.1f}")
            elif run:
                if len(run) > 1:
                    parts.append(
                        f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"{dashed}/>'
                    )
                run = []
        for i, (x, v) in enumerate(points):
            if v is None:
                if len(series) == 1 and values:
                    parts.append(
                        f'<text x="{x:.1f}" y="{y_of(bottom) - 4:.1f}" text-anchor="middle" font-size="11">{escape(s.note(i))}</text>'
                    )
                continue
            parts.append(_marker(shape, x, y_of(v), colour))
            if len(series) == 1:
                parts.append(
                    f'<text x="{x:.1f}" y="{y_of(v) - 8:.1f}" text-anchor="middle" font-size="12">{_fmt(v)}</text>'
                )
        if len(series) > 1:
            lx = LEFT + (n % 3) * (plot_w / 3)
            ly = HEIGHT + 20 * (n // 3) - 4
            parts.append(
                f'<line x1="{lx:.1f}" x2="{lx + 24:.1f}" y1="{ly:.1f}" y2="{ly:.1f}" stroke="{colour}" stroke-width="2"{dashed}/>'
            )
            parts.append(_marker(shape, lx + 12, ly, colour))
            parts.append(
                f'<text x="{lx + 30:.1f}" y="{ly + 4:.1f}" font-size="12">{escape(s.name[:28])}</text>'
            )
    if not values:
        gaps = {s.note(i) for s in series for i in range(len(labels))}
        said = "nothing reported yet" if gaps == {"not reported"} else "no data yet"
        parts.append(
            f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" font-size="14">{said}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Share:
    """One category of a breakdown: its share in percent (None when hidden), and a comparison's."""

    label: str
    value: float | None
    compare: float | None = None
    note: str = ""  # said instead of the value when there is none, e.g. "fewer than 5"


def share_chart(
    title: str, rows: list[Share], *, compare_label: str = "population", ident: str = "chart"
) -> str:
    """Horizontal bars of percentages, one per category, with a comparison share marked on each.

    The comparison is a black diamond on a line across the bar's row, named in a key, so it does
    not rely on colour; every share and comparison is in the description.
    """
    label_w, row_h, top_pad = 240, 28, 28
    height = top_pad + row_h * max(len(rows), 1) + 32
    shown = [r.value for r in rows if r.value is not None] + [
        r.compare for r in rows if r.compare is not None
    ]
    top = _nice_max(max([*shown, 0]))
    x0, plot_w = label_w, WIDTH - label_w - RIGHT - 48

    def x_of(v: float) -> float:
        return x0 + plot_w * max(v, 0) / top

    def said(r: Share) -> str:
        text = (r.note or "no data") if r.value is None else f"{_fmt(r.value)}%"
        return text + (f", {compare_label} {_fmt(r.compare)}%" if r.compare is not None else "")

    summary = "; ".join(f"{r.label}: {said(r)}" for r in rows)
    parts = _svg_open(ident, title, summary, height)
    for i in range(5):
        value = top * i / 4
        x = x_of(value)
        y_end = top_pad + row_h * len(rows)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top_pad - 4}" y2="{y_end}" stroke="#b1b4b6" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{y_end + 16}" text-anchor="middle" font-size="12">{_fmt(value)}%</text>'
        )
    for i, r in enumerate(rows):
        y = top_pad + row_h * i
        label = r.label if len(r.label) <= 36 else r.label[:35] + "…"
        parts.append(
            f'<text x="{x0 - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" font-size="12">{escape(label)}</text>'
        )
        if r.value is None:
            parts.append(
                f'<text x="{x0 + 4}" y="{y + row_h / 2 + 4:.1f}" font-size="12">{escape(r.note or "no data")}</text>'
            )
        else:
            w = x_of(r.value) - x0
            parts.append(
                f'<rect x="{x0}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" fill="{BAR}"/>'
            )
            parts.append(
                f'<text x="{x0 + w + 4:.1f}" y="{y + row_h / 2 + 4:.1f}" font-size="12">{_fmt(r.value)}%</text>'
            )
        if r.compare is not None:
            cx, cy = x_of(r.compare), y + row_h / 2
            parts.append(
                f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y + 2}" y2="{y + row_h - 2}" stroke="#0b0c0c" stroke-width="2"/>'
            )
            parts.append(_marker("diamond", cx, cy, "#0b0c0c"))
    if any(r.compare is not None for r in rows):
        parts.append(_marker("diamond", x0 + 6, 12, "#0b0c0c"))
        parts.append(
            f'<text x="{x0 + 16}" y="16" font-size="12">{escape(compare_label)} share</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
