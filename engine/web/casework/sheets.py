"""Filling in one form of a case page by page, for caseworkers and for applicants' returns.

A form filled once per case (a referral) is saved as the case's draft answers; a repeatable form
(a contact, a quarterly return) is filled as the *next record*, whose answers wait in a draft
until "Check your answers" records them whole. Both are checked by the engine, page by page.
The views here are registered by each blueprint under its own endpoints (`Flow`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engine.errors import ActionRefused, AnswersInvalid, EngineError
from engine.forms.answers import check_form
from engine.forms.classes import AnswersForm, visible_questions
from engine.forms.visibility import hidden_questions
from engine.model import Form, Programme, Question
from engine.runtime import Actor, CaseView
from engine.web import describe
from engine.web.access import allow, current_actor
from engine.web.apply.answering import bind_page, blank_form, show_refusal
from engine.web.changing import changing, unanswered_page
from engine.web.kept import forget_kept, keeps_answers
from engine.web.offers import explained
from engine.web.services import engine, now
from engine.web.uploads import send_upload


@dataclass(frozen=True)
class Flow:
    """Where one audience's sheet pages live: endpoint names, and which role fills in."""

    name: str  # the blueprint's endpoint prefix, e.g. "casework"
    role: str
    case_endpoint: str  # the case page (back links)
    file_endpoint: str  # an uploaded file of the case

    def url(self, view: str, **values: Any) -> str:
        """The URL of one of this flow's sheet views."""
        return url_for(f"{self.name}.sheet_{view}", **values)


@dataclass
class Sheet:
    """One form of one case as it is being filled in."""

    view: CaseView
    programme: Programme
    form: Form
    entry: dict[str, Any]
    repeatable: bool
    saved: dict[str, Any]
    editable: bool


def fillers(entry: dict[str, Any], view: CaseView) -> list[str]:
    """Who fills in a form entry (the engine's defaults when the programme does not say)."""
    by = entry.get("by")
    if by is not None:
        return list(by)
    return ["caseworker", "commissioner"] if _person(view) else ["applicant", "commissioner"]


def _person(view: CaseView) -> bool:
    row = engine().store.case(view.id)
    return bool(row and row["subject"] is not None)


def editable(entry: dict[str, Any], programme: Programme, view: CaseView, role: str) -> bool:
    """Whether this role may fill in the form now (the engine has the last word)."""
    wf = programme.workflows[view.workflow]
    if role not in fillers(entry, view):
        return False
    if entry.get("applies_to") and view.role not in entry["applies_to"]:
        return False
    states = entry.get("states")
    final = {s.id for s in wf.states if s.final}
    return view.state in states if states else view.state not in final


def entries(programme: Programme, view: CaseView, role: str) -> list[dict[str, Any]]:
    """The form entries of the case's workflow this role fills in."""
    return [
        e
        for e in programme.data["forms"]
        if e["workflow"] == view.workflow
        and role in fillers(e, view)
        and not (e.get("applies_to") and view.role not in e["applies_to"])
    ]


def open_sheet(view: CaseView, programme: Programme, form_id: str, actor: Actor) -> Sheet:
    """The sheet for one form of the case, or a 404 if this role does not fill it in."""
    entry = next((e for e in entries(programme, view, actor.role) if e["form"] == form_id), None)
    if entry is None:
        abort(404)
    repeatable = bool(entry.get("repeatable"))
    can = editable(entry, programme, view, actor.role)
    saved = (engine().record_draft(view.id, form_id, actor) if repeatable else view.answers.get(form_id, {}))  # fmt: skip
    return Sheet(view, programme, programme.forms[form_id], entry, repeatable, saved, can)


def pages(form: Form, saved: dict[str, Any]) -> list[tuple[str, str, list[Question]]]:
    """The pages asked given the answers so far, each with the questions it shows."""
    out = []
    for pid, title, _qs in form.pages:
        shown = visible_questions(form, pid, saved)
        if shown:
            out.append((pid, title, shown))
    return out


def problems_of(form: Form, saved: dict[str, Any]) -> dict[str, list[str]]:
    """What is still missing or wrong for the form to be complete."""
    return check_form(form, saved, complete=True, context={"now": now()})[1]


def _save(sheet: Sheet, answers: dict[str, Any]) -> None:
    if sheet.repeatable:
        engine().save_record_draft(sheet.view.id, sheet.form.id, answers, current_actor())
    else:
        engine().save_answers(sheet.view.id, sheet.form.id, answers, current_actor())


def save_page(sheet: Sheet, questions: list[Question], *, complete: bool,
              remove: str | None = None) -> tuple[AnswersForm, bool]:  # fmt: skip
    """Bind the POST, store uploads, check like the engine, save; (form, whether it saved)."""
    fo, uploaded = bind_page(sheet.view, sheet.programme, sheet.form, questions, sheet.saved,
                             complete=complete, remove=remove)  # fmt: skip
    if fo.has_errors():
        if uploaded:  # a good upload is kept even while another answer needs correcting
            with contextlib.suppress(EngineError):
                _save(sheet, uploaded)
        return fo, False
    try:
        _save(sheet, fo.answers())
    except (AnswersInvalid, ActionRefused) as exc:
        show_refusal(fo, exc)
        return fo, False
    return fo, True


