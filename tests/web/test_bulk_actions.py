"""A commissioner takes one action on many cases from the list, and sees what happened to each."""

from __future__ import annotations

import html as markup
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from engine.runtime import Actor, Engine

from ..conftest import account
from .conftest import EOI, LIVERPOOL, PASSWORD, Clock, make_app
from .conftest import text as page_text
from .panel import person
from .test_generic import EOI_ANSWERS

CORA = Actor("commissioner", "cora@council.example")
LIST = f"/commission/{LIVERPOOL}/cases?workflow=application&state=eoi_submitted&sort=reference"
BRADFORD = "bradford_healthy_minds_wave2"


def text(response: TestResponse) -> str:
    """The page's words, entities decoded."""
    return markup.unescape(page_text(response))


def submitted_eoi(engine: Engine, org: str, **answers: object) -> str:
    """An expression of interest of organisation `org`, answered and submitted; its reference."""
    actor = Actor("applicant", f"{org}@example.org", org)
    case = engine.start_case(LIVERPOOL, "application", actor, organisation_name=org.title())
    engine.save_answers(case.id, EOI, {**EOI_ANSWERS, **answers}, actor)
    return engine.act(case.id, "submit_eoi", actor).reference


@pytest.fixture
def engine(app: Flask, clock: Clock) -> Engine:
    """An engine on the app's database."""
    return Engine(app.config["DATABASE"], clock=clock)


@pytest.fixture
def cora(app: Flask) -> FlaskClient:
    """A commissioner of every programme, signed in."""
    return person(app, "cora@council.example", "commissioner")


def form_action(html: str, button: str) -> str:
    """Where the form holding the button or field `button` posts."""
    forms = re.findall(r'<form method="post" action="([^"]+)"(.*?)</form>', html, re.S)
    return markup.unescape(next(action for action, body in forms if button in body))


def test_a_commissioner_confirms_many_expressions_of_interest_and_sees_each_result(
    engine: Engine, cora: FlaskClient
) -> None:
    good = [submitted_eoi(engine, "org_a"), submitted_eoi(engine, "org_b")]
    small = submitted_eoi(engine, "org_c", income=500000)
    engine.start_case(LIVERPOOL, "application", Actor("applicant", "d", "org_d"))  # a draft

    # the whole list, not filtered to one state, offers no bulk action
    assert "Select all" not in text(cora.get(f"/commission/{LIVERPOOL}/cases"))
    listing = cora.get(LIST)
    page, html = text(listing), listing.data.decode()
    assert "Select all 3 matching cases" in page
    assert all(f"Select {ref}" in page for ref in [*good, small])
    assert "Confirm eligible" in page and "Mark as not eligible" in page
    assert "confirm_eligible" not in page and "eoi_submitted" not in page  # labels, never ids

    confirm = cora.post(
        form_action(html, 'name="all"'), data={"all": "yes", "action": "confirm_eligible"}
    )
    page = text(confirm)
    assert "Are you sure you want to confirm eligible for 3 cases?" in page
    assert "Each case that can be will be: Eligible" in page
    assert all(ref in page for ref in [*good, small])
    assert "This cannot be undone" not in page  # eligible is not final, and moves no money
    back = form_action(confirm.data.decode(), 'name="confirmed"')
    fields = {"confirmed": "yes", "action": "confirm_eligible", "cases": [*good, small]}
    assert engine.case(good[0], CORA).state == "eoi_submitted"  # nothing done before confirming

    done = cora.post(back, data=fields)
    page = text(done)
    assert "2 done, 1 not done" in page
    assert re.search(rf"{small} Not done Expression of interest submitted .*must be over £750,000: you entered £500,000", page)  # fmt: skip
    assert all(f"{ref} Done Eligible" in page for ref in good)
    assert f'href="/commission/cases/{small}"' in done.data.decode()
    # "Back to the list" returns to the list as it was filtered
    assert f'href="{markup.escape(LIST)}"' in done.data.decode()
    assert [engine.case(r, CORA).state for r in [*good, small]] == ["eligible", "eligible", "eoi_submitted"]  # fmt: skip
    # the list now holds only the case left to decide
    assert "Select all 1 matching case" in text(cora.get(LIST))


