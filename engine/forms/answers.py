"""Answers to a form: checked by question type and rule, on the server, the same way everywhere.

A draft may be partial (required questions can wait); a submission must be complete. The checks
here are the truth: the web forms show the same messages, the engine refuses the same answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from engine.forms import messages
from engine.forms.organisation_numbers import check_number
from engine.model import Form, Question
from engine.rules import ExpressionError, compile_expression, names_of

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
_POSTCODE = re.compile(r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s*[0-9][A-Za-z]{2}$")
_POSTCODE_PART = re.compile(r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9 ]{0,2}$")
_DATE_PARTS = re.compile(r"^\s*(\S*?)\s*/\s*(\S*?)\s*/\s*(\S*?)\s*$")  # day/month/year as typed
MAX_TEXT = 100_000  # characters: a pasted book is refused with a message, not stored
MAX_DIGITS = 15  # a whole number past this is a mistake (and past 4,300 Python refuses it)
_LARGEST = 10**MAX_DIGITS
# Control characters (NUL, ANSI escapes…) and the bidirectional overrides that make text read
# differently from how it is stored; a line break and a tab are kept where text may have lines.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def without_controls(text: str, *, lines: bool = True) -> str:
    """Text with control characters and bidirectional overrides removed (line breaks kept if `lines`)."""
    return (_CONTROLS if lines else _LINE_CONTROLS).sub("", text)


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _options(q: Question) -> list[str]:
    return [o["value"] for o in q.spec.get("options", [])]


def check_value(
    q: Question, value: Any, context: dict[str, Any] | None = None
) -> tuple[Any, list[str]]:
    """Convert an answer to its stored form and list what is wrong with it, if anything."""
    kind = q.type
    spec = q.spec
    errors: list[str] = []
    if kind in ("text", "textarea", "email", "phone", "postcode", "radios", "select"):
        if not isinstance(value, str):
            return value, ["Enter the answer as text"]
        value = without_controls(value, lines=kind == "textarea").strip()
        if len(value) > MAX_TEXT:
            return value, [
                f"The answer is {len(value):,} characters long; it can be at most {MAX_TEXT:,}"
            ]
        if kind in ("text", "textarea") and len(value) > spec.get("max_length", len(value)):
            errors.append(messages.too_long(q, spec["max_length"], len(value), "characters"))
        if kind == "text" and spec.get("organisation_number") and value and not errors:
            value, errors = check_number(q, value)  # written one way: the same number matches
        if kind == "textarea":
            words = len(value.split())
            if "word_limit" in spec and words > spec["word_limit"]:
                errors.append(messages.too_long(q, spec["word_limit"], words, "words"))
        if kind == "email" and not _EMAIL.match(value):
            errors.append("Enter an email address in the correct format, like name@example.org")
        if kind == "phone" and not _PHONE.match(value):
            errors.append("Enter a telephone number, like 0151 123 4567 or +44 151 123 4567")
        if kind == "postcode":
            keep = spec.get("keep_characters")
            value = " ".join(value.upper().split())
            if _POSTCODE.match(value) and " " not in value:
                value = f"{value[:-3]} {value[-3:]}"  # LE11AB is LE1 1AB
            if not (_POSTCODE.match(value) or (keep and _POSTCODE_PART.match(value))):
                errors.append("Enter a real postcode, like L1 8JQ")
            if keep:  # personal data minimised: at most the first part (the district) is kept
                value = value[:keep].split(" ")[0]  # "L1 8JQ"[:4] is "L1 8": the district is L1
        elif keep := spec.get("keep_characters"):
            value = value[:keep]
        if kind in ("radios", "select") and value not in _options(q):
            errors.append(messages.not_valid(q))
        return value, errors
    if kind in ("number", "money", "scale"):
        if isinstance(value, str) and re.fullmatch(r"-?[0-9][0-9,]*", value.strip().lstrip("£")):
            digits = value.strip().lstrip("£").replace(",", "")
            if len(digits.lstrip("-")) > MAX_DIGITS:
                return value, [f"Enter a number of {MAX_DIGITS} digits or fewer"]
            value = int(digits)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _LARGEST:
            return value, [f"Enter a number of {MAX_DIGITS} digits or fewer"]
        if isinstance(value, bool) or not isinstance(value, int):
            return value, [messages.not_valid(q)]
        if kind == "money" and value < 0 and spec.get("min") is None:
            errors.append(messages.out_of_range(q, too_high=False))
    elif kind in ("decimal", "percent"):
        if isinstance(value, str):
            try:
                value = float(value.strip().rstrip("%").replace(",", ""))
            except ValueError:
                return value, [messages.not_valid(q)]
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value, [messages.not_valid(q)]
        value = float(value)
        if not math.isfinite(value) or abs(value) >= _LARGEST:
            return value, [f"Enter a number, like 4.5, of {MAX_DIGITS} digits or fewer"]
        if kind == "percent" and not 0 <= value <= 100:
            errors.append(messages.out_of_range(q, too_high=value > 100))
            return value, errors
    elif kind == "date":
        if isinstance(value, date | datetime):
            value = value.strftime("%Y-%m-%d")
        try:
            typed = date.fromisoformat(str(value))
        except ValueError:
            parts = _DATE_PARTS.match(str(value))
            if parts and not all(parts.groups()):  # "12//2024": a part left out
                return value, [messages.date_incomplete(q, list(parts.groups()))]
            return value, [messages.not_valid(q)]
        if typed.year < 1000:  # "20" is 2020 to the person typing it, and the year 20 to Python
            return value, [messages.year_in_full(q)]
        return value, errors
    elif kind == "yesno":
        if value in ("yes", "no"):
            value = value == "yes"
        if not isinstance(value, bool):
            return value, [messages.not_valid(q)]
        return value, errors
    elif kind == "checkboxes":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return value, [messages.missing(q)]
        unknown = [v for v in value if v not in _options(q)]
        if unknown:
            errors.append(f"{', '.join(unknown)} is not one of the options")
        if "min_selected" in spec and len(value) < spec["min_selected"]:
            errors.append(messages.selections(q, spec["min_selected"], too_many=False))
        if "max_selected" in spec and len(value) > spec["max_selected"]:
            errors.append(messages.selections(q, spec["max_selected"], too_many=True))
        return value, errors
    elif kind == "file":
        if not isinstance(value, dict) or not {"name", "size"} <= set(value):
            return value, [messages.missing(q)]
        ext = str(value["name"]).rsplit(".", 1)[-1].lower()
        if "accept" in spec and ext not in spec["accept"]:
            errors.append(messages.file_type(q, spec["accept"]))
        limit = spec.get("max_size_mb")
        if limit and value["size"] > limit * 1024 * 1024:
            errors.append(messages.file_size(q, limit))
        return value, errors
    elif kind == "group":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            return value, [f"Add each {spec.get('item_label', 'item')} with its answers"]
        items = []
        for i, item in enumerate(value):
            clean, item_errors = check_answers(q.questions, item, complete=True, context=context)
            items.append(clean)
            label = spec.get("item_label", "item")
            errors += [f"{label} {i + 1}: {m}" for ms in item_errors.values() for m in ms]
        if "min_items" in spec and len(items) < spec["min_items"]:
            errors.append(f"Add at least {spec['min_items']} {spec.get('item_label', 'item')}s")
        if "max_items" in spec and len(items) > spec["max_items"]:
            errors.append(f"Add at most {spec['max_items']} {spec.get('item_label', 'item')}s")
        return items, errors
    # numbers, decimals, percentages and scales share their bounds
    lo, hi = spec.get("min"), spec.get("max")
    if lo is not None and value < lo:
        errors.append(messages.out_of_range(q, too_high=False))
    if hi is not None and value > hi:
        errors.append(messages.out_of_range(q, too_high=True))
    return value, errors


def cel_value(q: Question | None, value: Any) -> Any:
    """An answer as expressions see it: dates become timestamps, items keep their fields."""
    if q is None:
        return value
    if q.type == "date" and isinstance(value, str):
        try:
            d = date.fromisoformat(value)
        except ValueError:
            return value  # not a date: rules comparing it as one simply do not hold
        return datetime(d.year, d.month, d.day, tzinfo=UTC)
    if q.type == "group" and isinstance(value, list):
        inner = {sub.id: sub for sub in q.questions}
        return [{k: cel_value(inner.get(k), v) for k, v in item.items()} for item in value]
    return value


def _visible(
    q: Question,
    answers: dict[str, Any],
    page_rule: str | None = None,
    memo: dict[str, bool] | None = None,
) -> bool:
    return _holds(page_rule, answers, memo) and _holds(q.spec.get("show_if"), answers, memo)


def _holds(rule: str | None, answers: dict[str, Any], memo: dict[str, bool] | None = None) -> bool:
    """Whether a show_if condition holds for the answers so far (no condition: it does).

    `memo` keeps each rule's result for one set of answers: a page's rule is asked once for
    each of its questions, and questions often share a rule.
    """
    if not rule:
        return True
    if memo is not None and rule in memo:
        return memo[rule]
    held = _condition(rule, answers)
    if memo is not None:
        memo[rule] = held
    return held


def _condition(rule: str, answers: dict[str, Any]) -> bool:
    try:
        expr = compile_expression(rule)
    except ExpressionError:  # stored before today's bounds on rules: the question is not asked
        return False
    scope: dict[str, Any] = {}
    for name in expr.names:  # `has(answers.x)` asks whether x is answered
        if name == "answers":
            scope[name] = answers
        elif name in answers:
            scope[name] = answers[name]
        else:
            return False  # what it depends on is not answered yet, so it is not asked yet
    try:
        return bool(expr.evaluate(scope))
    except Exception:  # a type mismatch means the condition cannot hold
        return False


def check_answers(
    questions: tuple[Question, ...] | list[Question],
    answers: dict[str, Any],
    *,
    complete: bool,
    context: dict[str, Any] | None = None,
    page_rules: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check answers to a set of questions; `complete` also requires every visible required one.

    `page_rules` maps a question id to the `show_if` of the page it is on: a question on a page
    that is not shown is neither required nor kept.
    """
    by_id = {q.id: q for q in questions}
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key in answers:
        if key not in by_id:
            errors[key] = [f'"{key}" is not a question of this form']
    for q in questions:
        if q.id not in answers or _is_blank(answers[q.id]):
            continue
        value, problems = check_value(q, answers[q.id], context)
        if not problems:
            for rule in q.spec.get("validate", []):
                try:
                    expr = compile_expression(rule["rule"])
                except ExpressionError:  # stored before today's bounds: not held against anyone
                    continue
                variables = {
                    **(context or {}),
                    **{k: cel_value(by_id.get(k), v) for k, v in clean.items()},
                    "value": cel_value(q, value),
                }
                try:
                    ok = expr.names - set(variables) or expr.evaluate(
                        {n: variables[n] for n in expr.names}
                    )
                except Exception:
                    ok = False
                if not ok:
                    problems.append(rule["message"])
        if problems:
            errors[q.id] = problems
        else:
            clean[q.id] = value
    cel_answers = {k: cel_value(by_id.get(k), v) for k, v in clean.items()}
    memo: dict[str, bool] = {}  # the same answers throughout: each rule is asked once
    for q in questions:
        hidden = not _visible(q, cel_answers, (page_rules or {}).get(q.id), memo)
        if hidden:
            clean.pop(q.id, None)  # an answer to a question no longer asked is not kept
            errors.pop(q.id, None)
        elif complete and q.required and q.id not in clean and q.id not in errors:
            errors[q.id] = [_missing(q)]
    return clean, errors


