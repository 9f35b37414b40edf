"""Cases and their answers: opening a case, reading it and its history, and saving answers to
its forms (who may fill which form, when); its eligibility criteria are checked in `eligibility`.

Starting a case, saving answers and taking an action (`actions`) read once, in one round trip:
the case, its answers and what re-planning its reminders needs; everything else they do is
written, and goes to the database with COMMIT.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import span_phrase
from engine.definition.schema_check import did_you_mean
from engine.errors import ActionRefused, AnswersInvalid, NotFound, NotPermitted, StaleCase
from engine.forms.answers import check_form, reads_case
from engine.forms.organisation_numbers import numbers_answered
from engine.forms.visibility import visible_answers
from engine.model import Form, Programme, Workflow
from engine.runtime.eligibility import EligibilityService
from engine.runtime.labels import label_of
from engine.runtime.record_dates import future_date_errors
from engine.runtime.views import Actor, CaseView
from engine.timeline.planner import facts_after
from engine.timeline.windows import CLOSED, OPENING, window


class _Superseded(Exception):
    """A case was about to start on a version of its programme that is no longer the newest."""


def _next_record_no(stored: list[dict[str, Any]], form_id: str) -> int:
    """The number the next record of a repeatable form gets, from the case's answers as read
    (as `next_record_no` counts in the database)."""
    return max((a["record"] for a in stored if a["form"] == form_id), default=0) + 1


def lot_questions(form: Form) -> list[str]:
    """The form's questions whose answer is a lot (`options_from: lots`), outside groups."""
    return [q.id for _pid, _t, qs in form.pages for q in qs if q.spec.get("options_from") == "lots"]


