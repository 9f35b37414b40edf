"""Reporting periods: months, financial quarters and years, and the whole contract.

Periods follow the UK public-sector financial year: quarters start in April, July, October and
January; a year starts on 1 April.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    """A reporting period: [start, end) in the programme's timezone."""

    kind: str
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        """How people name it: `April 2022`, `Q1 2022/23`, `2022/23`."""
        s = self.start
        if self.kind == "month":
            return f"{s:%B %Y}"
        fy = s.year if s.month >= 4 else s.year - 1
        if self.kind == "quarter":
            return f"Q{((s.month - 4) % 12) // 3 + 1} {fy}/{(fy + 1) % 100:02d}"
        if self.kind == "year":
            return f"{fy}/{(fy + 1) % 100:02d}"
        return "whole contract"


def period_of(kind: str, moment: datetime, tz: ZoneInfo) -> Period:
    """The period of `kind` that contains `moment`."""
    local = moment.astimezone(tz)
    if kind == "month":
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        months = 1
    elif kind == "quarter":  # financial quarters start in the same months as calendar ones
        start = local.replace(
            month=(local.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
        )
        months = 3
    elif kind == "year":
        year = local.year if local.month >= 4 else local.year - 1
        start = local.replace(year=year, month=4, day=1, hour=0, minute=0, second=0, microsecond=0)
        months = 12
    else:
        return Period("contract", datetime(1900, 1, 1, tzinfo=tz), datetime(9999, 1, 1, tzinfo=tz))
    month0 = start.month - 1 + months
    end = start.replace(year=start.year + month0 // 12, month=month0 % 12 + 1)
    return Period(kind, start, end)


def periods(kind: str, start: datetime, end: datetime, tz: ZoneInfo) -> list[Period]:
    """Every period of `kind` overlapping [start, end)."""
    if kind == "contract":
        return [period_of(kind, start, tz)]
    out: list[Period] = []
    p = period_of(kind, start, tz)
    while p.start < end:
        out.append(p)
        p = period_of(kind, p.end + timedelta(hours=1), tz)
    return out
