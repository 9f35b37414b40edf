"""Records: the next record of a repeatable form (a casework note, a monitoring return) filled
in page by page, then recorded as one complete record or discarded; and each record's own date.

A record's own date is when what it records happened (a contact's date, a review's date): the
date question its form entry names in `record_date`, else the form's first date question. It may
not be after today on the programme's clock unless the entry says `future_dates: true`.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import ActionRefused, AnswersInvalid
from engine.forms.answers import check_form, check_value, form_questions
from engine.model import Form, Programme, Question
from engine.runtime.cases import CaseService
from engine.runtime.views import Actor, CaseView


def record_date_question(form: Form, entry: dict[str, Any]) -> Question | None:
    """The question giving a record's own date: `record_date`, else the first date question."""
    dates = [q for q in form_questions(form) if q.type == "date"]
    named = entry.get("record_date")
    return next((q for q in dates if q.id == named), None) if named else next(iter(dates), None)


def record_day(form: Form, entry: dict[str, Any], data: dict[str, Any]) -> date | None:
    """A record's own date from its answers (None when its form asks none, or it is unanswered)."""
    q = record_date_question(form, entry)
    if q is None or not isinstance(data.get(q.id), str):
        return None
    try:
        return date.fromisoformat(data[q.id])
    except ValueError:
        return None


def future_date_errors(
    form: Form, entry: dict[str, Any], answers: dict[str, Any], today: date
) -> dict[str, list[str]]:
    """The message for a record dated after today, keyed by its date question (none if allowed)."""
    q = record_date_question(form, entry)
    if q is None or entry.get("future_dates") or not entry.get("repeatable"):
        return {}
    if not answers.get(q.id):
        return {}
    value, problems = check_value(q, answers[q.id])
    if problems or date.fromisoformat(value) <= today:
        return {}  # a date that is not one is the answer checks' to report
    title = form.title.removesuffix(" record")
    noun = title if title[:2].isupper() else title[:1].lower() + title[1:]
    return {q.id: [f"The date of the {noun} must be today or in the past"]}


class RecordService(CaseService):
    """Keep, record or discard the draft of a repeatable form's next record."""

    def _draft_target(self, case_id: int | str, form_id: str, actor: Actor
                      ) -> tuple[dict[str, Any], Form]:  # fmt: skip
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        wf = programme.workflows[row["workflow"]]
        entry = self._form_entry(programme, wf, form_id)
        form = programme.forms[form_id]
        if not entry.get("repeatable"):
            raise ActionRefused(f"{form.title} is one form per case, not a record made again and again")  # fmt: skip
        self._may_fill(entry, form, wf, row, actor)
        return row, form

    def record_draft(self, case_id: int | str, form_id: str, actor: Actor) -> dict[str, Any]:
        """The answers so far of the next record of a repeatable form (empty if none yet)."""
        row = self._row(case_id, actor)
        return self.store.record_draft(row["id"], form_id) or {}

    def save_record_draft(
        self, case_id: int | str, form_id: str, answers: dict[str, Any], actor: Actor
    ) -> dict[str, Any]:
        """Keep part of the next record of a repeatable form (checked like a draft); the answers so far."""
        with self.store.transaction():
            row, form = self._draft_target(case_id, form_id, actor)
            existing = self.store.record_draft(row["id"], form_id) or {}
            merged = {k: v for k, v in {**existing, **answers}.items() if v not in (None, "", [])}
            clean, errors = check_form(form, merged, complete=False, context={"now": self.now()})
            programme = self.programme(row["programme_id"], row["version"])
            entry = self._form_entry(programme, programme.workflows[row["workflow"]], form_id)
            errors = errors or future_date_errors(form, entry, clean, self._today(programme))
            if errors:
                raise AnswersInvalid(
                    form.title, errors, {k: q.label for k, q in form.questions().items()}
                )
            self.store.save_record_draft(row["id"], form_id, clean, actor.id, self._stamp())
        return clean

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
        """Save answers to a form (see CaseService); a record dated after today is refused first."""
        with self.store.transaction():
            row = self._row(case_id, actor)
            programme = self.programme(row["programme_id"], row["version"])
            wf = programme.workflows[row["workflow"]]
            entry = self._form_entry(programme, wf, form_id)
            form = programme.forms[form_id]
            # who may fill it in, and when, is said before anything about its date
            self._may_fill(entry, form, wf, row, actor)
            errors = future_date_errors(form, entry, answers, self._today(programme))
            if errors:
                raise AnswersInvalid(
                    form.title, errors, {k: q.label for k, q in form.questions().items()}
                )
            return super().save_answers(case_id, form_id, answers, actor, record=record,
                                        expected_revision=expected_revision)  # fmt: skip

    def _today(self, programme: Programme) -> date:
        return self.now().astimezone(ZoneInfo(programme.timezone)).date()

    def submit_record_draft(self, case_id: int | str, form_id: str, actor: Actor) -> CaseView:
        """Record the draft as a new, complete record of the repeatable form (one transaction)."""
        with self.store.transaction():
            row, _form = self._draft_target(case_id, form_id, actor)
            draft = self.store.record_draft(row["id"], form_id) or {}
            view = self.save_answers(row["id"], form_id, draft, actor)
            self.store.delete_record_draft(row["id"], form_id)
        return view

    def discard_record_draft(self, case_id: int | str, form_id: str, actor: Actor) -> None:
        """Forget the answers so far of the next record."""
        with self.store.transaction():
            row, _form = self._draft_target(case_id, form_id, actor)
            self.store.delete_record_draft(row["id"], form_id)