# -- the views, registered by each blueprint ------------------------------------------------------
def file_url(flow: Flow, view: CaseView) -> Any:
    """Makes the download link of an uploaded answer on this case."""
    return lambda value: url_for(flow.file_endpoint, ref=view.reference, file_id=value.get("id", "-"))  # fmt: skip


def one_page(form: Form) -> bool:
    """Whether the form has a single page: then it needs no task list, only the page and a check."""
    return len(form.pages) == 1


def task_list(flow: Flow, view: CaseView, programme: Programme, form_id: str) -> str | Response:
    """The form's pages and whether each is done (a one-page form goes straight to its page)."""
    sheet = open_sheet(view, programme, form_id, current_actor())
    if one_page(sheet.form):
        if not sheet.editable:
            return redirect(flow.url("check", ref=view.reference, form_id=form_id))
        return redirect(flow.url("page", ref=view.reference, form_id=form_id, page_id=sheet.form.pages[0][0]))  # fmt: skip
    errors = problems_of(sheet.form, sheet.saved)
    tasks = [
        {"id": pid, "title": title, "status": describe.page_status(shown, sheet.saved, errors)}
        for pid, title, shown in pages(sheet.form, sheet.saved)
    ]
    return render_template(
        "casework/sheet_task_list.html", flow=flow, sheet=sheet, view=view, programme=programme,
        form=sheet.form, tasks=tasks, done=sum(t["status"] == "Completed" for t in tasks),
        complete=not errors,
    )  # fmt: skip


def page(flow: Flow, view: CaseView, programme: Programme, form_id: str, page_id: str) -> Any:
    """One page of questions: save and continue, or save and come back later."""
    sheet = open_sheet(view, programme, form_id, current_actor())
    form = sheet.form
    ref = view.reference
    if not any(pid == page_id for pid, _t, _q in form.pages):
        abort(404)
    if not sheet.editable:
        return redirect(flow.url("check", ref=ref, form_id=form_id))
    here = next((p for p in pages(form, sheet.saved) if p[0] == page_id), None)
    if here is None:  # not asked given the answers so far
        return redirect(flow.url("task_list", ref=ref, form_id=form_id))
    questions = here[2]  # computed ones too: the page's fields leave them out, nothing is typed
    if request.method == "GET":
        fo = blank_form(programme, form, questions, sheet.saved, add=request.args.get("add"))
    else:
        action = request.form.get("_action", "continue")
        add, remove = request.form.get("_add"), request.form.get("_remove")
        fo, ok = save_page(sheet, questions, remove=remove,
                           complete=action == "continue" and not (add or remove))  # fmt: skip
        if ok:
            forget_kept()
            return _after_save(flow, sheet, page_id, questions, action, add, remove)
    spec = next(p for p in form.spec["pages"] if p["id"] == page_id)
    return render_template("casework/sheet_page.html", flow=flow, sheet=sheet, view=view, programme=programme,
                           form=form, title=here[1], spec=spec, fo=fo, file_url=file_url(flow, view))  # fmt: skip


def _after_save(flow: Flow, sheet: Sheet, page_id: str, shown: list[Question], action: str,
                add: str | None, remove: str | None) -> Any:  # fmt: skip
    ref, form = sheet.view.reference, sheet.form
    here = flow.url("page", ref=ref, form_id=form.id, page_id=page_id)
    if add:
        return redirect(f"{here}?add={add}#{add}")
    if remove:
        return redirect(f"{here}#{remove.partition(':')[0]}")
    view = engine().case(sheet.view.id, current_actor())
    fresh = open_sheet(view, sheet.programme, form.id, current_actor())
    now_pages = pages(form, fresh.saved)
    now_shown = next((qs for pid, _t, qs in now_pages if pid == page_id), [])
    revealed = [q for q in now_shown if q.id not in {s.id for s in shown}]
    if revealed:  # an answer made another question on this page relevant: ask it
        return redirect(f"{here}{'?change=1' if changing() else ''}#{revealed[0].id}")
    if action == "save" and one_page(form):  # no task list to come back to: the case page says
        flash("Your answers have been saved. You can come back to them at any time.", "message")
        return redirect(url_for(flow.case_endpoint, ref=ref))
    if action == "save":
        return redirect(flow.url("task_list", ref=ref, form_id=form.id, saved=1))
    ids = [pid for pid, _t, _q in now_pages]
    later = ids[ids.index(page_id) + 1 :] if page_id in ids else []
    if changing() and action != "save":  # back to "Check your answers", by way of what it asks
        shown_on = {pid: qs for pid, _t, qs in now_pages}
        asked = unanswered_page(later, lambda pid: shown_on[pid], fresh.saved)
        if asked:
            return redirect(flow.url("page", ref=ref, form_id=form.id, page_id=asked, change=1))
        return redirect(flow.url("check", ref=ref, form_id=form.id))
    if later:
        return redirect(flow.url("page", ref=ref, form_id=form.id, page_id=later[0]))
    return redirect(flow.url("check", ref=ref, form_id=form.id))


