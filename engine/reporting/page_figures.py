"""The figures the commissioner's KPI and trends pages work out from every case, asked for here
so the pages and the scheduler's warming of a new version (`warm_pages`) ask for the same ones,
kept under the same keys.

A new version of a programme, or a new process with nothing kept, works out a page's figures
from every case: a minute or more at 100,000 cases, longer than a web worker is given. The
scheduler, which no request timeout limits, works out each programme's pages as they first open
(and people reached) as soon as it sees a version it has not, so the first person to open them
reads what it kept.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import DateError, parse_when
from engine.model import Programme
from engine.reporting.demographics import breakdowns
from engine.reporting.kpi_groups import answer_breakdowns, by_answer
from engine.reporting.kpi_kept import KeptKpis, kept_kpis
from engine.reporting.kpi_parts import Figures
from engine.reporting.kpis import periods
from engine.reporting.periods import Period
from engine.reporting.trends import covering, window_periods
from engine.store.contract import StoreContract

Window = tuple[datetime | None, datetime | None]


def kpi_page(by: str, period: str, start: datetime | None, end: datetime | None) -> tuple[Hashable, ...]:  # fmt: skip
    """The key the KPI page's figures are kept under, for these choices."""
    return ("kpis", by, period, start, end)


def kpi_periods(calc: KeptKpis, programme: Programme, by: str, period: str, window: Window,
                now: datetime) -> tuple[list[Period], datetime, datetime, str]:  # fmt: skip
    """The KPI page's periods (typed, or covering its figures, or the last year) and every figure
    it shows asked for at once; with the window shown and how it was chosen."""
    tz = ZoneInfo(programme.timezone)
    start, end = window
    chosen = "typed" if start or end else "covering"
    if not (start or end):
        covered = covering(calc, programme.data["kpis"], period, tz)
        start, end = covered or (None, None)
        chosen = "covering" if covered else "nothing"
    end = end or now
    start = start or end - timedelta(days=365)
    shown = periods(period, start, end, tz)
    questions = programme.questions()
    calc.prepare([(kpi, p, b) for kpi in programme.data["kpis"] for p in shown
                  for b in (by, *(by_answer(q) for q in answer_breakdowns(kpi) if q in questions))])  # fmt: skip
    return shown, start, end, chosen


def trend_page(by: str, period: str, kpis: list[dict[str, Any]]) -> tuple[Hashable, ...]:
    """The key the trends page's figures are kept under, for these choices."""
    return ("trends", by, period, tuple(k["id"] for k in kpis))


def trend_periods(calc: KeptKpis, programme: Programme, kpis: list[dict[str, Any]], by: str,
                  period: str, typed: tuple[datetime, datetime] | None,
                  now: datetime) -> tuple[list[list[Period]], datetime, datetime, bool]:  # fmt: skip
    """Each KPI's periods on the trends page, every figure asked for at once; with the window
    (`typed`, or see `trend_window`) and whether it starts at the first figures."""
    tz = ZoneInfo(programme.timezone)
    start, end, from_figures = (
        (*typed, False) if typed else trend_window(programme, calc, kpis, now)
    )
    # periods that have begun, or that already hold figures (a rehearsal's clock can be earlier)
    begun = max(now, end) if from_figures else now
    overs = [window_periods(period or kpi.get("period", "quarter"), start, end, begun, tz)
             for kpi in kpis]  # fmt: skip
    calc.prepare([(kpi, p, by) for kpi, over in zip(kpis, overs, strict=True) for p in over])
    return overs, start, end, from_figures


def trend_window(programme: Programme, calc: Figures, kpis: list[dict[str, Any]],
                 now: datetime) -> tuple[datetime, datetime, bool]:  # fmt: skip
    """From the first month with figures up to now (or the last figures, if later); without any,
    from the contract's start (two years back without one). True when it starts at the first
    figures."""
    tz = ZoneInfo(programme.timezone)
    covered = covering(calc, kpis, "month", tz, most=10_000)
    if covered:
        return covered[0], max(covered[1], now), True
    starts = programme.data.get("contract", {}).get("starts")
    try:  # the loader gives the start as a span; a date as written is read the same way
        start = (datetime.fromisoformat(starts["start"]) if isinstance(starts, dict)
                 else parse_when(starts, tz, allow_time=False).start if starts else None)  # fmt: skip
    except (DateError, KeyError, ValueError):
        start = None
    return start or now - timedelta(days=730), now, False


def warm_pages(store: StoreContract, programme: Programme, now: datetime) -> None:
    """Work out and keep the figures of the programme's KPI, trends and people reached pages as
    they first open, so whoever opens them next reads them kept."""
    with kept_kpis(store, programme, now, kpi_page("programme", "quarter", None, None)) as calc:
        kpi_periods(calc, programme, "programme", "quarter", (None, None), now)
    kpis = programme.data["kpis"]
    with kept_kpis(store, programme, now, trend_page("programme", "", kpis), many=True) as calc:
        trend_periods(calc, programme, kpis, "programme", "", None, now)
    breakdowns(store, programme)
