"""The caseworker's "Due this week" page reads only the cases that can be due or flagged, and
tells the caseworker what reading every case of the organisation told them (issue 19)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from html import unescape
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from ..conftest import ROOT
from .conftest import Clock, text
from .test_casework import BRADFORD, caseworker  # noqa: F401  (the fixture)

LLR = "llr_resilience_recovery_hubs"
ORG = "charnwood_mind"
REFERRAL_ANSWERS = {
    "referral_date": "2024-04-15", "referral_source": "first_response", "date_of_birth": "1987-06-30",
    "postcode": "BD5 7HT", "pcn_locality": "pcn_5", "has_smi": True,
    "smi_support_situation": "not_supported_elsewhere", "other_vcse_service_could_support": False,
    "agrees_to_referral": True, "consent_to_share_data": True,
}  # fmt: skip


def llr_answers() -> dict[str, dict[str, Any]]:
    """Each LLR form's answers as the outcome-review scenario gives them."""
    steps = yaml.safe_load((ROOT / "tests/scenarios/llr_outcome_reviews.yaml").read_text())["steps"]  # fmt: skip
    return {s["answer"]["form"]: s["answer"]["answers"] for s in reversed(steps) if "answer" in s}


def llr_case(app: Flask, clock: Clock, actor: Any, baseline: str | None, referred: str) -> str:
    """An LLR referral made on `referred`, its baseline recorded on `baseline` (None: not yet)."""
    from engine.web.services import engine

    answers = llr_answers()
    with app.app_context():
        clock.set(referred)
        view = engine().start_case(LLR, "referral", actor, subject="pseudonymous")
        engine().save_answers(view.id, "llr_referral", answers["llr_referral"], actor)
        engine().act(view.id, "submit_referral", actor)
        engine().act(view.id, "record_permission_given", actor)
        if baseline is not None:
            clock.set(baseline)
            done = {**answers["llr_baseline_assessment"], "assessment_date": baseline[:10]}
            engine().save_answers(view.id, "llr_baseline_assessment", done, actor)
            engine().act(view.id, "record_baseline", actor)
    return view.reference


def reviews_read_from_every_case(
    app: Flask, org: str, start: datetime
) -> list[tuple[str, str, str]]:
    """What the page used to list as reviews: read from every case of the organisation, in turn."""
    from engine.timeline.occasions import occasions
    from engine.timeline.planner import events_of, pins_of
    from engine.web.describe import when
    from engine.web.services import engine

    end = start + timedelta(days=7)
    out = []
    with app.app_context():
        eng = engine()
        store = eng.store
        for row in store.organisation_cases(org):
            if row["subject"] is None:
                continue
            programme = eng.programme(row["programme_id"], row["version"])
            full = store.case(row["id"])
            assert full is not None
            wf = programme.workflows[full["workflow"]]
            if full["state"] in {s.id for s in wf.states if s.final}:
                continue
            events = events_of(store, programme, full, store.fired_all(full["id"]))
            for review in programme.data.get("reviews", []):
                if review.get("workflow") != full["workflow"] or full["state"] in review.get("until", []):  # fmt: skip
                    continue
                for o in occasions(programme, review, events, pins_of(store, programme.id), end):
                    if o.at is not None and start <= o.at <= end:
                        out.append((o.at, row["reference"], f"{o.label}: due", programme.timezone))
    out.sort(key=lambda r: r[0])  # stable: as the page sorts its rows
    return [(when(at, tz), ref, what) for at, ref, what, tz in out]


def table_rows(html: str) -> list[tuple[str, str, str]]:
    """The "Due this week" table's rows as (when, case, what), in the order shown."""
    rows = []
    for tr in re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', html, re.S):
        cells = [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)]  # fmt: skip
        if len(cells) == 3 and cells[0] != "Due":
            rows.append((cells[0], cells[1], " ".join(cells[2].split())))
    return rows


