"""Assessors: the queue of applications waiting, a score sheet against the programme's criteria,
comments, a conflict-of-interest declaration, and a recommendation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.errors import ActionRefused, AnswersInvalid, EngineError, NotPermitted, StaleCase
from engine.runtime.assessment import assessment_states
from engine.web import confirming, listing
from engine.web.access import allow, current_actor, reachable
from engine.web.casework import sheets
from engine.web.commission.cases import answered_forms, staff_forms
from engine.web.services import engine, store

bp = Blueprint("assess", __name__, url_prefix="/assess")


@bp.get("/")
@allow("assessor")
def queue() -> str:
    """Applications waiting for assessment (less any this assessor declared a conflict on), paged."""
    eng, actor = engine(), current_actor()
    scope: set[tuple[str, str, str]] = set()
    for pid in reachable(
        store().programme_ids()
    ):  # every version: a case waits in its own version's states
        for version in {v["version"] for v in store().versions(pid)}:
            for wf in eng.programme(pid, version).workflows.values():
                scope |= {(pid, wf.id, state) for state in assessment_states(wf)}
    found = listing.programmes()
    waiting = {(pid, wf) for pid, wf, _state in scope}
    states = [(None, [c for _g, group in listing.state_choices(found, waiting) for c in group
                      if any(c.value == s for _p, _w, s in scope)])]  # fmt: skip
    page = listing.list_page(
        noun="application", scope=sorted(scope), not_conflicted=actor.id, states=states,
        sorts=("oldest", "newest", "reference", "organisation", "changed"),
    )  # fmt: skip
    listing.describe_rows(page.rows)
    mine = store().assessments_by(actor.id)
    for row in page.rows:
        row["scored"] = bool(mine.get(row["id"], {}).get("scores"))
    return render_template("assess/queue.html", listing=page)


def _load(ref: str) -> tuple[Any, Any]:
    """The case, if it is waiting for this assessor (a 404 when declared conflicted or not waiting)."""
    eng, actor = engine(), current_actor()
    view = eng.case(ref, actor)
    if not any(r["id"] == view.id for r in eng.assessment_queue(actor, view.programme_id)):
        abort(404)
    return view, eng.programme(view.programme_id, view.version)


@bp.route("/cases/<ref>", methods=["GET", "POST"])
@allow("assessor")
def case(ref: str) -> Any:
    """The application's answers beside the score sheet; saving records the assessment."""
    view, programme = _load(ref)
    eng, actor = engine(), current_actor()
    criteria = eng.assessment_criteria(view.id, actor)
    own = eng.my_assessment(view.id, actor) or {}
    values: dict[str, Any] = {
        "scores": dict(own.get("scores", {})), "notes": dict(own.get("notes", {})),
        "comment": own.get("comment") or "", "recommendation": own.get("recommendation"),
    }  # fmt: skip
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {
            "scores": {c["id"]: request.form.get(f"score-{c['id']}", "") for c in criteria},
            "notes": {c["id"]: request.form.get(f"note-{c['id']}", "") for c in criteria},
            "comment": request.form.get("comment", ""),
            "recommendation": request.form.get("recommendation") or None,
        }
        try:
            eng.assess(view.id, actor, **values)
            flash(f"Your assessment of {view.reference} is saved.", "message")
            return redirect(url_for("assess.case", ref=view.reference))
        except AnswersInvalid as exc:
            errors = {k: ms[0] for k, ms in exc.errors.items()}
        except ActionRefused as exc:
            flash(exc.message, "error")
    # the assessor's own actions: open ones as buttons, the others with the engine's reasons
    actions = [a for a in eng.actions(view.id, actor) if a.allowed or not a.reasons[0].startswith("this action is not for")]  # fmt: skip
    return render_template(
        "assess/case.html", view=view, programme=programme, criteria=criteria, values=values,
        errors=errors, assessed=bool(own.get("scores")), actions=actions,
        completed=bool(own.get("completed_at")),
        forms=answered_forms(view, programme, actor.role), staff_forms=staff_forms(view, programme, "assessor"),
        organisation=store().organisation_name(view.organisation) if view.organisation else None,
        file_url=lambda value: url_for("assess.file", ref=view.reference, file_id=value.get("id", "-")),
    ), (400 if errors else 200)  # fmt: skip


@bp.post("/cases/<ref>/complete")
@allow("assessor")
def complete(ref: str) -> Any:
    """Mark this assessor's own assessment complete: it counts towards the panel, and is final."""
    view, _programme = _load(ref)
    try:
        engine().complete_my_assessment(view.id, current_actor())
    except (ActionRefused, NotPermitted) as exc:
        flash(getattr(exc, "message", str(exc)), "error")
        return redirect(url_for("assess.case", ref=view.reference) + "#sheet")
    flash(f"You completed your assessment of {view.reference}.", "message")
    return redirect(url_for("assess.case", ref=view.reference))


@bp.post("/cases/<ref>/conflict")
@allow("assessor")
def conflict(ref: str) -> Any:
    """Declare a conflict of interest: the application leaves this assessor's queue for good."""
    view, _programme = _load(ref)
    interest = request.form.get("interest", "").strip()
    if not interest:
        flash("Say what your interest in this organisation or application is", "error")
        return redirect(url_for("assess.case", ref=view.reference) + "#conflict")
    engine().declare_conflict(view.id, current_actor(), interest)
    flash(f"You declared a conflict of interest: {view.reference} has left your queue.", "message")
    return redirect(url_for("assess.queue"))


@bp.post("/cases/<ref>/actions/<trigger>")
@allow("assessor")
def act(ref: str, trigger: str) -> Response | str:
    """Take an assessor's action the workflow allows (complete the assessment, appoint…)."""
    view, programme = _load(ref)
    if (page := confirming.ask_first(view, programme, trigger, "assess.act", "assess.case")) is not None:  # fmt: skip
        return page
    revision = request.form.get("revision", "")
    try:
        done = engine().act(view.id, trigger, current_actor(),
                            expected_revision=int(revision) if revision.isdigit() else None,
                            reason=request.form.get("reason", "").strip() or None)  # fmt: skip
    except (StaleCase, NotPermitted) as exc:
        flash(str(exc), "error")
    except ActionRefused as exc:
        for line in [exc.message, *exc.reasons]:
            flash(line, "error")
    except EngineError as exc:
        flash(str(exc), "error")
    else:
        confirming.flash_done(programme, done, trigger)
        return redirect(url_for("assess.queue"))
    return redirect(url_for("assess.case", ref=view.reference))


# -- files of a case, and the forms the panel fills in on it (a panel's decision record…) --------
FLOW = sheets.Flow("assess", "assessor", "assess.case", "assess.file")


sheets.add_case_routes(bp, FLOW, _load)
