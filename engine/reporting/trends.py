"""A KPI over a run of periods, for the programme, each organisation, each lot or just one:
the series a trend chart draws and the table beside it reads.

Built on the public API of a KpiCalculator or of the figures kept between views (`Figures`). A
group with nothing in a period (no return, record or case) is "not reported" there, whatever the
KPI measures: a 0 is only ever a real one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.reporting.kpi_parts import Figures
from engine.reporting.kpis import KpiValue, Period, period_of, periods
from engine.reporting.suppression import suppress

SCOPES = ("programme", "organisation", "lot")


@dataclass(frozen=True)
class Cell:
    """One group's value in one period, as the table shows it."""

    value: float | None
    count: int
    rag: str | None
    suppressed: bool = False
    reported: bool = True  # False: nothing came in for the period


@dataclass
class Trend:
    """One KPI over periods: a row per period, a column (a line) per group."""

    kpi: dict[str, Any]
    periods: list[str]
    groups: list[str]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def values(self, group: str) -> tuple[float | None, ...]:
        """The group's value in each period (None where there is none or it is hidden)."""
        return tuple(
            self.cells[(group, p)].value if (group, p) in self.cells else None for p in self.periods
        )

    def notes(self, group: str, below: int | None = None) -> tuple[str, ...]:
        """What a chart says at each of the group's gaps: not reported, or hidden as too few."""
        return tuple(
            "" if c is None or c.value is not None
            else "not reported" if not c.reported
            else f"fewer than {below}" if c.suppressed and below else "no data"
            for c in (self.cells.get((group, p)) for p in self.periods)
        )  # fmt: skip

    def cell(self, group: str, period: str) -> Cell | None:
        """The group's cell in a period."""
        return self.cells.get((group, period))


def trend(
    calc: Figures,
    kpi: dict[str, Any],
    over: list[Period],
    by: str = "programme",
    only: str | None = None,
    suppress_below: int | None = None,
    everyone: list[str] | None = None,
) -> Trend:
    """The KPI in each period, for the programme or by organisation or lot (or one of them).

    With `suppress_below` (an anonymised programme's threshold), values from fewer items than
    that are hidden, as in every anonymised report. `everyone` lists the organisations or lots
    to show even where they have nothing in any period.
    """
    labels = [p.label for p in over]
    found: dict[str, dict[str, KpiValue]] = {}
    for p in over:
        for v in calc.value(kpi, p, by):
            found.setdefault(v.group, {})[p.label] = v
    groups = ["programme"] if by == "programme" else sorted(set(found) | set(everyone or ()))
    if only is not None:
        groups = [only]
    out = Trend(kpi, labels, groups)
    for group in groups:
        for label in labels:
            v = found.get(group, {}).get(label)
            if v is None:
                out.cells[(group, label)] = Cell(None, 0, None, reported=False)
                continue
            if suppress_below is not None:
                row = suppress([v], suppress_below)[0]
                out.cells[(group, label)] = Cell(row["value"], v.count, None if row["suppressed"] else v.rag, row["suppressed"], v.reported)  # fmt: skip
            else:
                out.cells[(group, label)] = Cell(v.value, v.count, v.rag, reported=v.reported)
    return out


def window_periods(kind: str, start: datetime, end: datetime, now: datetime, tz: Any,
                   limit: int = 36) -> list[Period]:  # fmt: skip
    """The periods from start to end that have begun by now (the latest `limit` of them)."""
    return [p for p in periods(kind, start, end, tz) if p.start <= now][-limit:]


def covering(
    calc: Figures, kpis: list[dict[str, Any]], kind: str, tz: Any, most: int = 12
) -> tuple[datetime, datetime] | None:
    """From the start of the first period of `kind` holding any of these KPIs' data to the end of
    the last (at most the latest `most` periods); None when nothing has come in yet."""
    spans = [s for k in kpis if (s := calc.span(k)) is not None]
    if not spans:
        return None
    last = period_of(kind, max(s[1] for s in spans), tz)
    first = period_of(kind, min(s[0] for s in spans), tz)
    shown = periods(kind, first.start, last.end, tz)[-most:]
    return shown[0].start, last.end - timedelta(seconds=1)  # its last moment, as a `to` month's