def test_choosing_nothing_says_what_to_do_and_a_reason_is_asked_once_for_all(
    engine: Engine, cora: FlaskClient
) -> None:
    refs = [submitted_eoi(engine, "org_a"), submitted_eoi(engine, "org_b")]
    choose = form_action(cora.get(LIST).data.decode(), 'name="all"')

    r = cora.post(choose, data={"action": "find_ineligible"}, follow_redirects=True)
    assert "Select the cases to act on, or select all matching cases" in text(r)
    r = cora.post(choose, data={"cases": refs[0]}, follow_redirects=True)
    assert "Select what to do with the cases you chose" in text(r)

    confirm = cora.post(choose, data={"cases": refs, "action": "find_ineligible"})
    page = text(confirm)
    assert "Are you sure you want to mark as not eligible for 2 cases?" in page
    assert "The same reason is recorded on every case. Applicants will see it" in page
    assert "This cannot be undone." in page  # not eligible is a final state
    act = form_action(confirm.data.decode(), 'name="confirmed"')
    fields = {"confirmed": "yes", "action": "find_ineligible", "cases": refs}
    r = cora.post(act, data=fields)
    assert "Enter a reason: it is recorded on every case" in text(r)
    assert [engine.case(ref, CORA).state for ref in refs] == ["eoi_submitted"] * 2

    r = cora.post(act, data={**fields, "reason": "Your safeguarding policy is out of date."})
    assert "2 done, 0 not done" in text(r)
    assert [engine.case(ref, CORA).state for ref in refs] == ["ineligible"] * 2


def test_a_commissioner_of_another_programme_gets_page_not_found(
    app: Flask, engine: Engine
) -> None:
    ref = submitted_eoi(engine, "org_a")
    with app.app_context():
        account(engine.store, "bo@bradford.example", "Bo", "commissioner", programme=BRADFORD,
                password_hash=generate_password_hash(PASSWORD))  # fmt: skip
    bo = app.test_client()
    assert bo.post("/auth/sign-in", data={"email": "bo@bradford.example", "password": PASSWORD}).status_code == 302  # fmt: skip
    query = "?workflow=application&state=eoi_submitted"
    assert bo.get(f"/commission/{LIVERPOOL}/cases{query}").status_code == 404
    chosen = {"cases": ref, "action": "confirm_eligible"}
    assert bo.post(f"/commission/{LIVERPOOL}/cases/bulk{query}", data=chosen).status_code == 404
    r = bo.post(
        f"/commission/{LIVERPOOL}/cases/bulk/act{query}", data={**chosen, "confirmed": "yes"}
    )
    assert r.status_code == 404
    assert engine.case(ref, CORA).state == "eoi_submitted"


def test_each_step_is_refused_without_the_forms_csrf_token(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True)
    engine = Engine(app.config["DATABASE"], clock=clock)
    ref = submitted_eoi(engine, "org_a")
    with app.app_context():
        account(engine.store, "cora@council.example", "Cora", "commissioner",
                password_hash=generate_password_hash(PASSWORD))  # fmt: skip
    cora = app.test_client()
    signed_in = {"email": "cora@council.example", "password": PASSWORD,
                 "csrf_token": token(cora.get("/auth/sign-in").data.decode())}  # fmt: skip
    assert cora.post("/auth/sign-in", data=signed_in).status_code == 302

    listing = cora.get(LIST).data.decode()
    chosen = {"cases": ref, "action": "confirm_eligible"}
    choose = form_action(listing, 'name="all"')
    assert cora.post(choose, data=chosen).status_code == 400
    confirm = cora.post(choose, data={**chosen, "csrf_token": token(listing)}).data.decode()
    act = form_action(confirm, 'name="confirmed"')
    assert cora.post(act, data={**chosen, "confirmed": "yes"}).status_code == 400
    assert engine.case(ref, CORA).state == "eoi_submitted"
    r = cora.post(act, data={**chosen, "confirmed": "yes", "csrf_token": token(confirm)})
    assert "1 done, 0 not done" in text(r)


def token(html: str) -> str:
    """The CSRF token a page's form carries."""
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert found, "the form carries a CSRF token"
    return found.group(1)
