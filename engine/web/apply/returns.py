"""Monitoring returns: what is due next on an organisation's contracts, filling one in, and those sent.

A return is a repeatable form the applicant fills in on a case (a quarterly monitoring report, a
monthly activity report). When it is due comes from the programme's `reviews` (an occasion's `due`
entries, or a review of kind `return` whose form it is) and from the case's reminder rows.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, url_for
from werkzeug.wrappers import Response

from engine.errors import NotFound
from engine.model import Programme
from engine.runtime import CaseView
from engine.timeline.occasions import occasions, offset, working_calendar
from engine.timeline.planner import HORIZON_DAYS, events_of, pins_of
from engine.web.access import allow, current_actor
from engine.web.apply import bp
from engine.web.apply.cases import load
from engine.web.casework import sheets
from engine.web.kept import keeps_answers
from engine.web.services import engine, now

FLOW = sheets.Flow("apply", "applicant", "apply.returns_case", "apply.file")


def return_entries(programme: Programme, view: CaseView) -> list[dict[str, Any]]:
    """The repeatable forms of the case's workflow that the applicant sends."""
    return [e for e in sheets.entries(programme, view, "applicant") if e.get("repeatable")]


def _relation(due: dict[str, Any]) -> str:
    if "before" in due:
        return f"{due['before']} before"
    if "after" in due:
        return f"{due['after']} after"
    return "at"


def due_dates(view: CaseView, programme: Programme, form_id: str, limit: int = 3) -> list[dict[str, Any]]:  # fmt: skip
    """The next times a return is due on this case, soonest first (a vague date says so).

    Each return sent answers the earliest occasion since the case began that no return has
    answered yet; an occasion whose date has passed unanswered is overdue.
    """
    store = engine().store
    row = store.case(view.id)
    final = {s.id for s in programme.workflows[view.workflow].states if s.final}
    if row is None or view.state in final:
        return []
    moment = now()
    began = datetime.fromisoformat(row["created_at"])
    tz, days = ZoneInfo(programme.timezone), working_calendar(programme)
    events = events_of(store, programme, row, store.fired_all(view.id))
    pins = pins_of(store, programme.id)
    out: list[dict[str, Any]] = []
    for review in programme.data.get("reviews", []):
        if review.get("workflow") not in (None, view.workflow) or view.state in review.get("until", []):  # fmt: skip
            continue
        dues = [d for d in review.get("due", []) if d["form"] == form_id and "applicant" in d.get("by", ["applicant"])]  # fmt: skip
        own = review.get("form") == form_id and review.get("kind") == "return"
        if not dues and not own:
            continue
        until = moment + timedelta(days=HORIZON_DAYS)
        for o in occasions(programme, review, events, pins, until):
            for d in dues or [{}]:
                at = offset(o.at, d, tz, days) if o.at else None
                if offset(o.latest, d, tz, days) < began:
                    continue  # before the case existed: not asked of it
                out.append({"at": at, "earliest": offset(o.earliest, d, tz, days), "occasion": o.label,
                            "title": review["title"], "occasion_at": o.at,
                            "relation": _relation(d) if d else "",
                            "overdue": at is not None and at < moment})  # fmt: skip
    out.sort(key=lambda x: x["at"] or x["earliest"])
    answered = len([a for a in store.answers(view.id) if a["form"] == form_id and a["record"] > 0])
    return out[answered:][:limit]


def reminders_ahead(view: CaseView, programme: Programme) -> list[dict[str, Any]]:
    """The case's pending reminders to the applicant, soonest first."""
    moment = now()
    subjects = {r["id"]: r.get("message", {}).get("subject", "") for r in programme.data.get("reminders", [])}  # fmt: skip
    out = []
    for r in engine().store.reminders_for(view.id):
        payload = json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
        at = datetime.fromisoformat(r["due_at"])
        if r["status"] != "pending" or r["kind"] != "reminder" or at <= moment:
            continue
        if "applicant" not in payload.get("to", []):
            continue
        out.append({"at": at, "what": subjects.get(r["rule"]) or r["rule"].replace("_", " ")})
    return out[:5]