class CaseService(EligibilityService):
    """Open cases, show them, save their answers and check them against the eligibility criteria."""

    # -- cases -----------------------------------------------------------------------------
    def start_case(
        self,
        programme_id: str,
        workflow: str,
        actor: Actor,
        *,
        organisation: str | None = None,
        organisation_name: str | None = None,
        role: str | None = None,
        subject: str | None = None,
        lot: str | None = None,
    ) -> CaseView:
        """Open a new case (an application, a referral…) on the newest version of a programme."""
        self._reach(programme_id, actor)
        known = self._newest.pop(programme_id, None)  # the version this engine last started one on
        while True:
            # with the version known, which is newest is read with the new row: one round trip
            # fewer (refused on it, the newest may say otherwise: asked again, afresh)
            programme = self.programme(programme_id, known)
            try:
                view = self._start(programme, workflow, actor, organisation, organisation_name,
                                   role, subject, lot)  # fmt: skip
            except _Superseded:  # a newer version was published: start again, on it
                known = None
                continue
            except (NotFound, ActionRefused):
                if known is None:
                    raise
                known = None
                continue
            self._newest[programme_id] = programme.version
            return view

    def _start(self, programme: Programme, workflow: str, actor: Actor, organisation: str | None,
               organisation_name: str | None, role: str | None, subject: str | None,
               lot: str | None) -> CaseView:  # fmt: skip
        """`start_case` on one version; raises _Superseded (nothing kept) if it is not the newest."""
        wf = self._workflow(programme, workflow)
        allowed = self.starters(programme, wf)
        if actor.role not in allowed:
            who = ", ".join(allowed) if allowed else "nobody directly (another action starts them)"
            raise NotPermitted(
                f"a {actor.role} cannot start a {wf.title.lower()}; it is started by {who}"
            )
        org = organisation or actor.organisation
        if actor.role in ("applicant", "caseworker"):
            if actor.organisation is None:
                raise NotPermitted(f"a {actor.role} must belong to an organisation to start a case")
            if org != actor.organisation:
                raise NotPermitted("you can only start cases for your own organisation")
        if wf.roles and role not in wf.roles:
            raise ActionRefused(
                f"say which role the applicant applies in: one of {', '.join(wf.roles)}"
                + (f' ("{role}" is not one)' if role else "")
            )
        lots = {lot_["id"] for lot_ in programme.data["funding"].get("lots", [])}
        if lot is not None and lot not in lots:
            raise ActionRefused(f'there is no lot "{lot}"{did_you_mean(lot, lots)}')
        self._within_window(programme, wf)
        now = self._stamp()
        with self.store.transaction():
            if org:
                self.store.ensure_organisation(org, organisation_name or org, now)
            # the row as stored and its programme's pins in one read: the rest goes with COMMIT
            found = self.store.insert_case_with_facts(
                *self._new_case(programme, wf, org, role, subject, lot, None, now)
            )
            if found is None:
                raise _Superseded  # the transaction is rolled back: the organisation too
            row, facts = found
            case_id = row["id"]
            self.store.audit(
                case_id, now, actor.role, actor.id, "start", None, wf.initial, programme.version, {}
            )
            facts = facts_after(facts, "start", now, None, wf.initial)
            self._replan(case_id, programme, row, facts, [])  # a new case: no answers
        return self._view(self._seen(row, case_id, actor), [], actor)

    def _within_window(self, programme: Programme, wf: Workflow) -> None:
        """Refuse a new case before the workflow's window opens or after it closes, in words."""
        win = window(programme, wf)
        status = win.status(self.now())
        tz = ZoneInfo(programme.timezone)
        if status == OPENING and win.opens is not None:
            when = span_phrase(win.opens.span, tz)
            raise ActionRefused(f"you cannot start this yet: it opens {when}")
        if status == CLOSED and win.closes is not None:
            when = span_phrase(win.closes.span, tz, end=True)
            raise ActionRefused(f"you can no longer start this: it closed {when}")

    def _insert_case(self, programme: Programme, wf: Workflow, org: str | None, role: str | None,
                     subject: str | None, lot: str | None, parent: int | None, now: str) -> int:  # fmt: skip
        return self.store.insert_case(
            *self._new_case(programme, wf, org, role, subject, lot, parent, now)
        )

    def _new_case(self, programme: Programme, wf: Workflow, org: str | None, role: str | None,
                  subject: str | None, lot: str | None, parent: int | None,
                  now: str) -> tuple[dict[str, Any], str]:  # fmt: skip
        """A new case's row, in its workflow's first state, and the prefix of its reference."""
        initials = "".join(part[0] for part in programme.id.split("_") if part[:1].isalpha())
        prefix = programme.data.get("reference_prefix") or initials.upper()[:4]
        return (
            {
                "programme_id": programme.id,
                "version": programme.version,
                "workflow": wf.id,
                "state": wf.initial,
                "organisation_id": org,
                "subject": subject,
                "role": role,
                "lot": lot,
                "parent_id": parent,
                "entered": {wf.initial: now},
                "created_at": now,
            },
            prefix or "CASE",
        )

    def starters(self, programme: Programme, wf: Workflow) -> tuple[str, ...]:
        """The roles that may open a new case of this workflow."""
        declared = programme.data["workflows"][wf.id].get("started_by")
        if declared is not None:
            return tuple(declared)
        # another workflow's action starting it (a contract after an award) makes it the
        # commissioner's; its own (a re-referral) does not stop caseworkers opening it
        started_by_effect = any(
            eff.get("do") == "start_case" and eff.get("workflow") == wf.id
            for other in programme.workflows.values()
            if other.id != wf.id
            for t in other.transitions
            for eff in t.spec.get("effects", [])
        )
        if started_by_effect:
            return ("commissioner",)
        subject = programme.data["workflows"][wf.id].get("subject", "organisation")
        return (
            ("caseworker", "commissioner") if subject == "person" else ("applicant", "commissioner")
        )

    def case(self, case_id: int | str, actor: Actor) -> CaseView:
        """One case, if this actor may see it."""
        return self._view(*self._row_and_answers(case_id, actor), actor)

    def _view(self, row: dict[str, Any], rows: list[dict[str, Any]], actor: Actor) -> CaseView:
        """The case as this actor sees it, from its row and its answer rows."""
        programme = self.programme(row["programme_id"], row["version"])
        wf = programme.workflows[row["workflow"]]
        answers: dict[str, dict[str, Any]] = {}
        records: dict[str, list[dict[str, Any]]] = {}
        submitted: dict[str, str | None] = {}
        withheld: list[str] = []
        for a in rows:
            form = programme.forms.get(a["form"])
            # personal answers the file keeps from this role never leave the engine in its view
            data = visible_answers(programme, form, a["data"], actor.role) if form else a["data"]
            if data != a["data"] and a["form"] not in withheld:
                withheld.append(a["form"])
            if self._repeatable(programme, wf, a["form"]):
                records.setdefault(a["form"], []).append(data)
            else:
                answers[a["form"]] = data
                submitted[a["form"]] = a["submitted_at"]
        if row["lot"] and row["parent_id"] is not None:  # its lot is settled: shown as answered
            for entry in programme.data["forms"]:
                form = programme.forms.get(entry["form"])
                asked = lot_questions(form) if form and entry["workflow"] == wf.id else []
                if asked and not entry.get("repeatable"):
                    settled = dict.fromkeys(asked, row["lot"])
                    answers[entry["form"]] = {**settled, **answers.get(entry["form"], {})}
        label = next((s.label for s in wf.states if s.id == row["state"]), row["state"])
        return CaseView(
            id=row["id"], reference=row["reference"], programme_id=row["programme_id"], version=row["version"],
            workflow=row["workflow"], state=row["state"], state_label=label, organisation=row["organisation_id"],
            role=row["role"], lot=row["lot"], parent_id=row["parent_id"], revision=row["revision"],
            flags=row["flags"], answers=answers, records=records, submitted=submitted,
            withheld=tuple(withheld),
        )  # fmt: skip

    def _answer_context(self, row: dict[str, Any], programme: Programme, form: Form,
                        stored: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
        """What a form's rules may read besides its answers: `now`, and `case` when they read it
        (from `stored`, the case's answers, when the caller has read them)."""
        if reads_case(form):
            return {"now": self.now(), "case": self._context(row, programme, stored)["case"]}
        return {"now": self.now()}

    def _records_full(self, row: dict[str, Any], entry: dict[str, Any], form: Form,
                      stored: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
        """Refuse one more record of a form beyond its entry's `max_records` (counted in
        `stored`, the case's answers, when the caller has read them)."""
        most = entry.get("max_records")
        if most is None:
            return
        upcoming = (
            self.store.next_record_no(row["id"], form.id)
            if stored is None
            else _next_record_no(stored, form.id)
        )
        if upcoming > most:
            raise ActionRefused(
                f"This case already has {most} of “{form.title}”, the most it may have. "
                "Change one of them instead of adding another."
            )

    def _today(self, programme: Programme) -> date:
        """Today on the programme's clock."""
        return self.now().astimezone(ZoneInfo(programme.timezone)).date()

    def related(self, case_id: int | str, actor: Actor) -> tuple[CaseView | None, list[CaseView]]:
        """The case this one was started from, and the cases started from it, that the actor may see."""
        row = self._row(case_id, actor)

        def seen(other: int) -> CaseView | None:
            try:
                return self.case(other, actor)
            except (NotFound, NotPermitted):  # another organisation's, or not this role's
                return None

        parent = seen(row["parent_id"]) if row["parent_id"] is not None else None
        children = [v for c in self.store.children(row["id"]) if (v := seen(c)) is not None]
        return parent, children

    def _copy_answers(self, programme: Programme, source: int, target: int, workflow: str,
                      forms: list[str], now: str) -> list[str]:  # fmt: skip
        """Copy the named forms' answers from the case a new one was started from; the forms copied.

        A once-only form's answers arrive as a draft, to be checked and submitted afresh on the
        new case; a repeatable form's records arrive as they were recorded.
        """
        wanted = [f for f in forms if f in programme.forms]
        copied: list[str] = []
        for a in self.store.answers(source):
            if a["form"] in wanted:
                submitted = a["record"] > 0 and a["submitted_at"] is not None
                self.store.save_answers(target, a["form"], a["record"], a["data"], now, submitted)
                copied += [] if a["form"] in copied else [a["form"]]
                known, label = label_of(programme, workflow, a["form"], a["data"])
                if known and a["record"] == 0 and label is not None:
                    self.store.set_case_label(target, label)
        return copied

    def history(self, case_id: int | str, actor: Actor) -> list[dict[str, Any]]:
        """The case's audit log: who did what, when, from which state to which."""
        row = self._row(case_id, actor)
        return self.store.history(row["id"])

    # -- answers ---------------------------------------------------------------------------
    def save_answers(
        self,
        case_id: int | str,
        form_id: str,
        answers: dict[str, Any],
        actor: Actor,
        *,
        record: int | None = None,
        expected_revision: int | None = None,
    ) -> CaseView:
        """Save answers to a form. A draft may be partial; a record of a repeatable form must be complete."""
        with self.store.transaction():
            # the case, its answers and what re-planning it reads: the one read before COMMIT
            row, rows, facts = self._row_and_facts(case_id, actor)
            programme = self.programme(row["programme_id"], row["version"])
            wf = programme.workflows[row["workflow"]]
            entry = self._form_entry(programme, wf, form_id)
            form = programme.forms[form_id]
            self._may_fill(entry, form, wf, row, actor)
            # who may fill it in, and when, is said before anything about a record's date
            if errors := future_date_errors(form, entry, answers, self._today(programme)):
                raise AnswersInvalid(
                    form.title, errors, {k: q.label for k, q in form.questions().items()}
                )
            if expected_revision is not None and expected_revision != row["revision"]:
                raise StaleCase(
                    "this case changed while you were filling in the form; your answers were not saved over "
                    "the newer ones: look at the case again"
                )
            answers = self._lot_answers(row, form, answers)
            now = self._stamp()
            if entry.get("repeatable"):
                if record is None:
                    self._records_full(row, entry, form, rows)
                clean, errors = check_form(
                    form,
                    answers,
                    complete=True,
                    context=self._answer_context(row, programme, form, rows),
                )
                if errors:
                    raise AnswersInvalid(
                        form.title, errors, {k: q.label for k, q in form.questions().items()}
                    )
                number = record or _next_record_no(rows, form_id)
                self.store.save_answers(row["id"], form_id, number, clean, now, submitted=True)
                detail = {"form": form_id, "record": number}
                planned = rows  # a record dates no clock (`answer_events`): planning reads the rest
            else:
                existing = next((a for a in rows if a["form"] == form_id), None)
                before = existing["data"] if existing else {}
                # answers to questions an earlier version asked (the case moved) are kept as they are
                kept = {k: v for k, v in before.items() if k not in form.questions()}
                merged = {**{k: v for k, v in before.items() if k not in kept}, **answers}
                merged = {k: v for k, v in merged.items() if v not in (None, "", [])}
                clean, errors = check_form(
                    form,
                    merged,
                    complete=False,
                    context=self._answer_context(row, programme, form, rows),
                )
                if errors:
                    raise AnswersInvalid(
                        form.title, errors, {k: q.label for k, q in form.questions().items()}
                    )
                self.store.save_answers(
                    row["id"], form_id, 0, {**kept, **clean}, now, submitted=False
                )
                # the questions this save answered: a blank sent with the page is not an answer
                detail = {"form": form_id, "questions": sorted(q for q in answers if q in clean)}
                chosen = next((clean[q] for q in lot_questions(form) if clean.get(q)), None)
                if (
                    chosen and chosen != row["lot"]
                ):  # the answer is the case's lot, not a second one
                    self.store.set_case_lot(row["id"], chosen)
                    row = {**row, "lot": chosen}
                known, label = label_of(programme, row["workflow"], form_id, clean)
                if known and label != row.get("label"):  # kept on the case, for searching lists
                    self.store.set_case_label(row["id"], label)
                    row = {**row, "label": label}
                # as the store gives it back (JSON round trip: a tuple comes back a list)
                data = json.loads(json.dumps(clean))
                saved = {"form": form_id, "record": 0, "data": data, "submitted_at": None, "updated_at": now}  # fmt: skip
                # the rows as they now stand, for the view returned (no second read of them)
                others = [a for a in rows if a["form"] != form_id]
                rows = sorted([*others, saved], key=lambda a: (a["form"], a["record"]))
                # and as stored, answers an earlier version asked kept, for re-planning
                stored = {**saved, "data": json.loads(json.dumps({**kept, **clean}))}
                planned = sorted([*others, stored], key=lambda a: (a["form"], a["record"]))
            self._record_organisation_numbers(row, form, answers, clean)
            revision = self.store.touch_case(row["id"], row["revision"], now)
            self.store.audit(
                row["id"],
                now,
                actor.role,
                actor.id,
                "answer",
                row["state"],
                row["state"],
                row["version"],
                detail,
            )
            # a record may keep a promise or end a reminder; the row is as just written, and
            # the facts read with it count this save's event: nothing more is read
            written = {**row, "revision": revision, "updated_at": now}
            facts = facts_after(facts, "answer", now, row["state"], row["state"])
            self._replan(row["id"], programme, written, facts, planned)
        if entry.get("repeatable"):
            return self.case(row["id"], actor)
        return self._view(written, rows, actor)

    def _record_organisation_numbers(self, row: dict[str, Any], form: Form, typed: dict[str, Any],
                                     clean: dict[str, Any]) -> None:  # fmt: skip
        """Record the numbers just answered on the case's organisation; refuse one another holds."""
        # refusing raises inside save_answers' transaction: nothing of the save is kept
        org = row["organisation_id"]
        asked = [q for q in form.questions().values() if q.id in typed]
        for qid, register, number in numbers_answered(asked, clean) if org else []:
            holder = self.store.set_organisation_number(org, register, number)
            if holder is not None:
                name = self.store.organisation_name(holder) or "Another organisation"
                said = (
                    f"{name} is already registered with this number: ask someone at {name} "
                    "to add you as a colleague from their organisation page"
                )
                raise AnswersInvalid(form.title, {qid: [said]}, {qid: form.questions()[qid].label})

    def _lot_answers(
        self, row: dict[str, Any], form: Form, answers: dict[str, Any]
    ) -> dict[str, Any]:
        """A case started from an award keeps the award's lot: its lot questions take it as said."""
        fixed = row["lot"] if row["parent_id"] is not None else None
        asked = lot_questions(form)
        if not fixed or not asked:
            return answers
        for q in asked:
            if answers.get(q) not in (None, "", fixed):
                raise AnswersInvalid(
                    form.title,
                    {q: ["Leave the lot as it is: it was settled when the award was made"]},
                    {q: form.questions()[q].label},
                )
        return {**answers, **dict.fromkeys(asked, fixed)}

    def _may_fill(
        self, entry: dict[str, Any], form: Form, wf: Workflow, row: dict[str, Any], actor: Actor
    ) -> None:
        by = entry.get("by")
        if by is None:
            subject = "person" if row["subject"] is not None else "organisation"
            by = (
                ["caseworker"]
                if subject == "person" or actor.role == "caseworker"
                else ["applicant"]
            )
            by = [*by, "commissioner"]
        if actor.role not in by:
            raise NotPermitted(
                f"a {actor.role} cannot fill in {form.title}; it is filled in by {', '.join(by)}"
            )
        if entry.get("applies_to") and row["role"] not in entry["applies_to"]:
            raise NotPermitted(
                f"{form.title} is for {', '.join(entry['applies_to'])} applicants only"
            )
        states = entry.get("states")
        final = {s.id for s in wf.states if s.final}
        if (states and row["state"] not in states) or (not states and row["state"] in final):
            label = next((s.label for s in wf.states if s.id == row["state"]), row["state"])
            raise ActionRefused(f"{form.title} cannot be changed now: the case is {label.lower()}")
