"""The deployment's own identity: its name, operator and phase, never GOV.UK's crown or copyright."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.definition.loader import load_programme

from ..conftest import ROOT
from .conftest import Clock, make_app, text

FOOTER = {
    "/accessibility": "Accessibility statement",
    "/privacy": "Privacy notice",
    "/cookies": "Cookies",
    "/contact": "Contact",
}
PAGES = ("/", "/apply/", "/auth/sign-in", "/no-such-page", *FOOTER)


def _no_govuk_brand(html: str) -> None:
    assert "Crown copyright" not in html
    assert "Open Government Licence" not in html
    assert 'aria-label="GOV.UK"' not in html  # the logotype's label
    assert "govuk-logo" not in html and "govuk-header__logotype" not in html  # the crown's SVG
    assert "govuk-icon" not in html  # GOV.UK's crown icons for tabs and home screens


def test_no_page_shows_the_govuk_brand(client: FlaskClient) -> None:
    for path in PAGES:
        _no_govuk_brand(client.get(path).data.decode())


def test_the_defaults_name_the_demo_service(client: FlaskClient) -> None:
    html = client.get("/").data.decode()
    shown = text(client.get("/")).replace(" .", ".")  # the link's closing tag, read as a space
    assert "<title>Apply for community funding – Apply for community funding</title>" in html
    assert "Demo council" in shown
    assert "This is a new service. Help us improve it and give your feedback (opens in new tab)." in shown  # fmt: skip
    assert 'href="mailto:funding@example.org" rel="noreferrer noopener" target="_blank"' in html


def test_the_configured_identity_is_shown(tmp_path: Path, clock: Clock) -> None:
    app = make_app(
        tmp_path, clock,
        COMMISSION_SERVICE_NAME="Find a community grant", COMMISSION_OPERATOR="Leeds <City> Council",
        COMMISSION_PHASE="alpha", COMMISSION_FEEDBACK_URL="https://example.org/feedback",
        COMMISSION_CONTACT_EMAIL="grants@leeds.example",
    )  # fmt: skip
    browser = app.test_client()
    for path in PAGES:
        html = browser.get(path).data.decode()
        _no_govuk_brand(html)
        assert "– Find a community grant</title>" in html
        assert "Leeds &lt;City&gt; Council" in html and "Leeds <City>" not in html
        assert '<strong class="govuk-tag govuk-phase-banner__content__tag">\n      Alpha' in html
        assert 'href="https://example.org/feedback" rel="noreferrer noopener" target="_blank">give your feedback (opens in new tab)</a>' in html  # fmt: skip
        assert "Apply for community funding" not in html
    assert "grants@leeds.example" in text(browser.get("/contact"))


def test_the_environment_sets_the_identity(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMISSION_OPERATOR", "Bradford District Care NHS Foundation Trust")
    monkeypatch.setenv("COMMISSION_CONTACT_EMAIL", "vcs@bdct.example")
    html = make_app(tmp_path, clock).test_client().get("/").data.decode()
    assert "Bradford District Care NHS Foundation Trust" in html
    assert 'href="mailto:vcs@bdct.example"' in html  # the feedback link follows the contact email


def test_a_feedback_link_must_be_a_web_or_email_address(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, clock, COMMISSION_FEEDBACK_URL="javascript:alert(1)")
    html = app.test_client().get("/").data.decode()
    assert "javascript:" not in html and 'href="mailto:funding@example.org"' in html


def test_a_live_service_shows_no_phase_banner(tmp_path: Path, clock: Clock) -> None:
    html = make_app(tmp_path, clock, COMMISSION_PHASE="live").test_client().get("/").data.decode()
    assert "govuk-phase-banner" not in html


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_footer_link_works(
    client: FlaskClient, applicant: Callable[..., FlaskClient], signed_in: bool
) -> None:
    browser = applicant() if signed_in else client
    html = browser.get("/apply/").data.decode()
    footer = html[html.index('<footer class="govuk-footer">') :]
    assert "This service is run by Demo council." in text_of(footer)
    for path, title in FOOTER.items():
        assert f'<a class="govuk-footer__link" href="{path}">{title}</a>' in footer
        response = browser.get(path)
        assert response.status_code == 200, path
        assert f"<title>{title} – Apply for community funding</title>" in response.data.decode()
        assert ("Signed in as Ann Example" in text(response)) == signed_in


def text_of(html: str) -> str:
    """Markup's text, tags and runs of space removed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_the_statement_cookies_and_contact_pages_say_what_they_must(client: FlaskClient) -> None:
    statement = text(client.get("/accessibility"))
    assert "Demo council runs this service" in statement
    assert "WCAG) version 2.2 AA" in statement
    assert "Known issues" in statement and "table beside it" in statement
    assert "email funding@example.org" in statement
    cookies = text(client.get("/cookies"))
    assert "commission_session" in cookies and "8 hours after you sign in" in cookies
    assert "commission_signed_in" in cookies and "1 day and 8 hours after you sign in" in cookies
    assert "only uses essential cookies" in cookies
    assert "funding@example.org" in text(client.get("/contact"))


def test_the_privacy_notice_lists_personal_questions_by_label(client: FlaskClient) -> None:
    page = client.get("/privacy")
    shown = text(page)
    assert "Demo council is the data controller" in shown
    programme = load_programme(ROOT / "programmes" / "bradford.yaml")
    personal = [
        q for form in programme.forms.values() for q in form.questions().values()
        if q.holds_personal_data()
    ]  # fmt: skip
    assert personal
    assert programme.name in shown
    for question in personal:
        assert question.label in shown
        if "_" in question.id:  # a one-word id ("goal") may be a word of a label
            assert question.id not in page.data.decode()
    special = next(q for q in personal if q.spec.get("special_category"))
    after = shown.index("Special category information", shown.index(programme.name))
    assert shown.index(special.label, shown.index(programme.name)) > after


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#00703c;}body{display:none", ""])
def test_an_invalid_brand_colour_is_ignored(tmp_path: Path, clock: Clock, colour: str) -> None:
    browser = make_app(tmp_path, clock, COMMISSION_BRAND_COLOUR=colour).test_client()
    assert "brand.css" not in browser.get("/").data.decode()
    assert browser.get("/static/brand.css").data == b""


def test_a_brand_colour_borders_the_header(tmp_path: Path, clock: Clock) -> None:
    app: Flask = make_app(tmp_path, clock, COMMISSION_BRAND_COLOUR="#005EB8")
    browser = app.test_client()
    assert '<link rel="stylesheet" href="/static/brand.css">' in browser.get("/").data.decode()
    css = browser.get("/static/brand.css")
    assert css.mimetype == "text/css"
    assert css.data == b".govuk-header__container{border-bottom-color:#005EB8}\n"
