"""A caseworker's cases: starting a referral, one case with its forms, records, actions and history."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.dates import moment_in_words, parse_when, span_in_words
from engine.errors import ActionRefused, EngineError
from engine.forms.visibility import visible_answers
from engine.model import Programme
from engine.runtime import CaseView
from engine.runtime.record_dates import record_day
from engine.web import confirming, describe, listing
from engine.web.access import allow, current_actor, reachable
from engine.web.casework import bp, sheets
from engine.web.offers import explained
from engine.web.services import engine, now

FLOW = sheets.Flow("casework", "caseworker", "casework.case", "casework.file")

# A person's case is known by its reference alone: no name or identifier is asked for or kept
# beyond the programme's own questions, so the engine's subject marks the case as a person's.
SUBJECT = "pseudonymous"


def load(ref: str) -> tuple[CaseView, Programme]:
    """The case if it is a person's, of this caseworker's organisation (if not: NotFound, a 404)."""
    view = engine().case(ref, current_actor())
    row = engine().store.case(view.id)
    if (
        row is None or row["subject"] is None
    ):  # an organisation's own case (a contract) is not casework
        abort(404)
    return view, engine().programme(view.programme_id, view.version)


def startable() -> list[dict[str, Any]]:
    """Each programme's kinds of case a caseworker may open (referrals)."""
    eng = engine()
    out = []
    for pid in reachable(eng.store.programme_ids()):
        programme = eng.programme(pid)
        for wf in programme.workflows.values():
            if "caseworker" in eng.starters(programme, wf):
                out.append({"programme": programme, "workflow": wf})
    return out


def newest_first(programme: Programme, entry: dict[str, Any], found: list[dict[str, Any]]) -> list[dict[str, Any]]:  # fmt: skip
    """A form's records by their own date (a contact's date), newest first, that date in words.

    A record whose form asks no date goes by when it was recorded.
    """
    form = programme.forms[entry["form"]]
    tz = ZoneInfo(programme.timezone)
    out = []
    for r in found:
        day = record_day(form, entry, r["data"])
        recorded = datetime.fromisoformat(r["at"]).astimezone(tz).date()
        words = span_in_words(parse_when(day.isoformat(), tz), tz) if day else None
        out.append({**r, "day": day or recorded, "day_words": words})
    return sorted(out, key=lambda r: (r["day"], r["number"]), reverse=True)


@bp.get("/")
@allow("caseworker")
def home() -> str:
    """The organisation's people (their cases), searched, filtered and paged, and referrals to start."""
    found = listing.programmes()
    scope = sorted(listing.workflows_about(found, person=True))
    labels = listing.labelled(found)
    page = listing.list_page(
        noun="person", organisation_id=g.user["organisation_id"], about_people=True,
        scope=[(pid, wf, None) for pid, wf in scope], labels=labels,
        states=listing.state_choices(found, set(scope)),
        sorts=("newest", "oldest", "due", "reference", "changed"),
    )  # fmt: skip
    listing.describe_rows(page.rows)
    moment = now()
    for row in page.rows:
        tz = ZoneInfo(row["programme"].timezone)
        opened = datetime.fromisoformat(row["created_at"]).astimezone(tz)
        row["referred"] = moment_in_words(opened.replace(hour=0, minute=0), tz)  # the day alone
        due = datetime.fromisoformat(row["next_due"]) if row["next_due"] else None
        row["due"] = moment_in_words(due, tz) if due else None
        row["overdue"] = due is not None and due < moment
        row["missed"] = describe.missed_promises(row["programme"], row["flags"])
    return render_template("casework/home.html", listing=page, startable=startable(),
                           labelled=labels)  # fmt: skip


