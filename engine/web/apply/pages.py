"""A form as a task list of pages, each page's questions, "Check your answers", and submitting."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for

from engine.errors import ActionRefused, EngineError
from engine.forms.answers import check_form
from engine.forms.classes import visible_questions
from engine.model import Form, Programme, Question
from engine.runtime import CaseView
from engine.web import describe
from engine.web.access import allow, current_actor
from engine.web.apply import bp
from engine.web.apply.answering import blank_form, file_url, save_post
from engine.web.apply.cases import eligibility_form, load
from engine.web.apply.submitted import queue_submitted_email
from engine.web.changing import changing, unanswered_page
from engine.web.kept import forget_kept, keeps_answers
from engine.web.services import engine, now


def _entry(view: CaseView, programme: Programme, form_id: str) -> dict[str, Any]:
    for entry in describe.form_entries(programme, view):
        if entry["form"].id == form_id:
            return entry
    abort(404)


def _pages(form: Form, saved: dict[str, Any]) -> list[tuple[str, str, list[Question]]]:
    """The pages asked given the answers so far, each with the questions it shows."""
    out = []
    for pid, title, _qs in form.pages:
        shown = visible_questions(form, pid, saved)
        if shown:
            out.append((pid, title, shown))
    return out


def _errors(form: Form, saved: dict[str, Any]) -> dict[str, list[str]]:
    return check_form(form, saved, complete=True, context={"now": now()})[1]


@bp.get("/cases/<ref>/forms/<form_id>")
@allow("applicant")
def task_list(ref: str, form_id: str) -> str:
    """The form's pages and whether each is done."""
    view, programme = load(ref)
    entry = _entry(view, programme, form_id)
    form: Form = entry["form"]
    saved = view.answers.get(form_id, {})
    errors = _errors(form, saved)
    tasks = [
        {"id": pid, "title": title, "status": describe.page_status(shown, saved, errors)}
        for pid, title, shown in _pages(form, saved)
    ]
    eligibility_spec, _qs = eligibility_form(view, programme)
    wf = programme.workflows[view.workflow]
    return render_template(
        "apply/task_list.html", view=view, programme=programme, entry=entry, form=form, tasks=tasks,
        done=sum(t["status"] == "Completed" for t in tasks), complete=not errors,
        eligibility=eligibility_spec is not None and eligibility_spec.id == form.id,
        deadline=describe.deadline(programme, wf),
    )  # fmt: skip


@bp.route("/cases/<ref>/forms/<form_id>/pages/<page_id>", methods=["GET", "POST"])
@allow("applicant")
@keeps_answers
def page(ref: str, form_id: str, page_id: str) -> Any:
    """One page of questions: save and continue, or save and come back later."""
    if request.method == "POST":
        return _post(ref, form_id, page_id)
    view, programme = load(ref)
    form, questions = _asked(view, programme, form_id, page_id)
    saved = view.answers.get(form_id, {})
    fo = blank_form(programme, form, questions, saved, add=request.args.get("add"))
    return _shown(view, programme, form, page_id, fo)


def _asked(view: CaseView, programme: Programme, form_id: str, page_id: str) -> tuple[Form, list[Question]]:  # fmt: skip
    """The page's form and the questions it asks given the answers so far; a 404, or (raised)
    the way on when the form is closed or the page asks nothing now."""
    entry = _entry(view, programme, form_id)
    form: Form = entry["form"]
    if not any(pid == page_id for pid, _t, _q in form.pages):
        abort(404)
    if not entry["editable"]:
        abort(redirect(url_for("apply.check", ref=view.reference, form_id=form_id)))
    questions = visible_questions(form, page_id, view.answers.get(form_id, {}))
    if not questions:  # not asked given the answers so far
        abort(redirect(url_for("apply.task_list", ref=view.reference, form_id=form_id)))
    return form, questions


def _post(ref: str, form_id: str, page_id: str) -> Any:
    """A page POSTed: read the case, bind the page to it and save, in one transaction."""
    action = request.form.get("_action", "continue")
    add, remove = request.form.get("_add"), request.form.get("_remove")
    posted = save_post(ref, lambda view, programme: _asked(view, programme, form_id, page_id),
                       complete=action == "continue" and not (add or remove), remove=remove)  # fmt: skip
    if posted.saved is not None:
        forget_kept()
        return _after_save(
            posted.saved, posted.form, page_id, posted.questions, action, add, remove
        )
    return _shown(posted.view, posted.programme, posted.form, page_id, posted.fo)


