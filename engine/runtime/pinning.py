"""Pinning vague dates: a milestone or a meeting the programme knows only by its month (or its
week, day or a stretch of months) is given the moment it will happen, and every reminder hung
on it is planned again.

The programme file says roughly when; a commissioner says exactly when, within that. A pin never
moves a date out of the period the file gives (a May meeting stays in May): to do that, change
the file and publish it. Dates the file already gives to the minute cannot be pinned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import Span, moment_in_words, parse_when, span_in_words
from engine.definition.schema_check import did_you_mean
from engine.errors import ActionRefused, NotFound, NotPermitted
from engine.model import Programme
from engine.runtime.core import EngineCore
from engine.runtime.views import Actor
from engine.timeline.planner import plan_programme, reads_pins, replan_case


@dataclass(frozen=True)
class PinnableDate:
    """One date of a programme as a commissioner sees it: what it is, and how well it is known."""

    target: str  # `milestone:<id>` or `review:<cadence id>:<occasion from 0>`: for addresses only
    label: str  # what it is, in words ("Quarterly contract monitoring meeting, May 2022")
    title: str  # the same without the occasion's month, for sentences about it
    span: Span  # when the programme file says it happens
    pinned_at: datetime | None  # the moment a commissioner pinned it to, if they have

    @property
    def vague(self) -> bool:
        """Whether the file gives less than a moment (a month, a week, a day), so it can be pinned."""
        return not self.span.exact

    @property
    def pinned(self) -> bool:
        """Whether a commissioner has pinned it."""
        return self.pinned_at is not None

    def known_as(self, tz: ZoneInfo) -> str:
        """What it is known as now: the pinned moment, else the file's date, both in words."""
        if self.pinned_at is not None:
            return moment_in_words(self.pinned_at, tz)
        return span_in_words(self.span, tz)

    def period(self, tz: ZoneInfo) -> str:
        """Where a pinned moment must fall, after "a date": "in May 2022", "on Friday 1 April 2022"."""
        words = span_in_words(self.span, tz)
        if self.span.precision == "day":
            return f"on {words}"
        if self.span.precision == "window":
            return f"from {words}"  # "from March 2023 to April 2023"
        return f"in {words}"


def pinnable(programme: Programme, pins: dict[str, datetime]) -> list[PinnableDate]:
    """Every milestone and fixed review occasion of a programme, in the file's order."""
    tz = ZoneInfo(programme.timezone)
    out = [
        PinnableDate(f"milestone:{m.id}", m.label, m.label, m.span, pins.get(f"milestone:{m.id}"))
        for m in programme.milestones.values()
    ]
    for review in programme.data["reviews"]:
        for i, entry in enumerate(review.get("dates", [])):
            text = entry["text"] if isinstance(entry, dict) else entry
            span = parse_when(text, tz, allow_time=False)
            # named as the dry run and the meetings page name an occasion
            when = span_in_words(span, tz) if span.precision != "day" else f"{span.start.day} {span.start:%B %Y}"  # fmt: skip
            target = f"review:{review['id']}:{i}"
            out.append(PinnableDate(target, f"{review['title']}, {when}", review["title"], span,
                                    pins.get(target)))  # fmt: skip
    return out