def check(flow: Flow, view: CaseView, programme: Programme, form_id: str,
          recorded: Any) -> Any:  # fmt: skip
    """Check your answers; for a record, record it (then `recorded(view, number)` says where to go)."""
    actor = current_actor()
    sheet = open_sheet(view, programme, form_id, actor)
    problems: list[str] = []
    if request.method == "POST":
        if not (sheet.repeatable and sheet.editable):
            abort(400)
        before = len(view.records.get(form_id, []))
        try:
            after = engine().submit_record_draft(view.id, form_id, actor)
        except AnswersInvalid as exc:
            labels = {k: q.label for k, q in sheet.form.questions().items()}
            problems = [f"{labels.get(q, q)}: {m}" for q, ms in exc.errors.items() for m in ms]
        except ActionRefused as exc:
            problems = [exc.message, *exc.reasons]
        except EngineError as exc:
            problems = [str(exc)]
        else:
            return recorded(after, before + 1)
    errors = problems_of(sheet.form, sheet.saved)
    actions = []
    if not sheet.repeatable and flow.role == "caseworker":  # the actions this form is for, here
        wf = programme.workflows[view.workflow]
        needing = {t.trigger for t in wf.transitions if form_id in t.spec.get("forms", [])}
        actions = explained(
            wf, [a for a in engine().actions(view.id, actor) if a.trigger in needing]
        )
    return render_template(
        "casework/sheet_check.html", flow=flow, sheet=sheet, view=view, programme=programme,
        form=sheet.form, pages=pages(sheet.form, sheet.saved), saved=sheet.saved, errors=errors,
        problems=problems, actions=actions, file_url=file_url(flow, view),
    )  # fmt: skip


def records(view: CaseView, form_id: str) -> list[dict[str, Any]]:
    """The case's records of a repeatable form: number, when recorded, answers (oldest first)."""
    return [
        {"number": a["record"], "at": a["submitted_at"] or a["updated_at"], "data": a["data"]}
        for a in engine().store.answers(view.id)
        if a["form"] == form_id and a["record"] > 0
    ]


def add_case_routes(
    bp: Blueprint, flow: Flow, load: Callable[[str], tuple[CaseView, Programme]]
) -> None:
    """A staff audience's routes for a case's uploaded files and the forms it fills in on the case.

    Commissioners, assessors and caseworkers each get the same four views on their own blueprint,
    each allowed to `flow.role` only and loading the case with the audience's own `load` (which
    decides who may see it).
    """

    @allow(flow.role)
    def file(ref: str, file_id: str) -> Response:
        """An uploaded file of this case, as a download."""
        view, programme = load(ref)

        def visible(form_id: str, question_id: str) -> bool:
            form = programme.forms.get(form_id)
            return form is not None and question_id not in hidden_questions(
                programme, form, flow.role
            )

        response = send_upload(view, file_id, visible)
        if response is None:
            abort(404)
        return response

    @allow(flow.role)
    def sheet_task_list(ref: str, form_id: str) -> str | Response:
        """A form's pages (for a record: the record being made) and whether each is done."""
        view, programme = load(ref)
        return task_list(flow, view, programme, form_id)

    @allow(flow.role)
    @keeps_answers
    def sheet_page(ref: str, form_id: str, page_id: str) -> Any:
        """One page of a form's questions."""
        view, programme = load(ref)
        return page(flow, view, programme, form_id, page_id)

    @allow(flow.role)
    def sheet_check(ref: str, form_id: str) -> Any:
        """Check the answers; record a repeatable form's record, or take the action the form is for."""
        view, programme = load(ref)

        def recorded(after: CaseView, number: int) -> Response:
            flash(f"{programme.forms[form_id].title} {number} recorded", "message")
            return redirect(url_for(flow.case_endpoint, ref=after.reference))

        return check(flow, view, programme, form_id, recorded)

    bp.add_url_rule("/cases/<ref>/files/<file_id>", "file", file, methods=["GET"])
    bp.add_url_rule(
        "/cases/<ref>/forms/<form_id>", "sheet_task_list", sheet_task_list, methods=["GET"]
    )
    bp.add_url_rule(
        "/cases/<ref>/forms/<form_id>/pages/<page_id>",
        "sheet_page",
        sheet_page,
        methods=["GET", "POST"],
    )
    bp.add_url_rule(
        "/cases/<ref>/forms/<form_id>/check", "sheet_check", sheet_check, methods=["GET", "POST"]
    )
