"""A record's own date: when what it records happened (a contact's date, a review's date).

It is the date question the record's form entry names in `record_date`, else the form's first
date question. It may not be after today on the programme's clock unless the entry says
`future_dates: true`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.forms.answers import check_value, form_questions
from engine.model import Form, Question


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
