"""Dates arithmetic as programmes speak of it: months, years and working days.

"5 working days before" skips weekends and England & Wales bank holidays (the `holidays`
package, maintained upstream, so new bank holidays arrive with an upgrade, not a code change).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from .dates import Duration


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England & Wales bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def _add_months(moment: datetime, months: int) -> datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])  # 31 Jan + 1 month = 28/29 Feb
    return moment.replace(year=year, month=month, day=day)


def shift(moment: datetime, duration: Duration, sign: int, tz: ZoneInfo) -> datetime:
    """`moment` moved `duration` forward (sign +1) or back (-1), on the programme's wall clock.

    Days, weeks, months and years keep the local time of day across a clock change (a
    deadline at 17:00 stays at 17:00 in summer); minutes and hours are exact elapsed time.
    """
    local = moment.astimezone(tz)
    n = duration.amount * sign
    unit = duration.unit
    if unit in ("minutes", "hours"):
        return moment + timedelta(**{unit: n})
    if unit == "days":
        out = local.replace(tzinfo=None) + timedelta(days=n)
    elif unit == "weeks":
        out = local.replace(tzinfo=None) + timedelta(weeks=n)
    elif unit == "months":
        out = _add_months(local.replace(tzinfo=None), n)
    elif unit == "years":
        out = _add_months(local.replace(tzinfo=None), 12 * n)
    else:  # working days
        out = local.replace(tzinfo=None)
        step = 1 if n > 0 else -1
        remaining = abs(n)
        while remaining:
            out += timedelta(days=step)
            if is_working_day(out.date()):
                remaining -= 1
    return out.replace(tzinfo=tz)