def _missing(q: Question) -> str:
    return messages.missing(q)  # made from the question: "Enter your organisation's name"


def once_per_form(form: Form, name: str, make: Callable[[], Any]) -> Any:
    """What `make` works out from a form, kept on the form (it never changes once loaded)."""
    if name not in form.__dict__:
        form.__dict__[name] = make()  # frozen: set past the dataclass's guard, as `questions()`
    return form.__dict__[name]


def form_questions(form: Form) -> tuple[Question, ...]:
    """The form's top-level questions, page after page."""
    return once_per_form(  # type: ignore[no-any-return]
        form, "_form_questions", lambda: tuple(q for _pid, _title, qs in form.pages for q in qs)
    )


def page_rules(form: Form) -> dict[str, str]:
    """Each question on a page with a `show_if` mapped to that rule (callers must not change it)."""
    return once_per_form(  # type: ignore[no-any-return]
        form,
        "_page_rules",
        lambda: {
            q["id"]: page["show_if"]
            for page in form.spec.get("pages", [])
            if page.get("show_if")
            for q in page["questions"]
        },
    )


def reads_case(form: Form) -> bool:
    """Whether any rule of the form (a cross-answer rule or a question's check) reads `case`.

    Such a rule needs the case as it stands (`size(case.records.sessions) < 6`); without it the
    rule would hold by default and be silently ignored.
    """

    def reads() -> bool:
        sources = [r["rule"] for r in form.spec.get("rules", [])]
        sources += [v["rule"] for q in form_questions(form) for v in q.spec.get("validate", [])]
        return any("case" in names_of(source) for source in sources)

    return once_per_form(form, "_reads_case", reads)  # type: ignore[no-any-return]


