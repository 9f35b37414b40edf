"""A case's history reads as events: saves grouped per form, actions in the past tense."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from engine import load_programme
from engine.web.history import event_words, past_tense, timeline, who

from ..conftest import ROOT
from .conftest import EOI, start_application, text


@pytest.fixture(scope="module")
def liverpool():
    return load_programme(ROOT / "programmes" / "liverpool.yaml")


@pytest.mark.parametrize(
    ("label", "said"),
    [
        ("Accept the monthly activity report", "Accepted the monthly activity report"),
        ("Pay the award", "Paid the award"),
        ("Submit full proposal", "Submitted full proposal"),
        ("Step up to statutory services", "Stepped up to statutory services"),
        ("Close the grant", "Closed the grant"),
        ("Do not fund", "Decided not to fund"),
        ("Permission requested", "Permission requested"),  # already an event
        ("Monthly activity report falls due", "Monthly activity report falls due"),
    ],
)
def test_an_action_label_is_said_in_the_past_tense(label: str, said: str) -> None:
    assert past_tense(label) == said


def test_an_event_that_says_its_new_state_is_the_state_else_both_are_named(liverpool) -> None:
    submit = {"action": "submit_eoi", "from": "eoi_draft", "to": "eoi_submitted"}
    assert event_words(liverpool, "application", submit) == "Expression of interest submitted"
    award = {"action": "award", "from": "assessed", "to": "awarded"}
    assert event_words(liverpool, "application", award) == "Made a direct award. Status: Awarded"


def test_saves_to_one_form_by_one_person_are_one_line_counting_each_question_once(
    liverpool,
) -> None:
    def save(*questions: str, actor: str = "ann@example.org") -> dict:
        detail = {"form": EOI, "questions": list(questions)}
        return {"action": "answer", "actor": actor, "role": "applicant", "detail": detail}

    lines = timeline(liverpool, "application", [
        {"action": "start", "actor": "ann@example.org", "role": "applicant", "to": "eoi_draft"},
        save("organisation_name", "organisation_address"),
        save("organisation_name", "contact_name"),
        save("contact_email", actor="bob@example.org"),
        {"action": "submit_eoi", "actor": "ann@example.org", "role": "applicant",
         "from": "eoi_draft", "to": "eoi_submitted"},
        save("income"),
        {"action": "answer", "actor": "ann@example.org", "role": "applicant",
         "detail": {"form": EOI, "record": 2}},
    ])  # fmt: skip
    title = liverpool.forms[EOI].title
    assert [line["text"] for line in lines][1:] == [
        f"Answered 3 questions in {title}",
        f"Answered 1 question in {title}",
        "Expression of interest submitted",
        f"Answered 1 question in {title}",
        f"{title} recorded",
    ]
    assert who(lines[2]) == "bob@example.org (applicant)"
    assert who({"role": "scheduler", "actor": "scheduler"}) == "The service, on time"


def test_the_applicant_reads_one_line_for_a_page_of_answers_and_no_ids(
    applicant: Callable[..., FlaskClient],
) -> None:
    ann = applicant()
    ref = start_application(ann)
    url = f"/apply/cases/{ref}/forms/{EOI}/pages/organisation"
    answers = {"organisation_name": "Small Org", "organisation_address": "1 Dale Street",
               "organisation_postcode": "L2 2DH", "_action": "continue"}  # fmt: skip
    ann.post(url, data=answers, content_type="multipart/form-data")
    ann.post(url, data=answers, content_type="multipart/form-data")
    page = text(ann.get(f"/apply/cases/{ref}"))
    assert page.count("Answered 3 questions in") == 1, page[page.find("What has happened") :]
    assert "Answers saved" not in page and "organisation_name" not in page


@pytest.mark.parametrize(
    ("label", "inside"),
    [
        ("Expression of interest", "expression of interest"),
        ("VCSE partners", "VCSE partners"),
        ("KPIs not met — decision needed", "KPIs not met — decision needed"),
        ("April return", "April return"),
        ("Offered to the Lead Service Provider", "offered to the Lead Service Provider"),
    ],
)
def test_a_label_inside_a_sentence_keeps_acronyms_and_proper_nouns(label: str, inside: str) -> None:
    from engine.web.describe import mid_sentence

    assert mid_sentence(label) == inside


def test_an_event_that_already_says_its_new_state_does_not_repeat_it(liverpool) -> None:
    marked = {"action": "find_ineligible", "from": "eoi_submitted", "to": "ineligible"}
    assert event_words(liverpool, "application", marked) == "Marked as not eligible"
