"""An applicant completes a Liverpool expression of interest in the browser, end to end."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from .conftest import EOI, LIVERPOOL, Clock, start_application, text

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def page_url(ref: str, page: str) -> str:
    return f"/apply/cases/{ref}/forms/{EOI}/pages/{page}"


def post(browser: FlaskClient, ref: str, page: str, data: dict, action: str = "continue"):
    return browser.post(page_url(ref, page), data={**data, "_action": action},
                        content_type="multipart/form-data")  # fmt: skip


def pdf(name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(PDF), name


def test_rounds_show_priorities_funding_dates_and_eligibility_in_plain_words(client: FlaskClient) -> None:  # fmt: skip
    page = text(client.get(f"/apply/rounds/{LIVERPOOL}"))
    assert "The Life Rooms VCSE Micro-Commissioning Programme" in page
    assert "£700,000" in page and "from £50,000 up to £100,000" in page and "up to 14" in page
    assert "5pm on Monday 31 January 2022" in page
    assert "Demonstrate an income over £750,000 as per last accounts." in page
    assert "Physical activity to enhance mental health" in page
    listing = text(client.get("/apply/"))
    for name in (
        "The Life Rooms VCSE Micro-Commissioning Programme",
        "Healthy Minds",
        "Resilience and Recovery Hubs",
    ):
        assert name in listing
    assert "Open" in listing


def test_an_applicant_completes_the_liverpool_eoi_from_sign_up_to_confirmation(
    applicant: Callable[..., FlaskClient], uploads: Path
) -> None:
    ann = applicant()
    ref = start_application(ann)
    assert "Expression of interest in progress" in text(ann.get(f"/apply/cases/{ref}"))

    # eligibility first: answering two criteria questions shows pass/fail per criterion, with why
    r = ann.post(f"/apply/cases/{ref}/eligibility", data={"income": "600000", "date_established-day": ""},
                 content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302
    page = text(ann.get(f"/apply/cases/{ref}/eligibility"))
    assert "Not met" in page and "you entered £600,000" in page
    assert "Not answered yet" in page

    # a validation error: the engine's message, linked in the summary, and what was typed kept
    post(ann, ref, "organisation", {"organisation_name": "Small Org", "organisation_address": "1 Dale Street",
                                    "organisation_postcode": "L2 2DH"})  # fmt: skip
    r = post(ann, ref, "contact", {"contact_name": "Ann Example", "contact_role": "Director",
                                   "contact_email": "not-an-email", "contact_phone": "0151 123 4567"})  # fmt: skip
    assert r.status_code == 200
    html = r.data.decode()
    assert "There is a problem" in html and 'href="#contact_email"' in html
    assert "Enter an email address in the correct format, like name@example.org" in html
    assert 'value="not-an-email"' in html and 'value="Ann Example"' in html
    assert "Error:" in html.split("</title>")[0]
    r = post(ann, ref, "contact", {"contact_name": "Ann Example", "contact_role": "Director",
                                   "contact_email": "ann@small.example", "contact_phone": "0151 123 4567"})  # fmt: skip
    assert r.headers["Location"].endswith(page_url(ref, "type_and_governance"))

    # save and come back: a half-done page is kept as a draft, and is there after signing in again
    r = post(
        ann, ref, "type_and_governance", {"organisation_type": "registered_charity"}, action="save"
    )
    assert r.headers["Location"].endswith(f"/apply/cases/{ref}/forms/{EOI}?saved=1")
    assert "Your answers have been saved" in text(ann.get(r.headers["Location"]))
    ann.post("/auth/sign-out")
    assert ann.get(page_url(ref, "type_and_governance")).status_code == 302  # signed out
    ann.post("/auth/sign-in", data={"email": "ann@small.example", "password": "correct horse battery staple"})  # fmt: skip
    html = ann.get(page_url(ref, "type_and_governance")).data.decode()
    assert 'value="registered_charity" checked' in html

    # answering yes reveals the follow-up questions on the same page, which are then asked
    r = post(ann, ref, "type_and_governance", {"organisation_type": "registered_charity", "has_governing_document": "yes"})  # fmt: skip
    assert r.headers["Location"].startswith(page_url(ref, "type_and_governance") + "#")
    html = ann.get(page_url(ref, "type_and_governance")).data.decode()
    assert 'name="governing_document_upload"' in html and 'name="has_charitable_objectives"' in html

    # an upload whose content is not what its name says is refused; a real PDF is kept
    r = post(ann, ref, "type_and_governance", {"organisation_type": "registered_charity", "has_governing_document": "yes",
             "has_charitable_objectives": "yes", "governing_document_upload": (io.BytesIO(PNG), "constitution.pdf")})  # fmt: skip
    assert r.status_code == 200 and "The file&#39;s contents are not a" in r.data.decode()
    r = post(ann, ref, "type_and_governance", {"organisation_type": "registered_charity", "has_governing_document": "yes",
             "has_charitable_objectives": "yes", "governing_document_upload": pdf("constitution.pdf")})  # fmt: skip
    assert r.status_code == 302, text(r)
    html = ann.get(page_url(ref, "type_and_governance")).data.decode()
    file_url = (
        f"/apply/cases/{ref}/files/"
        + html.split(f'href="/apply/cases/{ref}/files/')[1].split('"')[0]
    )
    download = ann.get(file_url)
    assert download.data == PDF and "constitution.pdf" in download.headers["Content-Disposition"]
    assert not uploads.exists()  # kept in the database, where every web host finds it

    # the charitable objectives are asked once the organisation says it has them
    r = post(ann, ref, "type_and_governance", {"organisation_type": "registered_charity", "has_governing_document": "yes",
             "has_charitable_objectives": "yes", "charitable_objectives": "To relieve poverty in Liverpool."})  # fmt: skip
    assert r.status_code == 302, text(r)

    post(ann, ref, "established", {"date_established": ["1", "3", "2015"]})
    post(ann, ref, "finances", {"income": "1,200,000", "accounts_year_end": ["31", "3", "2021"],
                                "accounts_type": "annual_accounts", "has_bank_account": "yes"})  # fmt: skip
    r = post(ann, ref, "finances", {"income": "1200000", "accounts_year_end": ["31", "3", "2021"], "accounts_type": "annual_accounts",
             "has_bank_account": "yes", "bank_signatories": "2", "accounts_upload": pdf("accounts.pdf")})  # fmt: skip
    assert r.headers["Location"].endswith(page_url(ref, "beneficiaries")), text(r)
    post(ann, ref, "beneficiaries", {"liverpool_beneficiaries_percent": "90", "beneficiaries_evidence": "Postcodes."})  # fmt: skip
    post(ann, ref, "safeguarding", {"safeguarding_policy_up_to_date": "yes"})
    r = post(ann, ref, "safeguarding", {"safeguarding_policy_up_to_date": "yes", "safeguarding_policy_reviewed": ["1", "10", "2021"],
             "safeguarding_policy_upload": pdf("safeguarding.pdf")})  # fmt: skip
    assert r.status_code == 302, text(r)
    post(ann, ref, "mobilisation", {"mobilisation_date": ["1", "3", "2022"]})
    post(ann, ref, "project_idea", {"priorities_of_interest": ["social_isolation", "employability"],
                                    "project_outline": "Weekly befriending groups."})  # fmt: skip
    r = post(ann, ref, "declaration", {"eoi_declaration_confirmed": "yes"})
    assert r.headers["Location"].endswith(f"/apply/cases/{ref}/forms/{EOI}/check")

    # the task list shows every page done; check your answers shows them in words
    tasks = text(ann.get(f"/apply/cases/{ref}/forms/{EOI}"))
    assert "You have completed 10 of 10 sections" in tasks
    check = text(ann.get(f"/apply/cases/{ref}/forms/{EOI}/check"))
    assert "£1,200,000" in check and "1 March 2015" in check and "constitution.pdf" in check
    assert "Social isolation/improved relationships" in check and "90%" in check
    assert "Submit expression of interest" in check

    r = ann.post(f"/apply/cases/{ref}/forms/{EOI}/check")
    assert r.headers["Location"].endswith(f"/apply/cases/{ref}/forms/{EOI}/confirmation")
    done = text(ann.get(r.headers["Location"]))
    assert "Expression of interest submitted" in done and ref in done
    assert "Submitted" in text(ann.get(f"/apply/cases/{ref}"))
    # submitted answers can be read but no longer changed
    assert ann.get(page_url(ref, "organisation")).status_code == 302


def test_after_the_deadline_submission_is_refused_with_the_engines_reason(
    applicant: Callable[..., FlaskClient], clock: Clock
) -> None:
    ann = applicant()
    ref = start_application(ann)
    clock.set("2022-02-01T09:00")
    r = ann.post(f"/apply/cases/{ref}/forms/{EOI}/check")
    page = text(r)
    assert r.status_code == 200
    assert "You cannot submit yet" in page
    assert "the deadline was 31 January 2022 at 17:00 GMT (Expression of interest deadline)" in page
    assert "Closed" in text(ann.get("/apply/"))


def test_a_group_question_adds_and_removes_items(applicant: Callable[..., FlaskClient]) -> None:
    """Repeating groups are filled item by item (the full proposal's budget lines)."""
    from engine.definition.loader import load_programme
    from engine.forms.classes import build_form, form_data

    from .conftest import ROOT

    programme = load_programme(ROOT / "programmes" / "liverpool.yaml")
    budget = programme.forms["liverpool_full_proposal"].questions()["budget_lines"]
    cls = build_form([budget])
    form = cls(data=form_data([budget], {"budget_lines": [{"budget_item": "Venue", "budget_category": "venue", "budget_amount": 500}]}))  # fmt: skip
    form.budget_lines.append_entry()
    assert form.answers() == {"budget_lines": [{"budget_item": "Venue", "budget_category": "venue", "budget_amount": "500"}]}  # fmt: skip