def context_names(form: Form) -> frozenset[str]:
    """The names any of the form's checks or computed answers read (its `context` among them)."""

    def read() -> frozenset[str]:
        sources = [r["rule"] for r in form.spec.get("rules", [])]
        for q in form.questions().values():  # groups' inner questions too
            sources += [v["rule"] for v in q.spec.get("validate", [])]
            sources += [q.spec["compute"]] if q.spec.get("compute") else []
        return frozenset().union(*(names_of(source) for source in sources))

    return once_per_form(form, "_context_names", read)  # type: ignore[no-any-return]


# The last form checked, what it was asked with and the result. A page saved is checked by the
# web page (to show its messages) and then by the engine as it saves, with the same answers: the
# engine's check finds the page's result here instead of doing it again. The key is everything the
# result depends on: the form, `complete`, the answers (their repr: values, types and order) and
# the part of `context` the form's rules read (`now` differs between the two checks, so a form
# whose rules read it is checked twice, as before).
_LAST: dict[str, tuple[Any, ...]] = {}  # one entry; dict.get and pop hold under threads


def check_form(
    form: Form, answers: dict[str, Any], *, complete: bool, context: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check answers to a whole form, including its cross-answer rules when complete.

    `context` supplies the reserved names rules may read, such as `now`.
    """
    read = context_names(form)
    shown = {k: v for k, v in (context or {}).items() if k in read}
    if not (_plain(answers) and _plain(shown)):  # a repr that may not show the whole value
        return _check_form(form, answers, complete=complete, context=context)
    key = (complete, repr(answers), repr(shown))
    last = _LAST.get("check")
    if last is not None and last[0] is form and last[1] == key:
        _LAST.pop("check", None)  # used once: the next check of the form works it out afresh
        return dict(last[2]), {k: list(v) for k, v in last[3].items()}
    clean, errors = _check_form(form, answers, complete=complete, context=context)
    _LAST["check"] = (form, key, dict(clean), {k: list(v) for k, v in errors.items()})
    return clean, errors


_PLAIN = (str, int, float, bool, type(None), Decimal, date, datetime)


def _plain(value: Any) -> bool:
    """Whether a value is made only of data whose repr shows all of it (text, numbers, dates…)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return isinstance(value, _PLAIN)


def _check_form(
    form: Form, answers: dict[str, Any], *, complete: bool, context: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    questions = form_questions(form)
    clean, errors = check_answers(
        questions, answers, complete=complete, context=context, page_rules=page_rules(form)
    )
    from engine.forms.computed import with_computed  # it reads this module's checks: import late

    clean, errors = with_computed(form, clean, errors, context)
    if complete and not errors:
        by_id = {q.id: q for q in questions}
        variables = {**(context or {}), **{k: cel_value(by_id.get(k), v) for k, v in clean.items()}}
        for rule in form.spec.get("rules", []):
            try:
                expr = compile_expression(rule["rule"])
            except ExpressionError:  # pragma: no cover - the loader rejects these
                continue
            scope = {**variables, "answers": variables}
            missing = expr.names - set(scope)  # a rule over an unanswered optional question holds
            try:
                ok = True if missing else bool(expr.evaluate({n: scope[n] for n in expr.names}))
            except Exception:
                ok = False
            if not ok:
                errors.setdefault(rule.get("question", rule["id"]), []).append(rule["message"])
    return clean, errors
