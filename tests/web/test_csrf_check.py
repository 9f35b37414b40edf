"""Every POST's CSRF token (Flask-WTF's) is checked in full each time: a page's token works again
and again while it is young, and a changed, expired, future, foreign or other-key token is refused
with the same page, however often the real one was accepted before."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from .conftest import EOI, PASSWORD, Clock, make_app, start_application, text

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _signed_in(app: Flask, email: str = "ann@small.example", base_url: str = "http://localhost") -> FlaskClient:  # fmt: skip
    """A browser signed in through the sign-in page of an app that checks CSRF tokens."""
    browser = app.test_client()
    page = browser.get("/auth/sign-in", base_url=base_url).get_data(as_text=True)
    r = browser.post("/auth/sign-in", base_url=base_url, headers={"Referer": f"{base_url}/auth/sign-in"},
                     data={"csrf_token": TOKEN.search(page).group(1), "email": email, "password": PASSWORD})  # fmt: skip
    assert r.status_code == 302, r.status_code
    return browser


def _page_and_token(browser: FlaskClient, path: str, base_url: str = "http://localhost") -> str:
    return TOKEN.search(browser.get(path, base_url=base_url).get_data(as_text=True)).group(1)


@pytest.fixture
def checked(
    tmp_path: Path, clock: Clock, applicant: Callable[..., FlaskClient]
) -> tuple[Flask, str]:
    """An app checking CSRF tokens (valid for a minute) and an applicant's case on its database."""
    ref = start_application(applicant())  # set up on the CSRF-free test app, same database
    return make_app(tmp_path, clock, WTF_CSRF_ENABLED=True, WTF_CSRF_TIME_LIMIT=60), ref


def _refused(r: object) -> bool:
    return r.status_code == 400 and "Your page timed out" in text(r)  # type: ignore[attr-defined]


def test_a_pages_token_saves_the_page_again_and_again(checked: tuple[Flask, str]) -> None:
    app, ref = checked
    browser = _signed_in(app)
    page = f"/apply/cases/{ref}/forms/{EOI}/pages/contact"
    token = _page_and_token(browser, page)
    for name in ("Ann One", "Ann Two", "Ann Three"):
        r = browser.post(page, data={"csrf_token": token, "contact_name": name, "_action": "save"})
        assert r.status_code == 302
        assert f'value="{name}"' in browser.get(page).get_data(as_text=True)


def test_a_changed_token_is_refused_after_the_real_one_was_accepted(checked: tuple[Flask, str]) -> None:  # fmt: skip
    app, ref = checked
    browser = _signed_in(app)
    token = _page_and_token(browser, f"/apply/cases/{ref}")
    page = f"/apply/cases/{ref}/forms/{EOI}/pages/contact"
    assert browser.post(page, data={"csrf_token": token, "_action": "save"}).status_code == 302
    changed = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert _refused(browser.post("/auth/sign-out", data={"csrf_token": changed}))
    assert _refused(browser.post("/auth/sign-out", data={}))
    assert browser.get("/apply/applications").status_code == 200  # still signed in
    assert browser.post("/auth/sign-out", data={"csrf_token": token}).status_code == 302
    assert browser.get("/apply/applications").status_code == 302  # signed out


def test_a_token_past_its_time_limit_or_from_the_future_is_refused(
    checked: tuple[Flask, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, ref = checked
    browser = _signed_in(app)
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start)
    token = _page_and_token(browser, f"/apply/cases/{ref}")
    page = f"/apply/cases/{ref}/forms/{EOI}/pages/contact"
    assert browser.post(page, data={"csrf_token": token, "_action": "save"}).status_code == 302
    monkeypatch.setattr(time, "time", lambda: start + 60)  # the last second it is good for
    assert browser.post(page, data={"csrf_token": token, "_action": "save"}).status_code == 302
    for moment in (start + 61, start - 5):  # a minute and a second old; signed "in the future"
        monkeypatch.setattr(time, "time", lambda moment=moment: moment)
        assert _refused(browser.post("/auth/sign-out", data={"csrf_token": token}))
    monkeypatch.setattr(time, "time", lambda: start + 30)
    assert browser.post("/auth/sign-out", data={"csrf_token": token}).status_code == 302


def test_another_browsers_token_is_refused(checked: tuple[Flask, str]) -> None:
    app, ref = checked
    mine, theirs = _signed_in(app), _signed_in(app)
    my_token = _page_and_token(mine, f"/apply/cases/{ref}")  # each session holds its own token
    their_token = _page_and_token(theirs, f"/apply/cases/{ref}")
    assert my_token != their_token
    page = f"/apply/cases/{ref}/forms/{EOI}/pages/contact"
    assert theirs.post(page, data={"csrf_token": their_token, "_action": "save"}).status_code == 302
    assert _refused(mine.post("/auth/sign-out", data={"csrf_token": their_token}))
    assert mine.get("/apply/applications").status_code == 200


def test_a_token_signed_with_another_key_is_refused(checked: tuple[Flask, str]) -> None:
    app, ref = checked
    browser = _signed_in(app)
    token = _page_and_token(browser, f"/apply/cases/{ref}")
    with browser.session_transaction() as held:  # this session's own token, signed with another key
        other = URLSafeTimedSerializer("another key", salt="wtf-csrf-token").dumps(
            held["csrf_token"]
        )
    assert _refused(browser.post("/auth/sign-out", data={"csrf_token": other}))
    assert browser.post("/auth/sign-out", data={"csrf_token": token}).status_code == 302


def test_on_https_a_post_needs_a_referrer_from_this_host(checked: tuple[Flask, str]) -> None:
    app, ref = checked
    https = "https://localhost"
    browser = _signed_in(app, base_url=https)
    token = _page_and_token(browser, f"/apply/cases/{ref}", base_url=https)
    sign_out = {"path": "/auth/sign-out", "base_url": https, "data": {"csrf_token": token}}
    assert _refused(browser.post(**sign_out))  # no Referer
    assert _refused(browser.post(**sign_out, headers={"Referer": "https://elsewhere.example/"}))
    assert browser.post(**sign_out, headers={"Referer": f"{https}/apply/cases/{ref}"}).status_code == 302  # fmt: skip