def _shown(view: CaseView, programme: Programme, form: Form, page_id: str, fo: Any) -> str:
    """The page with its questions, as saved so far or as just typed with their messages."""
    title = next(t for pid, t, _q in form.pages if pid == page_id)
    return render_template("apply/page.html", view=view, programme=programme, form=form, page_id=page_id,
                           title=title, spec=_page_spec(form, page_id), fo=fo, file_url=file_url(view))  # fmt: skip


def _page_spec(form: Form, page_id: str) -> dict[str, Any]:
    return next(p for p in form.spec["pages"] if p["id"] == page_id)


def _after_save(view: CaseView, form: Form, page_id: str, shown: list[Question], action: str,
                add: str | None, remove: str | None) -> Any:  # fmt: skip
    """Where a saved page leads: a question it revealed, the task list, or the next page."""
    ref = view.reference

    def here() -> str:  # this page's address, made only when the answer leads back to it
        return url_for("apply.page", ref=ref, form_id=form.id, page_id=page_id)

    if add:
        return redirect(f"{here()}?add={add}#{add}")
    if remove:
        return redirect(f"{here()}#{remove.partition(':')[0]}")
    saved = view.answers.get(form.id, {})  # as the engine saved them, from the save itself
    before = {q.id for q in shown}
    revealed = [q for q in visible_questions(form, page_id, saved) if q.id not in before]
    if revealed:  # an answer made another question on this page relevant: ask it
        return redirect(f"{here()}{'?change=1' if changing() else ''}#{revealed[0].id}")
    if action == "save":
        return redirect(url_for("apply.task_list", ref=ref, form_id=form.id, saved=1))
    ids = [pid for pid, _t, _q in form.pages]
    if changing():  # back to "Check your answers", by way of anything the change now asks
        later = ids[ids.index(page_id) + 1 :]
        asked = unanswered_page(later, lambda pid: visible_questions(form, pid, saved), saved)
        if asked:
            return redirect(
                url_for("apply.page", ref=ref, form_id=form.id, page_id=asked, change=1)
            )
        return redirect(url_for("apply.check", ref=ref, form_id=form.id))
    # the next page asked given the answers: pages are looked at only until one is found
    for later in ids[ids.index(page_id) + 1 :]:
        if visible_questions(form, later, saved):
            return redirect(url_for("apply.page", ref=ref, form_id=form.id, page_id=later))
    return redirect(url_for("apply.check", ref=ref, form_id=form.id))


@bp.route("/cases/<ref>/forms/<form_id>/check", methods=["GET", "POST"])
@allow("applicant")
def check(ref: str, form_id: str) -> Any:
    """Check your answers, then submit (the workflow's applicant action that needs this form)."""
    view, programme = load(ref)
    entry = _entry(view, programme, form_id)
    form: Form = entry["form"]
    transition = entry["transition"]
    problems: list[str] = []
    if request.method == "POST":
        if transition is None:
            if view.submitted.get(form_id):  # sent twice (a double click, a retry): it went once
                return redirect(url_for("apply.confirmation", ref=ref, form_id=form_id))
            abort(400)
        eng = engine()
        try:
            # the email is queued in the submission's own transaction: both happen, or neither; a
            # retried POST finds the case no longer in the state it was submitted from and is refused
            with eng.store.transaction():
                after = eng.act(
                    view.id, transition.trigger, current_actor(), expected_state=view.state
                )
                queue_submitted_email(after, programme, form)
        except ActionRefused as exc:
            problems = [exc.message, *exc.reasons]
        except EngineError as exc:
            problems = [str(exc)]
        else:
            return redirect(url_for("apply.confirmation", ref=ref, form_id=form_id))
    saved = view.answers.get(form_id, {})
    errors = _errors(form, saved)
    option = None
    if transition is not None and entry["editable"]:
        option = next((a for a in engine().actions(view.id, current_actor()) if a.trigger == transition.trigger), None)  # fmt: skip
    return render_template(
        "apply/check.html", view=view, programme=programme, entry=entry, form=form,
        pages=_pages(form, saved), saved=saved, errors=errors, option=option, problems=problems,
        file_url=file_url(view),
    )  # fmt: skip


@bp.get("/cases/<ref>/forms/<form_id>/confirmation")
@allow("applicant")
def confirmation(ref: str, form_id: str) -> Any:
    """The confirmation panel with the case reference."""
    view, programme = load(ref)
    if not view.submitted.get(form_id):
        return redirect(url_for("apply.case", ref=ref))
    form = programme.forms.get(form_id)
    if form is None:
        abort(404)
    return render_template("apply/confirmation.html", view=view, programme=programme, form=form)
