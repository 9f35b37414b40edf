"""Organisations are known once: registering one the service knows (by name or number) points
to a colleague and creates nothing, and a registration number answered is the organisation's."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.forms.organisation_numbers import read_number
from engine.store.organisations import name_key
from engine.web import create_app
from engine.web.demo import seed
from engine.web.services import engine, store

from ..conftest import ROOT
from ..databases import database_in
from .conftest import EOI, PASSWORD, Clock, start_application, text
from .test_apply_journey import PDF

REFUSED = (
    "Small Org is already registered with this number: ask someone at Small Org to add you as a "
    "colleague from their organisation page"
)


def register(app: Flask, organisation: str, email: str, number: str = "") -> FlaskClient:
    """A browser that has just posted the registration form; its response is `browser.page`."""
    browser = app.test_client()
    browser.page = browser.post(  # type: ignore[attr-defined]
        "/auth/register",
        data={"name": "Bea Newcomer", "organisation": organisation, "number": number,
              "email": email, "password": PASSWORD, "confirm": PASSWORD},
    )  # fmt: skip
    return browser


def organisations(app: Flask) -> dict[str, str]:
    with app.app_context():
        return store().organisation_names()


def outbox(app: Flask, email: str) -> list[dict]:
    with app.app_context():
        return store().outbox_for(email)


def save_number(browser: FlaskClient, ref: str, number: str, **more: Any) -> FlaskClient:
    """Answer the expression of interest's first page, with this registration number."""
    return browser.post(
        f"/apply/cases/{ref}/forms/{EOI}/pages/organisation",
        data={"organisation_name": "Org", "registration_number": number, "_action": "continue",
              "organisation_address": "1 Dale Street", "organisation_postcode": "L2 2DH", **more},
        content_type="multipart/form-data",
    )  # fmt: skip


