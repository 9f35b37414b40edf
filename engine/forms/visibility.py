"""Which answers a role may see, applied the same way to every case view, page and export.

The rule itself is `Question.visible_to_role`: a question's `visible_to` names exactly who sees
its answer; without it, everyone who can see the case does, except that answers marked `personal`
or `special_category` in a programme whose reports are anonymised are seen only by applicants and
caseworkers. Here it is applied to whole forms of answers, including the items of a group.
"""

from __future__ import annotations

from typing import Any

from engine.model import Form, Programme, Question

# by (programme id, version, form id, role, anonymised); Programme holds dicts, so it cannot key an lru_cache
_HIDDEN: dict[tuple[str, str, str, str, bool], frozenset[str]] = {}


def hidden_questions(
    programme: Programme, form: Form, role: str, *, anonymised: bool | None = None
) -> frozenset[str]:
    """The ids of the form's questions (groups' inner ones too) whose answers `role` may not see.

    `anonymised` overrides the programme's own setting, for an export asked to be anonymised.
    """
    anon = programme.reports_anonymised() if anonymised is None else anonymised
    key = (programme.id, programme.version, form.id, role, anon)
    if key not in _HIDDEN:  # a published version never changes: work it out once per role
        hidden: set[str] = set()

        def walk(questions: tuple[Question, ...], inside_hidden: bool) -> None:
            for q in questions:
                shut = inside_hidden or not q.visible_to_role(role, anon)
                if shut:  # a hidden group hides every question asked inside it
                    hidden.add(q.id)
                walk(q.questions, shut)

        for _pid, _title, questions in form.pages:
            walk(questions, False)
        _HIDDEN[key] = frozenset(hidden)
    return _HIDDEN[key]


def visible_answers(
    programme: Programme, form: Form, answers: dict[str, Any], role: str
) -> dict[str, Any]:
    """The answers of one form with every answer `role` may not see left out."""
    questions = form.questions()
    if any(qid not in questions for qid in answers):
        # answered on an earlier version of the form (the case moved): kept, never shown
        answers = {qid: value for qid, value in answers.items() if qid in questions}
    hidden = hidden_questions(programme, form, role)
    if not hidden:
        return answers
    out: dict[str, Any] = {}
    for qid, value in answers.items():
        if qid in hidden:
            continue
        q = questions.get(qid)
        if q is not None and q.type == "group" and isinstance(value, list):
            # a group is kept, but each item loses the inner answers this role may not see
            value = [
                {k: v for k, v in item.items() if k not in hidden}
                if isinstance(item, dict)
                else item
                for item in value
            ]
        out[qid] = value
    return out
