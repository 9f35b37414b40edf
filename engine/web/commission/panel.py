"""The assessment panel a commissioner runs: who assesses what, each assessor's progress,
assigning (one case, or a lot at a time), reassigning, and recording a moderated score."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.errors import ActionRefused, EngineError
from engine.model import Programme
from engine.runtime.assessment import assessment_states
from engine.web.access import allow, current_actor
from engine.web.commission import bp
from engine.web.commission.cases import load
from engine.web.listing import PER_PAGE, ListPage, asked_page, page_count, page_exists
from engine.web.services import engine, store


def _people(addresses: list[str]) -> dict[str, str]:
    """Each address as people read it: "Name (address)" when the account has a name."""
    out = {}
    for email in addresses:
        user = store().user_by_email(email)
        out[email] = f"{user['name']} ({email})" if user and user.get("name") else email
    return out


def _lots(programme: Programme) -> dict[str, str]:
    return {x["id"]: x.get("name", x["id"]) for x in programme.data["funding"].get("lots", [])}


@bp.get("/<pid>/panel")
@allow("commissioner")
def panel(pid: str) -> str:
    """Each assessor's load and progress, and the applications waiting for assessment, 25 a page."""
    eng, actor = engine(), current_actor()
    programme = eng.programme(pid)
    errors: list[dict[str, str]] = []
    page = asked_page(errors)
    overview = eng.panel_overview(pid, actor, (page - 1) * PER_PAGE, PER_PAGE)
    pages = page_count(overview["total"])
    if not page_exists(page, pages, errors):
        page = 1
        overview = eng.panel_overview(pid, actor, 0, PER_PAGE)
    listing = ListPage(
        rows=overview["rows"], total=overview["total"], page=page, pages=pages, search="",
        state=None, workflow=None, sort="", states=[], workflows=[], sorts=[],
        noun="application", errors=errors,
    )  # fmt: skip
    counts = overview["counts"]
    people = list(counts) + [p["assessor"] for r in listing.rows for p in r["status"]["people"]]
    return render_template(
        "commission/panel.html", programme=programme, listing=listing, rows=listing.rows,
        counts=counts, names=_people(sorted(set(people))), lots=_lots(programme),
        organisations=store().organisation_names(), assigned_only=store().uses_assignments(pid),
    )  # fmt: skip


@bp.post("/<pid>/panel/assign")
@allow("commissioner")
def assign_lot(pid: str) -> Response:
    """Share the applications of a lot (or all) among the programme's assessors, evenly."""
    eng = engine()
    programme = eng.programme(pid)
    lot = request.form.get("lot") or None
    if lot is not None and lot not in _lots(programme):
        lot = None
    per_case = request.form.get("per_case", "").strip()
    if not per_case.isdigit() or int(per_case) < 1:
        flash("Enter how many assessors each application needs, as a whole number like 2", "error")
        return redirect(url_for("commission.panel", pid=pid) + "#bulk")
    try:
        results = eng.assign_lot(pid, lot, int(per_case), current_actor())
    except ActionRefused as exc:
        flash(exc.message, "error")
        return redirect(url_for("commission.panel", pid=pid) + "#bulk")
    if not results:
        flash("No application in that lot is waiting for assessment.", "message")
    names = _people(sorted({a for r in results for a in r["assigned"]}))
    for r in results:
        given = ", ".join(names[a] for a in r["assigned"])
        line = (
            f"{r['reference']}: given to {given}"
            if given
            else f"{r['reference']}: nobody new given"
        )
        if r["short"]:
            more = "1 more assessor" if r["short"] == 1 else f"{r['short']} more assessors"
            line += f"; it still needs {more} with no conflict of interest"
        flash(line + ".", "error" if r["short"] else "message")
    return redirect(url_for("commission.panel", pid=pid))


