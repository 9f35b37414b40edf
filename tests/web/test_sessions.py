"""A session cookie is good only while its signature is good and it is younger than the lifetime,
however many times the same cookie was accepted before."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask, request
from flask.testing import FlaskClient


def test_a_session_older_than_its_lifetime_signs_the_person_out(
    app: Flask, applicant: Callable[..., FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = applicant()
    assert browser.get("/apply/applications").status_code == 200
    assert browser.get("/apply/applications").status_code == 200  # the same cookie, again
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 5
    monkeypatch.setattr(time, "time", lambda: later)
    r = browser.get("/apply/applications")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/auth/sign-in")


def test_a_changed_session_cookie_is_not_accepted(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    browser = applicant()
    assert browser.get("/apply/applications").status_code == 200
    cookie = browser.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    value = cookie.value
    forged = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    browser.set_cookie(app.config["SESSION_COOKIE_NAME"], forged)
    r = browser.get("/apply/applications")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/auth/sign-in")


def test_forms_still_post_with_the_token_of_an_earlier_page(
    applicant: Callable[..., FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = applicant()
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)  # both pages within the same second
    first = browser.get("/auth/organisation").get_data(as_text=True)
    second = browser.get("/auth/organisation").get_data(as_text=True)
    token = first.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert token in second  # signed once for the second: the same token on both pages
    r = browser.post("/auth/sign-out", data={"csrf_token": token})
    assert r.status_code == 302
    assert browser.get("/apply/applications").status_code == 302  # signed out


def test_a_change_to_one_requests_session_is_not_seen_by_the_next_with_the_same_cookie(
    app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    browser = applicant()
    assert browser.get("/apply/applications").status_code == 200
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = f"{name}={browser.get_cookie(name).value}"
    opened = []
    for _ in range(3):  # the first decodes the cookie, the others reuse what was checked
        with app.test_request_context(headers={"Cookie": cookie}):
            session = app.session_interface.open_session(app, request)
            opened.append(dict(session))
            session["user_id"] = -1
            session["_flashes"] = [("message", "Saved")]
    assert opened[0]["user_id"] != -1 and opened[0] == opened[1] == opened[2]
