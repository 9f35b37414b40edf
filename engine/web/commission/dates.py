"""A programme's dates, and pinning one known only by its month (or week, or day) to the moment
it will happen, so the reminders hung on it can be sent. The engine checks and stores the pin
(engine.runtime.pinning); this page asks for a day, month and year and a time in hours and
minutes, on the programme's own clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field

from engine.errors import ActionRefused
from engine.runtime.pinning import PinnableDate
from engine.web import markup
from engine.web.access import allow, current_actor
from engine.web.commission import bp
from engine.web.services import engine

DATE_PARTS = ("Day", "Month", "Year")
TIME_PARTS = ("Hour", "Minute")
_WIDTHS = {"Year": "govuk-input--width-4"}  # the rest take two digits


class PartsWidget:
    """A GOV.UK date input (a fieldset of small numeric boxes sharing one name), for any parts."""

    def __call__(self, field: PartsField, params: dict[str, Any] | None = None, **_: Any) -> Markup:
        """The fieldset's HTML, with the first error and the boxes it is about marked."""
        p: dict[str, Any] = {"id": field.id, "name": field.name, **(params or {})}
        if field.description:
            p["hint"] = {"text": field.description}
        if field.errors:
            p["errorMessage"] = {"text": field.errors[0]}
        p["items"] = [
            {"label": part, "id": f"{field.id}-{part.lower()}", "name": field.name, "value": value,
             "classes": " ".join(c for c in (_WIDTHS.get(part, "govuk-input--width-2"),
                                             "govuk-input--error" if part in field.wrong else None) if c)}
            for part, value in zip(field.parts, field.typed, strict=True)
        ]  # fmt: skip
        return markup.date_input(p)


