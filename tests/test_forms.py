"""WTForms classes generated from form specs, checked by the engine's own rules."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict
from wtforms import Form as WTForm

from engine.definition.loader import load_programme
from engine.forms.answers import check_form, check_value
from engine.forms.classes import (
    ChoiceAnswer,
    DateAnswer,
    FileAnswer,
    GroupAnswer,
    LongTextAnswer,
    ManyAnswer,
    SelectAnswer,
    TextAnswer,
    build_form,
    check_page,
    form_data,
    visible_questions,
)
from engine.model import Form, Question

from .conftest import ROOT

LIVERPOOL = load_programme(ROOT / "programmes" / "liverpool.yaml")
EOI = LIVERPOOL.forms["liverpool_expression_of_interest"]


def q(id: str, type: str, **spec) -> Question:
    inner = tuple(spec.pop("questions", ()))
    return Question(id, type, id.replace("_", " "), spec.pop("required", True), {"id": id, "type": type, **spec}, inner)  # fmt: skip


def test_one_field_per_question_type() -> None:
    kinds = {
        "text": TextAnswer, "email": TextAnswer, "phone": TextAnswer, "postcode": TextAnswer,
        "number": TextAnswer, "decimal": TextAnswer, "money": TextAnswer, "percent": TextAnswer,
        "textarea": LongTextAnswer, "yesno": ChoiceAnswer, "radios": ChoiceAnswer, "scale": ChoiceAnswer,
        "select": SelectAnswer, "checkboxes": ManyAnswer, "date": DateAnswer, "file": FileAnswer,
        "group": GroupAnswer,
    }  # fmt: skip
    options = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]
    questions = [
        q(f"q_{t}", t, options=options, min=1, max=5, questions=[q("inner", "text")]) for t in kinds
    ]
    form = build_form(questions)()
    for question, field in form.answer_fields():
        assert isinstance(field, kinds[question.type]), question.type
        assert field.question is question
    assert [c.label for c in form.q_scale.choices] == ["1", "2", "3", "4", "5"]
    assert [c.value for c in form.q_yesno.choices] == ["yes", "no"]


def test_answers_come_out_as_the_engine_takes_them() -> None:
    questions = [q("n", "money"), q("d", "date"), q("y", "yesno"), q("c", "checkboxes", options=[{"value": "a", "label": "A"}]),
                 q("g", "group", questions=[q("x", "text"), q("m", "money")])]  # fmt: skip
    form = build_form(questions)(MultiDict([("n", "£1,200"), ("d", "31"), ("d", "1"), ("d", "2022"), ("y", "no"),
                                            ("c", "a"), ("g-0-x", "one"), ("g-0-m", "5"), ("g-1-x", ""), ("g-1-m", "")]))  # fmt: skip
    answers = form.answers()
    assert answers == {"n": "£1,200", "d": "2022-01-31", "y": "no", "c": ["a"], "g": [{"x": "one", "m": "5"}]}  # fmt: skip
    clean, errors = check_form(Form("f", "F", (("p", "P", tuple(questions)),), {"pages": [{"id": "p", "questions": []}]}), answers, complete=True)  # fmt: skip
    assert not errors
    assert clean == {
        "n": 1200,
        "d": "2022-01-31",
        "y": False,
        "c": ["a"],
        "g": [{"x": "one", "m": 5}],
    }


def test_saved_answers_fill_the_fields_again() -> None:
    questions = [q("y", "yesno"), q("s", "scale", min=1, max=3), q("d", "date"), q("f", "file")]
    saved = {"y": True, "s": 2, "d": "2015-03-01", "f": {"name": "a.pdf", "size": 10, "id": "x"}}
    form = build_form(questions)(data=form_data(questions, saved))
    assert form.y.data == "yes" and form.s.data == "2" and form.d.data.isoformat() == "2015-03-01"
    assert form.f.current == saved["f"]
    assert form.answers() == {"y": "yes", "s": "2", "d": "2015-03-01", "f": saved["f"]}


def test_messages_are_the_engines() -> None:
    page = visible_questions(EOI, "contact", {})
    form = build_form(page)(MultiDict({"contact_email": "not-an-email", "contact_phone": "12"}))
    errors = check_page(form, EOI, {}, complete=True)
    email = EOI.questions()["contact_email"]
    assert errors["contact_email"] == check_value(email, "not-an-email")[1]
    assert form.contact_email.errors == errors["contact_email"]
    assert errors["contact_name"] == ["Enter the full name"]  # required on leaving the page
    draft = build_form(page)(MultiDict({"contact_name": "Ann"}))
    assert check_page(draft, EOI, {}, complete=False) == {}  # a draft may be partial


def test_a_date_that_is_not_one_gets_the_engines_message_and_keeps_what_was_typed() -> None:
    page = visible_questions(EOI, "established", {})
    form = build_form(page)(MultiDict([("date_established", "31"), ("date_established", "2"), ("date_established", "2020")]))  # fmt: skip
    errors = check_page(form, EOI, {}, complete=False)
    assert errors == {
        "date_established": ["The date your organisation was established must be a real date"]
    }
    assert form.date_established.raw_data == ["31", "2", "2020"]


def test_questions_are_shown_when_the_engine_would_ask_them() -> None:
    ids = lambda answers: [x.id for x in visible_questions(EOI, "type_and_governance", answers)]  # noqa: E731
    assert "number_of_directors" not in ids({})
    assert "number_of_directors" in ids({"organisation_type": "cic"})
    assert "governing_document_upload" in ids({"has_governing_document": True})


def test_question_ids_never_hide_the_forms_own_attributes() -> None:
    form = build_form([q("data", "text"), q("errors", "text")])(MultiDict({"answer_data": "x"}))
    assert form.answers() == {"data": "x", "errors": ""}


def test_a_base_class_and_widgets_can_be_supplied() -> None:
    class Base(WTForm):
        pass

    called = []

    def widget(field, **kwargs):
        called.append(field.name)
        return "<input>"

    form = build_form([q("t", "text")], base=Base, widgets={"input": widget})()
    assert isinstance(form, Base)
    assert form.t() == "<input>" and called == ["t"]


def _sample(question: Question) -> object:
    """A saved answer of the question's type (every field kind gets a value to show)."""
    options = [o["value"] for o in question.spec.get("options", [])]
    return {
        "yesno": True, "scale": int(question.spec.get("min", 1)), "date": "2022-01-31",
        "money": 1200, "number": 3, "decimal": 2.5, "percent": 50,
        "radios": options[0] if options else "", "select": options[0] if options else "",
        "checkboxes": options[:2], "file": {"name": "accounts.pdf", "size": 2048, "id": "f1"},
        "group": [{s.id: _sample(s) for s in question.questions}] * 2,
    }.get(question.type, f"An answer to {question.id} <b>&</b>")  # fmt: skip


