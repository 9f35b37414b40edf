"""What is due when: reminders, timed transitions and service-level checks, for a case or a round.

The same planning serves the scheduler (rows written beside the action that caused them) and
`commission schedule`, the dry run (a hypothetical case whose events all happen at once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import parse_duration
from engine.model import Programme
from engine.timeline.clocks import Moves, answer_events, answer_questions, case_due, pauses_anywhere
from engine.timeline.occasions import (
    CaseEvents,
    anchor_time,
    occasions,
    offset,
    shift,
    working_calendar,
)


@dataclass(frozen=True)
class Planned:
    """One thing that will fire: a reminder, a timed transition or a service-level check."""

    kind: str  # reminder, transition, service_level, service_level_warn
    rule: str
    due: datetime | None  # None: hangs on a date nobody has pinned yet
    anchor: datetime | None  # the moment it is relative to, when known
    reason: str
    workflow: str | None = None
    to: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key_part(self) -> str:
        """What distinguishes it from other firings of the same rule (its due time)."""
        return self.due.isoformat() if self.due else "unpinned"


def _when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%-d %B %Y %H:%M} {local.tzname()}"


def _moments(
    programme: Programme,
    anchor: Mapping[str, Any],
    review_of: Mapping[str, Mapping[str, Any]],
    events: CaseEvents,
    pins: Mapping[str, datetime],
    until: datetime,
    moves: Moves = (),
) -> list[tuple[datetime | None, datetime | None, str]]:
    """Each (due, anchor moment, what it is relative to) an anchor gives, cadence occasions included."""
    tz, days = ZoneInfo(programme.timezone), working_calendar(programme)
    if "review" in anchor:
        out = []
        for o in occasions(programme, review_of[anchor["review"]], events, pins, until):
            if o.at is None:
                out.append((None, o.earliest, f"{o.label} (date not pinned yet)"))
            else:
                out.append((offset(o.at, anchor, tz, days), o.at, o.label))
        return out
    base, what = anchor_time(programme, anchor, events, pins)
    if base is None:
        if "milestone" in anchor:
            span = programme.milestones[anchor["milestone"]].span
            return [(None, span.start, f"{what} (date not pinned yet)")]
        return []
    if anchor.get("paused_in"):  # None while the case sits in a state that stops the clock
        return [(case_due(programme, anchor, events, moves, pins), base, what)]
    return [(offset(base, anchor, tz, days), base, what)]


def _relation(anchor: Mapping[str, Any]) -> str:
    if "before" in anchor:
        return f"{anchor['before']} before"
    if "after" in anchor:
        return f"{anchor['after']} after"
    return "at"


def plan(
    programme: Programme,
    *,
    workflow: str | None,
    state: str | None,
    events: CaseEvents,
    pins: Mapping[str, datetime],
    until: datetime,
    moves: Moves = (),
) -> list[Planned]:
    """Everything that fires for one case (or, with workflow None, for the programme as a whole)."""
    data = programme.data
    tz = ZoneInfo(programme.timezone)
    review_of = {r["id"]: r for r in data["reviews"]}
    out: list[Planned] = []
    final: set[str] = set()
    if workflow is not None:
        final = {s.id for s in programme.workflows[workflow].states if s.final}
    closed = state in final

    for r in data["reminders"]:
        if r.get("workflow") != workflow:
            continue
        if (
            workflow is not None
            and state is not None
            and (closed or ("states" in r and state not in r["states"]))
        ):
            continue
        if "review" in r["when"] and review_of[r["when"]["review"]].get("workflow") not in (
            None,
            workflow,
        ):
            continue
        for due, at, what in _moments(programme, r["when"], review_of, events, pins, until, moves):
            reason = f"reminder {r['id']} to {', '.join(r['to'])}: {_relation(r['when'])} {what}"
            if at is not None and due is not None:
                reason += f" ({_when(at, tz)})"
            out.append(Planned("reminder", r["id"], due, at, reason, workflow, tuple(r["to"])))

    if workflow is not None and not closed:
        wf = programme.workflows[workflow]
        for t in wf.transitions:
            if "at" not in t.spec or (state is not None and state not in t.sources):
                continue
            for due, at, what in _moments(
                programme, t.spec["at"], review_of, events, pins, until, moves
            ):
                if due is not None and set(t.spec["at"]) == {"milestone"}:
                    due += timedelta(seconds=1)  # a deadline at 17:00 has passed at 17:00:01
                reason = f"timed transition {t.trigger} ({' / '.join(t.sources)} → {t.dest}): {_relation(t.spec['at'])} {what}"
                out.append(Planned("transition", t.trigger, due, at, reason, workflow))

    for sl in data["service_levels"]:
        if sl["workflow"] != workflow or workflow is None:
            continue
        for due, at, what in _moments(
            programme, sl["within"], review_of, events, pins, until, moves
        ):
            if due is None:
                continue
            notify = sl.get("notify", {})
            if "warn" in sl:
                warn_at = shift(
                    due, parse_duration(sl["warn"]), -1, tz, working_calendar(programme)
                )
                out.append(Planned("service_level_warn", sl["id"], warn_at, at,
                                   f"service level {sl['id']}: warning {sl['warn']} before it falls due, {_relation(sl['within'])} {what}",
                                   workflow, tuple(notify.get("before", []))))  # fmt: skip
            out.append(Planned("service_level", sl["id"], due, at,
                               f"service level {sl['id']} checked: {sl['title']} ({_relation(sl['within'])} {what})",
                               workflow, tuple(notify.get("after", []))))  # fmt: skip
    return out


def hypothetical_events(programme: Programme, workflow: str, at: datetime) -> dict[str, datetime]:
    """For the dry run: a case of `workflow` whose every state and action happens at `at`."""
    wf = programme.workflows[workflow]
    events = {f"entered:{s.id}": at for s in wf.states}
    events.update({f"trigger:{t.trigger}": at for t in wf.transitions})
    # a date its form records, answered as the window opens
    tz = ZoneInfo(programme.timezone)
    day = at.astimezone(tz).date()
    answered = [{"form": "", "record": 0, "data": {q: day.isoformat()}} for q in answer_questions(programme)]  # fmt: skip
    events.update(answer_events(programme, answered))
    return events


def dry_run(
    programme: Programme, start: datetime, end: datetime, pins: Mapping[str, datetime] | None = None
) -> list[Planned]:
    """Everything that would fire between start and end, in time order: the round's own dates,
    and for each workflow a case whose every event happens at `start`. Unpinned items come
    where their earliest possible date falls."""
    pins = pins or {}
    items = plan(programme, workflow=None, state=None, events={}, pins=pins, until=end)
    for wid in programme.workflows:
        events = hypothetical_events(programme, wid, start)
        items += plan(programme, workflow=wid, state=None, events=events, pins=pins, until=end)

    def when(p: Planned) -> datetime | None:
        return p.due if p.due is not None else p.anchor

    kept = [p for p in items if when(p) is not None and start <= when(p) <= end]  # type: ignore[operator]
    return sorted(kept, key=lambda p: (when(p), p.kind, p.rule))  # type: ignore[arg-type,return-value]


# -- reminder rows ----------------------------------------------------------------------------
HORIZON_DAYS = 400  # recurring occasions are planned this far ahead; each firing re-plans the case


def _key(programme_id: str, p: Planned, case_id: int | None) -> str:
    return (
        f"{programme_id}:{p.kind}:{p.rule}:{case_id if case_id is not None else '-'}:{p.key_part}"
    )


def case_events(row: Mapping[str, Any], fired: Mapping[str, str]) -> dict[str, datetime]:
    """A case's events as the planner reads them: states entered and actions taken."""
    events = {f"entered:{k}": datetime.fromisoformat(v) for k, v in row["entered"].items()}
    events.update({f"trigger:{k}": datetime.fromisoformat(v) for k, v in fired.items()})
    return events


