"""When a workflow takes new cases: a round's window, from when it opens to when it closes.

A workflow may name the milestones its window `opens` and `closes` at. The window opens when the
`opens` milestone starts and closes when the `closes` milestone ends, so a milestone known only
as a month or a year keeps the window open for the whole of it (never shut early by a guess).
Without `closes`, a workflow whose applicant actions from its first state (other than ending the
case, such as withdrawing) all have a deadline closes at the latest of them: a draft that could
never be submitted is not worth starting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.model import Milestone, Programme, Workflow

OPEN, OPENING, CLOSED = "open", "opening", "closed"


@dataclass(frozen=True)
class Window:
    """The stretch of time in which new cases of a workflow may be started."""

    opens: Milestone | None
    closes: Milestone | None
    closes_at_deadline: bool  # closes at an applicant deadline rather than a named `closes`

    @property
    def opens_at(self) -> datetime | None:
        """The first moment a case may be started (None: it has always been open)."""
        return self.opens.span.start if self.opens else None

    @property
    def closes_at(self) -> datetime | None:
        """The last moment a case may be started (None: it never closes)."""
        return self.closes.span.end if self.closes else None

    def status(self, now: datetime) -> str:
        """`opening` before it opens, `closed` after it closes, otherwise `open`."""
        if self.opens_at is not None and now < self.opens_at:
            return OPENING
        if self.closes_at is not None and now > self.closes_at:
            return CLOSED
        return OPEN


def window(programme: Programme, wf: Workflow) -> Window:
    """The window of `wf`: its own `opens` and `closes`, or its applicants' last deadline."""
    spec = programme.data["workflows"][wf.id]
    opens = programme.milestones.get(spec["opens"]) if "opens" in spec else None
    if "closes" in spec:
        return Window(opens, programme.milestones.get(spec["closes"]), False)
    return Window(opens, _last_first_deadline(programme, wf), True)


def _last_first_deadline(programme: Programme, wf: Workflow) -> Milestone | None:
    final = {s.id for s in wf.states if s.final}
    firsts = [
        t
        for t in wf.transitions
        if "applicant" in t.by and wf.initial in t.sources and t.dest not in final
    ]  # withdrawing ends a case rather than moving it on: it has no say in the window
    if not firsts or any(not t.spec.get("deadline") for t in firsts):
        return None  # some first step has no deadline: the workflow stays open for it
    deadlines = [programme.milestones[t.spec["deadline"]] for t in firsts]
    return max(deadlines, key=lambda m: m.span.end)
