"""Clocks on a case: when a time limit counted from a case event falls due, and how it pauses.

A limit counts from a case event (a state entered, an action taken, or a date answered on a form)
and may stop while the case is in certain states (`paused_in`: on hold for a hospital stay).
When the case leaves such a state the clock resumes with the time that was left, in working days
where the limit is in working days. The scheduler's planner and the engine's checks both ask this
module, so a page, a sweep and a dry run agree on every due time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import Duration, parse_duration, working_days_between
from engine.model import Programme
from engine.timeline.occasions import CaseEvents, anchor_time, offset, shift, working_calendar

Moves = Sequence[tuple[datetime, str]]  # (when, the state the case moved to), oldest first


def answer_questions(programme: Programme) -> set[str]:
    """The date questions any anchor of the programme counts from (`answer:`)."""
    return {a["answer"] for a in _anchors(programme.data) if "answer" in a}


def pauses_anywhere(programme: Programme) -> bool:
    """Whether any anchor of the programme stops its clock in some states (`paused_in`)."""
    return any(a.get("paused_in") for a in _anchors(programme.data))


def _anchors(data: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for sl in data.get("service_levels", []):
        yield sl["within"]
    for r in data.get("reminders", []):
        yield r["when"]
    for r in data.get("reviews", []):
        yield from (r[k] for k in ("at", "start") if k in r)
    for wf in data.get("workflows", {}).values():
        yield from (t["at"] for t in wf.get("transitions", []) if "at" in t)


def answer_events(
    programme: Programme, answers: Sequence[Mapping[str, Any]]
) -> dict[str, datetime]:
    """Events for the dates answered on a case's once-only forms, keyed `answer:<question>`: the
    start of the day on the programme's clock (`offset` makes a limit after it end with its day:
    "2 working days after" a referral dated Thursday is the end of the following Monday)."""
    wanted = answer_questions(programme)
    if not wanted:
        return {}
    tz = ZoneInfo(programme.timezone)
    out: dict[str, datetime] = {}
    for a in answers:
        if a.get("record"):  # a repeatable form's record: no single date to count from
            continue
        for q in wanted & a["data"].keys():
            try:
                day = date.fromisoformat(str(a["data"][q]))
            except ValueError:
                continue
            out[f"answer:{q}"] = datetime.combine(day, time(0), tz)
    return out


def paused_now(anchor: Mapping[str, Any], state: str | None) -> bool:
    """Whether the case's clock for this anchor is stopped now, by the state it is in."""
    return state is not None and state in anchor.get("paused_in", ())


def case_due(
    programme: Programme,
    anchor: Mapping[str, Any],
    events: CaseEvents,
    moves: Moves = (),
    pins: Mapping[str, datetime] | None = None,
) -> datetime | None:
    """When the limit of `anchor` falls due for a case; None while its event has not happened,
    or while the case sits in a state that stops the clock."""
    paused = set(anchor.get("paused_in", ()))
    base, _what = anchor_time(programme, anchor, events, pins or {})
    if paused and "entered" in anchor and moves:
        base = stint_start(moves, anchor["entered"], paused) or base
    if base is None:
        return None
    tz, days = ZoneInfo(programme.timezone), working_calendar(programme)
    due = offset(base, anchor, tz, days)
    if not paused or "after" not in anchor:
        return due
    unit = parse_duration(anchor["after"]).unit
    for start, end in _pauses(moves, paused):
        if end is not None and end <= base:
            continue
        start = max(start, base)
        if start >= due:
            break
        if end is None:
            return None  # stopped now: due again only once the case leaves this state
        due = _resume(start, due, end, unit, tz, days)
    return due


def stint_start(moves: Moves, state: str, paused: set[str]) -> datetime | None:
    """When the case first entered `state` in its latest stretch of being in it or paused: a
    case back from hold carries on the clock it had, not a new one."""
    start = None
    for when, to in reversed(moves):
        if to == state:
            start = when
        elif to not in paused:
            break
    return start


def _pauses(moves: Moves, paused: set[str]) -> list[tuple[datetime, datetime | None]]:
    """The stretches the case spent in a pausing state: (from, until or None if still there)."""
    out: list[tuple[datetime, datetime | None]] = []
    began: datetime | None = None
    for when, to in moves:
        if to in paused and began is None:
            began = when
        elif to not in paused and began is not None:
            out.append((began, when))
            began = None
    if began is not None:
        out.append((began, None))
    return out


def _resume(
    stopped: datetime, due: datetime, resumed: datetime, unit: str, tz: ZoneInfo, days: str
) -> datetime:
    """The new due time once the clock restarts: what was left when it stopped, from `resumed`."""
    if unit != "working_days":
        return resumed + (due - stopped)
    # the working days still to come when it stopped, then as many from the day it restarts,
    # at the limit's own time of day
    left = working_days_between(stopped.astimezone(tz).date(), due.astimezone(tz).date(), days)
    moved = shift(resumed, Duration(left, unit), +1, tz, days)
    out = datetime.combine(moved.astimezone(tz).date(), due.astimezone(tz).timetz())
    return out if out > resumed else resumed + (due - stopped)  # stopped on its last day
