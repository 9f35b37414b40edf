"""A KPI broken down by an answer, and a KPI placed in periods by a date of its own.

`by: [{answer: q}]` splits a KPI into one group per option of choice question `q`, in the
options' order, then "Not answered"; a checkboxes answer puts an item in each group it chose.
`date: {answer: q}`, `{entered: state}` or `{trigger: action}` counts each item once, in the
period that date falls in.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.model import Question

#: The group of items whose answer is missing, and of answers no longer among the options.
NOT_ANSWERED = "(none)"
OTHER = "(other)"
_PREFIX = "answer:"


def answer_breakdowns(kpi: dict[str, Any]) -> list[str]:
    """The questions a KPI says it is broken down by (`by: [{answer: q}]`), in order."""
    return [b["answer"] for b in kpi.get("by") or () if isinstance(b, dict) and "answer" in b]


def by_answer(question: str) -> str:
    """The `by` a calculator takes for a breakdown by the answer to `question`."""
    return _PREFIX + question


def answer_of(by: str) -> str | None:
    """The question a `by` breaks down by, or None for organisation, lot or programme."""
    return by[len(_PREFIX) :] if by.startswith(_PREFIX) else None


def options(question: Question) -> list[tuple[str, str]]:
    """A choice question's options as (value, label), in their order."""
    if question.type == "yesno":
        return [("yes", "Yes"), ("no", "No")]
    return [
        (str(o["value"]), str(o.get("label", o["value"]))) for o in question.spec.get("options", [])
    ]


def group_labels(question: Question) -> dict[str, str]:
    """What people call each group of a breakdown by this question, in the order shown."""
    return {**dict(options(question)), NOT_ANSWERED: "Not answered", OTHER: "Another answer"}


def answer_keys(question: Question, known: set[str], value: Any) -> list[str]:
    """The groups an answer puts its item in: one per option chosen, or "Not answered"."""
    if value is None or value == "" or value == []:
        return [NOT_ANSWERED]
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    chosen = value if isinstance(value, list) else [value]
    keys = dict.fromkeys(str(v) if str(v) in known else OTHER for v in chosen)
    return list(keys) or [NOT_ANSWERED]


def answer_date(value: Any, tz: ZoneInfo) -> datetime | None:
    """The start of the day a date answer names, on the programme's clock (None: no date)."""
    if isinstance(value, datetime):  # as expressions see a date: midnight UTC of that day
        day = value.date()
    elif isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return None
    else:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def date_event(kpi: dict[str, Any]) -> dict[str, str] | None:
    """The case event a KPI's `date` names (`entered` or `trigger`), or None."""
    spec = kpi.get("date") or {}
    return {k: spec[k] for k in ("entered", "trigger") if k in spec} or None
