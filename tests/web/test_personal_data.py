"""Personal data is visible only to the roles the YAML names, on every staff page and export.

Bradford's programme reports anonymised: its commissioners never see a referred person's date of
birth, postcode, sexual orientation or religion, while the caseworkers supporting the person do.
A small anonymised panel programme shows `visible_to` at work for commissioners and assessors, on
case pages, downloads, CSV, meeting packs and eligibility messages; LLR, not anonymised, still
shows its commissioners what was recorded.
"""

from __future__ import annotations

import csv
import html as markup
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from engine.runtime import Actor, Engine

from .conftest import Clock
from .conftest import text as page_text
from .panel import GOOD, PANEL, panel_programme, person

BRADFORD = "bradford_healthy_minds_wave2"
LLR = "llr_resilience_recovery_hubs"
AISHA = Actor("caseworker", "aisha@horton.example", "horton_park")
HIDDEN_NOTE = "Some answers are not shown to you because they contain personal information."


def text(response: TestResponse) -> str:
    """The page's words, entities decoded."""
    return markup.unescape(page_text(response))


# -- Bradford: a referral about a person -------------------------------------------------------
REFERRAL = {
    "referral_date": "2024-04-15", "referral_source": "primary_care", "date_of_birth": "1990-01-01",
    "postcode": "BD18 4NP", "pcn_locality": "pcn_4", "has_smi": True,
    "smi_support_situation": "not_supported_elsewhere", "other_vcse_service_could_support": False,
    "agrees_to_referral": True, "consent_to_share_data": True,
}  # fmt: skip
INTERVIEW = {
    "interview_date": "2024-04-16", "sex": "female", "gender_same_as_birth": "yes",
    "sexual_orientation": "bisexual", "ethnicity": "asian_pakistani", "religion_or_belief": "muslim",
    "disability": "no", "marriage_or_civil_partnership": "neither", "pregnancy_or_maternity": "no",
    "main_language": "Urdu", "known_diagnoses": ["bipolar"], "wider_factors": ["money_worries"],
}  # fmt: skip
# words of the personal answers and of their questions, none of which a commissioner may read
PERSONAL_WORDS = (
    "date of birth", "1 January 1990", "BD18", "postcode", "sexual orientation", "Bisexual",
    "religion", "Muslim", "ethnic group", "Pakistani", "Urdu", "Bipolar",
    "Is the person experiencing serious mental illness", "One-to-one support",
)  # fmt: skip


@pytest.fixture
def referral(app: Flask, clock: Clock) -> str:
    """A Bradford referral: accepted, a contact recorded, the initial interview held; its reference."""
    clock.set("2024-04-17T10:00")
    engine = Engine(app.config["DATABASE"], clock=clock)
    view = engine.start_case(BRADFORD, "referral", AISHA, subject="pseudonymous")
    engine.save_answers(view.id, "bradford_referral", REFERRAL, AISHA)
    engine.act(view.id, "accept_referral", AISHA)
    contact = {"contact_date": "2024-04-16", "meaningful_contact": True,
               "contact_kind": "phone", "contact_interventions": ["one_to_one"]}  # fmt: skip
    engine.save_answers(view.id, "bradford_contact", contact, AISHA)
    engine.save_answers(view.id, "bradford_initial_interview", INTERVIEW, AISHA)
    engine.act(view.id, "hold_initial_interview", AISHA)
    return view.reference


def test_a_commissioner_opening_a_bradford_referral_sees_no_personal_answers(
    app: Flask, referral: str
) -> None:
    cora = person(app, "cora@council.example", "commissioner")
    page = text(cora.get(f"/commission/cases/{referral}"))
    assert "Initial interview held" in page  # the case itself is theirs to oversee
    assert "Primary care (GP practice or PCN)" in page and "PCN 4 (Lot 1)" in page
    assert "Phone call" in page  # the contact record, less the support given to the person
    for words in PERSONAL_WORDS:
        assert words.lower() not in page.lower(), words
    assert page.count(HIDDEN_NOTE) == 3  # referral, initial interview, contact records


def test_the_caseworker_of_the_organisation_still_sees_every_answer(
    app: Flask, referral: str
) -> None:
    aisha = person(app, "aisha@horton.example", "caseworker", "horton_park")
    base = f"/casework/cases/{referral}"
    page = text(aisha.get(f"{base}/forms/bradford_referral/check"))
    assert "What is the person's date of birth? 1 January 1990" in page
    assert "What is the person's postcode? BD18" in page
    assert "Is the person experiencing serious mental illness (SMI)? Yes" in page
    page = text(aisha.get(f"{base}/forms/bradford_initial_interview/check"))
    assert "What is the person's sexual orientation? Bisexual" in page
    assert "What is the person's religion or belief? Muslim" in page
    assert "Bipolar disorder" in page and "Urdu" in page
    record = text(aisha.get(f"{base}/records/bradford_contact/1"))
    assert "What support was provided? One-to-one support" in record
    assert HIDDEN_NOTE not in page + record


