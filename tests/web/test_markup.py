"""The generated fields' HTML, written in Python, is GOV.UK Frontend's own markup.

Every page of every shipped form is drawn twice — by `engine.web.markup` and by the
govuk-frontend-wtf widgets over GOV.UK Frontend's Jinja macros — blank, filled in and with an
error on every question, and the two must be the same HTML (whitespace aside).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovDateInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)

from engine.definition.loader import load_programme
from engine.forms.classes import GroupAnswer, build_form, form_data
from engine.model import Question
from engine.web.widgets import WIDGETS

from ..conftest import ROOT

FIELDS = "{{ answer_errors(fo) }}{{ answer_fields(fo, file_url) }}"


class _MacroTextArea(GovTextArea):
    counted = GovCharacterCount()

    def __call__(self, field: Any, **kwargs: Any) -> Any:
        spec = field.question.spec
        if spec.get("word_limit") or spec.get("max_length"):
            return self.counted(field, **kwargs)
        return super().__call__(field, **kwargs)


MACROS = {
    "input": GovTextInput(), "textarea": _MacroTextArea(), "radios": GovRadioInput(),
    "checkboxes": GovCheckboxesInput(), "select": GovSelect(), "date": GovDateInput(), "file": GovFileInput(),
}  # fmt: skip


def _sample(q: Question) -> Any:
    """A plausible answer of the question's type, with characters that need escaping."""
    kind = q.type
    if kind == "group":
        return [{s.id: _sample(s) for s in q.questions} for _ in range(2)]
    if kind == "yesno":
        return "yes"
    if kind in ("radios", "select"):
        return q.spec["options"][-1]["value"]
    if kind == "checkboxes":
        return [o["value"] for o in q.spec["options"][:2]]
    if kind == "scale":
        return int(q.spec.get("max", 5))
    if kind in ("number", "money", "percent", "decimal"):
        return 12
    if kind == "date":
        return "2022-03-04"
    if kind == "file":
        return {"id": "f1", "name": 'a<b>"c.pdf', "size": 3000}
    return f'Text <i>{q.id}</i> & "more"'


def _normal(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\s*(<|>)\s*", r"\1", html)).strip()


def _draw(app: Flask, widgets: dict[str, Any], questions: list[Question], mode: str) -> str:
    saved = {q.id: _sample(q) for q in questions} if mode != "blank" else {}
    fo = build_form(questions, base=FlaskForm, widgets=widgets)(
        formdata=None, data=form_data(questions, saved)
    )
    fo.page_errors = ["A problem with the page"] if mode == "errors" else []
    fo.show_saved(saved)
    if mode == "errors":
        fo.add_errors({q.id: [f"Problem with {q.id} <b>"] for q in questions})
        for _q, field in fo.answer_fields():
            if isinstance(field, GroupAnswer):
                for entry in field.entries:
                    for sub in entry.form:
                        sub.errors = [f"Problem with {sub.id}"]
    return _normal(render_template_string(FIELDS, fo=fo, file_url=lambda v: f"/files/{v['id']}"))


def _pages() -> list[tuple[str, list[Question]]]:
    out = []
    for path in sorted((ROOT / "programmes").glob("*.yaml")):
        programme = load_programme(path)
        for form in programme.forms.values():
            out.extend(
                (f"{Path(path).stem}/{form.id}/{pid}", list(qs)) for pid, _t, qs in form.pages
            )
    return out


PAGES = _pages()


@pytest.mark.parametrize("mode", ["blank", "filled", "errors"])
def test_every_field_is_drawn_as_the_govuk_macros_draw_it(app: Flask, mode: str) -> None:
    kinds = {q.type for _name, qs in PAGES for q in qs}
    assert {"text", "textarea", "number", "money", "date", "yesno", "radios", "checkboxes", "select", "file", "group"} <= kinds  # fmt: skip
    with app.test_request_context("/"):
        for name, questions in PAGES:
            ours, theirs = _draw(app, WIDGETS, questions, mode), _draw(app, MACROS, questions, mode)
            assert ours == theirs, f"{name} ({mode}) differs from GOV.UK Frontend's markup"


def test_page_chrome_is_rendered_once_per_variant(app: Flask) -> None:
    from engine.web.markup import component

    with app.test_request_context("/"):
        first = component("footer", {})
        assert "Open Government Licence" in first
        assert component("footer", {}) is first  # remembered, not drawn again
        nav = component(
            "service-navigation",
            {"serviceName": "S", "navigation": [{"text": "A <b>", "href": "/a"}]},
        )
        assert "A &lt;b&gt;" in nav and "A <b>" not in nav
