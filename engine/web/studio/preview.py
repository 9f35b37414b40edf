"""A draft previewed before it is published: its forms as applicants will see them, its workflows,
and its timeline (every date of the round and everything that would fire). The forms and
workflows are the published programme's own views and templates (engine.web.commission.programmes),
shown at the draft's address. While the draft has problems, each page lists them instead.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template

from engine.dates import moment_in_words, span_in_words
from engine.errors import EngineError, NotFound
from engine.model import Programme
from engine.timeline.planner import HORIZON_DAYS, Planned, dry_run, pins_of
from engine.web.access import allow, current_actor
from engine.web.commission.programmes import (
    Shown,
    forms_page,
    preview_page,
    workflow_page,
    workflows_page,
)
from engine.web.describe import ROLE_WORDS, action_words, due_words
from engine.web.services import engine, store
from engine.web.studio import bp, draft_or_404, problems_json

#: The window opens this long before the round's first date: reminders lead up to it (a
#: webinar's the day before, a deadline's a week or two before).
LEAD = timedelta(days=31)
#: The window closes the planner's own horizon after the round's last date (a year or so):
#: monitoring, reviews and final reports run on after it, and that is as far ahead as the
#: scheduler plans recurring occasions.
AFTER = timedelta(days=HORIZON_DAYS)
MAX_ROWS = (
    200  # a monthly report over years runs to hundreds of rows: the first are what is checked
)


def _shown(draft: dict[str, Any], programme: Programme) -> Shown:
    """The draft's preview pages, under /studio."""
    return Shown("studio", {"draft_id": draft["id"]}, f"Draft of {programme.name}", "studio.edit",
                 "Edit the draft", "studio/_draft_nav.html")  # fmt: skip


def _programme_or_problems(draft_id: int, what: str) -> tuple[dict[str, Any], Programme | str]:
    """The draft and the programme it makes, or (while it has problems) the page listing them."""
    draft = draft_or_404(draft_id)
    try:
        return draft, engine().draft_programme(draft_id, current_actor())
    except NotFound:
        raise
    except EngineError:  # ProgrammeInvalid, or files a draft cannot hold: the linter says which
        problems = problems_json(engine().lint_draft(draft_id, current_actor()))
        count = len(problems)
        heading = (
            f"This draft has {count} problem{'s' if count != 1 else ''}, so it cannot be previewed"
            if count
            else "This draft cannot be previewed yet"
        )
        page = render_template(
            "studio/problems.html", draft=draft, programme=engine().programme(draft["programme_id"]),
            problems=problems, heading=heading, what=what,
        )  # fmt: skip
        return draft, page


@bp.get("/drafts/<int:draft_id>/forms")
@allow("commissioner")
def forms(draft_id: int) -> str:
    """The draft's forms, each linking to its preview."""
    draft, programme = _programme_or_problems(draft_id, "its forms")
    if isinstance(programme, str):
        return programme
    return forms_page(programme, _shown(draft, programme))


@bp.get("/drafts/<int:draft_id>/forms/<form_id>/preview", defaults={"page_id": None})
@bp.get("/drafts/<int:draft_id>/forms/<form_id>/preview/<page_id>")
@allow("commissioner")
def preview(draft_id: int, form_id: str, page_id: str | None) -> str:
    """One page of one of the draft's forms exactly as an applicant will see it, read only."""
    draft, programme = _programme_or_problems(draft_id, "its forms")
    if isinstance(programme, str):
        return programme
    return preview_page(programme, form_id, page_id, _shown(draft, programme))


@bp.get("/drafts/<int:draft_id>/workflows")
@allow("commissioner")
def workflows(draft_id: int) -> str:
    """The draft's workflows, each linking to its picture."""
    draft, programme = _programme_or_problems(draft_id, "its workflows")
    if isinstance(programme, str):
        return programme
    return workflows_page(programme, _shown(draft, programme))


@bp.get("/drafts/<int:draft_id>/workflows/<wf_id>")
@allow("commissioner")
def workflow(draft_id: int, wf_id: str) -> str:
    """One of the draft's workflows as a state diagram and a table of transitions."""
    draft, programme = _programme_or_problems(draft_id, "its workflows")
    if isinstance(programme, str):
        return programme
    return workflow_page(programme, wf_id, _shown(draft, programme))


@bp.get("/drafts/<int:draft_id>/timeline")
@allow("commissioner")
def timeline(draft_id: int) -> str:
    """The draft's dry run: the round's dates and every reminder, timed action and check, in order."""
    draft, programme = _programme_or_problems(draft_id, "its timeline")
    if isinstance(programme, str):
        return programme
    tz = ZoneInfo(programme.timezone)
    # pins are kept per published programme: a new round's draft has none until it is published
    pins = pins_of(store(), programme.id) if programme.id in store().programme_ids() else {}
    start, end = window(programme, engine().now())
    rows = [_date_row(programme, m_id, pins, tz) for m_id in programme.milestones]
    rows += [_planned_row(programme, item, tz) for item in dry_run(programme, start, end, pins)]
    rows.sort(key=lambda r: (r["at"], r["order"]))
    return render_template(
        "studio/timeline.html", programme=programme, at=_shown(draft, programme),
        rows=rows[:MAX_ROWS], more=max(0, len(rows) - MAX_ROWS),
        start=moment_in_words(start, tz), end=moment_in_words(end, tz),
    )  # fmt: skip