def events_of(
    store: Any, programme: Programme, row: Mapping[str, Any], fired: Mapping[str, str]
) -> dict[str, datetime]:
    """A case's events with the dates answered on its forms that the programme counts from."""
    events = case_events(row, fired)
    if answer_questions(programme):  # only programmes that count from a date answered read them
        events.update(answer_events(programme, store.answers(row["id"])))
    return events


def case_moves(store: Any, programme: Programme, case_id: int) -> list[tuple[datetime, str]]:
    """A case's moves between states, oldest first, for a programme whose clocks can pause."""
    if not pauses_anywhere(programme):
        return []
    found = store.state_changes([case_id]).get(case_id, [])
    return [(datetime.fromisoformat(when), state) for when, state in found]


def pins_of(store: Any, programme_id: str) -> dict[str, datetime]:
    """The dates a commissioner has pinned for a programme (see `commission pin`)."""
    return {k: datetime.fromisoformat(v) for k, v in store.pins(programme_id).items()}


def _rows(
    programme: Programme, items: list[Planned], case_id: int | None, now: datetime
) -> list[dict[str, Any]]:
    stamp = now.astimezone(UTC).isoformat()
    rows = []
    for p in items:
        if p.due is None:
            continue  # waits for a pinned date
        if p.kind == "reminder" and p.due < now:
            continue  # a reminder whose moment passed before its cause existed is not useful
        rows.append({
            "key": _key(programme.id, p, case_id),
            "programme_id": programme.id,
            "version": programme.version,
            "kind": p.kind,
            "rule": p.rule,
            "case_id": case_id,
            "due_at": p.due.astimezone(UTC).isoformat(),
            "anchor_at": p.anchor.astimezone(UTC).isoformat() if p.anchor else None,
            "payload": {"reason": p.reason, "to": list(p.to)},
            "created_at": stamp,
        })  # fmt: skip
    return rows