def returns_of(view: CaseView, programme: Programme) -> list[dict[str, Any]]:
    """Each return of the case: when it is due next, whether one is being filled in, those sent."""
    out = []
    for entry in return_entries(programme, view):
        form = programme.forms[entry["form"]]
        out.append({
            "form": form,
            "editable": sheets.editable(entry, programme, view, "applicant"),
            "due": due_dates(view, programme, form.id),
            "draft": bool(engine().store.record_draft(view.id, form.id)),
            "sent": sheets.records(view, form.id),
        })  # fmt: skip
    return out


@bp.get("/returns")
@allow("applicant")
def returns() -> str:
    """The organisation's cases that send monitoring returns, with what is due next on each."""
    eng = engine()
    actor = current_actor()
    rows = []
    for row in eng.store.cases_for_organisation(g.user["organisation_id"]):
        try:
            view = eng.case(row["id"], actor)
        except NotFound:  # a referral about a person: not the applicant's to see
            continue
        programme = eng.programme(view.programme_id, view.version)
        found = returns_of(view, programme)
        if found:
            rows.append({"view": view, "programme": programme, "returns": found})
    return render_template("apply/returns.html", rows=rows)


@bp.get("/cases/<ref>/returns")
@allow("applicant")
def returns_case(ref: str) -> str:
    """One contract's returns: what is due next, filling one in, and those already sent."""
    view, programme = load(ref)
    found = returns_of(view, programme)
    if not found:
        abort(404)
    return render_template("apply/returns_case.html", view=view, programme=programme,
                           workflow=programme.workflows[view.workflow], returns=found,
                           reminders=reminders_ahead(view, programme))  # fmt: skip


def _return_form(view: CaseView, programme: Programme, form_id: str) -> None:
    if form_id not in {e["form"] for e in return_entries(programme, view)}:
        abort(404)


@bp.get("/cases/<ref>/returns/<form_id>")
@allow("applicant")
def sheet_task_list(ref: str, form_id: str) -> str:
    """The return being filled in, page by page."""
    view, programme = load(ref)
    _return_form(view, programme, form_id)
    return sheets.task_list(FLOW, view, programme, form_id)


@bp.route("/cases/<ref>/returns/<form_id>/pages/<page_id>", methods=["GET", "POST"])
@allow("applicant")
@keeps_answers
def sheet_page(ref: str, form_id: str, page_id: str) -> Any:
    """One page of the return."""
    view, programme = load(ref)
    _return_form(view, programme, form_id)
    return sheets.page(FLOW, view, programme, form_id, page_id)


@bp.route("/cases/<ref>/returns/<form_id>/check", methods=["GET", "POST"])
@allow("applicant")
def sheet_check(ref: str, form_id: str) -> Any:
    """Check the return's answers, then send it."""

    def sent(after: CaseView, number: int) -> Response:
        flash(f"{programme.forms[form_id].title} {number} sent on {after.reference}", "message")
        return redirect(url_for("apply.returns_case", ref=after.reference))

    view, programme = load(ref)
    _return_form(view, programme, form_id)
    return sheets.check(FLOW, view, programme, form_id, sent)


@bp.get("/cases/<ref>/returns/<form_id>/sent/<int:number>")
@allow("applicant")
def sent_return(ref: str, form_id: str, number: int) -> str:
    """A return as it was sent."""
    view, programme = load(ref)
    _return_form(view, programme, form_id)
    found = next((r for r in sheets.records(view, form_id) if r["number"] == number), None)
    if found is None:
        abort(404)
    form = programme.forms[form_id]
    return render_template("casework/record.html", view=view, programme=programme, form=form, record=found,
                           pages=sheets.pages(form, found["data"]), case_url=url_for("apply.returns_case", ref=ref),
                           file_url=sheets.file_url(FLOW, view))  # fmt: skip
