"""Staff sign in with their organisation's account, against a real OpenID Connect provider.

The provider (oidc-provider-mock) runs on this machine and signs real ID tokens; the app's Authlib
client does discovery, state, nonce, PKCE and the token's checks against it. Only the person at
the provider's page is played by the test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.errors import ConfigError
from engine.web.services import store

from ..oidc_provider import Provider, running_provider
from .conftest import PASSWORD, Clock, make_app, text

CALLBACK = "http://localhost/auth/staff/signed-in"  # BASE_URL + the callback's path
# the provider calls an Authlib server hook Authlib now marks deprecated: its warning, not ours
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """One provider for the module's tests (each test uses its own subjects)."""
    with running_provider() as running:
        yield running


@pytest.fixture
def app(tmp_path: Path, clock: Clock, provider: Provider) -> Flask:
    """The app with staff sign-in pointed at the local provider."""
    return make_app(tmp_path, clock, COMMISSION_OIDC_ISSUER=provider.issuer,
                    COMMISSION_OIDC_CLIENT_ID="commission-app",
                    COMMISSION_OIDC_CLIENT_SECRET="not-a-real-secret",
                    COMMISSION_OIDC_BUTTON="Sign in with your NHS or council account")  # fmt: skip


def invite(app: Flask, email: str, role: str, *, password: str | None = None) -> int:
    """An account someone made for this person (no password unless given); its id."""
    from werkzeug.security import generate_password_hash

    with app.app_context():
        st = store()
        with st.transaction():
            return st.create_user(email, password and generate_password_hash(password),
                                  email.split("@")[0].title(), role, None,
                                  "2022-01-01T09:00:00+00:00", confirmed=False)  # fmt: skip


def account(app: Flask, email: str) -> dict:
    """The account as the database has it now."""
    with app.app_context():
        found = store().user_by_email(email)
    assert found is not None
    return found


def sign_in_at_provider(
    browser: FlaskClient, provider: Provider, sub: str, start: str = "/auth/staff/sign-in"
) -> TestResponse:
    """Press the staff button, sign in at the provider as `sub`, and come back; our answer."""
    to_provider = browser.get(start)
    assert to_provider.status_code == 302
    back = provider.sign_in_as(to_provider.headers["Location"], sub)
    assert back.startswith(CALLBACK + "?"), back
    return browser.get(back)


