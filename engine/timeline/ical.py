"""The programme's timeline as iCalendar, for commissioners' and applicants' calendars.

What it writes is RFC 5545 a calendar app reads as meant: every event has a UID and a DTSTAMP,
a timed event is on the programme's wall clock (`TZID=Europe/London`) and the file defines that
TZID in a VTIMEZONE, so a close at 12:00 in summer is 12:00 BST (11:00 UTC) in every app, never
a floating 12:00. Dates known only to the day, week or month are all-day events, which RFC 5545
leaves floating on purpose.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from engine.model import Programme

PRODID = "-//commissioning-engine//EN"


def programme_calendar(programme: Programme, *, now: datetime) -> str:
    """One event per milestone (timed, all-day, or spanning its week or month), and every fixed date.

    `now` (the engine's clock, frozen in rehearsals and tests) is every event's DTSTAMP, so the
    same programme at the same moment gives the same file.
    """
    from engine.timeline.occasions import occasions

    tz = ZoneInfo(programme.timezone)
    stamp = now.astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", programme.name)
    cal.add("x-wr-timezone", programme.timezone)
    days: list[date] = []  # every day the calendar touches, for the VTIMEZONE's range

    def event(uid: str, summary: str) -> Event:
        e = Event()
        e.add("uid", f"{programme.id}-{uid}@commissioning-engine")
        e.add("dtstamp", stamp)
        e.add("summary", summary)
        cal.add_component(e)
        return e

    def whole_days(e: Event, first: datetime, last: datetime) -> None:
        start, end = first.astimezone(tz).date(), last.astimezone(tz).date() + timedelta(days=1)
        e.add("dtstart", start)
        e.add("dtend", end)  # exclusive: the day after the last one
        days.extend((start, end))

    for m in programme.milestones.values():
        e = event(m.id, m.label)
        span = m.span
        if span.precision == "minute":  # on the programme's wall clock, in its own TZID
            start, end = span.start.astimezone(tz), span.end.astimezone(tz)
            e.add("dtstart", start)
            if end > start:
                e.add("dtend", end)
            days.extend((start.date(), end.date()))
        else:  # a day, week, month or window: all-day events covering it
            whole_days(e, span.start, span.end)
            if span.precision != "day":
                e.add(
                    "description",
                    f"Known only as a {span.precision}; the exact date is to be confirmed.",
                )
    # A list of dates is finite, so every one of them is written, even after the last milestone
    # (the dry run lists them too); bounding them by the timeline silently dropped late meetings.
    until = datetime.max.replace(tzinfo=UTC)
    for review in programme.data["reviews"]:
        if "dates" not in review:
            continue  # recurring cadences belong to each case, not to the round's calendar
        for o in occasions(programme, review, {}, {}, until):
            e = event(f"{review['id']}-{o.index}", o.label)
            whole_days(e, o.earliest, o.latest)
            if o.at is None:
                e.add("description", "The exact date is to be confirmed.")
    if days:  # a VTIMEZONE for every TZID used, covering every year the calendar touches
        cal.add_missing_timezones(
            first_date=date(min(days).year, 1, 1), last_date=date(max(days).year + 1, 1, 1)
        )
    return cal.to_ical().decode("utf-8")