def reads_pins(programme: Programme, workflow: str) -> bool:
    """Whether a pinned date can change what is planned for the workflow's cases: one of its
    reminders, timed actions or service levels counts from a milestone or a review's occasion."""
    anchors = [r["when"] for r in programme.data["reminders"] if r.get("workflow") == workflow]
    anchors += [t.spec["at"] for t in programme.workflows[workflow].transitions if "at" in t.spec]
    anchors += [s["within"] for s in programme.data["service_levels"] if s["workflow"] == workflow]
    return any("milestone" in a or "review" in a for a in anchors)


def replan_case(
    store: Any,
    programme: Programme,
    row: Mapping[str, Any],
    now: datetime,
    facts: Mapping[str, Any] | None = None,
    answers: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """Write the rows a case's current facts call for and cancel those they no longer do.

    Called inside the transaction of the action that changed the case, so the case and its
    reminders never disagree. `facts` (as `plan_facts` gives them) and `answers` are the case's
    as they now stand, when the caller read them with the case and counted what it wrote since
    (`facts_after`): given both, re-planning reads nothing, and its writes go with COMMIT.
    """
    until = now + timedelta(days=HORIZON_DAYS)
    if facts is None:
        facts = store.plan_facts(row["id"], programme.id)  # one read: every save re-plans
    if answers is None and answer_questions(programme):  # only if it counts from a date answered
        answers = store.answers(row["id"])
    pins = {k: datetime.fromisoformat(v) for k, v in facts["pins"].items()}
    events, moves = clock_facts(programme, row, facts, answers or [])
    items = plan(programme, workflow=row["workflow"], state=row["state"], events=events,
                 pins=pins, until=until, moves=moves)  # fmt: skip
    _write_plan(store, programme, items, row["id"], facts["pending"], now)


def clock_facts(
    programme: Programme,
    row: Mapping[str, Any],
    facts: Mapping[str, Any],
    answers: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, datetime], list[tuple[datetime, str]]]:
    """What a case's clocks count from, out of `plan_facts` and its answers: its events (the
    dates answered among them) and, for a programme whose clocks can pause, its moves."""
    events = case_events(row, facts["fired"])
    events.update(answer_events(programme, answers))  # nothing unless it counts from an answer
    if not pauses_anywhere(programme):
        return events, []
    return events, [(datetime.fromisoformat(when), state) for when, state in facts["moves"]]


def facts_after(facts: Mapping[str, Any], action: str, at: str, from_state: str | None,
                to_state: str | None) -> dict[str, Any]:  # fmt: skip
    """`facts` once the audit event of an action taken at `at` is written, as `plan_facts` would
    read them back: the action last taken at the later of its times, and a move if the state changed."""
    fired = {**facts["fired"], action: max(facts["fired"].get(action, at), at)}
    moves = list(facts["moves"])
    if to_state is not None and (from_state is None or to_state != from_state):
        moves.append((at, to_state))
    return {**facts, "fired": fired, "moves": moves}


def plan_programme(store: Any, programme: Programme, now: datetime) -> None:
    """Write the programme-wide rows (reminders about the round itself, not about one case) and
    cancel those it no longer calls for."""
    until = now + timedelta(days=HORIZON_DAYS * 3)
    items = plan(
        programme,
        workflow=None,
        state=None,
        events={},
        pins=pins_of(store, programme.id),
        until=until,
    )
    # a date pinned again moves what hangs on it: the row due at the old moment is not sent
    _write_plan(store, programme, items, None, store.programme_pending_keys(programme.id), now)


def _write_plan(store: Any, programme: Programme, items: list[Planned], case_id: int | None,
                pending: set[str], now: datetime) -> None:  # fmt: skip
    """Write the rows `items` call for that are not pending yet; cancel the pending ones they
    no longer call for (of one case, or with no case the programme's own)."""
    new = [r for r in _rows(programme, items, case_id, now) if r["key"] not in pending]
    if new:  # a row already pending stays as it is (its key makes planning idempotent)
        store.plan_rows(new)
    # Cancel only what is no longer called for. A reminder that fell due before the sweeper
    # reached it (a scheduler restarted, a sweep not yet run) is not planned afresh, but it is
    # still called for: it stays pending, and the sweeper sends it late or says why not.
    called_for = {_key(programme.id, p, case_id) for p in items if p.due is not None}
    store.cancel_rows(pending - called_for, now.astimezone(UTC).isoformat())