@bp.post("/start/<programme_id>/<workflow>")
@allow("caseworker")
def start(programme_id: str, workflow: str) -> Response:
    """Open a new referral for the caseworker's organisation."""
    programme = engine().programme(programme_id)
    if workflow not in programme.workflows:
        abort(404)
    try:
        view = engine().start_case(programme_id, workflow, current_actor(), subject=SUBJECT)
    except ActionRefused as exc:
        for line in [exc.message, *exc.reasons]:
            flash(line, "error")
        return redirect(url_for("casework.home"))
    first = next((e["form"] for e in sheets.entries(programme, view, "caseworker") if not e.get("repeatable")
                  and sheets.editable(e, programme, view, "caseworker")), None)  # fmt: skip
    if first:
        return redirect(FLOW.url("task_list", ref=view.reference, form_id=first))
    return redirect(url_for("casework.case", ref=view.reference))


@bp.get("/cases/<ref>")
@allow("caseworker")
def case(ref: str) -> str:
    """Where the case stands, its forms and records, what can be done next, and its history."""
    view, programme = load(ref)
    eng = engine()
    actor = current_actor()
    wf = programme.workflows[view.workflow]
    forms = []
    for entry in sheets.entries(programme, view, "caseworker"):
        form = programme.forms[entry["form"]]
        forms.append({
            "form": form,
            "repeatable": bool(entry.get("repeatable")),
            "editable": sheets.editable(entry, programme, view, "caseworker"),
            "answered": form.id in view.answers,
            "complete": form.id in view.answers and not sheets.problems_of(form, view.answers[form.id]),
            "records": newest_first(programme, entry, sheets.records(view, form.id)) if entry.get("repeatable") else [],
            "draft": bool(entry.get("repeatable")) and bool(eng.store.record_draft(view.id, form.id)),
            "most": entry.get("max_records"),
        })  # fmt: skip
    actions = [a for a in eng.actions(view.id, actor) if not any(r.startswith("this action is not for") for r in a.reasons)]  # fmt: skip
    state = next(s for s in wf.states if s.id == view.state)
    parent, children = eng.related(view.id, actor)
    return render_template(
        "casework/case.html", view=view, programme=programme, workflow=wf, state=state,
        forms=forms, actions=explained(wf, actions), missed=describe.missed_promises(programme, view.flags),
        criteria=eng.eligibility(view.id, actor), history=eng.history(view.id, actor),
        parent=parent, children=children,
        promises=describe.promises(programme, view, eng.service_levels(view.id, actor)),
    )  # fmt: skip


@bp.post("/cases/<ref>/actions/<trigger>")
@allow("caseworker")
def act(ref: str, trigger: str) -> Response | str:
    """Take one of the workflow's actions; a refusal shows the engine's every reason."""
    view, programme = load(ref)
    if (page := confirming.ask_first(view, programme, trigger, "casework.act", "casework.case")) is not None:  # fmt: skip
        return page
    try:
        after = engine().act(view.id, trigger, current_actor(), expected_state=request.form.get("state"),
                             reason=request.form.get("reason") or None)  # fmt: skip
    except ActionRefused as exc:
        for line in [exc.message, *exc.reasons]:
            flash(line, "error")
    except EngineError as exc:
        flash(str(exc), "error")
    else:
        confirming.flash_done(programme, after, trigger)
    return redirect(url_for("casework.case", ref=view.reference))


@bp.get("/cases/<ref>/records/<form_id>/<int:number>")
@allow("caseworker")
def record(ref: str, form_id: str, number: int) -> str:
    """One record (a contact, a review…) as it was recorded."""
    view, programme = load(ref)
    found = next((r for r in sheets.records(view, form_id) if r["number"] == number), None)
    if found is None or form_id not in programme.forms:
        abort(404)
    form = programme.forms[form_id]
    # read from the store, not the engine's view: leave out what caseworkers may not see here too
    data = visible_answers(programme, form, found["data"], "caseworker")
    found = {**found, "data": data}
    return render_template("casework/record.html", view=view, programme=programme, form=form, record=found,
                           pages=sheets.pages(form, data), case_url=url_for("casework.case", ref=ref),
                           file_url=sheets.file_url(FLOW, view))  # fmt: skip


sheets.add_case_routes(bp, FLOW, load)
