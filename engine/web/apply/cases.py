"""One application: where it stands, eligibility first, actions, and its uploaded files."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.errors import ActionRefused, EngineError
from engine.forms.classes import visible_questions
from engine.model import Form, Programme, Question
from engine.rules import names_of
from engine.runtime import CaseView
from engine.web import confirming, describe
from engine.web.access import allow, current_actor
from engine.web.apply import bp
from engine.web.apply.answering import blank_form, file_url, save_post
from engine.web.apply.outcome import decision, shared_answers, shared_reasons, state_description
from engine.web.services import engine
from engine.web.uploads import send_upload


def load(ref: str) -> tuple[CaseView, Programme]:
    """The case if this person may see it (the engine answers NotFound, a 404, if not)."""
    view = engine().case(ref, current_actor())
    return view, engine().programme(view.programme_id, view.version)


@bp.get("/cases/<ref>")
@allow("applicant")
def case(ref: str) -> str:
    """Where the application stands, what to fill in, and what can be done next."""
    view, programme = load(ref)
    eng = engine()
    actor = current_actor()
    wf = programme.workflows[view.workflow]
    with_forms = {t.trigger for t in wf.transitions if t.spec.get("forms")}
    actions = [a for a in eng.actions(view.id, actor) if a.allowed and a.trigger not in with_forms]
    criteria = eng.eligibility(view.id, actor)
    history = eng.history(view.id, actor)
    return render_template(
        "apply/case.html",
        view=view,
        programme=programme,
        workflow=wf,
        forms=describe.form_entries(programme, view),
        # the questions a move to a newer version added that are not answered yet
        needs=eng.needs_answers(view.id, actor),
        actions=actions,
        criteria=criteria,
        funding=eng.funding_of(view.id, actor),
        history=history,
        reasons=shared_reasons(programme, view.workflow, history),
        decision=decision(view, programme),
        shared=shared_answers(view, programme),
        now_means=state_description(programme, view.workflow, view.state),
        related=eng.related(view.id, actor),
    )


@bp.post("/cases/<ref>/actions/<trigger>")
@allow("applicant")
def act(ref: str, trigger: str) -> Response | str:
    """Take an action that needs no form (withdraw, start the next stage…)."""
    view, programme = load(ref)
    if (
        page := confirming.ask_first(view, programme, trigger, "apply.act", "apply.case")
    ) is not None:
        return page
    try:
        done = engine().act(view.id, trigger, current_actor(), expected_state=request.form.get("state"),
                            reason=request.form.get("reason") or None)  # fmt: skip
    except ActionRefused as exc:
        for line in [exc.message, *exc.reasons]:
            flash(line, "error")
    except EngineError as exc:
        flash(str(exc), "error")
    else:
        confirming.flash_done(programme, done, trigger)
    return redirect(url_for("apply.case", ref=view.reference))


def eligibility_form(view: CaseView, programme: Programme) -> tuple[Form | None, list[Question]]:
    """The form (open for changes) that asks the eligibility questions, and those it shows now."""
    wanted = describe.eligibility_question_ids(programme, view.workflow)
    for entry in describe.form_entries(programme, view):
        form: Form = entry["form"]
        if not entry["editable"] or not wanted & set(form.questions()):
            continue
        top = {q.id: q for _pid, _t, qs in form.pages for q in qs}
        ids = {i for i in wanted if i in top}
        for i in list(ids):  # and what decides whether those are asked
            if top[i].spec.get("show_if"):
                ids |= names_of(top[i].spec["show_if"]) & set(top)
        saved = view.answers.get(form.id, {})
        shown = [q for pid, _t, _qs in form.pages for q in visible_questions(form, pid, saved) if q.id in ids]  # fmt: skip
        return form, shown
    return None, []


def _eligibility_page(view: CaseView, programme: Programme) -> tuple[Form, list[Question]]:
    """The eligibility questions to answer now, or a 400 when none are open for changes."""
    form, questions = eligibility_form(view, programme)
    if form is None:
        abort(400)
    return form, questions


@bp.route("/cases/<ref>/eligibility", methods=["GET", "POST"])
@allow("applicant")
def eligibility(ref: str) -> Any:
    """Answer the eligibility questions first, and see each criterion met or not, and why."""
    if request.method == "POST":
        posted = save_post(ref, _eligibility_page, complete=False)
        if posted.saved is not None:
            return redirect(url_for("apply.eligibility", ref=posted.view.reference) + "#results")
        view, programme, form, fo = posted.view, posted.programme, posted.form, posted.fo
    else:
        view, programme = load(ref)
        form, questions = eligibility_form(view, programme)
        fo = (
            None
            if form is None
            else blank_form(programme, form, questions, view.answers.get(form.id, {}))
        )
    criteria = engine().eligibility(view.id, current_actor())
    return render_template("apply/eligibility.html", view=view, programme=programme, form=fo,
                           spec=form, criteria=criteria, file_url=file_url(view))  # fmt: skip


@bp.get("/cases/<ref>/files/<file_id>")
@allow("applicant")
def file(ref: str, file_id: str) -> Response:
    """An uploaded file of this case, as a download."""
    view, _programme = load(ref)
    response = send_upload(view, file_id)
    if response is None:
        abort(404)
    return response
