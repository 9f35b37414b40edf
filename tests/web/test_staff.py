"""Administrators invite staff and give them roles per programme; a role reaches only its
programmes, on pages, downloads and exports; switching an account off signs it out everywhere."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from engine.runtime import Actor, Engine
from engine.web.services import store

from .conftest import LIVERPOOL, PASSWORD, Clock, text
from .panel import person

BRADFORD = "bradford_healthy_minds_wave2"


def _accept_invitation(app: Flask, email: str) -> FlaskClient:
    """Open the invitation's link, choose a password, and land signed in."""
    with app.app_context():
        body = next(m["body"] for m in store().outbox_for(email) if "invited" in m["subject"])
    path = re.search(r"http://localhost(/auth/reset/\S+)", body)
    assert path, body
    browser = app.test_client()
    r = browser.post(path.group(1), data={"password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 302, r.data
    return browser


def _invite(admin: FlaskClient, name: str, email: str, role: str, programme: str = "every",
            organisation: str = "none") -> int:  # fmt: skip
    r = admin.post("/admin/staff/invite", data={"name": name, "email": email, "role": role,
                                               "programme": programme, "organisation": organisation})  # fmt: skip
    assert r.status_code == 302, text(r)
    return int(r.headers["Location"].rsplit("/", 1)[-1])


def test_an_invited_commissioner_of_one_programme_finds_every_other_programme_not_found(
    app: Flask, clock: Clock
) -> None:
    engine = Engine(app.config["DATABASE"], clock=clock)
    referral = engine.start_case(BRADFORD, "referral", Actor("caseworker", "c@a.example", "org_a"),
                                 subject="P-1")  # fmt: skip
    admin = person(app, "root@council.example", "admin")
    _invite(admin, "Cora Liverpool", "cora@council.example", "commissioner", LIVERPOOL)
    page = text(admin.get("/admin/staff"))
    assert (
        "Cora Liverpool" in page
        and "A commissioner of The Life Rooms VCSE Micro-Commissioning Programme" in page
        and "Invited" in page
    )

    cora = _accept_invitation(app, "cora@council.example")
    index = text(cora.get("/commission/"))
    assert "Liverpool" in index and "Bradford" not in index
    assert cora.get(f"/commission/{LIVERPOOL}").status_code == 200
    # another programme's pages, downloads and exports are not found, as if they did not exist
    for url in (f"/commission/{BRADFORD}", f"/commission/{BRADFORD}/cases",
                f"/commission/{BRADFORD}/export.csv", f"/commission/{BRADFORD}/kpis",
                f"/commission/{BRADFORD}/people", f"/commission/{BRADFORD}/trends",
                f"/commission/{BRADFORD}/meetings", f"/commission/{BRADFORD}/forms",
                f"/commission/cases/{referral.reference}"):  # fmt: skip
        assert cora.get(url).status_code == 404, url
    assert cora.post(f"/commission/cases/{referral.reference}/actions/close").status_code == 404
    # and the staff pages are an administrator's alone
    refused = cora.get("/admin/staff")
    assert refused.status_code == 403
    assert "ask your administrator to give you the role" in text(refused)


def test_a_second_role_in_another_programme_opens_it(app: Flask) -> None:
    admin = person(app, "root@council.example", "admin")
    user_id = _invite(admin, "Cora", "cora@council.example", "commissioner", LIVERPOOL)
    cora = _accept_invitation(app, "cora@council.example")
    assert cora.get(f"/commission/{BRADFORD}").status_code == 404
    r = admin.post(f"/admin/staff/{user_id}", data={"role": "commissioner", "programme": BRADFORD,
                                                   "organisation": "none"})  # fmt: skip
    assert r.status_code == 302
    assert cora.get(f"/commission/{BRADFORD}").status_code == 200
    changes = text(admin.get(f"/admin/staff/{user_id}"))
    assert (
        "root@council.example made cora@council.example a commissioner of Healthy Minds" in changes
    )


def test_removing_a_role_asks_first_then_closes_the_programme(app: Flask) -> None:
    admin = person(app, "root@council.example", "admin")
    user_id = _invite(admin, "Cora", "cora@council.example", "commissioner", LIVERPOOL)
    cora = _accept_invitation(app, "cora@council.example")
    role_id = store_role_id(app, user_id)
    url = f"/admin/staff/{user_id}/roles/{role_id}/remove"
    asked = admin.post(url)
    assert "Are you sure you want to remove Cora's role?" in text(asked)
    assert cora.get(f"/commission/{LIVERPOOL}").status_code == 200  # nothing changed yet
    assert admin.post(url, data={"confirmed": "yes"}).status_code == 302
    assert cora.get(f"/commission/{LIVERPOOL}").status_code == 403  # she holds no commissioner role
    assert "took away cora@council.example's role as commissioner of The Life Rooms" in text(
        admin.get(f"/admin/staff/{user_id}")
    )


def store_role_id(app: Flask, user_id: int) -> int:
    with app.app_context():
        return int(store().roles_of(user_id)[0]["id"])


def test_a_switched_off_account_is_signed_out_everywhere_and_cannot_sign_in(app: Flask) -> None:
    admin = person(app, "root@council.example", "admin")
    user_id = _invite(admin, "Asa", "asa@council.example", "assessor")
    asa = _accept_invitation(app, "asa@council.example")
    assert asa.get("/assess/").status_code == 200
    assert "This cannot be undone" not in text(admin.post(f"/admin/staff/{user_id}/switch-off"))
    assert asa.get("/assess/").status_code == 200  # asked first: still on
    admin.post(f"/admin/staff/{user_id}/switch-off", data={"confirmed": "yes"})
    assert asa.get("/assess/").status_code == 302  # the open session has ended
    again = app.test_client().post("/auth/sign-in", data={"email": "asa@council.example", "password": PASSWORD})  # fmt: skip
    assert again.status_code == 403
    assert "This account has been switched off: ask your administrator" in text(again)
    admin.post(f"/admin/staff/{user_id}/switch-on")
    back = app.test_client()
    assert back.post("/auth/sign-in", data={"email": "asa@council.example", "password": PASSWORD}).status_code == 302  # fmt: skip
    assert back.get("/assess/").status_code == 200


def test_the_only_administrator_cannot_be_removed_or_switch_themselves_off(app: Flask) -> None:
    admin = person(app, "root@council.example", "admin")
    with app.app_context():
        me = store().user_by_email("root@council.example")
        assert me is not None
        role_id = store().roles_of(me["id"])[0]["id"]
    r = admin.post(f"/admin/staff/{me['id']}/roles/{role_id}/remove", data={"confirmed": "yes"}, follow_redirects=True)  # fmt: skip
    assert "This is the only administrator: make someone else an administrator first" in text(r)
    r = admin.post(f"/admin/staff/{me['id']}/switch-off", data={"confirmed": "yes"}, follow_redirects=True)  # fmt: skip
    assert "You cannot switch off your own account: ask another administrator" in text(r)
    assert admin.get("/admin/staff").status_code == 200


def test_an_invitation_with_a_bad_choice_says_what_to_do_and_keeps_nothing_half_made(
    app: Flask,
) -> None:
    admin = person(app, "root@council.example", "admin")
    r = admin.post("/admin/staff/invite", data={"name": "", "email": "not an email", "role": "commissioner",
                                               "programme": "every", "organisation": "none"})  # fmt: skip
    assert r.status_code == 400
    assert "Enter their full name" in text(r)
    assert "Enter an email address in the correct format" in text(r)
    # a caseworker needs their organisation: nothing is made until the choice is whole
    cas = {"name": "Cas", "email": "cas@org.example", "role": "caseworker", "programme": BRADFORD, "organisation": "none"}  # fmt: skip
    r = admin.post("/admin/staff/invite", data=cas)
    assert r.status_code == 400
    assert "Choose the provider organisation the caseworker works for" in text(r)
    assert 'value="cas@org.example"' in r.data.decode()  # what was typed is kept
    assert "cas@org.example" not in text(admin.get("/admin/staff"))
    # an address already in use is not a second account
    with app.app_context():
        s = store()
        with s.transaction():
            s.ensure_organisation("acorn", "Acorn Trust", "2022-01-01")
    assert (
        admin.post("/admin/staff/invite", data={**cas, "organisation": "acorn"}).status_code == 302
    )
    r = admin.post("/admin/staff/invite", data={"name": "Again", "email": "CAS@org.example", "role": "assessor",
                                               "programme": "every", "organisation": "none"})  # fmt: skip
    assert r.status_code == 400
    assert "Someone already has an account with this email address" in text(r)


def test_a_caseworker_of_one_programme_cannot_open_referrals_in_another(
    app: Flask, clock: Clock
) -> None:
    engine = Engine(app.config["DATABASE"], clock=clock)
    with engine.store.transaction():
        engine.store.ensure_organisation("acorn", "Acorn Trust", "2022-01-01")
    admin = person(app, "root@council.example", "admin")
    _invite(
        admin, "Cas", "cas@acorn.example", "caseworker", "llr_resilience_recovery_hubs", "acorn"
    )
    cas = _accept_invitation(app, "cas@acorn.example")
    assert cas.post(f"/casework/start/{BRADFORD}/referral").status_code == 404
    home = text(cas.get("/casework/"))
    assert "Bradford" not in home
    theirs = engine.start_case(BRADFORD, "referral", Actor("caseworker", "x@acorn.example", "acorn"),
                               subject="P-9")  # fmt: skip
    assert cas.get(f"/casework/cases/{theirs.reference}").status_code == 404


def test_nobody_gets_a_role_by_having_an_account(app: Flask, clock: Clock) -> None:
    admin = person(app, "root@council.example", "admin")
    _invite(admin, "Nell", "nell@council.example", "assessor", LIVERPOOL)
    nell = _accept_invitation(app, "nell@council.example")
    assert nell.get("/assess/").status_code == 200
    with app.app_context():
        s = store()
        with s.transaction():  # an account with no role at all, as a bare `users` row would be
            s.create_user("bare@council.example", None, "Bare", "commissioner", None, "2022-01-01")
    engine = Engine(app.config["DATABASE"], clock=clock)
    assert engine.store.role_addresses("commissioner", LIVERPOOL) == []
