"""Saving a page of answers: uploads first, the engine's checks, nothing typed lost on an error."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from flask import request, url_for
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from engine.errors import ActionRefused, AnswersInvalid, EngineError
from engine.forms.classes import (
    AnswersForm,
    FileAnswer,
    GroupAnswer,
    build_form,
    check_page,
    form_data,
)
from engine.model import Form, Programme, Question
from engine.runtime import Actor, CaseView
from engine.web.access import current_actor
from engine.web.kept import kept_formdata
from engine.web.services import engine, now
from engine.web.uploads import accept_upload
from engine.web.widgets import WIDGETS

_CLASSES: dict[tuple[str, str, tuple[str, ...]], type[AnswersForm]] = {}


class _PageForm(FlaskForm):
    """The base of every generated page of questions."""

    class Meta:
        # No CSRF field of its own: CSRFProtect checks every POST's token before any view runs
        # (a failure keeps the answers, see `kept`), and each page writes the token itself.
        csrf = False


def form_class(programme: Programme, form: Form, questions: list[Question]) -> type[AnswersForm]:
    """The generated class for these questions (cached per programme version)."""
    key = (programme.version, form.id, tuple(q.id for q in questions))
    if key not in _CLASSES:
        if len(_CLASSES) > 1000:  # a bound on memory, never reached by real programmes
            _CLASSES.clear()
        _CLASSES[key] = build_form(questions, base=_PageForm, widgets=WIDGETS)
    return _CLASSES[key]


def file_url(view: CaseView) -> Any:
    """Makes the download link of an uploaded answer on this case."""
    return lambda value: url_for("apply.file", ref=view.reference, file_id=value.get("id", "-"))


def blank_form(programme: Programme, form: Form, questions: list[Question], saved: dict[str, Any],
               add: str | None = None) -> AnswersForm:  # fmt: skip
    """A page as saved so far (with one more empty item in group `add`, if asked)."""
    cls = form_class(programme, form, questions)
    kept = kept_formdata()
    fo = cls.new(kept, form_data(questions, saved))
    fo.kept = kept is not None  # shown with a banner: typed before a sign-in, not saved yet
    fo.page_errors = []
    if add and add in cls.field_names:
        field = fo[cls.field_names[add]]
        if isinstance(field, GroupAnswer):
            field.append_entry()
    return fo


def bind_page(view: CaseView, programme: Programme, form: Form, questions: list[Question],
              saved: dict[str, Any], *, complete: bool, remove: str | None = None) -> tuple[AnswersForm, dict[str, Any]]:  # fmt: skip
    """Bind a posted page: store good uploads, drop a removed group item, check like the engine.

    Returns the bound form (with any errors) and the uploads it stored, for every page that
    answers questions, whoever fills it in.
    """
    actor = current_actor()
    fo = form_class(programme, form, questions).new(
        CombinedMultiDict((request.files, request.form))
    )
    fo.page_errors = []
    fo.show_saved(saved)
    fo.validate()
    uploaded: dict[str, Any] = {}
    for q, field in fo.answer_fields():
        if isinstance(field, FileAnswer) and isinstance(field.data, FileStorage) and field.data.filename:  # fmt: skip
            value, problems = accept_upload(q, field.data, view, form.id, actor)
            if problems:
                field.errors = [*field.errors, *problems]
            else:
                field.current = value
                uploaded[q.id] = value
    if remove and ":" in remove:
        qid, _, index = remove.partition(":")
        field = fo[fo.field_names[qid]] if qid in fo.field_names else None
        if isinstance(field, GroupAnswer) and index.isdigit() and int(index) < len(field.entries):
            field.entries.pop(int(index))
    check_page(fo, form, saved, complete=complete, context={"now": now()})
    return fo, uploaded


def show_refusal(fo: AnswersForm, exc: AnswersInvalid | ActionRefused) -> None:
    """The engine's refusal of a save on the page: each answer's message by its question, the
    rest (and a refused action's reasons) at the top of the page."""
    if isinstance(exc, AnswersInvalid):
        fo.add_errors(exc.errors)
        mine = set(fo.field_names)
        fo.page_errors.extend(m for q, ms in exc.errors.items() if q not in mine for m in ms)
    else:
        fo.page_errors.extend([exc.message, *exc.reasons])


class Posted:
    """A page of answers POSTed: the case and the page as the save read them, the bound form
    (with any messages), and the case as saved (None when nothing was, for the page's errors)."""

    view: CaseView
    programme: Programme
    form: Form
    questions: list[Question]
    fo: AnswersForm
    saved: CaseView | None = None
    uploaded: dict[str, Any]


# the page's form and the questions it asks now, from the case as read (or a 404 or redirect raised)
PageOf = Callable[[CaseView, Programme], tuple[Form, list[Question]]]


def save_post(ref: str, page_of: PageOf, *, complete: bool, remove: str | None = None) -> Posted:
    """Bind the POST to the page `page_of` finds on the case, store uploads, check like the
    engine, save: the case read once, in the save's own transaction."""
    actor = current_actor()
    posted = Posted()

    def answers_of(view: CaseView) -> tuple[str, dict[str, Any]] | None:
        programme = engine().programme(view.programme_id, view.version)
        form, questions = page_of(view, programme)
        saved = view.answers.get(form.id, {})
        fo, uploaded = bind_page(
            view, programme, form, questions, saved, complete=complete, remove=remove
        )
        posted.view, posted.programme, posted.form = view, programme, form
        posted.questions, posted.fo, posted.uploaded = questions, fo, uploaded
        if fo.has_errors():  # a good upload is kept even while another answer needs correcting
            return (form.id, uploaded) if uploaded else None
        return form.id, fo.answers()

    try:
        posted.saved = engine().save_answers_as_read(ref, actor, answers_of)
    except (AnswersInvalid, ActionRefused) as exc:
        show_refusal(posted.fo, exc)
        _keep_uploads_again(posted, actor)
    if posted.fo.has_errors():
        posted.saved = None
    return posted


def _keep_uploads_again(posted: Posted, actor: Actor) -> None:
    """Store this POST's good uploads again, in a transaction of their own: the save refused
    took them back with it, and a good upload is kept even while another answer is refused."""
    if not posted.uploaded:
        return
    again: dict[str, Any] = {}
    for q, field in posted.fo.answer_fields():
        if q.id in posted.uploaded and isinstance(field.data, FileStorage):
            field.data.stream.seek(0)
            value, problems = accept_upload(q, field.data, posted.view, posted.form.id, actor)
            field.current = value if not problems else None
            if value is not None and not problems:
                again[q.id] = value
    if again:
        with contextlib.suppress(EngineError):
            engine().save_answers(posted.view.id, posted.form.id, again, actor)