def test_a_commissioners_csv_of_referrals_leaves_the_personal_answers_out(
    app: Flask, referral: str
) -> None:
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.get(f"/commission/{BRADFORD}/export.csv?workflow=referral")
    assert r.status_code == 200 and "anonymised" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.data.decode())))
    assert rows[0]["Reference"] == referral
    assert rows[0]["Who referred the person?"] == "Primary care (GP practice or PCN)"
    for column in (
        "date of birth",
        "postcode",
        "sexual orientation",
        "religion or belief",
        "ethnic group",
    ):
        assert f"What is the person's {column}?" not in rows[0], column
    for column in (
        "Is the person experiencing serious mental illness (SMI)?",
        "What support was provided?",
    ):
        assert column not in rows[0], column
    for value in ("1990", "BD18", "Bisexual", "Muslim", "Urdu"):
        assert value not in r.data.decode(), value


def test_the_people_reached_page_still_counts_the_personal_answers(
    app: Flask, referral: str
) -> None:
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.get(f"/commission/{BRADFORD}/people")
    assert r.status_code == 200
    page = text(r)
    assert "Age when referred" in page and "Postcode district" in page
    assert "1990" not in page and "BD18 4NP" not in page


def test_llr_reports_are_not_anonymised_so_its_commissioner_sees_its_answers(
    app: Flask, clock: Clock
) -> None:
    engine = Engine(app.config["DATABASE"], clock=clock)
    programme = engine.programme(LLR)
    answers = {"referral_date": "2021-05-01", "age": 34, "sex": "male", "ethnicity": "asian_indian",
               "religion": "sikh", "sexual_orientation": "gay_lesbian", "postcode": "LE11"}  # fmt: skip
    with engine.store.transaction():
        case = engine.store.insert_case({
            "programme_id": LLR, "version": programme.version, "workflow": "referral", "state": "referred",
            "organisation_id": "hub_a", "subject": "pseudonymous", "role": None, "lot": None,
            "parent_id": None, "entered": {}, "created_at": "2021-05-01T10:00:00+00:00"}, "LLR")  # fmt: skip
        engine.store.save_answers(
            case, "llr_referral", 0, answers, "2021-05-01T10:00:00+00:00", submitted=True
        )
    ref = engine.store.case(case)["reference"]
    cora = person(app, "cora@council.example", "commissioner")
    page = text(cora.get(f"/commission/cases/{ref}"))
    assert "What is the person's ethnic group? Asian or Asian British: Indian" in page
    assert "What is the person's religion or belief? Sikh" in page
    assert "What is the person's sexual orientation? Gay or lesbian" in page
    assert "What is the person's postcode? LE11" in page and HIDDEN_NOTE not in page


# -- an anonymised panel programme: visible_to for commissioners and assessors -----------------
CONTACT_PAGE = """
  - id: contact
    title: Who to contact
    questions:
      - id: contact_name
        type: text
        label: Who should we contact about this application?
        personal: true
      - id: contact_email
        type: email
        label: What is their email address?
        personal: true
        visible_to: [applicant, commissioner]
      - id: trustee_health
        type: textarea
        label: Does a trustee have a health condition we should plan meetings around?
        special_category: true
      - id: annual_report
        type: file
        label: Upload your annual report
      - id: identity_proof
        type: file
        label: Upload proof of the contact's identity
        personal: true
"""
INCOME = "        label: What was your income in your last accounts?\n"


def anonymised_panel(app: Flask, tmp_path: Path, clock: Clock) -> Engine:
    """The panel programme, anonymised, with contact details, a health answer and two uploads."""
    path = panel_programme(tmp_path)
    forms = tmp_path / "panel" / "forms"
    form = (forms / "tiny_eoi.yaml").read_text("utf-8")
    assert INCOME in form
    form = form.replace(INCOME, INCOME + "        visible_to: [applicant]\n") + CONTACT_PAGE
    (forms / "tiny_eoi.yaml").write_text(form, "utf-8")
    programme = path.read_text("utf-8").replace(
        "    kind: meeting\n", "    kind: meeting\n    workflow: application\n    form: tiny_eoi\n"
    )
    path.write_text(programme + "reporting:\n  anonymised: true\n", "utf-8")
    engine = Engine(app.config["DATABASE"], clock=clock)
    engine.publish(path, forms)
    return engine