@bp.get("/cases/<ref>/panel")
@allow("commissioner")
def case_panel(ref: str, typed: dict[str, Any] | None = None) -> str:
    """One application's panel: who is assessing it, what each has done, and what is needed."""
    view, programme = load(ref)
    eng, actor = engine(), current_actor()
    status = eng.panel_status(view.id, actor)
    return render_template(
        "commission/case_panel.html", view=view, programme=programme, status=status,
        names=_people([p["assessor"] for p in status["people"]] + status["choices"]),
        moderation=eng.moderation(view.id, actor), typed=typed,
    )  # fmt: skip


def _back(ref: str, anchor: str = "") -> Response:
    return redirect(url_for("commission.case_panel", ref=ref) + anchor)


@bp.post("/cases/<ref>/panel/assign")
@allow("commissioner")
def assign_case(ref: str) -> Response:
    """Assign the chosen assessors to this application."""
    view, _programme = load(ref)
    chosen = request.form.getlist("assessor")
    if not chosen:
        flash("Choose at least one assessor to assign", "error")
        return _back(view.reference, "#assign")
    names = _people(chosen)
    for email in chosen:
        try:
            engine().assign_assessor(view.id, email, current_actor())
            flash(f"{names[email]} is now assessing {view.reference}.", "message")
        except EngineError as exc:
            flash(getattr(exc, "message", str(exc)), "error")
    return _back(view.reference)


@bp.post("/cases/<ref>/panel/reassign")
@allow("commissioner")
def reassign(ref: str) -> Response:
    """Give one assessor's work on this application to another."""
    view, _programme = load(ref)
    old, new = request.form.get("from", ""), request.form.get("to", "")
    if not old or not new:
        flash("Choose whose work to give, and to whom", "error")
        return _back(view.reference, "#reassign")
    try:
        engine().reassign(view.id, old, new, current_actor())
    except EngineError as exc:
        flash(getattr(exc, "message", str(exc)), "error")
        return _back(view.reference, "#reassign")
    names = _people([old, new])
    flash(f"{names[new]} now assesses {view.reference} instead of {names[old]}.", "message")
    return _back(view.reference)


@bp.post("/cases/<ref>/panel/moderate")
@allow("commissioner")
def moderate(ref: str) -> Response | str:
    """Record the moderated score with its reason, after asking to confirm (it cannot be changed)."""
    view, programme = load(ref)
    typed, reason = (
        request.form.get("score", "").strip().rstrip("%"),
        request.form.get("reason", "").strip(),
    )
    try:
        score = float(typed)
    except ValueError:
        score = -1.0
    problems = {}
    if not 0 <= score <= 100:
        problems["score"] = "Enter the moderated score as a number from 0 to 100, like 72.5"
    if not reason:
        problems["reason"] = "Give the reason for the moderated score"
    if problems:  # the page again, with what was typed kept beside each message
        page = case_panel(
            ref, {"score": request.form.get("score", ""), "reason": reason, "errors": problems}
        )
        return Response(page, status=400)
    if request.form.get("confirmed") != "yes":
        return render_template("commission/moderate_confirm.html", view=view, programme=programme,
                               score=score, reason=reason)  # fmt: skip
    try:
        engine().record_moderated_score(view.id, current_actor(), score, reason)
    except EngineError as exc:
        flash(getattr(exc, "message", str(exc)), "error")
        return _back(view.reference, "#moderate")
    flash(f"The moderated score of {score:g}% is recorded for {view.reference}.", "message")
    return _back(view.reference)


def summary(status: dict[str, Any]) -> str:
    """A case's panel in one sentence: how many assessments are complete of those needed."""
    done, needed = status["completed"], status["needed"]
    if needed:
        return f"{done} of {needed} assessments complete"
    return f"{done} assessment{'s' if done != 1 else ''} complete"


def has_panel(programme: Programme) -> bool:
    """Whether any of the programme's workflows waits for assessors (so it has a panel to run)."""
    return any(assessment_states(wf) for wf in programme.workflows.values())


bp.add_app_template_global(summary, "panel_summary")
bp.add_app_template_global(has_panel, "has_panel")