class PinningService(EngineCore):
    """The dates of a programme that can be pinned, and pinning one (web and CLI alike)."""

    def pinnable_dates(self, programme_id: str, actor: Actor) -> list[PinnableDate]:
        """Every date of the newest published programme that a pin could apply to, with its pin."""
        self._may_pin(programme_id, actor)
        programme = self.programme(programme_id)
        return pinnable(programme, self._pins(programme_id))

    def pinnable_date(self, programme_id: str, target: str, actor: Actor) -> PinnableDate:
        """One date by its target; NotFound (with a did-you-mean) if the programme has no such date."""
        found = {d.target: d for d in self.pinnable_dates(programme_id, actor)}
        if target not in found:
            raise NotFound(
                f'"{target}" is not a date that can be pinned{did_you_mean(target, set(found))}'
            )
        return found[target]

    def pin_problem(
        self, programme_id: str, target: str, moment: datetime, actor: Actor
    ) -> str | None:
        """Why the date cannot be pinned to this moment (a sentence saying what to do), or None."""
        # nothing is stored: a page asks about the day while the rest of its form is corrected
        date = self.pinnable_date(programme_id, target, actor)
        tz = ZoneInfo(self.programme(programme_id).timezone)
        return _problem(date, moment if moment.tzinfo else moment.replace(tzinfo=tz), tz)

    def pin_date(
        self, programme_id: str, target: str, moment: datetime, actor: Actor
    ) -> PinnableDate:
        """Pin a vague date to a moment in its period, re-planning the cases it can move; the date now."""
        # one transaction: the pin, the programme's rows, each case's rows and the service log
        date = self.pinnable_date(programme_id, target, actor)
        programme = self.programme(programme_id)
        tz = ZoneInfo(programme.timezone)
        if moment.tzinfo is None:  # a wall-clock time means the programme's own clock
            moment = moment.replace(tzinfo=tz)
        problem = _problem(date, moment, tz)
        if problem:
            raise ActionRefused(problem)
        now = self.now()
        stamp = now.astimezone(UTC).isoformat()
        at = moment.astimezone(UTC).isoformat()
        with self.store.transaction():
            self.store.pin(programme_id, target, at, actor.id or actor.role, stamp)
            plan_programme(self.store, programme, now)
            for case_id in self._hanging_on_pins(programme_id):
                row = self.store.case(case_id)
                assert row is not None
                # each case keeps the version it started on: its reminders follow that version
                replan_case(self.store, self.programme(programme_id, row["version"]), row, now)
            self.store.log_service(stamp, actor.role, actor.id or None, "date pinned",
                                   programme_id=programme_id, subject=target,
                                   detail=_logged(date, at))  # fmt: skip
        return PinnableDate(date.target, date.label, date.title, date.span, moment)

    def _hanging_on_pins(self, programme_id: str) -> list[int]:
        """The cases whose plan a pinned date can change: those of a workflow counting from a
        milestone or a review in their own version (re-planning every case of a programme with
        100,000 referrals timed from their own events held the write lock for minutes)."""
        ids: list[int] = []
        for g in self.store.cases_by_version(programme_id):
            programme = self.programme(programme_id, g["version"])
            wf = programme.workflows.get(g["workflow"])
            if wf is None or not reads_pins(programme, wf.id):
                continue
            rows = self.store.cases_by_version(programme_id, g["version"], g["workflow"],
                                               g["state"], limit=g["count"])  # fmt: skip
            ids += [r["id"] for r in rows]
        return sorted(ids)

    def _may_pin(self, programme_id: str, actor: Actor) -> None:
        """Only a commissioner whose role reaches the programme (the operator's CLI acts as one)."""
        self._reach(programme_id, actor)
        if actor.role != "commissioner":
            raise NotPermitted("only a commissioner can pin a programme's dates")

    def _pins(self, programme_id: str) -> dict[str, datetime]:
        return {k: datetime.fromisoformat(v) for k, v in self.store.pins(programme_id).items()}


def _problem(date: PinnableDate, moment: datetime, tz: ZoneInfo) -> str | None:
    """Why a date cannot take this moment: set to the minute already, or outside its period."""
    if not date.vague:
        return (
            f"{date.title} is set to {moment_in_words(date.span.start, tz)} in the programme "
            "file: change the file and publish it to move it"
        )
    if not date.span.start <= moment <= date.span.end:
        period = date.period(tz)
        return f"{date.title} must be {period}: enter a date {period}"
    return None


def _logged(date: PinnableDate, at: str) -> dict[str, Any]:
    """What the service log keeps about a pin: the date in words and the moment, as stored."""
    before = date.pinned_at.astimezone(UTC).isoformat() if date.pinned_at else None
    return {"label": date.label, "at": at, "before": before}