def upload(app: Flask, engine: Engine, case: int, question: str, name: str) -> dict[str, Any]:
    """A file stored for the case's answer to `question`; the answer that refers to it."""
    file_id = f"file-{question}"
    with engine.store.transaction():
        engine.store.add_upload({
            "id": file_id, "case_id": case, "form_id": "tiny_eoi", "question_id": question, "name": name,
            "size": 13, "kind": "pdf", "stored_as": f"stored-{question}", "uploaded_by": "ann",
            "created_at": "2022-01-20T10:00:00+00:00"}, b"%PDF-1.4 test")  # fmt: skip
    return {"name": name, "size": 13, "id": file_id}


@pytest.fixture
def application(app: Flask, tmp_path: Path, clock: Clock) -> str:
    """A submitted application to the anonymised panel programme; its reference."""
    engine = anonymised_panel(app, tmp_path, clock)
    ann = Actor("applicant", "ann@org-a.example", "org_a")
    case = engine.start_case(PANEL, "application", ann, organisation_name="Org A")
    answers = {**GOOD, "contact_name": "Jo Contact", "contact_email": "jo@org-a.example",
               "trustee_health": "Our chair uses a wheelchair",
               "annual_report": upload(app, engine, case.id, "annual_report", "report.pdf"),
               "identity_proof": upload(app, engine, case.id, "identity_proof", "passport.pdf")}  # fmt: skip
    engine.save_answers(case.id, "tiny_eoi", answers, ann)
    return engine.act(case.id, "submit", ann).reference


KEPT_FROM_STAFF = (
    "Jo Contact",
    "wheelchair",
    "Does a trustee",
    "passport.pdf",
    "£50,000",
    "income in your last accounts",
)


def test_visible_to_a_commissioner_shows_the_answer_in_an_anonymised_programme(
    app: Flask, application: str
) -> None:
    cora = person(app, "cora@council.example", "commissioner")
    page = text(cora.get(f"/commission/cases/{application}"))
    assert "What is their email address? jo@org-a.example" in page
    assert "What is your organisation's name? Org A" in page and "report.pdf" in page
    for words in KEPT_FROM_STAFF:
        assert words not in page, words
    assert HIDDEN_NOTE in page
    files = f"/commission/cases/{application}/files"
    assert cora.get(f"{files}/file-annual_report").status_code == 200
    assert cora.get(f"{files}/file-identity_proof").status_code == 404  # not even by its address

    # the anonymised export is a file that travels: no personal answer in it, whoever may see it
    r = cora.get(f"/commission/{PANEL}/export.csv")
    row = next(csv.DictReader(io.StringIO(r.data.decode())))
    assert row["What is your organisation's name?"] == "Org A"
    for column in ("What is their email address?", "Who should we contact about this application?",
                   "Does a trustee have a health condition we should plan meetings around?",
                   "Upload proof of the contact's identity", "What was your income in your last accounts?"):  # fmt: skip
        assert column not in row, column


def test_an_assessor_sees_only_the_answers_the_file_lets_assessors_see(
    app: Flask, application: str
) -> None:
    asa = person(app, "asa@panel.example", "assessor")
    r = asa.get(f"/assess/cases/{application}")
    assert r.status_code == 200
    page = text(r)
    assert "What is your organisation's name? Org A" in page and "Lunch club" in page
    for words in (*KEPT_FROM_STAFF, "jo@org-a.example"):
        assert words not in page, words
    assert HIDDEN_NOTE in page
    files = f"/assess/cases/{application}/files"
    assert asa.get(f"{files}/file-annual_report").status_code == 200
    assert asa.get(f"{files}/file-identity_proof").status_code == 404


def test_a_meeting_pack_shows_only_the_decisions_answers_a_commissioner_may_see(
    app: Flask, application: str
) -> None:
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.get(f"/commission/{PANEL}/meetings/quarterly/1")
    assert r.status_code == 200
    page = text(r)
    assert "Decisions recorded" in page and application in page
    assert "jo@org-a.example" in page and "Org A" in page
    for words in KEPT_FROM_STAFF:
        assert words not in page, words


def test_an_eligibility_message_never_quotes_an_answer_its_reader_may_not_see(
    app: Flask, tmp_path: Path, clock: Clock
) -> None:
    engine = anonymised_panel(app, tmp_path, clock)
    ann = Actor("applicant", "ann@org-b.example", "org_b")
    case = engine.start_case(PANEL, "application", ann, organisation_name="Org B")
    engine.save_answers(case.id, "tiny_eoi", {"income": 2_000_000}, ann)
    mine = {c.id: c for c in engine.eligibility(case.id, ann)}["income"]
    assert mine.status == "not_met" and "you entered £2,000,000" in mine.message
    cora = person(app, "cora@council.example", "commissioner")
    page = text(cora.get(f"/commission/cases/{case.reference}"))
    assert "Have an income under £1 million" in page and "Not met" in page
    assert "2,000,000" not in page
