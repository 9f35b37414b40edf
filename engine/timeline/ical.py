"""The programme's timeline as iCalendar, for commissioners' and applicants' calendars."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar, Event

from engine.model import Programme


def programme_calendar(programme: Programme) -> str:
    """One event per milestone (timed, all-day, or spanning its week or month)."""
    cal = Calendar()
    cal.add("prodid", "-//commissioning-engine//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", programme.name)
    cal.add("x-wr-timezone", programme.timezone)
    for m in programme.milestones.values():
        event = Event()
        event.add("uid", f"{programme.id}-{m.id}@commissioning-engine")
        event.add("summary", m.label)
        span = m.span
        if span.precision == "minute":
            event.add("dtstart", span.start)
            if span.end > span.start:
                event.add("dtend", span.end)
        else:  # a day, week, month or window: all-day events covering it
            event.add("dtstart", span.start.date())
            event.add("dtend", span.end.date() + timedelta(days=1))
            if span.precision != "day":
                event.add(
                    "description",
                    f"Known only as a {span.precision}; the exact date is to be confirmed.",
                )
        cal.add_component(event)
    from engine.timeline.occasions import occasions

    for review in programme.data["reviews"]:
        if "dates" not in review:
            continue  # recurring cadences belong to each case, not to the round's calendar
        for o in occasions(
            programme, review, {}, {}, max(m.span.end for m in programme.milestones.values())
        ):
            event = Event()
            event.add("uid", f"{programme.id}-{review['id']}-{o.index}@commissioning-engine")
            event.add("summary", o.label)
            event.add("dtstart", o.earliest.date())
            event.add("dtend", o.latest.date() + timedelta(days=1))
            if o.at is None:
                event.add("description", "The exact date is to be confirmed.")
            cal.add_component(event)
    return cal.to_ical().decode("utf-8")
