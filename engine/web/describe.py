"""Programmes, cases and answers in plain words for the pages (no scheme is named here)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from engine.dates import Span, limit_in_words, moment_in_words, span_in_words
from engine.model import Programme, Question, Transition, Workflow
from engine.rules import names_of
from engine.runtime import CaseView, Engine
from engine.timeline.windows import CLOSED, OPEN, OPENING, window


def money(n: Any) -> str:
    """£700,000."""
    return f"£{n:,.0f}" if isinstance(n, int | float) and not isinstance(n, bool) else str(n)


_KEEPS_CAPITAL = frozenset(
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "I",
    ]
)


def mid_sentence(text: Any) -> str:
    """A label as it reads inside a sentence: 'Expression of interest' -> 'expression of interest'.

    Only the first letter is lowered, and not for an acronym ('VCSE partners', 'KPIs not met'),
    a month or a day; capitals later in the label are the author's (proper nouns) and are kept.
    """
    words = str(text or "")
    first = words.split(" ", 1)[0]
    if not first or first in _KEEPS_CAPITAL or sum(c.isupper() for c in first) > 1:
        return words
    return words[:1].lower() + words[1:]


def when(moment: datetime | None, tz: str = "Europe/London") -> str:
    """5pm on Monday 31 January 2022 (midnight-ending days as the day alone)."""
    return "" if moment is None else moment_in_words(moment, ZoneInfo(tz))


def limit_words(moment: datetime, tz: str = "Europe/London") -> str:
    """A time limit: `the end of Wednesday 9 December 2026` for one that falls at midnight."""
    return limit_in_words(moment, ZoneInfo(tz))


def promise_titles(programme: Programme) -> dict[str, str]:
    """Each service level's title by its id (also the flag a missed one raises)."""
    return {sl["id"]: sl["title"] for sl in programme.data.get("service_levels", [])}


def missed_promises(programme: Programme, flags: dict[str, Any]) -> list[str]:
    """The titles of the service levels a case has missed (its raised flags)."""
    titles = promise_titles(programme)
    return [titles[f] for f, on in flags.items() if on and f in titles]


def flag_words(programme: Programme, flags: list[str]) -> str:
    """A case's raised flags in words: a missed promise by its title, any other flag by its name."""
    titles = promise_titles(programme)
    words = [titles.get(f) or f.replace("_", " ").capitalize() for f in flags]
    return "; ".join(words)


#: Each status of a time limit: its tag, and how its words begin.
_PROMISE = {
    "kept": ("Kept", "govuk-tag--green"),
    "pending": ("Due", "govuk-tag--blue"),
    "at_risk": ("Due soon", "govuk-tag--yellow"),
    "missed": ("Missed", "govuk-tag--red"),
    "paused": ("Paused", "govuk-tag--grey"),
    "not_started": ("Not started", "govuk-tag--grey"),
}


def promises(programme: Programme, view: CaseView, results: list[Any]) -> list[dict[str, Any]]:
    """A case's time limits as people read them: a tag and a sentence each."""
    out = []
    for r in results:
        tag, classes = _PROMISE.get(r.status, ("", "govuk-tag--grey"))
        by = limit_words(r.due, programme.timezone) if r.due else ""
        words = {
            "kept": "Met in time.",
            "pending": f"Must be met by {by}.",
            "at_risk": f"Must be met by {by}.",
            "missed": f"It was not met by {by}." if by else "It was not met in time.",
            "paused": f"The clock is stopped while the case is {mid_sentence(view.state_label)}, "
            "and starts again with the time that was left when it moves on.",
            "not_started": "The clock starts when what it counts from happens.",
        }.get(r.status, "")
        out.append({"title": r.title, "tag": tag, "classes": classes, "words": words})
    return out


def span_words(span: Span, tz: str = "Europe/London", end: bool = False) -> str:
    """A milestone's date as precisely as it is known: `5pm on 31 January 2022`, `March 2024`."""
    return span_in_words(span, ZoneInfo(tz), end=end)


