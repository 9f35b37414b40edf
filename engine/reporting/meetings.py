"""Meeting packs: for one occasion of a monitoring meeting, what came in, what is missing, the
KPIs with red/amber/green, spend against budget, and the KPIs that missed to put on the agenda.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import DateError, moment_in_words, parse_duration, parse_when, stored_moment
from engine.errors import EngineError, NotFound
from engine.forms.visibility import visible_answers
from engine.model import Programme
from engine.reporting.export import safe_cell
from engine.reporting.kpis import KpiCalculator, KpiValue, Period, period_of
from engine.reporting.suppression import hidden_rows
from engine.store import StoreContract
from engine.timeline.occasions import Occasion, occasions, shift, working_calendar
from engine.timeline.planner import pins_of


@dataclass
class ReturnStatus:
    """One provider's return for the meeting: received (when) or missing."""

    reference: str
    organisation: str
    form: str
    due: datetime | None
    received: datetime | None


@dataclass
class MeetingPack:
    """Everything the meeting needs, gathered from the database as it stood at the meeting."""

    programme: str
    meeting: str
    when: datetime | None
    period: str
    returns: list[ReturnStatus] = field(default_factory=list)
    kpis: list[KpiValue] = field(default_factory=list)
    agenda: list[KpiValue] = field(default_factory=list)
    spend: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    decision_form: str | None = None  # the form the meeting's decisions are recorded on
    # the days the meeting's own records say it was held, when no date was pinned for it (each
    # provider's meeting can be on its own day)
    held: list[datetime] = field(default_factory=list)
    targets: bool = False  # whether any of its KPIs has a target to be off
    below: int = 0  # an anonymised programme's KPIs from fewer people than this are hidden

    @property
    def missing(self) -> list[ReturnStatus]:
        """The returns not received by their due date."""
        return [r for r in self.returns if r.received is None]


def _day(moment: datetime, tz: ZoneInfo) -> datetime:
    """The start of the moment's day on the programme's clock."""
    return moment.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class _Held:
    """One occasion as its records tell it: the records sent for it, and the day each says the
    meeting was held (for an occasion whose date is not pinned)."""

    occasion: Occasion
    records: list[tuple[dict[str, Any], dict[str, Any]]]  # (case, answer row)
    days: dict[int, datetime]  # case id → the last moment of the day it was held

    @property
    def when(self) -> datetime | None:
        """The meeting's date: pinned, or the one day its records agree on."""
        if self.occasion.at is not None:
            return self.occasion.at
        days = set(self.days.values())
        return days.pop() if len(days) == 1 else None

    @property
    def moment(self) -> datetime:
        """Up to when the meeting looked: its date, the last day it was held, or its last moment."""
        return self.occasion.at or max(self.days.values(), default=self.occasion.latest)


def _held(
    programme: Programme,
    review: dict[str, Any],
    found: list[Occasion],
    index: int,
    cases: list[dict[str, Any]],
    answers: dict[int, list[dict[str, Any]]],
) -> _Held:
    """Occasion `index` with its records: those sent from its day (for the first, from the start)
    until the next occasion's.

    A record's date answer that falls within an unpinned occasion (a month) is the day it was held.
    """
    tz = ZoneInfo(programme.timezone)
    occasion = found[index]
    # anything sent before the first meeting is for the first meeting
    opens = _day(occasion.at or occasion.earliest, tz) if index else None
    later = found[index + 1] if index + 1 < len(found) else None
    closes = _day(later.at or later.earliest, tz) if later else None
    form = programme.forms.get(review.get("form") or "")
    dates = [q.id for q in form.questions().values() if q.type == "date"] if form else []
    out = _Held(occasion, [], {})
    for case in cases:
        for a in answers[case["id"]]:
            if form is None or a["form"] != form.id or not a["submitted_at"]:
                continue
            sent = stored_moment(a["submitted_at"])
            if (opens is not None and sent < opens) or (closes is not None and sent >= closes):
                continue
            out.records.append((case, a))
            for q in dates if occasion.at is None else []:
                try:
                    span = parse_when(a["data"].get(q), tz, allow_time=False)
                except DateError:
                    continue
                if occasion.earliest <= span.start <= occasion.latest:
                    out.days.setdefault(case["id"], span.end)
                    break
    return out


def _state_at(case: dict[str, Any], moves: list[tuple[str, str]], moment: datetime) -> str | None:
    """The state a case was in at `moment`, from its moves (its state now if none are logged)."""
    if not moves:
        return str(case["state"])
    before = [state for when, state in moves if stored_moment(when) <= moment]
    return before[-1] if before else None


