"""Nothing typed is lost when a session runs out: re-signing in returns to the page, answers kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from .conftest import EOI, PASSWORD, Clock, make_app, start_application, text

NAME = "Ann <Applicant> O'Neil"


def _token(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1).decode()


def _sign_in(browser: FlaskClient, next_path: str | None, email: str = "ann@small.example") -> str:
    """Sign in through the page, as a person would; where it sends them."""
    query = {"next": next_path} if next_path else {}
    page = browser.get("/auth/sign-in", query_string=query)
    response = browser.post(
        "/auth/sign-in", query_string=query,
        data={"csrf_token": _token(page.data), "email": email, "password": PASSWORD},
    )  # fmt: skip
    assert response.status_code == 302, response.data
    return response.headers["Location"]


def _session_ran_out(app: Flask, browser: FlaskClient) -> None:
    """Ann signed in in this browser earlier; her session cookie has expired since."""
    _sign_in(browser, None)
    browser.delete_cookie(app.config["SESSION_COOKIE_NAME"])


def test_answers_typed_after_the_session_ran_out_come_back_after_signing_in(
    tmp_path: Path, clock: Clock, applicant: Callable[..., FlaskClient]
) -> None:
    ref = start_application(applicant())  # set up on the CSRF-free test app, same database
    app = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True)
    page = f"/apply/cases/{ref}/forms/{EOI}/pages/contact"
    # Ann signed in earlier in this browser; her session cookie has expired since, so the page
    # posts with no session and a dead token.
    browser = app.test_client()
    _session_ran_out(app, browser)
    posted = browser.post(page, data={"csrf_token": "from-the-old-session", "contact_name": NAME,
                                      "contact_role": "Director", "_action": "continue"})  # fmt: skip
    assert posted.status_code == 302
    target = posted.headers["Location"]
    assert target.startswith("/auth/sign-in?next=") and "kept%3D" in target

    sign_in_page = browser.get(target)
    assert sign_in_page.status_code == 200
    back = _sign_in(browser, parse_qs(urlsplit(target).query)["next"][0])
    assert back.startswith(page + "?kept=")

    shown = browser.get(back)
    assert shown.status_code == 200
    assert "Ann &lt;Applicant&gt; O&#39;Neil" in shown.data.decode()
    assert "Your answers on this page are not saved yet" in text(shown)
    # not saved until the person saves it
    plain = browser.get(page)
    assert "Applicant" not in plain.data.decode() and "not saved yet" not in text(plain)

    saved = browser.post(back, data={"csrf_token": _token(shown.data), "contact_name": NAME, "contact_role": "Director",
                                     "_action": "save"})  # fmt: skip
    assert saved.status_code == 302
    again = browser.get(page)
    assert "Ann &lt;Applicant&gt; O&#39;Neil" in again.data.decode()
    # once saved, the kept copy is gone: the old address shows the saved page, no banner
    assert "not saved yet" not in text(browser.get(back))


def test_kept_answers_are_only_shown_to_the_browser_that_typed_them(
    tmp_path: Path, clock: Clock, applicant: Callable[..., FlaskClient]
) -> None:
    ref = start_application(applicant())
    app = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True)
    page = f"/apply/cases/{ref}/forms/{EOI}/pages/contact"
    typing = app.test_client()
    _session_ran_out(app, typing)
    typed = typing.post(page, data={"contact_name": NAME, "_action": "save"})
    kept_at = re.search(r"kept%3D([\w-]+)", typed.headers["Location"]).group(1)
    other = app.test_client()  # the same person, another browser: the link alone is not enough
    _sign_in(other, None)
    shown = other.get(f"{page}?kept={kept_at}")
    assert shown.status_code == 200 and "Applicant" not in shown.data.decode()


def test_a_signed_in_person_whose_form_token_expired_goes_straight_back_with_answers(
    tmp_path: Path, clock: Clock, applicant: Callable[..., FlaskClient]
) -> None:
    ref = start_application(applicant())
    app = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True)
    page = f"/apply/cases/{ref}/forms/{EOI}/pages/contact"
    browser = app.test_client()
    _sign_in(browser, None)
    posted = browser.post(
        page, data={"csrf_token": "expired", "contact_name": NAME, "_action": "save"}
    )
    assert posted.status_code == 302 and posted.headers["Location"].startswith(page + "?kept=")
    assert "Ann &lt;Applicant&gt;" in browser.get(posted.headers["Location"]).data.decode()


def test_other_forms_are_still_refused_when_their_token_is_stale(
    tmp_path: Path, clock: Clock
) -> None:
    app = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True)
    response = app.test_client().post(
        "/auth/sign-in", data={"csrf_token": "stale", "email": "a@b.example"}
    )
    assert response.status_code == 400 and "Your page timed out" in text(response)


def test_a_post_from_a_browser_that_was_never_signed_in_keeps_nothing(
    tmp_path: Path, clock: Clock, applicant: Callable[..., FlaskClient]
) -> None:
    # a cross-site form, or a script with no cookie: nothing is stored, no session is started
    ref = start_application(applicant())
    app = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True)
    page = f"/apply/cases/{ref}/forms/{EOI}/pages/contact"
    stranger = app.test_client()
    posted = stranger.post(page, data={"contact_name": "Mallory's answer", "_action": "save"})
    assert posted.status_code in (302, 400) and "kept" not in posted.headers.get("Location", "")
    assert app.config["SESSION_COOKIE_NAME"] not in posted.headers.get("Set-Cookie", "")
    # Ann signs in in that same browser later: nothing of Mallory's is waiting for her
    back = _sign_in(stranger, page)
    assert "Mallory" not in stranger.get(back).data.decode()


def test_a_signed_out_session_keeps_nothing_and_a_huge_post_is_not_stored(
    tmp_path: Path, clock: Clock, applicant: Callable[..., FlaskClient]
) -> None:
    ref = start_application(applicant())
    app = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True)
    page = f"/apply/cases/{ref}/forms/{EOI}/pages/contact"
    browser = app.test_client()
    _session_ran_out(app, browser)
    huge = browser.post(page, data={"contact_name": "x" * 300_000, "_action": "save"})
    assert "kept" not in huge.headers.get("Location", "")
    _sign_in(browser, None)
    browser.post(
        "/auth/sign-out", data={"csrf_token": _token(browser.get("/apply/applications").data)}
    )
    after = browser.post(page, data={"contact_name": NAME, "_action": "save"})
    assert "kept" not in after.headers.get("Location", "")