def round_window(programme: Programme, workflows: list[Workflow], at: datetime) -> dict[str, Any]:
    """Whether a round is open, opening soon or closed at `at`, and when it opens and closes.

    A round with several kinds of application is open while any of them is.
    """
    windows = [window(programme, wf) for wf in workflows]
    statuses = {w.status(at) for w in windows}
    status = next((s for s in (OPEN, OPENING) if s in statuses), CLOSED) if windows else CLOSED
    opening = [w.opens for w in windows if w.opens is not None and w.status(at) == OPENING]
    closing = [w.closes for w in windows if w.closes is not None]
    return {
        "status": status,
        "open": status == OPEN,
        "opens": min(opening, key=lambda m: m.span.start) if opening else None,
        "closes": max(closing, key=lambda m: m.span.end) if closing else None,
    }


# What the engine itself records on a case, in words (a workflow's own actions use their labels).
_ENGINE_ACTIONS = {
    "start": "Started",
    "answer": "Answers saved",
    "assessment": "Assessment recorded",
    "conflict_declared": "Conflict of interest declared",
    "service_level_missed": "A promise was not kept in time",
    "assessor_assigned": "Assessor assigned",
    "assessor_released": "Assessor taken off the case",
    "moderated_score_recorded": "Moderated score recorded",
    "assessment_completed": "Assessment completed",
    "retention_delete": "Content removed under the programme's retention rules",
    "retention_erase_personal_data": "Personal data erased under the programme's retention rules",
    "personal_data_erased": "Personal data erased on request",
}


def action_words(programme: Programme, workflow: str, action: str) -> str:
    """An action as people read it: the workflow's label for it, or the engine's own words."""
    wf = programme.workflows.get(workflow)
    labels = {t.trigger: t.spec.get("label") for t in wf.transitions} if wf else {}
    return (
        labels.get(action) or _ENGINE_ACTIONS.get(action) or action.replace("_", " ").capitalize()
    )


#: The people-facing roles, as a sentence names one of them.
ROLE_WORDS = {"applicant": "applicant", "assessor": "assessor", "commissioner": "commissioner",
              "caseworker": "caseworker"}  # fmt: skip


def due_words(programme: Programme, row: dict[str, Any]) -> str:
    """A planned reminder, timed action or check as people read it, from the programme's words.

    The planner's own `reason` names rule ids and an ISO-like time: it is for the dry run.
    """
    kind, rule = row.get("kind"), row.get("rule")
    if kind == "reminder":
        spec = next((r for r in programme.data.get("reminders", []) if r["id"] == rule), {})
        to = [f"{ROLE_WORDS[t]}s" for t in spec.get("to", []) if t in ROLE_WORDS]
        subject = (spec.get("message") or {}).get("subject") or "a reminder"
        subject = re.sub(r"\{\{.*?\}\}", "…", subject)  # filled in per case when it is sent
        told = " and ".join(to)
        return f"Reminder to {told}: {subject}" if told else f"Reminder: {subject}"
    if kind in ("service_level", "service_level_warn"):
        spec = next((s for s in programme.data.get("service_levels", []) if s["id"] == rule), {})
        verb = "Warning before the check" if kind == "service_level_warn" else "Check"
        return f"{verb}: {spec.get('title', 'a promise')}"
    if kind == "transition":
        owner = row.get("workflow") or next(
            (w.id for w in programme.workflows.values() if any(t.trigger == rule for t in w.transitions)),
            None,
        )  # fmt: skip
        return (
            f"Taken on time: {action_words(programme, owner, str(rule)) if owner else 'an action'}"
        )
    return "Something planned"


def starters(engine: Engine, programme: Programme, wf: Workflow) -> tuple[str, ...]:
    """Who may start a case of this workflow (the engine's own rule)."""
    return engine.starters(programme, wf)


def applicant_workflows(engine: Engine, programme: Programme) -> list[Workflow]:
    """The kinds of case an applicant may start in this programme."""
    return [wf for wf in programme.workflows.values() if "applicant" in starters(engine, programme, wf)]  # fmt: skip


def deadline(programme: Programme, wf: Workflow) -> tuple[str, datetime] | None:
    """The first deadline an applicant meets in this workflow: (label, when it is)."""
    for t in wf.transitions:
        if "applicant" in t.by and wf.initial in t.sources and t.spec.get("deadline"):
            m = programme.milestones[t.spec["deadline"]]
            return m.label, m.span.end
    return None