def meeting_occasions(
    store: StoreContract, programme: Programme, review: dict[str, Any], until: datetime
) -> list[Occasion]:
    """A meeting cadence's occasions up to `until`; a recurring one counts from the first time any
    case of the programme reached its start (e.g. the first contract signed)."""
    events: dict[str, datetime] = {}
    start = review.get("start")
    if start:
        first = store.first_event(programme.id, start)
        if first:
            key = (
                f"trigger:{start['trigger']}"
                if "trigger" in start
                else f"entered:{start.get('entered')}"
            )
            events[key] = datetime.fromisoformat(first)
    return occasions(programme, review, events, pins_of(store, programme.id), until)


def held_on(
    store: StoreContract, programme: Programme, review: dict[str, Any], found: list[Occasion]
) -> list[datetime | None]:
    """Each occasion's date: pinned, or the day its records say it was held (None: not known)."""
    cases = [
        r for r in store.programme_cases(programme.id) if r["workflow"] == review.get("workflow")
    ]
    answers = {c["id"]: store.answers(c["id"]) for c in cases} if review.get("form") else {}
    return [
        o.at if o.at is not None or not answers else _held(programme, review, found, i, cases, answers).when
        for i, o in enumerate(found)
    ]  # fmt: skip


def meeting_pack(
    store: StoreContract,
    programme: Programme,
    review_id: str,
    index: int,
    now: datetime,
    *,
    role: str = "commissioner",
) -> MeetingPack:
    """The pack for occasion `index` (from 0) of the meeting cadence `review_id`, as `role` sees it.

    It shows what the meeting had before it: the returns sent up to the meeting (the day its own
    record says it was held, when no date was pinned), the cases as they stood then, and the
    decisions recorded for it, not those of a later meeting.
    """
    reviews = {r["id"]: r for r in programme.data["reviews"]}
    if review_id not in reviews:
        raise NotFound(f'programme "{programme.id}" has no cadence "{review_id}"')
    review = reviews[review_id]
    tz, days = ZoneInfo(programme.timezone), working_calendar(programme)
    found = meeting_occasions(store, programme, review, now.replace(year=now.year + 5))
    if index >= len(found):
        raise NotFound(
            f'"{review["title"]}" has {len(found)} occasion(s) so far; there is no number {index + 1}'
        )
    every = [
        r for r in store.programme_cases(programme.id) if r["workflow"] == review.get("workflow")
    ]
    answers = {c["id"]: store.answers(c["id"]) for c in every}
    this = _held(programme, review, found, index, every, answers)
    when, moment = this.when, this.moment
    previous = _held(programme, review, found, index - 1, every, answers).moment if index else None
    # the meeting reviews what came in since the last one (or the three months before the first)
    window = Period("meeting", previous or shift_back(moment, tz), moment)
    # on the programme's clock: a pin is stored in UTC, and 00:30 BST is the day before there
    label = f"{window.start.astimezone(tz):%-d %B %Y} to {window.end.astimezone(tz):%-d %B %Y}"
    pack = MeetingPack(programme.id, this.occasion.label, when, label, decision_form=review.get("form"),
                       held=sorted(set(this.days.values())) if this.occasion.at is None else [],
                       below=programme.suppress_below())  # fmt: skip

    cases = [r for r in every if stored_moment(r["created_at"]) <= moment]
    final = (
        {s.id for s in programme.workflows[review["workflow"]].states if s.final}
        if review.get("workflow")
        else set()
    )
    moves = store.state_changes([c["id"] for c in cases]) if cases else {}
    # a case that has ended since still owed its returns to this meeting
    cases = [c for c in cases if _state_at(c, moves.get(c["id"], []), moment) not in final]
    for due in review.get("due", []):
        for case in cases:
            on = this.days.get(case["id"], when)  # the day this case's meeting was held
            deadline = shift(on, parse_duration(due["before"]), -1, tz, days) if on else None
            times = [stored_moment(a["submitted_at"]) for a in answers[case["id"]]
                     if a["form"] == due["form"] and a["submitted_at"]]  # fmt: skip
            sent = [t for t in times if (previous is None or t > previous) and t <= moment]
            pack.returns.append(ReturnStatus(case["reference"], case["organisation_id"] or "", due["form"],
                                             deadline, max(sent) if sent else None))  # fmt: skip
    calc = KpiCalculator(store, programme, now)
    expected = {c["organisation_id"] or "(none)" for c in cases}
    for kpi in programme.data["kpis"]:
        if kpi.get("period", "quarter") in ("quarter", "month"):
            by = "organisation" if "organisation" in kpi.get("by", []) else "programme"
            rows = calc.value(kpi, window, by)
            if by == "organisation":  # a provider that sent nothing is shown as not reported
                rows += [KpiValue(kpi["id"], kpi["title"], window.label, o, None, 0,
                                  kpi.get("target", {}).get("value"), None, reported=False)
                         for o in sorted(expected - {r.group for r in rows})]  # fmt: skip
            rows = hidden_rows(rows, programme, kpi)  # small counts of people, as the KPI pages do
            pack.kpis.extend(rows)
            pack.agenda.extend(r for r in rows if r.rag in ("red", "amber"))
            pack.targets = pack.targets or "target" in kpi or "rag" in kpi
    awards = {a["case_id"]: a for a in store.awards(programme.id)}
    money = [
        k for k in programme.data["kpis"] if k.get("unit") == "money" and k["measure"] == "sum"
    ]
    # spend as the meeting sees it: returns sent from the contract's start up to the meeting
    contract = period_of("contract", moment, tz)
    to_date = Period(contract.kind, contract.start, min(contract.end, moment))
    for case in cases:
        award = next((awards[c] for c in (case["id"], case["parent_id"]) if c in awards), None)
        if award is None:
            continue
        spent = 0.0
        for kpi in money:
            spent += sum(r.value or 0 for r in calc.value(kpi, to_date, "organisation")
                         if r.group == (case["organisation_id"] or "(none)"))  # fmt: skip
        pack.spend.append({"reference": case["reference"], "organisation": case["organisation_id"],
                           "awarded": award["amount"], "spent": spent, "left": award["amount"] - spent})  # fmt: skip
    decision_form = programme.forms.get(review.get("form") or "")
    if decision_form is not None:
        for case, a in this.records:  # the records sent for this meeting, not for a later one
            shown = visible_answers(programme, decision_form, a["data"], role)
            pack.decisions.append({"reference": case["reference"], **shown})
    return pack


