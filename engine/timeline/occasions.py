"""Dates arithmetic as programmes speak of it: months, years and working days.

"5 working days before" skips weekends and the bank holidays of the UK calendar the programme
names in `bank_holidays` (England and Wales by default), from the `holidays` package, maintained
upstream, so new bank holidays arrive with an upgrade, not a code change.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import (  # noqa: F401  (working days live in dates; these names stay here too)
    CALENDARS,
    DEFAULT_CALENDAR,
    Duration,
    is_working_day,
)
from engine.model import Programme


def working_calendar(programme: Programme) -> str:
    """The bank holiday calendar the programme's working days follow."""
    return programme.data.get("bank_holidays", DEFAULT_CALENDAR)


def _add_months(moment: datetime, months: int) -> datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])  # 31 Jan + 1 month = 28/29 Feb
    return moment.replace(year=year, month=month, day=day)


def shift(
    moment: datetime, duration: Duration, sign: int, tz: ZoneInfo, days: str = DEFAULT_CALENDAR
) -> datetime:
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
            if is_working_day(out.date(), days):
                remaining -= 1
    return out.replace(tzinfo=tz)


# -- when things happen ----------------------------------------------------------------------


@dataclass(frozen=True)
class Occasion:
    """One occasion of a cadence (a meeting, a review): when, or only roughly when if unpinned."""

    review: str
    index: int
    at: datetime | None  # None while a vague date (a month) is not pinned
    earliest: datetime
    latest: datetime
    label: str


#: "entered:<state>", "trigger:<name>" or "answer:<question>" → when it happened
CaseEvents = Mapping[str, datetime]


def anchor_time(
    programme: Programme,
    anchor: Mapping[str, Any],
    events: CaseEvents,
    pins: Mapping[str, datetime],
) -> tuple[datetime | None, str]:
    """When an anchor's reference happened (before any offset), and a description of it.

    None when it has not happened yet (a case event) or is only vaguely known (an unpinned month).
    """
    if "milestone" in anchor:
        m = programme.milestones[anchor["milestone"]]
        pinned = pins.get(f"milestone:{m.id}")
        if pinned is not None:
            return pinned, m.label
        if m.span.precision == "minute":
            return m.span.start, m.label
        if m.span.precision == "day":
            return m.span.start, m.label  # "7 days before 1 April" is 25 March, from midnight
        return None, m.label
    if "entered" in anchor:
        return events.get(f"entered:{anchor['entered']}"), f"entering {anchor['entered']}"
    if "trigger" in anchor:
        return events.get(f"trigger:{anchor['trigger']}"), f"{anchor['trigger']}"
    if "answer" in anchor:  # a date given on a form: the start of that day (see `offset`)
        return events.get(f"answer:{anchor['answer']}"), f"the date answered to {anchor['answer']}"
    return None, ""


def offset(
    moment: datetime, anchor: Mapping[str, Any], tz: ZoneInfo, days: str = DEFAULT_CALENDAR
) -> datetime:
    """Apply an anchor's `before`/`after` to the moment it counts from.

    A date answered (`answer`) names a whole day: "2 working days after" it is the end of the
    second working day after that date, so the limit falls at the midnight that ends that day.
    """
    from engine.dates import parse_duration

    if "after" in anchor:
        out = shift(moment, parse_duration(anchor["after"]), +1, tz, days)
        if "answer" in anchor:  # the whole of the day it lands on
            out = shift(out, Duration(1, "days"), +1, tz, days)
        return out
    if "before" in anchor:
        return shift(moment, parse_duration(anchor["before"]), -1, tz, days)
    return moment


def scheduled(review: Mapping[str, Any]) -> bool:
    """Whether a cadence can have any occasion: fixed dates, once (`at`), or every N from a start."""
    return "dates" in review or "at" in review or ("every" in review and "start" in review)


def occasions(
    programme: Programme,
    review: Mapping[str, Any],
    events: CaseEvents,
    pins: Mapping[str, datetime],
    until: datetime,
    limit: int = 500,
) -> list[Occasion]:
    """Every occasion of a cadence up to `until` (fixed dates, every N from a start, or once)."""
    from engine.dates import parse_duration, parse_when

    tz = ZoneInfo(programme.timezone)
    out: list[Occasion] = []
    if "dates" in review:
        for i, text in enumerate(review["dates"]):
            span = parse_when(
                text["text"] if isinstance(text, dict) else text, tz, allow_time=False
            )
            pinned = pins.get(f"review:{review['id']}:{i}")
            exact = span.precision == "day"
            at = pinned or (span.start if exact else None)
            label = span.start.strftime("%-d %B %Y") if exact else span.start.strftime("%B %Y")
            out.append(
                Occasion(review["id"], i, at, span.start, span.end, f"{review['title']}, {label}")
            )
        return [o for o in out if o.earliest <= until]
    days = working_calendar(programme)
    if "at" in review:  # once, relative to the case: never again, even if nothing arrives
        base, _what = anchor_time(programme, review["at"], events, pins)
        if base is None:
            return out
        at = offset(base, review["at"], tz, days)
        return [Occasion(review["id"], 0, at, at, at, review["title"])] if at <= until else out
    if not scheduled(review):
        return out  # to be agreed: nothing is scheduled yet
    base, _what = anchor_time(programme, review["start"], events, pins)
    if base is None:
        return out
    base = offset(base, review["start"], tz, days)
    step = parse_duration(review["every"])
    for i in range(1, limit + 1):
        at = shift(base, Duration(step.amount * i, step.unit), +1, tz, days)
        if at > until:
            break
        out.append(Occasion(review["id"], i - 1, at, at, at, f"{review['title']} {i}"))
    return out