def test_an_invited_commissioner_signs_in_with_their_organisations_account(
    app: Flask, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    invite(app, "cora@council.example", "commissioner")
    provider.person("cora-1", email="Cora@Council.example", email_verified=True, name="Cora")
    browser = app.test_client()
    page = browser.get("/auth/sign-in")
    assert "If you work on this service" in text(page)
    assert "Sign in with your NHS or council account" in text(page)
    # no password was ever set: the password form cannot let her in
    refused = browser.post("/auth/sign-in", data={"email": "cora@council.example", "password": PASSWORD})  # fmt: skip
    assert "Enter the email address and password of your account" in text(refused)
    html = refused.data.decode()  # the error summary leads the page, above the staff button
    assert html.count("govuk-error-summary__title") == 1
    assert html.index("govuk-error-summary") < html.index("If you work on this service")

    # the provider is sent the configured address to come back to, whatever Host was asked for
    elsewhere = browser.get("/auth/staff/sign-in", base_url="http://elsewhere.example")
    assert parse_qs(urlsplit(elsewhere.headers["Location"]).query)["redirect_uri"] == [CALLBACK]
    to_provider = browser.get("/auth/staff/sign-in")
    query = parse_qs(urlsplit(to_provider.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    with caplog.at_level(logging.INFO, logger="engine.web.oidc"):
        back = provider.sign_in_as(to_provider.headers["Location"], "cora-1")
        landed = browser.get(back)
    assert landed.status_code == 302 and landed.headers["Location"] == "/commission/"
    assert "Signed in as Cora" in text(browser.get("/commission/"))
    assert account(app, "cora@council.example")["confirmed_at"]  # the provider vouched for it
    code = parse_qs(urlsplit(back).query)["code"][0]
    assert code not in caplog.text

    # a page asked for before signing in is where she lands afterwards
    browser.post("/auth/sign-out")
    asked = browser.get("/commission/?page=1")
    assert asked.status_code == 302 and "next=" in asked.headers["Location"]
    signin_page = browser.get(asked.headers["Location"]).data.decode()
    start = signin_page.split('href="/auth/staff/sign-in')[1].split('"')[0].replace("&amp;", "&")
    landed = sign_in_at_provider(browser, provider, "cora-1", "/auth/staff/sign-in" + start)
    assert landed.headers["Location"] == "/commission/?page=1"


def test_an_email_with_no_account_is_refused_and_told_to_ask_for_an_invitation(
    app: Flask, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    provider.person("stranger-1", email="sam@hospital.example", email_verified=True)
    browser = app.test_client()
    with caplog.at_level(logging.WARNING, logger="engine.web.oidc"):
        refused = sign_in_at_provider(browser, provider, "stranger-1")
    assert refused.status_code == 403
    page = text(refused)
    assert "You do not have a staff account on this service" in page
    assert "sam@hospital.example" in page
    assert "Ask your administrator to invite you, then sign in again." in page
    assert browser.get("/commission/").status_code == 302  # nobody signed in
    assert "staff sign-in refused: no_account" in caplog.text
    assert "sam@hospital.example" not in caplog.text  # the log says why, not who
    with app.app_context():
        assert store().user_by_email("sam@hospital.example") is None  # no account made


def test_a_switched_off_account_is_refused(app: Flask, provider: Provider, clock: Clock) -> None:
    user_id = invite(app, "dan@council.example", "assessor")
    with app.app_context():
        st = store()
        with st.transaction():
            st.disable_user(user_id, clock().isoformat())
    provider.person("dan-1", email="dan@council.example", email_verified=True)
    browser = app.test_client()
    refused = sign_in_at_provider(browser, provider, "dan-1")
    assert refused.status_code == 403
    assert "Your account has been switched off" in text(refused)
    assert "ask your administrator to switch it back on" in text(refused)
    assert browser.get("/assess/").status_code == 302


def test_an_applicants_email_is_refused_and_their_password_still_works(
    app: Flask, provider: Provider
) -> None:
    invite(app, "ann@small.example", "applicant", password=PASSWORD)
    provider.person("ann-1", email="ann@small.example", email_verified=True)
    browser = app.test_client()
    refused = sign_in_at_provider(browser, provider, "ann-1")
    assert refused.status_code == 403
    page = text(refused)
    assert "This is not a staff account" in page
    assert "sign in with your email address and password" in page
    assert browser.get("/apply/applications").status_code == 302
    assert not account(app, "ann@small.example")["confirmed_at"]  # nothing changed for her
    signed = browser.post("/auth/sign-in", data={"email": "ann@small.example", "password": PASSWORD})  # fmt: skip
    assert "You need to confirm your email address" in text(signed)  # her own, password, way


@pytest.mark.parametrize("verified", [{"email_verified": False}, {}], ids=["false", "absent"])
def test_an_email_the_provider_has_not_verified_is_refused(
    app: Flask, provider: Provider, verified: dict
) -> None:
    invite(app, "una@council.example", "commissioner")
    sub = f"una-{len(verified)}"
    provider.person(sub, email="una@council.example", **verified)
    browser = app.test_client()
    refused = sign_in_at_provider(browser, provider, sub)
    assert refused.status_code == 403
    assert "We could not check your email address" in text(refused)
    assert "Ask your administrator or IT team" in text(refused)
    assert browser.get("/commission/").status_code == 302
    assert not account(app, "una@council.example")["confirmed_at"]


def test_entra_ids_domain_verified_claim_counts_as_a_verified_email(
    app: Flask, provider: Provider
) -> None:
    invite(app, "eve@nhs.example", "caseworker")
    provider.person(
        "eve-1", email="eve@nhs.example", xms_edov=True
    )  # Entra sends no email_verified
    landed = sign_in_at_provider(app.test_client(), provider, "eve-1")
    assert landed.status_code == 302 and landed.headers["Location"] == "/casework/"


def test_a_tampered_or_replayed_state_is_refused(app: Flask, provider: Provider) -> None:
    invite(app, "cora@council.example", "commissioner")
    provider.person("cora-2", email="cora@council.example", email_verified=True)
    browser = app.test_client()
    to_provider = browser.get("/auth/staff/sign-in")
    back = provider.sign_in_as(to_provider.headers["Location"], "cora-2")
    state = parse_qs(urlsplit(back).query)["state"][0]
    refused = browser.get(back.replace(f"state={state}", "state=forged"))
    assert refused.status_code == 400
    assert "Your sign-in timed out" in text(refused)
    assert "Go back to the sign-in page and try again." in text(refused)
    # the real answer, carried to another browser (someone else's link), signs nobody in there
    other = app.test_client()
    assert other.get(back).status_code == 400
    assert other.get("/commission/").status_code == 302
    assert browser.get("/commission/").status_code == 302


def test_cancelling_at_the_provider_says_so(app: Flask, provider: Provider) -> None:
    browser = app.test_client()
    to_provider = browser.get("/auth/staff/sign-in")
    back = provider.cancel(to_provider.headers["Location"])
    assert "error=access_denied" in back
    refused = browser.get(back)
    assert refused.status_code == 403
    assert "You have not signed in" in text(refused)
    assert "Try again." in text(refused)


def test_an_unreachable_provider_gets_a_page_saying_to_try_later(
    tmp_path: Path, clock: Clock
) -> None:
    app = make_app(tmp_path, clock, COMMISSION_OIDC_ISSUER="http://127.0.0.1:9",  # nothing listens
                   COMMISSION_OIDC_CLIENT_ID="x", COMMISSION_OIDC_CLIENT_SECRET="y")  # fmt: skip
    failed = app.test_client().get("/auth/staff/sign-in")
    assert failed.status_code == 502
    assert "Try again in a few minutes" in text(failed)


def test_without_settings_there_is_no_staff_button_and_no_staff_sign_in(
    tmp_path: Path, clock: Clock
) -> None:
    app = make_app(tmp_path, clock)
    browser = app.test_client()
    page = text(browser.get("/auth/sign-in"))
    assert "Sign in" in page and "If you work on this service" not in page
    assert "organisation's account" not in page
    assert browser.get("/auth/staff/sign-in").status_code == 404
    assert browser.get("/auth/staff/signed-in?code=x&state=y").status_code == 404


def test_half_the_settings_or_a_plain_http_provider_stops_the_app_starting(
    tmp_path: Path, clock: Clock
) -> None:
    with pytest.raises(ConfigError, match="COMMISSION_OIDC_CLIENT_SECRET"):
        make_app(tmp_path, clock, COMMISSION_OIDC_ISSUER="https://login.example/tenant/v2.0",
                 COMMISSION_OIDC_CLIENT_ID="x")  # fmt: skip
    with pytest.raises(ConfigError, match="https://"):
        make_app(tmp_path, clock, COMMISSION_OIDC_ISSUER="http://login.example/tenant/v2.0",
                 COMMISSION_OIDC_CLIENT_ID="x", COMMISSION_OIDC_CLIENT_SECRET="y")  # fmt: skip


def test_the_first_work_account_keeps_the_staff_account_until_an_administrator_forgets_it(
    app: Flask, provider: Provider
) -> None:
    from .panel import person

    user_id = invite(app, "cora@council.example", "commissioner")
    provider.person("cora-old", email="cora@council.example", email_verified=True)
    provider.person("someone-new", email="cora@council.example", email_verified=True)
    browser = app.test_client()
    assert sign_in_at_provider(browser, provider, "cora-old").status_code == 302
    browser.post("/auth/sign-out")
    # the provider gave the same address to another subject: that person signs nobody in
    refused = sign_in_at_provider(app.test_client(), provider, "someone-new")
    assert refused.status_code == 403
    assert "This is not the work account you sign in with" in text(refused)
    assert "ask your administrator to forget the old one" in text(refused)
    # her work account changed: an administrator forgets the old one, and the next one is kept
    admin = person(app, "root@council.example", "admin")
    page = text(admin.get(f"/admin/staff/{user_id}"))
    assert "Linked: they sign in with their organisation's account" in page
    admin.post(f"/admin/staff/{user_id}/forget-work-account")
    assert "forgot cora@council.example's work account" in text(
        admin.get(f"/admin/staff/{user_id}")
    )
    assert sign_in_at_provider(app.test_client(), provider, "someone-new").status_code == 302
    assert sign_in_at_provider(app.test_client(), provider, "cora-old").status_code == 403
