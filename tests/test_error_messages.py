"""Error messages name their question, as GOV.UK asks: never "Enter an answer" three times over."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from engine.definition.loader import load_programme
from engine.errors import ProgrammeInvalid
from engine.forms.answers import check_form, check_value, form_questions
from engine.forms.classes import build_form, check_page, visible_questions
from engine.forms.messages import missing, topic
from engine.model import Form, Question

from .conftest import ROOT

PROGRAMMES = {p.stem: load_programme(p) for p in sorted((ROOT / "programmes").glob("*.yaml"))}
EXAMPLES = {p.stem: load_programme(p) for p in sorted((ROOT / "docs/example/programmes").glob("*.yaml"))}  # fmt: skip
ALL_FORMS = [f for prog in [*PROGRAMMES.values(), *EXAMPLES.values()] for f in prog.forms.values()]


def shipped(form: str, question: str) -> Question:
    """A question from a form the project ships."""
    for prog in PROGRAMMES.values():
        if form in prog.forms:
            return prog.forms[form].questions()[question]
    raise KeyError(form)


def label(text: str, kind: str = "text", **spec) -> Question:
    return Question("x", kind, text, True, spec)


def test_a_page_of_three_empty_questions_gives_three_different_messages() -> None:
    eoi = PROGRAMMES["liverpool"].forms["liverpool_expression_of_interest"]
    page = visible_questions(eoi, "contact", {})
    form = build_form(page)(MultiDict())
    errors = check_page(form, eoi, {}, complete=True)
    assert errors == {
        "contact_name": ["Enter the full name"],
        "contact_role": ["Enter the job title or role"],
        "contact_email": ["Enter the email address"],
        "contact_phone": ["Enter the telephone number"],
    }


@pytest.mark.parametrize("form", ALL_FORMS, ids=lambda f: f.id)
def test_every_shipped_page_names_each_question_it_asks_for(form: Form) -> None:
    for _pid, _title, questions in form.pages:
        required = [q for q in questions if q.required and not q.spec.get("compute")]
        said = [missing(q) for q in required]
        assert len(set(said)) == len(said), said  # no two questions on a page share a message
        assert not {"Enter an answer", "Select an option", "Select yes or no"} & set(said)
        for q, message in zip(required, said, strict=True):
            assert "?" not in message or f"'{q.label}" in message, (
                message
            )  # quoted, or not a question
            assert "  " not in message and not message.endswith((".", " ")), message


@pytest.mark.parametrize(
    ("form", "question", "message"),
    [
        ("liverpool_expression_of_interest", "organisation_name", "Enter your organisation's name"),
        (
            "bradford_activity_return",
            "referrals_received",
            "Enter how many referrals you received this month",
        ),
        ("bradford_action_plan", "support_start_date", "Enter the date support started"),
        (
            "liverpool_expression_of_interest",
            "date_established",
            "Enter the date your organisation was established",
        ),
        (
            "bradford_contract_acceptance",
            "accepts_terms",
            "Select yes if you accept the contract terms",
        ),
        ("bradford_contract_acceptance", "signed_contract", "Select the signed contract to upload"),
        (
            "bradford_contract_acceptance",
            "subcontract_yearly_value",
            "Enter the yearly value of your sub-contract",
        ),
        ("liverpool_full_proposal", "project_summary", "Summarise your project"),
        # a question the rules cannot turn round safely is quoted, never guessed at
        (
            "bradford_lead_eoi",
            "community_based",
            "Select yes or no to answer 'Is your organisation community based?'",
        ),
        # acronyms and names keep their capitals
        (
            "bradford_due_diligence",
            "dspt_checked",
            "Select what DSPT status you found on the NHS DSPT website",
        ),
        (
            "bradford_contract_acceptance",
            "subcontract_lead",
            "Enter which Lead Service Provider sub-contracts you",
        ),
        (
            "bradford_lead_eoi",
            "lived_experience_staff",
            "Enter how staff with lived experience of SMI would facilitate peer support in your service",
        ),
    ],
)
def test_a_blank_answer_says_what_to_enter_for_that_question(
    form: str, question: str, message: str
) -> None:
    q = shipped(form, question)
    assert check_form(Form(form, "F", (("p", "P", (q,)),), {}), {}, complete=True)[1] == {
        q.id: [message]
    }


def test_a_label_keeps_an_acronym_and_lower_cases_an_ordinary_word() -> None:
    assert missing(label("VCSE partners")) == "Enter the VCSE partners"
    assert missing(label("Organisation name")) == "Enter the organisation name"
    assert missing(label("Their role")) == "Enter their role"
    assert (
        missing(label("What is your organisation called?"))
        == "Enter what your organisation is called"
    )


def test_dates_say_which_part_is_missing_or_that_the_date_is_not_real() -> None:
    q = shipped("liverpool_expression_of_interest", "date_established")
    date_of = "The date your organisation was established"
    assert check_value(q, "12//2020")[1] == [f"{date_of} must include a month"]
    assert check_value(q, "//2020")[1] == [f"{date_of} must include a day and month"]
    assert check_value(q, "31/2/2020")[1] == [f"{date_of} must be a real date"]
    assert check_value(q, "2020-02-29") == ("2020-02-29", [])


def test_a_year_typed_short_is_refused_not_read_as_the_year_20() -> None:
    eoi = PROGRAMMES["liverpool"].forms["liverpool_expression_of_interest"]
    typed = MultiDict([("date_established", "12"), ("date_established", "3"), ("date_established", "20")])  # fmt: skip
    form = build_form(visible_questions(eoi, "established", {}))(typed)
    assert check_page(form, eoi, {}, complete=False) == {
        "date_established": [
            "The date your organisation was established must include the year in full, like 2024"
        ]
    }


def test_a_typed_date_missing_its_month_is_named_on_the_page() -> None:
    eoi = PROGRAMMES["liverpool"].forms["liverpool_expression_of_interest"]
    typed = MultiDict([("date_established", "12"), ("date_established", ""), ("date_established", "2020")])  # fmt: skip
    form = build_form(visible_questions(eoi, "established", {}))(typed)
    assert check_page(form, eoi, {}, complete=False) == {
        "date_established": ["The date your organisation was established must include a month"]
    }


def test_money_and_numbers_say_the_question_own_bounds() -> None:
    asked = shipped("liverpool_full_proposal", "amount_requested")  # £50,000 to £100,000
    assert check_value(asked, 120000)[1] == ["The amount must be between £50,000 and £100,000"]
    assert check_value(asked, "lots")[1] == [
        "Enter how much funding you are asking for in total in whole pounds, like 50000"
    ]
    value = shipped("bradford_contract_acceptance", "subcontract_yearly_value")  # at least £0
    assert check_value(value, -5)[1] == ["The yearly value of your sub-contract must be £0 or more"]
    assert check_value(value, "12.5")[1] == [
        "The yearly value of your sub-contract must be in whole pounds, like 25000"
    ]
    age = PROGRAMMES["llr_hubs"].forms["llr_referral"].questions()["age"]  # 0 to 120
    assert check_value(age, 130)[1] == ["The number must be between 0 and 120"]
    assert check_value(age, "old")[1] == ["Enter how old the person is as a whole number, like 12"]


def test_too_many_words_names_the_question_and_its_own_limit() -> None:
    summary = shipped("liverpool_full_proposal", "project_summary")  # 300 words
    assert check_value(summary, "word " * 301)[1] == [
        "Summarise your project in 300 words or fewer; you have used 301"
    ]
    staff = shipped("bradford_lead_eoi", "lived_experience_staff")
    assert check_value(staff, "word " * 400)[1] == [
        "Enter how staff with lived experience of SMI would facilitate peer support in your"
        " service in 300 words or fewer; you have used 400"
    ]
    name = label("Organisation name", max_length=20)
    assert check_value(name, "x" * 25)[1] == [
        "The organisation name must be 20 characters or fewer"
    ]


def test_uploads_say_what_file_is_wanted() -> None:
    signed = shipped("bradford_contract_acceptance", "signed_contract")  # a PDF up to 20 MB
    assert check_value(signed, {"name": "contract.docx", "size": 10})[1] == [
        "The selected file must be a PDF"
    ]
    assert check_value(signed, {"name": "contract.pdf", "size": 30 * 1024 * 1024})[1] == [
        "The selected file must be smaller than 20 MB"
    ]


def test_choices_say_what_to_select() -> None:
    kind = shipped("liverpool_expression_of_interest", "organisation_type")
    assert missing(kind) == "Select what type of organisation you are"
    assert check_value(kind, "not_a_kind")[1] == ["Select what type of organisation you are"]
    boxes = label("Which priorities does your project address?", "checkboxes", options=[])
    assert missing(boxes) == "Select which priorities your project addresses"


def test_a_question_may_give_its_own_words() -> None:
    own = {
        "required": "Enter the name of your project",
        "too_high": "You can ask for £5,000 at most",
    }
    q = Question("project", "money", "Project?", True, {"max": 5000, "errors": own})
    form = Form("f", "F", (("p", "P", (q,)),), {})
    assert check_form(form, {}, complete=True)[1] == {"project": ["Enter the name of your project"]}
    assert check_value(q, 6000)[1] == ["You can ask for £5,000 at most"]
    assert check_value(q, "x")[1] == [
        "Enter the amount in whole pounds, like 5000"
    ]  # not given: made


def test_a_form_file_may_give_its_own_messages_and_only_known_ones(tmp_path: Path) -> None:
    source = ROOT / "docs/example"
    for sub in ("programmes", "forms"):
        (tmp_path / sub).mkdir()
        for f in (source / sub).glob("*.yaml"):
            (tmp_path / sub / f.name).write_text(f.read_text())
    eoi = tmp_path / "forms/tiny_eoi.yaml"
    text = eoi.read_text()
    anchor = "        label: What is your organisation's name?\n"
    assert anchor in text
    own = "        errors:\n          required: Enter the name your group uses\n"
    eoi.write_text(text.replace(anchor, anchor + own))
    prog = load_programme(tmp_path / "programmes/tiny.yaml")
    form = prog.forms["tiny_eoi"]
    name = next(q for q in form_questions(form) if q.id == "org_name")
    assert missing(name) == "Enter the name your group uses"
    eoi.write_text(text.replace(anchor, anchor + "        errors:\n          blank: Enter it\n"))
    with pytest.raises(ProgrammeInvalid):
        load_programme(tmp_path / "programmes/tiny.yaml")


def test_the_rules_do_not_guess_when_a_question_has_two_parts() -> None:
    both = "What stakeholder feedback did you seek, and how did you act on it?"
    assert topic(both).kind == "quote"
    assert missing(label(both, "textarea")) == f"Enter an answer to '{both}'"


def test_a_date_of_birth_in_the_future_is_refused_with_what_to_do() -> None:
    from datetime import UTC, datetime

    from engine.forms.answers import check_answers

    q = shipped("bradford_referral", "date_of_birth")
    now = {"now": datetime(2024, 4, 15, 9, tzinfo=UTC)}
    _clean, errors = check_answers(
        [q], {"date_of_birth": "2030-01-01"}, complete=False, context=now
    )
    assert errors == {"date_of_birth": ["The person's date of birth must be in the past."]}
    assert check_answers([q], {"date_of_birth": "1990-01-01"}, complete=False, context=now)[1] == {}