def submit_transition(wf: Workflow, state: str, form_id: str) -> Transition | None:
    """The applicant's action that submits this form from this state (the workflow says which)."""
    for t in wf.transitions:
        if "applicant" in t.by and form_id in t.spec.get("forms", []) and state in t.sources:
            return t
    return None


def form_entries(programme: Programme, view: CaseView) -> list[dict[str, Any]]:
    """The forms an applicant fills in for this case, with whether each can be changed now."""
    wf = programme.workflows[view.workflow]
    final = {s.id for s in wf.states if s.final}
    out = []
    for entry in programme.data["forms"]:
        if entry["workflow"] != wf.id or entry.get("repeatable"):
            continue
        by = entry.get("by") or ["applicant", "commissioner"]
        if "applicant" not in by:
            continue
        if entry.get("applies_to") and view.role not in entry["applies_to"]:
            continue
        states = entry.get("states")
        editable = view.state in states if states else view.state not in final
        form = programme.forms[entry["form"]]
        if not editable and entry["form"] not in view.answers:
            continue
        out.append(
            {
                "form": form,
                "editable": editable,
                "submitted": view.submitted.get(entry["form"]),
                "transition": submit_transition(wf, view.state, entry["form"]),
            }
        )
    return out


def eligibility_question_ids(programme: Programme, workflow: str) -> set[str]:
    """The questions a workflow's eligibility criteria read (by name or as `answers.x`)."""
    first = next(iter(programme.workflows))
    ids: set[str] = set()
    for c in programme.data["eligibility"]:
        if c.get("workflow", first) != workflow:
            continue
        for source in (c["rule"], c.get("when")):
            if source:
                ids |= names_of(source)
                ids |= set(re.findall(r"\banswers\.([a-z][a-z0-9_]*)", source))
    return ids


def show_answer(q: Question, value: Any, file_url: Any = None) -> Markup:
    """An answer as a person reads it on "Check your answers"."""
    if value is None or value == "" or value == []:
        return Markup('<span class="govuk-hint">Not answered</span>')
    labels = {o["value"]: o["label"] for o in q.spec.get("options", [])}
    kind = q.type
    if kind == "yesno":
        return Markup("Yes" if value else "No")
    if kind in ("radios", "select"):
        return escape(labels.get(value, value))
    if kind == "checkboxes":
        return Markup("<br>").join(escape(labels.get(v, v)) for v in value)
    if kind == "money":
        return escape(money(value))
    if kind == "percent":
        return escape(f"{value:g}%")
    if kind == "date":
        try:
            d = date.fromisoformat(value)
            return escape(f"{d.day} {d:%B %Y}")
        except (TypeError, ValueError):
            return escape(value)
    if kind == "file" and isinstance(value, dict):
        name = escape(value.get("name", "file"))
        if file_url and value.get("id"):
            return Markup(f'<a class="govuk-link" href="{escape(file_url(value))}">{name}</a>')
        return name
    if kind == "group" and isinstance(value, list):
        inner = {s.id: s for s in q.questions}
        items = []
        for i, item in enumerate(value, 1):
            parts = [
                f"{escape(inner[k].label)}: {show_answer(inner[k], v)}"
                for k, v in item.items()
                if k in inner
            ]
            label = escape(q.spec.get("item_label", "item").capitalize())
            items.append(f"<p class='govuk-body'><strong>{label} {i}</strong><br>{'<br>'.join(parts)}</p>")  # fmt: skip
        return Markup("".join(items))
    if kind == "textarea":
        return Markup("<br>").join(escape(line) for line in str(value).splitlines())
    return escape(value)


def page_status(
    visible: list[Question], saved: dict[str, Any], errors: dict[str, list[str]]
) -> str:
    """Completed, In progress or Not yet started, for the task list."""
    answered = [q for q in visible if q.id in saved]
    if any(q.id in errors for q in visible):
        return "In progress" if answered else "Not yet started"
    return "Completed" if answered or not any(q.required for q in visible) else "Not yet started"
