"""Every route declares who may use it, and the declaration is enforced."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from engine.web.access import AUDIENCES, safe_next

from .conftest import Clock, start_application


def test_every_route_declares_who_may_use_it(app: Flask) -> None:
    undeclared = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        allowed = getattr(view, "allowed", None)
        if not allowed or not set(allowed) <= set(AUDIENCES):
            undeclared.append(f"{rule.rule} ({rule.endpoint})")
    assert not undeclared, f"routes without @allow(...): {undeclared}"
    assert len(list(app.url_map.iter_rules())) > 15


def test_signed_out_people_are_sent_to_sign_in_and_back(client: FlaskClient) -> None:
    r = client.get("/apply/applications")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/auth/sign-in?next=/apply/applications")


def test_a_role_not_named_is_refused(app: Flask) -> None:
    from engine.web.services import store

    with app.app_context():
        s = store()
        with s.transaction():
            s.create_user(
                "cora@council.example", _hash(), "Cora", "commissioner", None, "2022-01-01"
            )
    browser = app.test_client()
    browser.post("/auth/sign-in", data={"email": "cora@council.example", "password": "a long enough password"})  # fmt: skip
    assert browser.get("/apply/applications").status_code == 403
    assert browser.get("/apply/").status_code == 200


def _hash() -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash("a long enough password")


def test_another_organisations_applicant_gets_404_for_its_case_answers_and_files(
    applicant: Callable[..., FlaskClient],
) -> None:
    import io

    ann = applicant()
    ref = start_application(ann)
    eoi = "liverpool_expression_of_interest"
    page = f"/apply/cases/{ref}/forms/{eoi}/pages/type_and_governance"
    ann.post(page, data={"organisation_type": "registered_charity", "has_governing_document": "yes", "_action": "save"})  # fmt: skip
    ann.post(page, data={"organisation_type": "registered_charity", "has_governing_document": "yes", "_action": "save",
                         "governing_document_upload": (io.BytesIO(b"%PDF-1.4 x"), "c.pdf")},
             content_type="multipart/form-data")  # fmt: skip
    html = ann.get(page).data.decode()
    file_url = html.split(f'href="/apply/cases/{ref}/files/')[1].split('"')[0]
    file_url = f"/apply/cases/{ref}/files/{file_url}"
    assert ann.get(file_url).status_code == 200

    bea = applicant("bea@big.example", "Big Org")
    for url in (f"/apply/cases/{ref}", page, f"/apply/cases/{ref}/forms/{eoi}",
                f"/apply/cases/{ref}/forms/{eoi}/check", f"/apply/cases/{ref}/eligibility", file_url):  # fmt: skip
        assert bea.get(url).status_code == 404, url
    # nor can she change it, even by posting to its address
    assert bea.post(page, data={"organisation_type": "for_profit"}).status_code == 404
    assert bea.post(f"/apply/cases/{ref}/actions/withdraw").status_code == 404
    assert 'value="registered_charity" checked' in ann.get(page).data.decode()
    # a file id from another case is not found through one's own case either
    own = start_application(bea)
    assert bea.get(f"/apply/cases/{own}/files/{file_url.rsplit('/', 1)[-1]}").status_code == 404


def test_return_addresses_stay_on_this_site() -> None:
    assert safe_next("/apply/cases/X") == "/apply/cases/X"
    assert safe_next("//evil.example/") is None
    assert safe_next("https://evil.example/") is None
    assert safe_next("/\\evil.example") is None


def test_an_applicant_never_sees_the_referrals_about_people_their_organisation_supports(
    app: Flask, clock: Clock
) -> None:
    from engine.runtime import Actor, Engine

    from .panel import person

    engine = Engine(app.config["DATABASE"], clock=clock)
    caseworker = Actor("caseworker", "cw@org-a.example", "org_a")
    referral = engine.start_case(
        "bradford_healthy_minds_wave2", "referral", caseworker, subject="P-0001"
    ).reference
    ann = person(app, "ann@org-a.example", "applicant", "org_a")
    assert referral not in ann.get("/apply/applications").data.decode()
    assert referral not in ann.get("/apply/returns").data.decode()
    assert ann.get(f"/apply/cases/{referral}").status_code == 404
    assert ann.post(f"/apply/cases/{referral}/actions/withdraw").status_code == 404
    # the organisation's caseworker still sees it
    assert (
        person(app, "cw@org-a.example", "caseworker", "org_a")
        .get(f"/casework/cases/{referral}")
        .status_code
        == 200
    )