def shift_back(moment: datetime, tz: ZoneInfo) -> datetime:
    """Three months before a moment: the window a first meeting looks back over."""
    return shift(moment, parse_duration("3 months"), -1, tz)


_RAG_WORDS = {"green": "On target", "amber": "Close to target", "red": "Off target"}


def group_names(organisations: dict[str, str]) -> dict[str, str]:
    """What a pack calls each group of its KPIs: organisations by name, and the programme's own."""
    return {"(none)": "No organisation", "programme": "The whole programme", **organisations}


def pack_csv(pack: MeetingPack, programme: Programme, organisations: dict[str, str]) -> str:
    """The pack as one CSV, as the meeting's page words it: returns, then KPIs, then spend."""
    tz = ZoneInfo(programme.timezone)
    names = group_names(organisations)

    def when(moment: datetime | None, otherwise: str) -> str:
        return moment_in_words(moment, tz) if moment else otherwise

    def row(*cells: Any) -> None:  # a name or answer is typed by people: never a formula
        w.writerow([safe_cell(c) if isinstance(c, str) else c for c in cells])

    out = io.StringIO()
    w = csv.writer(out)
    held = " and ".join(moment_in_words(d, tz) for d in pack.held)
    on = f"Held on {held}" if held else when(pack.when, "Date not pinned yet")
    row(pack.meeting, on, f"Reviewing {pack.period}")
    w.writerow([])
    row("Return", "Reference", "Organisation", "Due", "Received")
    for r in pack.returns:
        form = programme.forms.get(r.form)
        row(form.title if form else r.form.replace("_", " ").capitalize(), r.reference,
            names.get(r.organisation, r.organisation), when(r.due, "Not pinned"), when(r.received, "Missing"))  # fmt: skip
    w.writerow([])
    row("KPI", "Organisation", "Value", "Target", "Status")
    for k in pack.kpis:
        value = ("Not reported" if not k.reported else f"Fewer than {pack.below}" if k.suppressed
                 else "" if k.value is None else f"{k.value:g}")  # fmt: skip
        row(k.title, names.get(k.group, k.group), value, "" if k.target is None else k.target,
            _RAG_WORDS.get(k.rag or "", ""))  # fmt: skip
    if not programme.has_money():  # no money: no spend to report
        return out.getvalue()
    w.writerow([])
    row("Reference", "Organisation", "Amount awarded", "Spent", "Left")
    for s in pack.spend:
        organisation = names.get(s["organisation"] or "(none)", s["organisation"])
        row(s["reference"], organisation, s["awarded"], f"{s['spent']:g}", f"{s['left']:g}")
    return out.getvalue()


__all__ = ["EngineError", "MeetingPack", "ReturnStatus", "meeting_pack", "pack_csv"]
