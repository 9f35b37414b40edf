"""Computed questions: answers the form works out from other answers (a total of scores).

A question with `compute` is never typed: whatever was sent for it is set aside, and its answer is
the expression's value over the other answers, checked and stored like a typed answer so that
rules, KPIs and exports read it the same way. Until every answer it reads is given it has none.
"""

from __future__ import annotations

from typing import Any

from engine.forms.answers import (
    _visible,
    cel_value,
    check_value,
    form_questions,
    once_per_form,
    page_rules,
)
from engine.model import Form, Question
from engine.rules import ExpressionError, compile_expression

# Said when a computed value is not the kind of answer its question holds: the programme file is
# at fault, but the person can only check the answers it is worked out from.
NOT_WORKED_OUT = (
    "This could not be worked out from your answers. Check the other answers on this form"
)


def is_computed(q: Question) -> bool:
    """Whether a question's answer is worked out by the form rather than typed."""
    return bool(q.spec.get("compute"))


def computed_questions(form: Form) -> list[Question]:
    """The form's computed questions, page after page."""
    kept = once_per_form(
        form, "_computed", lambda: tuple(q for q in form_questions(form) if is_computed(q))
    )
    return list(kept)


def work_out(
    q: Question, answers: dict[str, Any], by_id: dict[str, Question], context: dict[str, Any]
) -> tuple[Any, list[str]]:
    """A computed question's answer from checked answers: (value or None, what is wrong)."""
    try:
        expr = compile_expression(q.spec["compute"])
    except ExpressionError:  # pragma: no cover - the form checks refuse these when it loads
        return None, []
    values = {
        k: cel_value(by_id.get(k), v) for k, v in answers.items() if not is_computed(by_id[k])
    }
    scope = {**context, **values, "answers": values}
    try:  # a name not answered yet leaves it unworked (a branch not taken may name one)
        result = expr.evaluate({n: scope[n] for n in expr.names if n in scope})
    except Exception:
        return None, []
    value, problems = check_value(q, result, context)
    return (None, [NOT_WORKED_OUT]) if problems else (value, [])


def with_computed(
    form: Form,
    clean: dict[str, Any],
    errors: dict[str, list[str]],
    context: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Checked answers with each computed question's answer worked out, and nothing typed for it."""
    computed = computed_questions(form)
    if not computed:
        return clean, errors
    by_id = form.questions()
    clean = {k: v for k, v in clean.items() if k in by_id and not is_computed(by_id[k])}
    errors = {k: ms for k, ms in errors.items() if k not in {q.id for q in computed}}
    rules = page_rules(form)
    shown = {k: cel_value(by_id.get(k), v) for k, v in clean.items()}
    memo: dict[str, bool] = {}
    for q in computed:
        if not _visible(q, shown, rules.get(q.id), memo):
            continue  # not asked, so not worked out either
        value, problems = work_out(q, clean, by_id, context or {})
        if problems:
            errors[q.id] = problems
        elif value is not None:
            clean[q.id] = value
    return clean, errors