def window(programme: Programme, now: datetime) -> tuple[datetime, datetime]:
    """From a month before the round's first date to a year or so after its last (from now
    when it has no dates)."""
    tz = ZoneInfo(programme.timezone)
    spans = [m.span for m in programme.milestones.values()]
    first = (min((s.start for s in spans), default=now) - LEAD).astimezone(tz).date()
    last = (max((s.end for s in spans), default=now) + AFTER).astimezone(tz).date()
    # whole days on the programme's clock: the window reads as two dates, and the case counted
    # from its start does everything at midnight rather than at whatever time the first date is
    return datetime.combine(first, time.min, tz), datetime.combine(last, time(23, 59), tz)


# -- rows of the table ----------------------------------------------------------------------------
def _date_row(programme: Programme, m_id: str, pins: dict[str, datetime], tz: ZoneInfo) -> dict[str, Any]:  # fmt: skip
    """A date of the round: its moment in words, or how precisely it is known until pinned."""
    m = programme.milestones[m_id]
    pinned = pins.get(f"milestone:{m.id}")
    exact = pinned is not None or m.span.precision in ("minute", "day")
    return {
        "at": pinned or m.span.start, "order": 0,
        "when": moment_in_words(pinned, tz) if pinned else _upper(span_in_words(m.span, tz)),
        "pinned": exact, "what": m.label, "how": "A date of the round", "to": "",
    }  # fmt: skip


def _planned_row(programme: Programme, item: Planned, tz: ZoneInfo) -> dict[str, Any]:
    """A reminder, timed action or check: when, what, counted from what, and who is told."""
    at = item.due or item.anchor
    assert at is not None  # the dry run keeps only what it can place in time
    row = {"kind": item.kind, "rule": item.rule, "workflow": item.workflow}
    roles = [f"{ROLE_WORDS[r]}s" for r in item.to if r in ROLE_WORDS]  # the scheduler is nobody
    return {
        "at": at, "order": 1, "pinned": item.due is not None,
        "when": moment_in_words(item.due, tz) if item.due else f"Hangs on a date in {at.astimezone(tz):%B %Y}",
        "what": due_words(programme, row), "how": counted_from(programme, item),
        "to": _upper(" and ".join(roles)),
    }  # fmt: skip


def _anchor(programme: Programme, item: Planned) -> dict[str, Any]:
    """The `when`, `at` or `within` the planned item was worked out from."""
    data = programme.data
    if item.kind == "reminder":
        return next((r["when"] for r in data["reminders"] if r["id"] == item.rule), {})
    if item.kind == "transition" and item.workflow in programme.workflows:
        wf = programme.workflows[item.workflow]
        return next((t.spec["at"] for t in wf.transitions if t.trigger == item.rule and "at" in t.spec), {})  # fmt: skip
    return next((s["within"] for s in data["service_levels"] if s["id"] == item.rule), {})


def counted_from(programme: Programme, item: Planned) -> str:
    """What a planned item is counted from, in words: `7 days before “Full proposal deadline”`."""
    anchor = _anchor(programme, item)
    wf = programme.workflows.get(item.workflow or "")
    if "milestone" in anchor and anchor["milestone"] in programme.milestones:
        thing = f"“{programme.milestones[anchor['milestone']].label}”"  # a label may be a sentence
    elif "review" in anchor:
        review = next((r for r in programme.data["reviews"] if r["id"] == anchor["review"]), {})
        thing = f"each “{review.get('title', 'review')}”"
    elif "entered" in anchor:
        labels = {s.id: s.label for s in wf.states} if wf else {}
        thing = f"a case moves to “{labels.get(anchor['entered'], 'a state')}”"
    elif "trigger" in anchor:
        thing = (
            f"“{action_words(programme, wf.id, anchor['trigger']) if wf else 'an action'}” is done"
        )
    elif "answer" in anchor:
        question = programme.questions().get(anchor["answer"])
        thing = f"the date answered to “{question.label if question else 'a question'}”"
    else:
        return ""
    if "before" in anchor:
        return _upper(f"{anchor['before']} before {thing}")
    if "after" in anchor:
        return _upper(f"{anchor['after']} after {thing}")
    return f"{'When' if thing.startswith('a case') or thing.endswith('is done') else 'At'} {thing}"


def _upper(words: str) -> str:
    """The first letter a capital, the rest as written (labels keep their own capitals)."""
    return words[:1].upper() + words[1:]