def test_reviews_due_this_week_are_those_reading_every_case_finds(
    app: Flask,
    caseworker: Callable[..., FlaskClient],  # noqa: F811 - the fixture imported above
    clock: Clock,
) -> None:
    from engine.runtime import Actor

    sam = caseworker("sam@charnwood.example", ORG)
    actor = Actor("caseworker", "sam@charnwood.example", ORG)
    # baselines weeks and months apart: 6-weekly and 6-monthly reviews fall in some weeks, not others
    refs = [llr_case(app, clock, actor, baseline, referred) for baseline, referred in (
        ("2017-04-20T10:00", "2017-04-10T09:00"), ("2017-09-11T10:00", "2017-09-04T09:00"),
        ("2017-09-25T10:00", "2017-09-18T09:00"), ("2017-10-02T15:30", "2017-09-25T09:00"),
        (None, "2017-09-04T09:00"),  # no baseline yet: no review
    )]  # fmt: skip
    other = llr_case(app, clock, Actor("caseworker", "ben@other.example", "other_hub"),
                     "2017-09-11T10:00", "2017-09-04T09:00")  # fmt: skip
    seen = set()
    for week in range(30):  # every week from the first referral: reviews in and out of the window
        start = datetime.fromisoformat("2017-09-13T09:00+00:00") + timedelta(days=7 * week)
        clock.set(start.replace(tzinfo=None).isoformat())
        shown = [r for r in table_rows(sam.get("/casework/due").data.decode()) if r[2].endswith(": due")]  # fmt: skip
        assert shown == reviews_read_from_every_case(app, ORG, start), start
        seen |= {ref for _when, ref, _what in shown}
        assert other not in {ref for _when, ref, _what in shown}
    assert seen == set(refs[:4])  # each case with a baseline had a review due in some week


def test_the_first_outcome_review_is_listed_in_its_week_and_not_the_week_before(
    app: Flask,
    caseworker: Callable[..., FlaskClient],  # noqa: F811 - the fixture imported above
    clock: Clock,
) -> None:
    from engine.runtime import Actor

    sam = caseworker("sam@charnwood.example", ORG)
    ref = llr_case(app, clock, Actor("caseworker", "sam@charnwood.example", ORG),
                   "2017-09-11T14:00", "2017-09-04T09:00")  # fmt: skip
    clock.set("2017-10-15T09:00")  # the first review is 23 October: more than 7 days away
    assert "review of agreed outcomes" not in text(sam.get("/casework/due"))
    clock.set("2017-10-18T09:00")
    assert f"3pm on Monday 23 October 2017 {ref} 6-weekly review of agreed outcomes 1: due" in text(sam.get("/casework/due"))  # fmt: skip
    with app.app_context():  # discharged cases have no reviews
        from engine.web.services import store

        s = store()
        row = s.case_by_reference(ref)
        with s.transaction():
            s.move_case(row["id"], row["revision"], "discharged", row["flags"], row["entered"], "2017-10-18T09:00:00+00:00")  # fmt: skip
    assert "review of agreed outcomes" not in text(sam.get("/casework/due"))


def test_a_caseworker_sees_no_reviews_of_a_programme_their_role_does_not_reach(
    app: Flask, clock: Clock
) -> None:
    from werkzeug.security import generate_password_hash

    from engine.runtime import Actor
    from engine.web.services import store

    from ..conftest import account
    from .conftest import PASSWORD

    ref = llr_case(app, clock, Actor("caseworker", "sam@charnwood.example", ORG),
                   "2017-09-11T14:00", "2017-09-04T09:00")  # fmt: skip
    with app.app_context():
        s = store()
        with s.transaction():
            s.ensure_organisation(ORG, "Charnwood Mind", "2017-01-01")
            account(s, "kim@charnwood.example", "Kim", "caseworker", ORG, "2017-01-01",
                    password_hash=generate_password_hash(PASSWORD), programme=BRADFORD)  # fmt: skip
    kim = app.test_client()
    assert kim.post("/auth/sign-in", data={"email": "kim@charnwood.example", "password": PASSWORD}).status_code == 302  # fmt: skip
    clock.set("2017-10-18T09:00")
    page = text(kim.get("/casework/due"))
    assert ref not in page and "Nothing is due in the next 7 days" in page


