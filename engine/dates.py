"""Reading dates, vague dates and lengths of time the way commissioners write them.

Dates in a programme are local to its timezone. A date may be exact (`2022-01-31T17:00`), a whole
day, a week (`week_of`), a month (`2022-05`) or a year; each becomes a `Span` with a first and
last moment, so a milestone known only by its month stays a month until someone pins it.
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class DateError(ValueError):
    """A date, time, timezone or length of time that cannot be read; the message says how to fix it."""


UNITS = {
    "minute": "minutes",
    "hour": "hours",
    "day": "days",
    "working day": "working_days",
    "week": "weeks",
    "month": "months",
    "year": "years",
}
_DURATION = re.compile(
    r"^\s*(\d{1,4})\s+(minute|hour|day|working day|week|month|year)s?\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class Duration:
    """A length of time: an amount of minutes, hours, days, working days, weeks, months or years."""

    amount: int
    unit: str  # one of UNITS' values

    def __str__(self) -> str:
        word = next(k for k, v in UNITS.items() if v == self.unit)
        return f"{self.amount} {word}{'' if self.amount == 1 else 's'}"

    def approx_days(self) -> float:
        """Roughly how many days long it is, for comparing lengths (not for dating)."""
        per = {"minutes": 1 / 1440, "hours": 1 / 24, "days": 1, "working_days": 7 / 5,
               "weeks": 7, "months": 30.44, "years": 365.25}  # fmt: skip
        return self.amount * per[self.unit]


def parse_duration(text: object) -> Duration:
    """Read `7 days`, `4 weeks`, `3 months`, `5 working days`, `1 year`, `48 hours`…"""
    m = _DURATION.match(str(text)) if isinstance(text, str) else None
    if not m:
        raise DateError(
            f'could not read "{text}" as a length of time; write it like "7 days", "4 weeks", '
            '"3 months", "1 year" or "5 working days"'
        )
    return Duration(int(m.group(1)), UNITS[m.group(2).lower()])


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_timezone(name: object) -> ZoneInfo:
    """An IANA timezone such as Europe/London; suggests the nearest real name when misspelt."""
    if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*", name):
        try:
            return _zone(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    close = difflib.get_close_matches(str(name), sorted(available_timezones()), n=1, cutoff=0.6)
    hint = f'; did you mean "{close[0]}"?' if close else ', such as "Europe/London"'
    raise DateError(f'"{name}" is not a timezone name{hint}')


@dataclass(frozen=True)
class Span:
    """A moment or a stretch of time, with how precisely it is known."""

    start: datetime
    end: datetime
    precision: str  # minute, day, week, month, year, window

    @property
    def exact(self) -> bool:
        """True when it is a single known moment (a deadline can use it)."""
        return self.precision == "minute"


_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_HELP = (
    'write a date as "2022-01-31", a date and time as "2022-01-31T17:00", '
    'a month as "2022-05" or a year as "2023"'
)


def _local(d: date, t: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, t, tzinfo=tz)


def _end_of(d: date, tz: ZoneInfo) -> datetime:
    return _local(d, time(23, 59, 59), tz)


def parse_when(text: object, tz: ZoneInfo, *, allow_time: bool = True) -> Span:
    """Read an exact time, a day, a month or a year in the programme's timezone."""
    s = str(text) if isinstance(text, str | int) else ""
    try:
        if m := _DATETIME.match(s):
            if not allow_time:
                raise DateError(f'"{s}" has a time of day; here give only a date, month or year')
            y, mo, d, h, mi, sec = (int(g) if g else 0 for g in m.groups())
            moment = datetime(y, mo, d, h, mi, sec, tzinfo=tz)
            return Span(moment, moment, "minute")
        if m := _DAY.match(s):
            day = date(*(int(g) for g in m.groups()))
            return Span(_local(day, time(0, 0), tz), _end_of(day, tz), "day")
        if m := _MONTH.match(s):
            y, mo = int(m.group(1)), int(m.group(2))
            last = calendar.monthrange(y, mo)[1]
            return Span(
                _local(date(y, mo, 1), time(0), tz), _end_of(date(y, mo, last), tz), "month"
            )
        if m := _YEAR.match(s):
            y = int(m.group(1))
            return Span(_local(date(y, 1, 1), time(0), tz), _end_of(date(y, 12, 31), tz), "year")
    except ValueError as exc:
        if isinstance(exc, DateError):
            raise
        raise DateError(f'"{s}" is not a real date ({exc}); {_HELP}') from None
    raise DateError(f'could not read "{text}" as a date; {_HELP}')


def parse_month(text: object, tz: ZoneInfo) -> Span:
    """Read `YYYY-MM`: the whole month."""
    if not (isinstance(text, str) and _MONTH.match(text)):
        raise DateError(f'could not read "{text}" as a month; write it like "2022-05"')
    return parse_when(text, tz)


def parse_week_of(text: object, tz: ZoneInfo) -> Span:
    """Read `YYYY-MM-DD`, a Monday: the whole week it begins."""
    if not (isinstance(text, str) and _DAY.match(text)):
        raise DateError(
            f'could not read "{text}" as the Monday a week begins; write it like "2022-02-07"'
        )
    first = parse_when(text, tz)
    if first.start.weekday() != 0:
        name = first.start.strftime("%A %-d %B %Y")
        raise DateError(f"{name} is not a Monday; give the Monday the week begins")
    last = first.start.date() + timedelta(days=6)
    return Span(first.start, _end_of(last, tz), "week")


