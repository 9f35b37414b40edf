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

from engine.dates import parse_duration
from engine.errors import EngineError, NotFound
from engine.forms.visibility import visible_answers
from engine.model import Programme
from engine.reporting.kpis import KpiCalculator, KpiValue, Period, period_of
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
    received: str | None


@dataclass
class MeetingPack:
    """Everything the meeting needs, gathered from the database."""

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

    @property
    def missing(self) -> list[ReturnStatus]:
        """The returns not received by their due date."""
        return [r for r in self.returns if r.received is None]


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


def meeting_pack(
    store: StoreContract,
    programme: Programme,
    review_id: str,
    index: int,
    now: datetime,
    *,
    role: str = "commissioner",
) -> MeetingPack:
    """The pack for occasion `index` (from 0) of the meeting cadence `review_id`, as `role` sees it."""
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
    occasion = found[index]
    when = occasion.at
    moment = when or occasion.latest
    previous = found[index - 1].at or found[index - 1].latest if index else None
    # the meeting reviews what came in since the last one (or the three months before the first)
    window = Period("meeting", previous or shift_back(moment, tz), moment)
    label = f"{window.start:%-d %B %Y} to {window.end:%-d %B %Y}"
    pack = MeetingPack(programme.id, occasion.label, when, label, decision_form=review.get("form"))

    cases = [r for r in store.programme_cases(programme.id)
             if r["workflow"] == review.get("workflow") and datetime.fromisoformat(r["created_at"]) <= moment]  # fmt: skip
    final = (
        {s.id for s in programme.workflows[review["workflow"]].states if s.final}
        if review.get("workflow")
        else set()
    )
    for due in review.get("due", []):
        deadline = shift(moment, parse_duration(due["before"]), -1, tz, days) if when else None
        for case in cases:
            if case["state"] in final:
                continue
            sent = [a["submitted_at"] for a in store.answers(case["id"])
                    if a["form"] == due["form"] and a["submitted_at"]
                    and (previous is None or a["submitted_at"] > previous.isoformat())
                    and a["submitted_at"] <= moment.isoformat()]  # fmt: skip
            pack.returns.append(ReturnStatus(case["reference"], case["organisation_id"] or "", due["form"],
                                             deadline, max(sent) if sent else None))  # fmt: skip
    calc = KpiCalculator(store, programme, now)
    for kpi in programme.data["kpis"]:
        if kpi.get("period", "quarter") in ("quarter", "month"):
            rows = calc.value(
                kpi, window, "organisation" if "organisation" in kpi.get("by", []) else "programme"
            )
            pack.kpis.extend(rows)
            pack.agenda.extend(r for r in rows if r.rag in ("red", "amber"))
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
        for case in cases:
            for a in store.answers(case["id"]):
                if (
                    a["form"] == review["form"]
                    and a["submitted_at"]
                    and (previous is None or a["submitted_at"] > previous.isoformat())
                ):
                    shown = visible_answers(programme, decision_form, a["data"], role)
                    pack.decisions.append({"reference": case["reference"], **shown})
    return pack


def shift_back(moment: datetime, tz: ZoneInfo) -> datetime:
    """Three months before a moment: the window a first meeting looks back over."""
    return shift(moment, parse_duration("3 months"), -1, tz)


def pack_csv(pack: MeetingPack) -> str:
    """The pack as one CSV: returns, then KPIs, then spend."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([f"{pack.meeting}", f"reviewing {pack.period}"])
    w.writerow([])
    w.writerow(["return", "case", "organisation", "due", "received"])
    for r in pack.returns:
        w.writerow(
            [
                r.form,
                r.reference,
                r.organisation,
                r.due.isoformat() if r.due else "not pinned",
                r.received or "MISSING",
            ]
        )
    w.writerow([])
    w.writerow(["kpi", "group", "value", "target", "rag"])
    for k in pack.kpis:
        w.writerow(
            [
                k.title,
                k.group,
                "" if k.value is None else f"{k.value:g}",
                "" if k.target is None else k.target,
                k.rag or "",
            ]
        )
    w.writerow([])
    w.writerow(["case", "organisation", "awarded", "spent", "left"])
    for s in pack.spend:
        w.writerow(
            [s["reference"], s["organisation"], s["awarded"], f"{s['spent']:g}", f"{s['left']:g}"]
        )
    return out.getvalue()


__all__ = ["EngineError", "MeetingPack", "ReturnStatus", "meeting_pack", "pack_csv"]
