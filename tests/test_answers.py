"""Answers are checked the same way everywhere: by type, limit and rule, with GOV.UK-style words."""

from __future__ import annotations

from engine.forms.answers import check_form, check_value
from engine.model import Form, Question


def q(kind: str, **spec) -> Question:
    return Question("x", kind, "The question?", spec.pop("required", True), spec)


def test_only_the_first_characters_of_a_minimised_postcode_are_kept() -> None:
    question = q("postcode", keep_characters=4, personal=True)
    assert check_value(question, "bd10 1ab") == ("BD10", [])
    assert check_value(question, "LE11AB") == ("LE1", [])  # a full postcode typed without its space
    assert check_value(question, "LE11") == ("LE11", [])  # the district alone is enough
    assert check_value(question, "l1 8jq") == ("L1", [])  # never a digit of the sector too
    assert check_value(question, "not a postcode")[1] == ["Enter a real postcode, like L1 8JQ"]


def test_a_pasted_essay_is_refused_with_the_count_not_truncated() -> None:
    essay = "word " * 5000
    summary = Question("summary", "textarea", "Summarise your project", True, {"word_limit": 500})
    value, errors = check_value(summary, essay)
    assert errors == ["Summarise your project in 500 words or fewer; you have used 5,000"]
    assert len(value.split()) == 5000  # nothing is lost: the person can cut it down themselves


def test_money_numbers_dates_and_choices_are_read_as_people_type_them() -> None:
    assert check_value(q("money", min=0), "£750,000") == (750000, [])
    assert check_value(q("money", max=100000), 150000)[1] == ["The amount must be £100,000 or less"]
    assert check_value(q("number"), "twelve")[1] == ["Enter a whole number, like 12"]
    assert check_value(q("date"), "2022-02-30")[1] == ["The date must be a real date"]
    assert check_value(q("yesno"), "yes") == (True, [])
    radios = q("radios", options=[{"value": "a", "label": "A"}])
    assert check_value(radios, "b")[1] == ["Select an answer to 'The question?'"]


def test_form_rules_reading_answers_are_checked() -> None:
    total = Question("total", "number", "Total?", True, {})
    extra = Question("extra", "number", "Extra?", False, {})
    form = Form("f", "F", (("p", "P", (total, extra)),), {
        "rules": [{"id": "sum", "rule": "total == 10 + (has(answers.extra) ? answers.extra : 0)",
                   "message": "The total must add up", "question": "total"}]})  # fmt: skip
    assert check_form(form, {"total": 10}, complete=True)[1] == {}
    assert check_form(form, {"total": 10, "extra": 5}, complete=True)[1] == {
        "total": ["The total must add up"]
    }


def test_a_hidden_question_is_neither_required_nor_kept() -> None:
    kind = Question(
        "kind",
        "radios",
        "Kind?",
        True,
        {"options": [{"value": "cic", "label": "CIC"}, {"value": "charity", "label": "Charity"}]},
    )
    directors = Question("directors", "number", "Directors?", True, {"show_if": 'kind == "cic"'})
    form = Form("f", "F", (("p", "P", (kind, directors)),), {})
    clean, errors = check_form(form, {"kind": "charity", "directors": 2}, complete=True)
    assert errors == {} and "directors" not in clean
    assert check_form(form, {"kind": "cic"}, complete=True)[1] == {
        "directors": ["Enter an answer to 'Directors?'"]
    }


def test_questions_on_a_page_that_is_not_shown_are_not_required() -> None:
    kind = Question(
        "kind",
        "radios",
        "Kind?",
        True,
        {"options": [{"value": "lead", "label": "Lead"}, {"value": "partner", "label": "Partner"}]},
    )
    lead_of = Question("lead_of", "text", "Who is your lead?", True, {})
    pages = ({"id": "p1", "title": "P1", "questions": [{"id": "kind"}]},
             {"id": "p2", "title": "P2", "show_if": 'kind == "partner"', "questions": [{"id": "lead_of"}]})  # fmt: skip
    form = Form("f", "F", (("p1", "P1", (kind,)), ("p2", "P2", (lead_of,))), {"pages": list(pages)})
    assert check_form(form, {"kind": "lead", "lead_of": "stale"}, complete=True) == (
        {"kind": "lead"},
        {},
    )
    assert check_form(form, {"kind": "partner"}, complete=True)[1] == {
        "lead_of": ["Enter who your lead is"]
    }