def stored_moment(text: str) -> datetime:
    """A timestamp as the store keeps it (UTC if it names no zone): compared as times, not text."""
    found = datetime.fromisoformat(text)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 with the UTC offset, e.g. `2022-01-31T17:00:00+00:00`."""
    return moment.isoformat()


def moment_in_words(moment: datetime, tz: ZoneInfo) -> str:
    """5pm on Monday 31 January 2022, on the programme's wall clock (a day alone at midnight)."""
    local = moment.astimezone(tz)
    day = f"{local:%A} {local.day} {local:%B %Y}"
    if (local.hour, local.minute) in ((0, 0), (23, 59)):
        return day
    if (local.hour, local.minute) == (12, 0):
        return f"midday on {day}"
    minutes = "" if local.minute == 0 else f":{local.minute:02d}"
    return f"{local.hour % 12 or 12}{minutes}{'am' if local.hour < 12 else 'pm'} on {day}"


def limit_in_words(moment: datetime, tz: ZoneInfo) -> str:
    """A time limit: `the end of Wednesday 9 December 2026` for one that falls at midnight."""
    local = moment.astimezone(tz)
    if (local.hour, local.minute) == (0, 0):
        return f"the end of {moment_in_words(local - timedelta(minutes=1), tz)}"
    return moment_in_words(local, tz)


def span_in_words(span: Span, tz: ZoneInfo, *, end: bool = False) -> str:
    """A span as precisely as it is known: `5pm on Monday 31 January 2022`, `March 2024`, `2017`.

    `end` picks the last moment for an exact span's words (a window that closes at its end).
    """
    local = (span.end if end else span.start).astimezone(tz)
    if span.precision == "minute":
        return moment_in_words(span.end if end else span.start, tz)
    if span.precision == "day":
        return f"{local:%A} {local.day} {local:%B %Y}"
    if span.precision == "week":
        first = span.start.astimezone(tz)
        return f"the week of Monday {first.day} {first:%B %Y}"
    if span.precision == "month":
        return f"{local:%B %Y}"
    if span.precision == "year":
        return f"{local.year}"
    first, last = span.start.astimezone(tz), span.end.astimezone(tz)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%B %Y}"
    if first.month == 1 and last.month == 12:
        return f"{first.year}" if first.year == last.year else f"{first.year} to {last.year}"
    return f"{first:%B %Y} to {last:%B %Y}"


def span_phrase(span: Span, tz: ZoneInfo, *, end: bool = False) -> str:
    """`at 5pm on Monday 31 January 2022`, `on Friday 26 January 2024`, `at the end of 2017`."""
    words = span_in_words(span, tz, end=end)
    if span.precision == "minute":
        return f"at {words}"
    if span.precision == "day":
        return f"at the end of {words}" if end else f"on {words}"
    return f"at the end of {words}" if end else f"in {words}"


# -- working days, and the date arithmetic expressions may do ----------------------------------

#: The UK's bank holiday calendars as programmes name them, and the `holidays` package's names.
CALENDARS = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}
DEFAULT_CALENDAR = "england-and-wales"
MAX_DAYS_APART = 366 * 120  # a date arithmetic function looks at most this far: a lifetime


@lru_cache(maxsize=64)
def _bank_holidays(year: int, division: str) -> frozenset[date]:
    import holidays  # only when working days are asked for: a few hundred kilobytes of tables

    return frozenset(holidays.country_holidays("GB", subdiv=CALENDARS[division], years=year))


def is_working_day(day: date, division: str = DEFAULT_CALENDAR) -> bool:
    """Monday to Friday and not a bank holiday in the named UK calendar (`CALENDARS`)."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year, division)


def _day_of(moment: object) -> date:
    if isinstance(moment, datetime):
        return moment.date()
    if isinstance(moment, date):
        return moment
    raise ValueError(f"{moment!r} is not a date")


def days_between(start: object, end: object) -> int:
    """`days_between(referral_date, contact_date)`: whole days from one date to the other."""
    return (_day_of(end) - _day_of(start)).days


def age(born: object, on: object) -> int:
    """`age(date_of_birth, referral_date)`: whole years of age on a day (a 29 February birthday
    counts from 1 March in other years)."""
    b, d = _day_of(born), _day_of(on)
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def working_days_between(start: object, end: object, division: str = DEFAULT_CALENDAR) -> int:
    """`working_days_between(referred, contacted)`: working days after the first date up to and
    including the second (negative when the second is earlier), in a UK bank holiday calendar."""
    first, last = _day_of(start), _day_of(end)
    if division not in CALENDARS:
        raise ValueError(f'"{division}" is not a bank holiday calendar; use one of {", ".join(CALENDARS)}')  # fmt: skip
    if abs((last - first).days) > MAX_DAYS_APART:
        raise ValueError("the dates are more than 120 years apart")
    sign = 1 if last >= first else -1
    low, high = (first, last) if sign == 1 else (last, first)
    whole, extra = divmod((high - low).days, 7)
    count = whole * 5 + sum((low + timedelta(days=i)).weekday() < 5 for i in range(1, extra + 1))
    holidays_in = sum(
        1
        for year in range(low.year, high.year + 1)
        for h in _bank_holidays(year, division)
        if low < h <= high and h.weekday() < 5
    )
    return sign * (count - holidays_in)
