"""Records: the next record of a repeatable form (a casework note, a monitoring return) filled
in page by page, then recorded as one complete record or discarded; and each record's own date.

A record's own date (`record_dates`) is checked when its answers are saved (`AnswerService`).
"""

from __future__ import annotations

from typing import Any

from engine.errors import ActionRefused
from engine.forms.answers import check_form
from engine.model import Form
from engine.runtime.answering import AnswerService, refused
from engine.runtime.record_dates import future_date_errors
from engine.runtime.views import Actor, CaseView


class RecordService(AnswerService):
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
            programme = self.programme(row["programme_id"], row["version"])
            entry = self._form_entry(programme, programme.workflows[row["workflow"]], form_id)
            self._records_full(row, entry, form)  # said before a page is filled in, not after
            context = self._answer_context(row, programme, form)
            clean, errors = check_form(form, merged, complete=False, context=context)
            errors = errors or future_date_errors(form, entry, clean, self._today(programme))
            if errors:
                raise refused(form, errors)
            self.store.save_record_draft(row["id"], form_id, clean, actor.id, self._stamp())
        return clean

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
