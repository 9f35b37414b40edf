"""Actions on a case: which this actor may take now and every reason why not, taking one (its
effects: money, new cases, flags), when timed transitions fall due, and service levels.

Builds on the case service (eligibility, new cases) and every money rule.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import parse_duration
from engine.definition.schema_check import did_you_mean
from engine.errors import ActionRefused, NotFound, NotPermitted, StaleCase
from engine.forms.answers import check_form
from engine.model import Programme, Transition, Workflow
from engine.runtime import assessment, machines
from engine.runtime.as_at import case_as_at
from engine.runtime.assignments import step_blockers
from engine.runtime.cases import CaseService
from engine.runtime.core import with_detail
from engine.runtime.money import MoneyService
from engine.runtime.read_ahead import ReadAhead
from engine.runtime.views import ActionOption, Actor, CaseView, ServiceLevelResult
from engine.timeline.clocks import Moves, case_due, paused_now
from engine.timeline.occasions import offset, shift, working_calendar
from engine.timeline.planner import case_moves, clock_facts, events_of, facts_after

_NOT_YOURS = "this action is not for"


def _shift(moment: datetime, duration: str, sign: int, programme: Programme) -> datetime:
    tz = ZoneInfo(programme.timezone)
    return shift(moment, parse_duration(duration), sign, tz, working_calendar(programme))


def _when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    text = local.strftime("%-d %B %Y at %H:%M")
    return re.sub(r" at 23:59$", "", text) + f" {local.tzname()}"


class ActionService(CaseService, MoneyService):
    """List, check and take a case's actions, with their effects; check its service levels."""

    # -- actions ---------------------------------------------------------------------------
    def actions(self, case_id: int | str, actor: Actor) -> list[ActionOption]:
        """Every action from the case's current state, with whether this actor may take it now."""
        row, stored = self._row_and_answers(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        wf = programme.workflows[row["workflow"]]
        context = self._context(row, programme, stored)
        out: list[ActionOption] = []
        seen: set[str] = set()
        for index, t in enumerate(wf.transitions):
            if row["state"] not in t.sources or t.trigger in seen:
                continue
            reasons = self._reasons(
                row,
                programme,
                wf,
                t,
                actor,
                context,
                amount=None,
                lot=None,
                reason="-",
                preview=True,
                stored=stored,
            )
            if reasons and any(
                u.trigger == t.trigger
                for u in wf.transitions[index + 1 :]
                if row["state"] in u.sources
            ):
                continue  # a later transition of the same name may still apply
            seen.add(t.trigger)
            out.append(ActionOption(t.trigger, t.spec.get("label", t.trigger.replace("_", " ").capitalize()),
                                    t.dest, not reasons, tuple(reasons), bool(t.spec.get("reason"))))  # fmt: skip
        return out

    def act(
        self,
        case_id: int | str,
        trigger: str,
        actor: Actor,
        *,
        expected_state: str | None = None,
        expected_revision: int | None = None,
        amount: int | None = None,
        lot: str | None = None,
        reason: str | None = None,
    ) -> CaseView:
        """Take an action on a case, or raise with every reason it cannot be taken now."""
        with self.store.transaction():
            # the case, its answers and what re-planning it reads: the one read before COMMIT
            row, stored, facts = self._row_and_facts(case_id, actor)
            programme = self.programme(row["programme_id"], row["version"])
            wf = programme.workflows[row["workflow"]]
            if (expected_state is not None and expected_state != row["state"]) or (
                expected_revision is not None and expected_revision != row["revision"]
            ):
                raise StaleCase(
                    "this case changed while you were looking at it, so your action was not taken; "
                    "look at it again and decide"
                )
            candidates = [(i, t) for i, t in enumerate(wf.transitions) if t.trigger == trigger]
            if not candidates:
                triggers = {t.trigger for t in wf.transitions}
                raise NotFound(
                    f'a {wf.title.lower()} has no action "{trigger}"{did_you_mean(trigger, triggers)}'
                )
            here = [(i, t) for i, t in candidates if row["state"] in t.sources]
            state_label = next((s.label for s in wf.states if s.id == row["state"]), row["state"])
            if not here:
                label = candidates[0][1].spec.get("label", trigger)
                raise ActionRefused(
                    f'"{label}" cannot be taken while the case is {state_label.lower()}'
                )
            context = self._context(row, programme, stored)
            # a timed action's clock, from the facts read with the case (as `_clock_facts` reads)
            clock = clock_facts(programme, row, facts, stored)
            all_reasons: list[str] = []
            chosen: tuple[int, Transition] | None = None
            for i, t in here:
                reasons = self._reasons(row, programme, wf, t, actor, context, amount=amount, lot=lot,
                                        reason=reason, stored=stored, clock=clock)  # fmt: skip
                if not reasons:
                    chosen = (i, t)
                    break
                all_reasons.extend(r for r in reasons if r not in all_reasons)
            if chosen is None:
                label = here[0][1].spec.get("label", trigger)
                if all(r.startswith(_NOT_YOURS) for r in all_reasons):
                    raise NotPermitted(f'you cannot "{label}"', all_reasons)
                raise ActionRefused(f'"{label}" cannot be taken yet', all_reasons)
            index, t = chosen
            dest = machines.fire(programme.version, wf, row["state"], index)
            now = self._stamp()
            detail = self._effects(row, programme, t, actor, context, amount, lot, now)
            if reason:
                detail["reason"] = reason
            checks = {k: t.spec[k] for k in ("guard", "deadline", "not_before") if k in t.spec}
            if t.spec.get("eligibility"):
                checks["eligibility"] = "every criterion met"
            if checks:
                detail["checks_passed"] = checks  # what was true when the action was allowed
            for form_id in t.spec.get("forms", []):
                self.store.mark_submitted(row["id"], form_id, now)
            flags = {**row["flags"], **detail.pop("flags", {})}
            entered = {**row["entered"], dest: now}
            revision = self.store.move_case(row["id"], row["revision"], dest, flags, entered, now)
            self.store.audit(
                row["id"],
                now,
                actor.role,
                actor.id,
                trigger,
                row["state"],
                dest,
                row["version"],
                detail,
            )
            moved = {**row, "state": dest, "flags": flags, "entered": entered,
                     "revision": revision, "updated_at": now}  # fmt: skip
            # the row as just written, and the facts read with it counting this action: no read
            facts = facts_after(facts, trigger, now, row["state"], dest)
            self._replan(row["id"], programme, moved, facts, stored)
            if "started" in detail:
                self._replan(detail["started"], programme)
        # the case as this action left it, not read back: the award's lot is the case's lot,
        # and the forms the action takes are submitted now
        if "award" in detail:
            moved["lot"] = detail["award"]["lot"]
        forms = set(t.spec.get("forms", []))
        sent = [{**a, "submitted_at": now} if a["form"] in forms and a["submitted_at"] is None else a
                for a in stored]  # fmt: skip
        return self._view(moved, sent, actor)

    def _reasons(self, row: dict[str, Any], programme: Programme, wf: Workflow, t: Transition, actor: Actor,
                 context: dict[str, Any], *, amount: int | None, lot: str | None, reason: str | None,
                 preview: bool = False, stored: list[dict[str, Any]] | None = None,
                 clock: tuple[dict[str, datetime], Moves] | None = None) -> list[str]:  # fmt: skip
        """Every reason this actor may not take this transition now (an empty list: they may).

        With `preview`, what the person is asked for as they act (an amount) is not yet due;
        `stored`: the case's answers, and `clock`, its events and moves, when the caller has them.
        """
        spec = t.spec
        reasons: list[str] = []
        if actor.role not in t.by:
            who = ", ".join(t.by) or "nobody"
            article = "an" if actor.role[0] in "aeiou" else "a"
            reasons.append(f"{_NOT_YOURS} {article} {actor.role}: it is taken by {who}")
            return reasons
        if self._conflicted(row, actor):  # a declared interest keeps an assessor off the case
            return [
                f"you declared a conflict of interest in {row['reference']}, so you take no part in it"
            ]
        tz = ZoneInfo(programme.timezone)
        now = self.now()
        if "deadline" in spec:
            m = programme.milestones[spec["deadline"]]
            if now > m.span.end:
                reasons.append(f"the deadline was {_when(m.span.end, tz)} ({m.label})")
        if "not_before" in spec:
            m = programme.milestones[spec["not_before"]]
            if now < m.span.start:
                reasons.append(f"this cannot happen before {_when(m.span.start, tz)} ({m.label})")
        if "at" in spec:
            due = self._due(row, programme, spec["at"], clock)
            # a milestone such as a deadline at 17:00 has passed only once 17:00 is over, so a
            # submission at 17:00:00 and the round closing cannot both be allowed at one instant
            at_milestone = set(spec["at"]) == {"milestone"}
            if due is not None and (now <= due if at_milestone else now < due):
                word = "after" if at_milestone else "at"
                reasons.append(f"this happens automatically {word} {_when(due, tz)}")
        for form_id in spec.get("forms", []):
            reasons.extend(self._incomplete(row, programme, wf, form_id, t.trigger, stored))
        if spec.get("eligibility"):
            for c in self._eligibility(row, programme, context, actor.role):
                if c.status == "not_met":
                    reasons.append(c.message)
                elif c.status == "not_answered":
                    reasons.append(with_detail(c.text, c.message))
        if "guard" in spec:
            ok, why = self._check(spec["guard"], context, programme)
            if ok is False:
                reasons.append(
                    spec.get("guard_message") or f"the condition is not met: {spec['guard']}"
                )
            elif ok is None:
                reasons.append(
                    with_detail(
                        spec.get("guard_message", "the condition cannot be checked yet"), why
                    )
                )
        if spec.get("pass_mark"):
            settings = programme.data.get("assessment", {})
            if why := assessment.below_pass_mark(context["assessment"], settings):
                reasons.append(why)
        reasons.extend(
            step_blockers(self.store, row, programme, t, actor)
        )  # the panel's work first
        if spec.get("reason") and not (reason and reason.strip()):
            reasons.append("give a reason")
        for eff in spec.get("effects", []):
            if eff["do"] == "record_award":
                problems = self._award_problems(row, programme, eff, context, amount, lot)[1]
            elif eff["do"] == "record_payment":
                problems = self._payment_problems(row, programme, eff, context, amount)[1]
            else:
                continue
            reasons.extend(p for p in problems if not (preview and p.startswith("give the amount")))
        return reasons

    def _clock_facts(self, row: dict[str, Any], programme: Programme,
                     reads: Any = None) -> tuple[dict[str, datetime], Moves]:  # fmt: skip
        """What every clock of the case counts from: its events and its moves (read once, from
        `reads` if given: see `service_levels_of`)."""
        store = reads or self.store
        events = events_of(store, programme, row, store.fired_all(row["id"]))
        return events, case_moves(store, programme, row["id"])

    def _due(
        self,
        row: dict[str, Any],
        programme: Programme,
        anchor: dict[str, Any],
        clock: tuple[dict[str, datetime], Moves] | None = None,
    ) -> datetime | None:
        """When a limit or timed action counted from `anchor` falls due for this case: None while
        its event has not happened or its clock is stopped, or when a cadence decides."""
        if "milestone" in anchor:
            base = programme.milestones[anchor["milestone"]].span.start
            return offset(base, anchor, ZoneInfo(programme.timezone), working_calendar(programme))
        if "review" in anchor:
            return None
        # the scheduler's own arithmetic, so a page and a sweep agree on every due time
        events, moves = clock or self._clock_facts(row, programme)
        return case_due(programme, anchor, events, moves)

    def _incomplete(self, row: dict[str, Any], programme: Programme, wf: Workflow, form_id: str, trigger: str,
                    answers: list[dict[str, Any]] | None = None) -> list[str]:  # fmt: skip
        form = programme.forms[form_id]
        answers = self.store.answers(row["id"]) if answers is None else answers
        stored = [a for a in answers if a["form"] == form_id]
        if self._repeatable(programme, wf, form_id):
            # each time the action is taken it needs a record made since it was last taken
            last = self.store.fired(row["id"], trigger)
            fresh = [a for a in stored if last is None or (a["submitted_at"] or "") >= last]
            if fresh:
                return []
            return [
                f"record {form.title} first" if not stored else f"record a new {form.title} first"
            ]
        if not stored:
            return [f"fill in {form.title} first"]
        _clean, errors = check_form(
            form,
            {k: v for k, v in stored[0]["data"].items() if k in form.questions()},  # as now asked
            complete=True,
            context=self._answer_context(row, programme, form, answers),
        )
        questions = programme.questions()
        return [
            f"{form.title}: {questions[q].label if q in questions else q} — {m}"
            for q, ms in errors.items()
            for m in ms
        ]

    def _effects(self, row: dict[str, Any], programme: Programme, t: Transition, actor: Actor,
                 context: dict[str, Any], amount: int | None, lot: str | None, now: str) -> dict[str, Any]:  # fmt: skip
        detail: dict[str, Any] = {"effects": []}
        flags: dict[str, Any] = {}
        for eff in t.spec.get("effects", []):
            do = eff["do"]
            if do == "record_award":
                money, problems = self._award_problems(row, programme, eff, context, amount, lot)
                assert not problems
                self.store.insert_award(row["id"], programme.id, money["lot"], money["amount"], now)
                if money["lot"] != row["lot"]:  # the award's lot is the case's lot: one lot
                    self.store.set_case_lot(row["id"], money["lot"])
                detail["award"] = money
            elif do == "record_payment":
                money, problems = self._payment_problems(row, programme, eff, context, amount)
                assert not problems
                self.store.insert_payment(row["id"], money["amount"], now)
                detail["payment"] = money
            elif do == "start_case":
                wf = programme.workflows[eff["workflow"]]
                award = detail.get("award", {})
                child = self._insert_case(programme, wf, row["organisation_id"], row["role"], row["subject"],
                                          award.get("lot") or row["lot"], row["id"], now)  # fmt: skip
                copied = self._copy_answers(
                    programme, row["id"], child, wf.id, eff.get("copy_answers", []), now
                )
                self.store.audit(child, now, actor.role, actor.id, "start", None, wf.initial, programme.version,
                                 {"started_by": row["reference"], **({"copied": copied} if copied else {})})  # fmt: skip
                detail["started"] = child
            elif do == "raise_flag":
                flags[eff["flag"]] = True
            elif do == "clear_flag":
                flags[eff["flag"]] = False
            detail["effects"].append(do)
        detail["flags"] = flags
        return detail

    # -- service levels --------------------------------------------------------------------
    def service_levels(self, case_id: int | str, actor: Actor) -> list[ServiceLevelResult]:
        """Where each service level of the case stands now, without flagging anything (for pages)."""
        row = self._row(case_id, actor)
        return self._service_levels(row, self.programme(row["programme_id"], row["version"]))

    def service_levels_of(
        self, case_ids: list[int], actor: Actor
    ) -> dict[int, list[ServiceLevelResult]]:
        """Where each service level of each of these cases stands, as `service_levels`, their
        reads made together (a page about many cases; a case the actor may not see left out)."""
        reads = ReadAhead(self.store, case_ids)
        out = {}
        for case_id in case_ids:
            try:
                row = self._seen(reads.case(case_id), case_id, actor)
            except NotFound:
                continue  # one this actor may not see is left out, as it is of any list
            programme = self.programme(row["programme_id"], row["version"])
            out[case_id] = self._service_levels(row, programme, reads)
        return out

    def _service_levels(
        self, row: dict[str, Any], programme: Programme, reads: Any = None
    ) -> list[ServiceLevelResult]:
        levels = [
            sl for sl in programme.data["service_levels"] if sl["workflow"] == row["workflow"]
        ]
        if not levels:
            return []
        context: dict[str, Any] | None = None
        past: dict[datetime, dict[str, Any]] = {}  # the case as it stood at each limit passed
        clock = self._clock_facts(row, programme, reads)
        store = reads or self.store
        now = self.now()
        results: list[ServiceLevelResult] = []
        for sl in levels:
            due = self._due(row, programme, sl["within"], clock)
            if due is not None and now >= due:
                # judged as the case stood at its limit: a sweep a day late, or a contact
                # recorded after it, gives the verdict a sweep on time would have given
                if due not in past:
                    then, stored = case_as_at(store, row, due)
                    past[due] = self._context(then, programme, stored, due)
                kept, _why = self._check(sl["rule"], past[due], programme)
                status = "kept" if kept else "missed"
            else:
                context = context or self._context(row, programme, store.answers(row["id"]))
                kept, _why = self._check(sl["rule"], context, programme)
                if kept:
                    status = "kept"
                elif due is None:
                    stopped = paused_now(sl["within"], row["state"])
                    status = "paused" if stopped else "not_started"
                elif "warn" in sl and now >= _shift(due, sl["warn"], -1, programme):
                    status = "at_risk"
                else:
                    status = "pending"
            results.append(ServiceLevelResult(sl["id"], sl["title"], status, due))
        return results

    def check_service_levels(self, case_id: int | str, actor: Actor) -> list[ServiceLevelResult]:
        """Check each service level of the case; a missed one raises its flag (once, audited)."""
        with self.store.transaction():
            row = self._row(case_id, actor)
            programme = self.programme(row["programme_id"], row["version"])
            results = self._service_levels(row, programme)
            newly_missed = [
                r.id for r in results if r.status == "missed" and not row["flags"].get(r.id)
            ]
            if newly_missed:
                stamp = self._stamp()
                flags = {**row["flags"], **dict.fromkeys(newly_missed, True)}
                self.store.move_case(
                    row["id"], row["revision"], row["state"], flags, row["entered"], stamp
                )
                self.store.audit(row["id"], stamp, actor.role, actor.id, "service_level_missed", row["state"],
                                 row["state"], row["version"], {"missed": newly_missed})  # fmt: skip
        return results