def flag_referrals(app: Flask, clock: Clock, how_many: int, organisation: str) -> list[str]:
    """Referrals accepted on 15 April 2024 with no contact, found by the scheduler to have missed
    their two contacts within 4 weeks; newest last."""
    from engine.runtime import SCHEDULER, Actor
    from engine.web.services import engine

    actor = Actor("caseworker", "aisha@horton.example", organisation)
    refs = []
    with app.app_context():
        clock.set("2024-04-15T10:00")
        for _ in range(how_many):
            view = engine().start_case(BRADFORD, "referral", actor, subject="pseudonymous")
            engine().save_answers(view.id, "bradford_referral", REFERRAL_ANSWERS, actor)
            engine().act(view.id, "accept_referral", actor)
            refs.append(view.reference)
        clock.set("2024-05-14T09:00")
        for ref in refs:
            engine().check_service_levels(ref, SCHEDULER)  # what the scheduler's sweep does
    return refs


def test_flagged_cases_are_paged_25_at_a_time_with_a_count(
    app: Flask,
    caseworker: Callable[..., FlaskClient],  # noqa: F811 - the fixture imported above
    clock: Clock,
) -> None:
    aisha = caseworker()
    refs = flag_referrals(app, clock, 27, "horton_park")
    flag_referrals(app, clock, 1, "shipley_minds")  # another organisation's: never counted
    page = text(aisha.get("/casework/due"))
    assert "27 cases missed a service level" in page
    assert "Showing 1 to 25 of 27 cases" in page
    listed = lambda page: set(re.findall(r"(\S+) : missed", page))  # noqa: E731
    assert listed(page) == set(refs[2:])  # newest first
    html = aisha.get("/casework/due").data.decode()
    assert 'href="/casework/due?page=2"' in html
    page2 = text(aisha.get("/casework/due?page=2"))
    assert "Showing 26 to 27 of 27 cases" in page2
    assert f"{refs[1]} : missed meaningful contact twice" in page2
    assert listed(page2) == set(refs[:2])
    assert "Flagged for a missed promise" in page2


@pytest.mark.parametrize(
    ("asked", "says"),
    [("two", "Enter a page number as a whole number, like 2"),
     ("9", "There is no page 9: choose a page from 1 to 1")],
)  # fmt: skip
def test_a_page_of_flagged_cases_that_is_not_there_says_what_to_do(
    app: Flask,
    caseworker: Callable[..., FlaskClient],  # noqa: F811 - the fixture imported above
    clock: Clock,
    asked: str,
    says: str,
) -> None:
    aisha = caseworker()
    refs = flag_referrals(app, clock, 2, "horton_park")
    r = aisha.get(f"/casework/due?page={asked}")
    assert r.status_code == 200
    page = text(r)
    assert "There is a problem" in page and says in page
    assert "<title>Error: Due this week" in r.data.decode()
    assert all(
        f"{ref} : missed" in page for ref in refs
    )  # the first page, as the caseworker would expect


def test_a_flag_cleared_or_on_another_programme_is_not_a_missed_promise(
    app: Flask,
    caseworker: Callable[..., FlaskClient],  # noqa: F811 - the fixture imported above
    clock: Clock,
) -> None:
    from engine.web.services import store

    aisha = caseworker()
    refs = flag_referrals(app, clock, 2, "horton_park")
    with app.app_context():
        s = store()
        row = s.case_by_reference(refs[0])
        with s.transaction():
            s.move_case(row["id"], row["revision"], row["state"], {"two_contacts_within_4_weeks": False},
                        row["entered"], "2024-05-14T09:00:00+00:00")  # fmt: skip
    page = text(aisha.get("/casework/due"))
    assert "1 case missed a service level" in page
    assert f"{refs[0]} : missed" not in page and f"{refs[1]} : missed" in page
