"""A case's label in lists: the answer to its workflow's `label_question`, kept on the case.

A caseworker finds a person by the label their service gives them. Reading that answer out of
every case's answers to search a list cost a JSON parse per case (a quarter of a second for an
organisation's 5,000 people), so the answer is copied onto the case whenever it is written:
saved, copied to a new case, moved to a version that asks another question, or erased.
"""

from __future__ import annotations

from typing import Any

from engine.model import Programme

_NOT_THIS_FORM = (False, None)


def label_question(programme: Programme, workflow: str) -> tuple[str, str] | None:
    """The (form, question) whose answer labels the workflow's cases, if it names one."""
    question = programme.data["workflows"].get(workflow, {}).get("label_question")
    if not question:
        return None
    form = next((e["form"] for e in programme.data["forms"]
                 if e["workflow"] == workflow and not e.get("repeatable")
                 and question in programme.forms[e["form"]].questions()), None)  # fmt: skip
    return None if form is None else (form, question)


def label_text(value: Any) -> str | None:
    """An answer as a list shows it as a label: text as typed, a number as written, else none."""
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        return None
    text = str(value).strip()
    return text or None


def label_of(
    programme: Programme, workflow: str, form_id: str, data: dict[str, Any]
) -> tuple[bool, str | None]:
    """Whether this form's answers hold the workflow's label, and the label they give."""
    asked = label_question(programme, workflow)
    if asked is None or asked[0] != form_id:
        return _NOT_THIS_FORM
    return True, label_text(data.get(asked[1]))


def label_from(programme: Programme, workflow: str, answers: list[dict[str, Any]]) -> str | None:
    """The label a case's answers give (as the store reads them: form, record, data)."""
    asked = label_question(programme, workflow)
    if asked is None:
        return None
    found = next((a for a in answers if a["form"] == asked[0] and a["record"] == 0), None)
    return None if found is None else label_text(found["data"].get(asked[1]))