class PartsField(Field):
    """Numbers typed in boxes that share one name (day, month, year; or hour, minute)."""

    widget = PartsWidget()

    def __init__(self, label: str, parts: Sequence[str], **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.parts = tuple(parts)
        self.typed: list[str] = [""] * len(self.parts)
        self.wrong: set[str] = set()  # the boxes the error is about

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Keep what was typed in each box, trimmed; a box left out counts as empty."""
        typed = [str(v).strip() for v in valuelist[: len(self.parts)]]
        self.typed = typed + [""] * (len(self.parts) - len(typed))

    def show(self, values: Sequence[int | str]) -> None:
        """Fill the boxes with known numbers (a pin already made)."""
        self.typed = [str(v) for v in values]

    def refuse(self, message: str, parts: Sequence[str] | None = None) -> None:
        """Mark the field wrong, with the message and the boxes to correct (all when not said)."""
        self.errors = [message]
        self.wrong = set(parts or self.parts)

    def missing(self) -> list[str]:
        """The boxes left empty."""
        return [part for part, value in zip(self.parts, self.typed, strict=True) if not value]

    def numbers(self) -> list[int] | None:
        """The boxes as whole numbers, or None if any is not one."""
        if not all(v.isascii() and v.isdigit() for v in self.typed):  # never "²" or "٣"
            return None
        return [int(v) for v in self.typed]


class PinForm(FlaskForm):
    """When a date will happen: a day, month and year, and a time on the 24-hour clock."""

    date = PartsField("Date", DATE_PARTS)
    time = PartsField("Time", TIME_PARTS, description="Use the 24-hour clock, for example 14 30 for 2:30pm")  # fmt: skip

    def day(self) -> dt.date | None:
        """The date typed; None after marking what is wrong with it."""
        field = self.date
        if missing := field.missing():
            if len(missing) == len(DATE_PARTS):
                field.refuse("Enter the date")
            else:
                field.refuse(f"Date must include {_and(m.lower() for m in missing)}", missing)
            return None
        numbers = field.numbers()
        if numbers is None:
            field.refuse("Date must be a real date")
            return None
        if len(field.typed[2]) != 4:
            field.refuse("Year must include 4 numbers", ["Year"])
            return None
        try:
            return dt.date(numbers[2], numbers[1], numbers[0])
        except (ValueError, OverflowError):  # 31 2 2022, or a day with twenty digits
            field.refuse("Date must be a real date")
            return None

    def clock(self) -> dt.time | None:
        """The time typed; None after marking what is wrong with it."""
        field = self.time
        if missing := field.missing():
            if len(missing) == len(TIME_PARTS):
                field.refuse("Enter the time")
            else:
                field.refuse(f"Time must include {'an hour' if 'Hour' in missing else 'minutes'}", missing)  # fmt: skip
            return None
        numbers = field.numbers()
        if numbers is None or not 0 <= numbers[0] <= 23:
            field.refuse("Enter the hour as a number from 0 to 23", ["Hour"])
            return None
        if not 0 <= numbers[1] <= 59:
            field.refuse("Enter the minutes as a number from 0 to 59", ["Minute"])
            return None
        return dt.time(numbers[0], numbers[1])


def _and(words: Any) -> str:
    items = [f"a {w}" for w in words]
    return " and ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} and {items[-1]}"


def _summary(form: PinForm) -> list[dict[str, str]]:
    """The error summary's links: each to the first box its message is about."""
    out = []
    for field in (form.date, form.time):
        if field.errors:
            first = next(p for p in field.parts if p in field.wrong)
            out.append({"text": field.errors[0], "href": f"#{field.id}-{first.lower()}"})
    return out


def _example(found: PinnableDate, tz: ZoneInfo) -> str:
    """A day within the date's period, as the boxes take it: "16 5 2022"."""
    middle = (found.span.start + (found.span.end - found.span.start) / 2).astimezone(tz)
    return f"{middle.day} {middle.month} {middle.year}"


@bp.get("/<pid>/dates")
@allow("commissioner")
def dates(pid: str) -> str:
    """The programme's dates: when each is known to happen, and a link to pin each vague one."""
    programme = engine().programme(pid)
    tz = ZoneInfo(programme.timezone)
    found = engine().pinnable_dates(pid, current_actor())
    rows = [{"date": d, "when": d.known_as(tz)} for d in found]
    return render_template("commission/dates.html", programme=programme, rows=rows)


@bp.route("/<pid>/dates/<target>", methods=["GET", "POST"])
@allow("commissioner")
def pin_date(pid: str, target: str) -> Any:
    """Pin one vague date to a day and time within its period; then back to the list."""
    programme = engine().programme(pid)
    tz = ZoneInfo(programme.timezone)
    actor = current_actor()
    found: PinnableDate = engine().pinnable_date(pid, target, actor)  # NotFound: a 404
    if not found.vague:
        abort(404)  # set to the minute in the programme file: nothing to pin here
    form = PinForm()
    if form.is_submitted():
        # validate() checks the CSRF token (the boxes have no validators): then read the boxes
        day, at = (form.day(), form.clock()) if form.validate() else (None, None)
        if day is not None:
            # the day is checked against the date's period even while the time is to correct
            moment = dt.datetime.combine(day, at or dt.time(0), tzinfo=tz)
            problem = engine().pin_problem(pid, target, moment, actor)
            if problem:
                form.date.refuse(problem)
            elif at is not None:
                try:
                    pinned = engine().pin_date(pid, target, moment, actor)
                except ActionRefused as exc:  # the programme changed since the page was shown
                    form.date.refuse(exc.message)
                else:
                    flash(f"{pinned.label} is now pinned to {pinned.known_as(tz)}. "
                          "Reminders about it have been planned again.")  # fmt: skip
                    return redirect(url_for("commission.dates", pid=pid))
    elif found.pinned_at is not None:
        local = found.pinned_at.astimezone(tz)
        form.date.show([local.day, local.month, local.year])
        form.time.show([local.hour, f"{local.minute:02d}"])
    elif found.span.precision == "day":  # the day is known: only the time is asked
        local = found.span.start.astimezone(tz)
        form.date.show([local.day, local.month, local.year])
    page = render_template("commission/dates_pin.html", programme=programme, date=found,
                           period=found.period(tz), when=found.known_as(tz), form=form,
                           example=_example(found, tz), errors=_summary(form))  # fmt: skip
    return page, 400 if form.errors else 200
