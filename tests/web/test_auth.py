"""Register, sign in and out, reset a password through the outbox, share an organisation."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from engine.web.services import store

from .conftest import PASSWORD, confirm_email, start_application, text


def _outbox(app: Flask, email: str) -> list[dict]:
    with app.app_context():
        return store().outbox_for(email)


def test_sign_up_is_confirmed_by_email_and_never_says_an_address_has_an_account(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    ann = applicant()  # signs up, then opens the link emailed to her: signed in
    assert "Signed in as Ann Example" in text(ann.get("/apply/applications"))
    data = {"name": "X", "organisation": "Y", "password": PASSWORD, "confirm": PASSWORD}
    taken = app.test_client()
    r_taken = taken.post("/auth/register", data={**data, "email": "ANN@small.example"})
    r_new = app.test_client().post("/auth/register", data={**data, "email": "new@small.example"})
    said = [
        text(r).split("We have sent an email to ")[1].split(". Open")[0] for r in (r_taken, r_new)
    ]
    assert said == ["ann@small.example", "new@small.example"]  # the same words either way
    assert taken.get("/apply/applications").status_code == 302  # and nobody signed in
    [told] = [m for m in _outbox(app, "ann@small.example") if "tried" in m["subject"]]
    assert told["subject"] == "Someone tried to create an account with your email address"
    assert "Signed in as Ann Example" in text(ann.get("/apply/applications"))  # hers, unchanged


def test_an_account_not_yet_confirmed_cannot_sign_in_and_is_sent_a_new_link(
    app: Flask, client: FlaskClient
) -> None:
    client.post("/auth/register", data={"name": "Una", "organisation": "Org", "email": "una@org.example",
                                        "password": PASSWORD, "confirm": PASSWORD})  # fmt: skip
    r = client.post("/auth/sign-in", data={"email": "una@org.example", "password": PASSWORD})
    assert r.status_code == 200
    assert "You need to confirm your email address before you can sign in" in text(r)
    assert client.get("/apply/applications").status_code == 302
    links = [
        m for m in _outbox(app, "una@org.example") if m["subject"] == "Confirm your email address"
    ]
    assert len(links) == 2
    confirm_email(app, client, "una@org.example")  # the newest link works
    assert "Signed in as Una" in text(client.get("/apply/applications"))


def test_register_explains_each_problem(client: FlaskClient) -> None:
    r = client.post("/auth/register", data={"name": "", "organisation": "Org", "email": "nope", "password": "short", "confirm": "other"})  # fmt: skip
    page = text(r)
    assert "Enter your full name" in page
    assert "Enter an email address in the correct format" in page
    assert "Your password must be at least 10 characters long" in page
    assert 'href="#name"' in r.data.decode()


def test_sign_in_and_out(app: Flask, applicant: Callable[..., FlaskClient]) -> None:
    applicant().post("/auth/sign-out")
    browser = app.test_client()
    r = browser.post(
        "/auth/sign-in", data={"email": "ann@small.example", "password": "wrong password!"}
    )
    assert r.status_code == 200 and "Enter the email address and password of your account" in text(
        r
    )
    r = browser.post("/auth/sign-in?next=/apply/", data={"email": "ann@small.example", "password": PASSWORD})  # fmt: skip
    assert r.headers["Location"] == "/apply/"
    r = browser.post("/auth/sign-in?next=//evil.example/", data={"email": "ann@small.example", "password": PASSWORD})  # fmt: skip
    assert r.headers["Location"] == "/apply/applications"
    browser.post("/auth/sign-out")
    assert browser.get("/apply/applications").status_code == 302


def test_a_reset_link_goes_to_the_outbox_works_once_and_signs_out_old_sessions(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    old_session = applicant()
    browser = app.test_client()
    r = browser.post("/auth/reset", data={"email": "ann@small.example"})
    assert "Check your email" in text(r)
    r = browser.post("/auth/reset", data={"email": "nobody@else.example"})
    assert "Check your email" in text(r)  # the same answer: it never says who has an account
    assert _outbox(app, "nobody@else.example") == []
    [message] = [
        m for m in _outbox(app, "ann@small.example") if m["subject"] == "Reset your password"
    ]
    link = re.search(r"http://localhost(/auth/reset/\S+)", message["body"]).group(1)
    r = browser.post(
        link, data={"password": "a brand new password", "confirm": "a brand new password"}
    )
    assert r.status_code == 302
    assert browser.get(link).status_code == 400  # used
    assert old_session.get("/apply/applications").status_code == 302  # signed out by the change
    fresh = app.test_client()
    r = fresh.post("/auth/sign-in", data={"email": "ann@small.example", "password": "a brand new password"})  # fmt: skip
    assert r.status_code == 302


def test_an_expired_reset_link_is_refused(app: Flask, applicant: Callable[..., FlaskClient], clock) -> None:  # fmt: skip
    applicant()
    browser = app.test_client()
    browser.post("/auth/reset", data={"email": "ann@small.example"})
    link = re.search(r"http://localhost(/auth/reset/\S+)", _outbox(app, "ann@small.example")[0]["body"]).group(1)  # fmt: skip
    clock.set("2022-01-20T13:00")
    assert "This link has expired" in text(browser.get(link))
    assert browser.get("/auth/reset/not-a-token").status_code == 400


def test_colleagues_share_the_organisations_applications(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    ann = applicant()
    ref = start_application(ann)
    r = ann.post("/auth/organisation", data={"name": "Ben Colleague", "email": "ben@small.example"})
    assert r.status_code == 302
    [message] = _outbox(app, "ben@small.example")
    assert message["subject"] == "You have been added to Small Org"
    link = re.search(r"http://localhost(/auth/reset/\S+)", message["body"]).group(1)
    ben = app.test_client()
    ben.post(link, data={"password": "bens own password", "confirm": "bens own password"})
    assert ref in text(ben.get("/apply/applications"))
    assert ben.get(f"/apply/cases/{ref}").status_code == 200
    assert "Ben Colleague" in text(ann.get("/auth/organisation"))


def test_guessing_a_password_is_paused_after_five_tries(app: Flask, applicant: Callable[..., FlaskClient], clock) -> None:  # fmt: skip
    applicant("ann@small.example")
    browser = app.test_client()
    for _ in range(5):
        r = browser.post(
            "/auth/sign-in", data={"email": "ann@small.example", "password": "wrong guess"}
        )
        assert r.status_code == 200 and "Enter the email address and password" in r.data.decode()
    r = browser.post("/auth/sign-in", data={"email": "ann@small.example", "password": PASSWORD})
    assert (
        r.status_code == 429 and "Too many attempts" in r.data.decode()
    )  # even the right password waits
    clock.set("2022-01-20T10:16")  # a quarter of an hour later
    r = browser.post("/auth/sign-in", data={"email": "ann@small.example", "password": PASSWORD})
    assert r.status_code == 302