def _posted(form: WTForm) -> MultiDict:
    """What a browser would send for a form's answers (files and groups aside)."""
    pairs = []
    for field in form:
        value = field.answer()
        if isinstance(field, DateAnswer) and value:
            pairs += [(field.name, part) for part in reversed(value.split("-"))]
        elif isinstance(value, list) and not isinstance(field, GroupAnswer):
            pairs += [(field.name, v) for v in value]
        elif isinstance(value, str):
            pairs.append((field.name, value))
    return MultiDict(pairs)


def _shown(form: WTForm) -> list[tuple[str, object, object, str]]:
    """What a form shows and hands back: each field's name, data, raw data and HTML."""
    out = []
    for field in form:
        html = "" if isinstance(field, GroupAnswer) else str(field())
        out.append((field.name, field.data, field.raw_data, html))
        if isinstance(field, GroupAnswer):
            out.extend(x for entry in field.entries for x in _shown(entry.form))
    return out


def test_a_new_form_copied_from_its_pattern_is_the_one_wtforms_builds() -> None:
    shipped = [load_programme(ROOT / "programmes" / f"{n}.yaml") for n in ("liverpool", "bradford", "llr_hubs")]  # fmt: skip
    pages = [qs for p in shipped for form in p.forms.values() for _pid, _t, qs in form.pages]
    assert len(pages) > 40
    for questions in pages:
        cls = build_form(questions)
        saved = form_data(questions, {q.id: _sample(q) for q in questions})
        typed = _posted(cls(data=saved))
        for formdata, data in ((None, None), (None, saved), (typed, saved)):
            assert _shown(cls.new(formdata, data)) == _shown(cls(formdata=formdata, data=data))


def test_new_forms_share_no_state() -> None:
    cls = build_form([q("g", "group", questions=[q("x", "text")]), q("t", "text")])
    first = cls.new(MultiDict({"t": "typed"}))
    first.g.append_entry()
    first.t.errors = ["Enter an answer"]
    first.validate()
    second = cls.new(None, {"t": "saved"})
    assert len(second.g.entries) == 1 and second.t.errors == () and second.t.data == "saved"
    assert second.t is not first.t and second.g.entries[0] is not first.g.entries[0]
