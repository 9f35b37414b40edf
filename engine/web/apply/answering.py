"""Saving a page of answers: uploads first, the engine's checks, nothing typed lost on an error."""

from __future__ import annotations

import contextlib
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
from engine.runtime import CaseView
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


def save_post(view: CaseView, programme: Programme, form: Form, questions: list[Question], *,
              complete: bool, remove: str | None = None) -> tuple[AnswersForm, CaseView | None]:  # fmt: skip
    """Bind the POST, store uploads, check like the engine, save; (form, the case as saved or None)."""
    actor = current_actor()
    saved = view.answers.get(form.id, {})
    fo, uploaded = bind_page(
        view, programme, form, questions, saved, complete=complete, remove=remove
    )
    if fo.has_errors():
        if uploaded:  # a good upload is kept even while another answer needs correcting
            with contextlib.suppress(EngineError):
                engine().save_answers(view.id, form.id, uploaded, actor)
        return fo, None
    try:
        saved_view = engine().save_answers(view.id, form.id, fo.answers(), actor)
    except AnswersInvalid as exc:
        fo.add_errors(exc.errors)
        mine = set(fo.field_names)
        fo.page_errors.extend(m for q, ms in exc.errors.items() if q not in mine for m in ms)
        return fo, None
    except ActionRefused as exc:
        fo.page_errors.extend([exc.message, *exc.reasons])
        return fo, None
    return fo, saved_view