def test_registering_a_known_name_points_to_a_colleague_and_creates_nothing(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    applicant()  # Ann, of Small Org
    before = organisations(app)
    bea = register(app, "  small   ORG Ltd. ", "bea@small.example")
    page = text(bea.page)
    assert "Small Org already has an account on this service" in page
    assert "ask a colleague there to add you from their 'Your organisation' page" in page
    assert "We have emailed the people at Small Org" in page
    assert "ann@small.example" not in page  # nobody's address is shown
    assert organisations(app) == before
    with app.app_context():
        assert store().user_by_email("bea@small.example") is None
    assert not outbox(app, "bea@small.example")
    [told] = [m for m in outbox(app, "ann@small.example") if "tried" in m["subject"]]
    assert told["subject"] == "Someone tried to create an account for Small Org"
    assert "http://localhost/auth/organisation" in told["body"]
    assert "Bea" not in told["body"]  # what a stranger typed never goes into the email
    assert bea.get("/apply/applications").status_code == 302  # and nobody is signed in
    # an address that has an account gets the very same page: it says nothing about the address
    again = text(register(app, "Small Org", "ann@small.example").page)
    assert again == page


def test_registering_a_known_number_points_to_its_organisation(app: Flask) -> None:
    first = register(app, "Acorn Trust", "ann@acorn.example", number="109 2345")
    assert "Check your email" in text(first.page)
    [acorn] = [org for org, name in organisations(app).items() if name == "Acorn Trust"]
    with app.app_context():
        assert store().organisation(acorn)["charity_number"] == "1092345"
    page = text(register(app, "Oak Leaf Group", "bea@oak.example", number="1092345").page)
    assert "Acorn Trust already has an account on this service" in page
    assert "Check the registration number you entered" in page
    assert sorted(organisations(app).values()) == ["Acorn Trust"]


def test_the_same_name_with_another_number_is_another_organisation(app: Flask) -> None:
    register(app, "Community Centre", "ann@north.example", number="01234567")
    page = text(register(app, "Community Centre", "bea@south.example", number="07654321").page)
    assert "Check your email" in page
    assert sorted(organisations(app).values()) == ["Community Centre", "Community Centre"]


def test_a_registration_number_that_is_not_one_is_explained(client: FlaskClient) -> None:
    r = client.post("/auth/register", data={"name": "Bea", "organisation": "Oak", "number": "12",
                                            "email": "bea@oak.example", "password": PASSWORD, "confirm": PASSWORD})  # fmt: skip
    assert "Enter a charity number, like 1092345, or a Companies House number of 8 characters, " \
           "like 01234567 or SC123456, or leave this blank" in text(r)  # fmt: skip


def test_an_answered_number_is_the_organisations_and_another_organisation_is_refused_it(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    ann = applicant()
    ref = start_application(ann)
    assert save_number(ann, ref, "sc 12345").status_code == 302
    with app.app_context():
        st = store()
        small = st.user_by_email("ann@small.example")["organisation_id"]
        assert (
            st.organisation(small)["company_number"] == "SC012345"
        )  # as Companies House writes it
        assert st.case_by_reference(ref)["id"]
    bob = applicant("bob@other.example", "Other Org")
    theirs = start_application(bob)
    r = save_number(bob, theirs, "SC012345")
    assert r.status_code == 200
    page = text(r)
    assert REFUSED in page
    assert "ann@small.example" not in page
    # nothing of the page was saved: the case has no answers to the form
    assert "1 Dale Street" not in text(bob.get(f"/apply/cases/{theirs}/forms/{EOI}/check"))
    with app.app_context():
        other = store().user_by_email("bob@other.example")["organisation_id"]
        assert store().organisation(other)["company_number"] is None
    # a number that is not one is explained on the page
    assert "Enter a charity number, like 1092345" in text(save_number(bob, theirs, "ABC"))


@pytest.mark.parametrize(
    ("kind", "typed", "read"),
    [
        ("charity_or_company", " 1092345 ", ("charity", "1092345")),
        ("charity_or_company", "1092345-1", ("charity", "1092345-1")),
        ("charity_or_company", "01234567", ("company", "01234567")),
        ("charity_or_company", "0123456", ("company", "00123456")),  # no charity starts with 0
        ("charity_or_company", "sc123456", ("company", "SC123456")),
        ("charity_or_company", "12345", None),
        ("company", "1234567", ("company", "01234567")),
        ("company", "SC 1234", ("company", "SC001234")),
        ("company", "ABC12345", None),
        ("charity", "12345678", ("charity", "12345678")),
        ("charity", "SC012345", ("charity", "SC012345")),
        ("charity", "1234", None),
    ],
)
def test_numbers_are_written_one_way(kind: str, typed: str, read: tuple[str, str] | None) -> None:
    assert read_number(kind, typed) == read


def test_names_match_whatever_the_case_spacing_punctuation_or_legal_form() -> None:
    key = name_key("Demo Community Trust")
    for same in ("demo community trust ", "Demo Community Trust Ltd.", "The Demo Community Trust",
                 "DEMO  COMMUNITY-TRUST LIMITED", "Démo Community Trust CIO"):  # fmt: skip
        assert name_key(same) == key, same
    assert name_key("Arts & Crafts") == name_key("Arts and Crafts")
    assert name_key("Demo Community Trust North") != key
    assert name_key("Limited") == "limited"  # a name that is nothing but a legal form keeps it


def test_the_demo_has_one_demo_community_trust_and_points_newcomers_to_it(tmp_path: Path) -> None:
    db = database_in(tmp_path, "demo")
    seed(db, ROOT / "demo" / "seed.yaml", PASSWORD)
    app = create_app({"DATABASE": str(db), "SECRET_KEY": "t", "SESSION_COOKIE_SECURE": False,
                      "CLOCK": Clock("2022-01-20T10:00"), "WTF_CSRF_ENABLED": False,
                      "BASE_URL": "http://localhost"})  # fmt: skip
    assert list(organisations(app).values()).count("Demo Community Trust") == 1
    page = text(register(app, "Demo Community Trust Ltd", "new@example.org").page)
    assert "Demo Community Trust already has an account on this service" in page
    assert list(organisations(app).values()).count("Demo Community Trust") == 1
    assert any("tried" in m["subject"] for m in outbox(app, "applicant@example.org"))
    with app.app_context():  # the demo's answered registration number is its organisation's
        assert store().organisation_with_number("charity", "1092345") == "riverside_wellbeing"


def test_only_a_text_question_outside_a_group_can_name_the_organisation(tmp_path: Path) -> None:
    from engine import Linter

    forms = tmp_path / "forms"
    forms.mkdir()
    example = ROOT / "docs" / "example"
    form = (example / "forms" / "tiny_eoi.yaml").read_text("utf-8") + (
        "      - id: reg_count\n        type: number\n        label: How many numbers?\n"
        "        organisation_number: charity\n"
        "      - id: partners\n        type: group\n        label: Partners\n        questions:\n"
        "          - id: partner_number\n            type: text\n            label: Their number\n"
        "            organisation_number: company\n"
    )
    (forms / "tiny_eoi.yaml").write_text(form, "utf-8")
    path = tmp_path / "tiny.yaml"
    path.write_text((example / "programmes" / "tiny.yaml").read_text("utf-8"), "utf-8")
    problems = [str(p) for ps in Linter().programme(path, forms)[1].values() for p in ps]
    assert len(problems) == 2, problems
    assert "error[key-not-for-type]" in problems[0] and "it is for text questions" in problems[0]
    assert "error[organisation-number-in-group]" in problems[1]
    assert "ask it outside the group" in problems[1]


def test_a_good_upload_is_kept_when_the_number_beside_it_is_refused(
    app: Flask, applicant: Callable[..., FlaskClient], tmp_path: Path
) -> None:
    """The page is read, bound and saved in one transaction; the save refused (the number is
    another organisation's) takes the upload with it, so it is stored again on its own: a good
    upload is kept even while another answer on its page is refused."""
    # Liverpool's expression of interest, asking for an annual report beside the number
    shutil.copytree(ROOT / "forms", tmp_path / "forms")
    (tmp_path / "programmes").mkdir()
    shutil.copy(ROOT / "programmes" / "liverpool.yaml", tmp_path / "programmes")
    form = tmp_path / "forms" / "liverpool_expression_of_interest.yaml"
    asked = "        max_length: 50\n"
    form.write_text(form.read_text("utf-8").replace(asked, asked + (
        "      - id: annual_report_upload\n        type: file\n        required: false\n"
        "        label: Upload your latest annual report\n        accept: [pdf]\n"
    ), 1), "utf-8")  # fmt: skip
    with app.app_context():
        engine().publish(tmp_path / "programmes" / "liverpool.yaml")
    ann = applicant()
    assert save_number(ann, start_application(ann), "SC012345").status_code == 302
    bob = applicant("bob@other.example", "Other Org")
    theirs = start_application(bob)
    r = save_number(bob, theirs, "SC012345", annual_report_upload=(io.BytesIO(PDF), "report.pdf"))
    assert r.status_code == 200 and REFUSED in text(r)
    link = re.search(rf'href="(/apply/cases/{theirs}/files/[^"]+)"', r.data.decode())
    assert link, "the page does not show the upload as kept"
    assert bob.get(link.group(1)).data == PDF
    # and it is the form's answer: the page shows it again when opened afresh
    again = bob.get(f"/apply/cases/{theirs}/forms/{EOI}/pages/organisation").data.decode()
    assert link.group(1) in again and "1 Dale Street" not in again
