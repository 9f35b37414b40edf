"""Saving answers to a case's forms: who may fill which form and when, drafts page by page,
records of a repeatable form, and the reminders a save moves.

A save reads once, in one round trip (the case, its answers and what re-planning it needs) and
sends everything it writes with COMMIT. `save_answers_as_read` lets the caller work out what to
save from the case as that one read found it (a web page binding its questions to the answers
so far), so a page's save reads the case once, not once for the page and again for the save.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from engine.errors import ActionRefused, AnswersInvalid, NotPermitted, StaleCase
from engine.forms.answers import check_form
from engine.forms.organisation_numbers import numbers_answered
from engine.model import Form, Workflow
from engine.runtime.cases import CaseService, lot_questions, next_record_no
from engine.runtime.labels import label_of
from engine.runtime.record_dates import future_date_errors
from engine.runtime.views import Actor, CaseView
from engine.timeline.planner import facts_after

# what a caller of `save_answers_as_read` gives back: the form and its answers, or None
AnswersOf = Callable[[CaseView], tuple[str, dict[str, Any]] | None]


def refused(form: Form, errors: dict[str, list[str]]) -> AnswersInvalid:
    """Answers to a form refused: each question's messages, with its label to name it by."""
    return AnswersInvalid(form.title, errors, {k: q.label for k, q in form.questions().items()})


class AnswerService(CaseService):
    """Saving answers to a case's forms (drafts and records), in one transaction each."""

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
            view = self._save(row, rows, facts, form_id, answers, actor, record, expected_revision)
        return view or self.case(row["id"], actor)

    def save_answers_as_read(self, case_id: int | str, actor: Actor, answers_of: AnswersOf) -> CaseView | None:  # fmt: skip
        """Save the answers `answers_of` works out from the case as read here, in the same
        transaction: given the case, it says which form and what answers, or None to save
        nothing (then None is returned). Otherwise as `save_answers` (a draft)."""
        with self.store.transaction():
            row, rows, facts = self._row_and_facts(case_id, actor)
            wanted = answers_of(self._view(row, rows, actor))
            if wanted is None:
                return None
            view = self._save(row, rows, facts, wanted[0], wanted[1], actor, None, None)
        return view or self.case(row["id"], actor)

    def _save(self, row: dict[str, Any], rows: list[dict[str, Any]], facts: dict[str, Any], form_id: str,
              answers: dict[str, Any], actor: Actor, record: int | None,
              expected_revision: int | None) -> CaseView | None:  # fmt: skip
        """The save itself, on the case as read in this transaction; the case as saved (None for
        a record: the caller reads its records again)."""
        programme = self.programme(row["programme_id"], row["version"])
        wf = programme.workflows[row["workflow"]]
        entry = self._form_entry(programme, wf, form_id)
        form = programme.forms[form_id]
        self._may_fill(entry, form, wf, row, actor)
        # who may fill it in, and when, is said before anything about a record's date
        if errors := future_date_errors(form, entry, answers, self._today(programme)):
            raise refused(form, errors)
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
            clean = self._checked(
                form, answers, True, self._answer_context(row, programme, form, rows)
            )
            number = record or next_record_no(rows, form_id)
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
            clean = self._checked(
                form, merged, False, self._answer_context(row, programme, form, rows)
            )
            self.store.save_answers(row["id"], form_id, 0, {**kept, **clean}, now, submitted=False)
            # the questions this save answered: a blank sent with the page is not an answer
            detail = {"form": form_id, "questions": sorted(q for q in answers if q in clean)}
            chosen = next((clean[q] for q in lot_questions(form) if clean.get(q)), None)
            if chosen and chosen != row["lot"]:  # the answer is the case's lot, not a second one
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
            return None  # its records as they now stand: the caller reads the case again
        return self._view(written, rows, actor)

    @staticmethod
    def _checked(form: Form, answers: dict[str, Any], complete: bool, context: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
        """The answers as the form keeps them, or AnswersInvalid with every message."""
        clean, errors = check_form(form, answers, complete=complete, context=context)
        if errors:
            raise refused(form, errors)
        return clean

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
