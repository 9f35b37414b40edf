"""Caseworkers record referrals, contacts and the rest for their own organisation's people only."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ..conftest import account
from .conftest import PASSWORD, Clock, act_confirming, text

BRADFORD = "bradford_healthy_minds_wave2"
REFERRAL = "bradford_referral"
CONTACT = "bradford_contact"


@pytest.fixture
def caseworker(app: Flask) -> Callable[..., FlaskClient]:
    """Makes a browser signed in as a caseworker of an organisation."""
    from werkzeug.security import generate_password_hash

    from engine.web.services import store

    def make(email: str = "aisha@horton.example", organisation: str = "horton_park") -> FlaskClient:
        with app.app_context():
            s = store()
            with s.transaction():
                s.ensure_organisation(
                    organisation, organisation.replace("_", " ").title(), "2024-01-01"
                )
                account(s, email, "Aisha Khan", "caseworker", organisation, "2024-01-01", password_hash=generate_password_hash(PASSWORD))  # fmt: skip
        browser = app.test_client()
        r = browser.post("/auth/sign-in", data={"email": email, "password": PASSWORD})
        assert r.status_code == 302
        return browser

    return make


@pytest.fixture
def bradford_clock(clock: Clock) -> Clock:
    """15 April 2024, when Wave 2 referrals are being made."""
    clock.set("2024-04-15T10:00")
    return clock


def page_url(ref: str, form: str, page: str) -> str:
    return f"/casework/cases/{ref}/forms/{form}/pages/{page}"


def start_referral(browser: FlaskClient) -> str:
    r = browser.post(f"/casework/start/{BRADFORD}/referral")
    assert r.status_code == 302, text(r)
    assert r.headers["Location"].endswith(f"/forms/{REFERRAL}")  # straight to the referral form
    return r.headers["Location"].split("/cases/")[1].split("/")[0]


def fill_referral(browser: FlaskClient, ref: str, date_of_birth: list[str], postcode: str = "BD18 4NP") -> None:  # fmt: skip
    pages = {
        "referral": {"referral_date": ["15", "4", "2024"], "referral_source": "primary_care"},
        "about_the_person": {
            "date_of_birth": date_of_birth,
            "postcode": postcode,
            "pcn_locality": "pcn_4",
        },
        "criteria": {
            "has_smi": "yes",
            "smi_support_situation": "not_supported_elsewhere",
            "other_vcse_service_could_support": "no",
            "agrees_to_referral": "yes",
        },
        "consent": {"consent_to_share_data": "yes"},
    }
    for page, data in pages.items():
        r = browser.post(page_url(ref, REFERRAL, page), data={**data, "_action": "continue"},
                         content_type="multipart/form-data")  # fmt: skip
        assert r.status_code == 302, text(r)
    assert r.headers["Location"].endswith(f"/casework/cases/{ref}/forms/{REFERRAL}/check")


def accepted_referral(browser: FlaskClient) -> str:
    """A referral of someone born in 1993, filled in and accepted, as the caseworker does it."""
    ref = start_referral(browser)
    fill_referral(browser, ref, ["20", "11", "1993"])
    browser.post(f"/casework/cases/{ref}/actions/accept_referral", data={"state": "referred"})
    return ref


def record_contact(browser: FlaskClient, ref: str, day: str, meaningful: str = "yes") -> None:
    # a one-page record needs no task list: its page comes straight away
    r = browser.get(f"/casework/cases/{ref}/forms/{CONTACT}")
    assert r.headers["Location"].endswith(page_url(ref, CONTACT, "contact"))
    assert "New contact record" in text(browser.get(r.headers["Location"]))
    r = browser.post(page_url(ref, CONTACT, "contact"),
                     data={"contact_date": [day, "4", "2024"], "meaningful_contact": meaningful,
                           "contact_kind": "community_location", "contact_interventions": ["one_to_one"],
                           "_action": "continue"}, content_type="multipart/form-data")  # fmt: skip
    assert r.headers["Location"].endswith(f"/forms/{CONTACT}/check"), text(r)
    check = text(browser.get(r.headers["Location"]))
    assert "Face to face in a community location" in check and "One-to-one support" in check
    r = browser.post(r.headers["Location"])
    assert r.headers["Location"].endswith(f"/casework/cases/{ref}"), text(r)


def stored_answers(app: Flask, ref: str) -> list[dict]:
    from engine.web.services import store

    with app.app_context():
        s = store()
        return s.answers(s.case_by_reference(ref)["id"])


def test_a_bradford_caseworker_records_a_referral_and_two_contacts(
    app: Flask, caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    aisha = caseworker()
    ref = start_referral(aisha)
    assert ref.startswith("BHM-")
    fill_referral(aisha, ref, ["20", "11", "1993"])
    check = text(aisha.get(f"/casework/cases/{ref}/forms/{REFERRAL}/check"))
    assert "Check your answers" in check and "Primary care (GP practice or PCN)" in check
    assert "Accept the referral" in check  # the action this form is for, on the same page

    r = aisha.post(f"/casework/cases/{ref}/actions/accept_referral", data={"state": "referred"})
    assert r.headers["Location"].endswith(f"/casework/cases/{ref}")
    page = text(aisha.get(f"/casework/cases/{ref}"))
    assert "Accepted — making contact" in page
    assert "Record a new contact record" in page
    assert (
        "Time limits Meaningful contact twice or more within 4 weeks of referral Due Must be met by"
        in page
    ), page

    bradford_clock.set("2024-04-26T10:00")
    record_contact(aisha, ref, "25")
    page = text(aisha.get(f"/casework/cases/{ref}"))
    assert "Contact record 1 recorded" in page
    record_contact(aisha, ref, "18")  # typed in after the contact of the 25th
    page = text(aisha.get(f"/casework/cases/{ref}"))
    assert "Contact record (2)" in page
    assert "within 4 weeks of referral Kept Met in time." in page
    # listed by the date of each contact, newest first, not by when it was typed in
    newest = page.index("Contact record 1 , Thursday 25 April 2024")
    assert newest < page.index("Contact record 2 , Thursday 18 April 2024")
    assert "Accepted the referral" in page  # the history, in words

    record = text(aisha.get(f"/casework/cases/{ref}/records/{CONTACT}/2"))
    assert "18 April 2024" in record and "Yes" in record
    assert ref in text(aisha.get("/casework/"))
    contacts = [a for a in stored_answers(app, ref) if a["form"] == CONTACT]
    assert [a["record"] for a in contacts] == [1, 2]


def test_a_fifteen_year_old_referral_is_refused_with_the_criterions_words(
    caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    aisha = caseworker()
    ref = start_referral(aisha)
    fill_referral(aisha, ref, ["2", "9", "2008"])
    page = text(aisha.get(f"/casework/cases/{ref}"))
    assert "Not met The person is aged 16 or over." in page
    r = aisha.post(f"/casework/cases/{ref}/actions/accept_referral", data={"state": "referred"})
    page = text(aisha.get(r.headers["Location"]))
    assert "There is a problem" in page
    assert "The service is for people aged 16 and over." in page
    assert "the person was under 16 on the referral date" in page
    assert "Referred" in page  # not accepted
    # a refusal needs a reason, and then the referral is closed with it
    act_confirming(aisha, f"/casework/cases/{ref}/actions/refuse_referral", {"state": "referred", "reason": "Aged 15: back to the GP for CAMHS."})  # fmt: skip
    page = text(aisha.get(f"/casework/cases/{ref}"))
    assert "Referral not accepted" in page and "Aged 15: back to the GP for CAMHS." in page


def test_only_the_first_four_characters_of_a_postcode_are_stored(
    app: Flask, caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    aisha = caseworker()
    ref = start_referral(aisha)
    fill_referral(aisha, ref, ["20", "11", "1993"], postcode="bd18 4np")
    referral = next(a for a in stored_answers(app, ref) if a["form"] == REFERRAL)
    assert referral["data"]["postcode"] == "BD18"
    assert "4NP" not in json.dumps(stored_answers(app, ref))
    assert "BD18" in text(aisha.get(f"/casework/cases/{ref}/forms/{REFERRAL}/check"))
    # only the form's questions are kept: anything else posted is refused, not stored
    r = aisha.post(page_url(ref, REFERRAL, "consent"), data={"consent_to_share_data": "yes", "name": "Jo Bloggs"})  # fmt: skip
    assert "Jo Bloggs" not in json.dumps(stored_answers(app, ref))
    assert r.status_code == 302


def test_another_organisations_caseworker_gets_404_on_the_case_and_its_records(
    caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    aisha = caseworker()
    ref = accepted_referral(aisha)
    bradford_clock.set("2024-04-18T16:00")
    record_contact(aisha, ref, "18")
    ben = caseworker("ben@shipley.example", "shipley_minds")
    for url in (
        f"/casework/cases/{ref}",
        f"/casework/cases/{ref}/records/{CONTACT}/1",
        f"/casework/cases/{ref}/forms/{CONTACT}",
        f"/casework/cases/{ref}/forms/{REFERRAL}/check",
        page_url(ref, CONTACT, "contact"),
    ):
        assert ben.get(url).status_code == 404, url
    assert ben.post(f"/casework/cases/{ref}/actions/discharge").status_code == 404
    assert ref not in text(ben.get("/casework/"))
    assert ref not in text(ben.get("/casework/due"))


def test_the_due_this_week_page_lists_a_pending_contact_check(
    caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    aisha = caseworker()
    ref = accepted_referral(aisha)
    assert "Nothing is due in the next 7 days" in text(aisha.get("/casework/due"))
    bradford_clock.set("2024-05-08T09:00")  # the four weeks end on 13 May
    page = text(aisha.get("/casework/due"))
    assert ref in page
    assert "Meaningful contact twice or more within 4 weeks of referral: checked on this date" in page  # fmt: skip
    assert "Monday 13 May 2024" in page


def test_the_due_this_week_page_leaves_out_a_promise_already_kept(
    caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    aisha = caseworker()
    kept, open_ = start_referral(aisha), start_referral(aisha)
    for ref in (kept, open_):
        fill_referral(aisha, ref, ["20", "11", "1993"])
        aisha.post(f"/casework/cases/{ref}/actions/accept_referral", data={"state": "referred"})
    bradford_clock.set("2024-04-26T10:00")
    record_contact(aisha, kept, "18")
    record_contact(aisha, kept, "25")  # two meaningful contacts: the promise is kept
    bradford_clock.set("2024-05-08T09:00")  # the four weeks end on 13 May
    page = text(aisha.get("/casework/due"))
    assert open_ in page  # the other referral's check is still due
    assert "Meaningful contact twice or more within 4 weeks of referral" in page
    assert kept not in page


def test_a_missed_service_level_flags_the_case_on_the_due_page(
    app: Flask, caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    from engine.runtime import SCHEDULER
    from engine.web.services import engine

    aisha = caseworker()
    ref = accepted_referral(aisha)
    bradford_clock.set("2024-05-14T09:00")
    with app.app_context():
        engine().check_service_levels(ref, SCHEDULER)  # what the scheduler's sweep does
    page = text(aisha.get("/casework/due"))
    assert f"{ref} : missed meaningful contact twice" in page, page
    page = text(aisha.get(f"/casework/cases/{ref}"))
    assert "Missed: Meaningful contact twice or more" in page
    assert (
        "within 4 weeks of referral Missed It was not met by 11am on Monday 13 May 2024." in page
    ), page


def test_a_re_referral_links_both_cases_on_their_pages_and_starts_from_the_earlier_answers(
    app: Flask, tmp_path, caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    from engine.web.services import engine

    from ..conftest import ROOT
    from ..test_re_referral import re_referral_programme

    with app.app_context():  # a newer version, where a referral not accepted can be referred again
        engine().publish(re_referral_programme(tmp_path), ROOT / "forms")
    aisha = caseworker()
    earlier = start_referral(aisha)
    fill_referral(aisha, earlier, ["20", "11", "1993"])
    act_confirming(aisha, f"/casework/cases/{earlier}/actions/refuse_referral",
                   {"state": "referred", "reason": "Another service is supporting them"})  # fmt: skip
    act_confirming(
        aisha, f"/casework/cases/{earlier}/actions/refer_again", {"state": "not_accepted"}
    )
    page = text(aisha.get(f"/casework/cases/{earlier}"))
    assert "Referred again" in page
    assert "Related cases" in page and "Led to the referral" in page
    again = page.split("Led to the referral ")[1].split(" ")[0]
    assert again.startswith("BHM-") and again != earlier
    page = text(aisha.get(f"/casework/cases/{again}"))
    assert f"Started from the referral {earlier} (referred again)" in page
    assert "Forms and records Referral Completed" in page  # answered from the earlier referral
    check = text(aisha.get(f"/casework/cases/{again}/forms/{REFERRAL}/check"))
    assert "Primary care (GP practice or PCN)" in check  # the earlier referral's answer, copied


def test_an_applicant_cannot_reach_casework_routes(
    applicant: Callable[..., FlaskClient],
    caseworker: Callable[..., FlaskClient],
    bradford_clock: Clock,
) -> None:
    aisha = caseworker()
    ref = start_referral(aisha)
    ann = applicant()
    for url in ("/casework/", "/casework/due", f"/casework/cases/{ref}", f"/casework/cases/{ref}/forms/{REFERRAL}"):  # fmt: skip
        assert ann.get(url).status_code == 403, url
    assert ann.post(f"/casework/start/{BRADFORD}/referral").status_code == 403
    # and a caseworker has no applicant pages
    assert aisha.get("/apply/applications").status_code == 403


def test_a_caseworker_sees_people_not_their_organisations_contracts(
    app: Flask, caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    from engine.runtime import Actor
    from engine.web.services import engine

    aisha = caseworker()
    with app.app_context():
        contract = engine().start_case(BRADFORD, "contract", Actor("commissioner", "rebecca"), organisation="horton_park")  # fmt: skip
    assert aisha.get(f"/casework/cases/{contract.reference}").status_code == 404
    assert contract.reference not in text(aisha.get("/casework/"))


LLR = "llr_resilience_recovery_hubs"
BASELINE = "llr_baseline_assessment"


def test_the_due_this_week_page_leaves_out_an_overdue_reminder_once_the_review_is_recorded(
    app: Flask, caseworker: Callable[..., FlaskClient], clock: Clock
) -> None:
    """A reminder whose condition no longer holds is not sent, so it is not listed as due either."""
    import yaml

    from engine.runtime import Actor
    from engine.web.services import engine

    from ..conftest import ROOT

    steps = yaml.safe_load((ROOT / "tests/scenarios/llr_outcome_reviews.yaml").read_text())["steps"]  # fmt: skip
    answers = {s["answer"]["form"]: s["answer"]["answers"] for s in reversed(steps) if "answer" in s}  # fmt: skip
    sam = caseworker("sam@charnwood.example", "charnwood_mind")
    actor = Actor("caseworker", "sam@charnwood.example", "charnwood_mind")
    refs = []
    with app.app_context():
        for _ in range(2):
            clock.set("2017-09-04T09:00")
            view = engine().start_case(LLR, "referral", actor, subject="pseudonymous")
            engine().save_answers(view.id, "llr_referral", answers["llr_referral"], actor)
            engine().act(view.id, "submit_referral", actor)
            engine().act(view.id, "record_permission_given", actor)
            clock.set("2017-09-11T10:00")
            engine().save_answers(view.id, BASELINE, answers[BASELINE], actor)
            engine().act(view.id, "record_baseline", actor)
            refs.append(view.reference)
        clock.set("2017-10-20T10:00")  # the first review is recorded a few days early on one case
        review = {**answers["llr_outcome_review"], "review_date": "2017-10-20"}
        engine().save_answers(refs[0], "llr_outcome_review", review, actor)
    due = text(sam.get("/casework/due"))
    overdue = "6-weekly outcome review overdue"
    assert f"{refs[1]} {overdue}" in due  # not yet reviewed: the reminder still falls due
    assert f"{refs[0]} {overdue}" not in due


def test_an_outcome_tool_baseline_is_recorded_page_by_page_and_then_support_starts(
    app: Flask, caseworker: Callable[..., FlaskClient], clock: Clock
) -> None:
    """A repeatable record of several pages: kept as a draft between pages, checked whole."""
    import yaml

    from engine.runtime import Actor
    from engine.web.services import engine

    from ..conftest import ROOT

    clock.set("2017-09-04T09:00")
    sam = caseworker("sam@charnwood.example", "charnwood_mind")
    steps = yaml.safe_load((ROOT / "tests/scenarios/llr_baseline_to_active.yaml").read_text())["steps"]  # fmt: skip
    referral = steps[1]["answer"]["answers"]
    baseline = {**next(s["answer"]["answers"] for s in steps if s.get("answer", {}).get("form") == BASELINE), "employment_applies": True, "employment": 2,
                "support_areas": ["emotional_wellbeing", "finances", "community_activities", "employment"]}  # fmt: skip
    actor = Actor("caseworker", "sam@charnwood.example", "charnwood_mind")
    with app.app_context():
        view = engine().start_case(LLR, "referral", actor, subject="pseudonymous")
        engine().save_answers(view.id, "llr_referral", referral, actor)
        engine().act(view.id, "submit_referral", actor)
        engine().act(view.id, "record_permission_given", actor)
    ref = view.reference
    page = text(sam.get(f"/casework/cases/{ref}"))
    assert "Record a new baseline assessment (outcome tool)" in page
    # why support cannot start yet, instead of a button that could only be refused
    assert ("Baseline assessment done — start support is not available yet. Record Baseline assessment (outcome tool) first. "
            "Complete the outcome tool as a baseline assessment for this referral first.") in page  # the guard's own words  # fmt: skip
    assert f"/casework/cases/{ref}/actions/record_baseline" not in sam.get(f"/casework/cases/{ref}").data.decode()  # fmt: skip

    def post(page_id: str, data: dict, action: str = "continue"):
        form = {k: ("yes" if v is True else "no" if v is False else v) for k, v in data.items()}
        form = {k: [str(x) for x in v] if isinstance(v, list) else str(v) for k, v in form.items()}
        form["assessment_date"] = ["11", "9", "2017"]
        return sam.post(page_url(ref, BASELINE, page_id), data={**form, "_action": action},
                        content_type="multipart/form-data")  # fmt: skip

    clock.set("2017-09-11T14:00")
    r = post("assessment", baseline, action="save")
    assert r.headers["Location"].endswith(f"/forms/{BASELINE}?saved=1")
    assert "Continue the new baseline assessment" in text(sam.get(f"/casework/cases/{ref}"))
    for page_id in ("assessment", "outcome_tool"):
        r = post(page_id, baseline)
        if "#" in r.headers["Location"]:  # "employment is relevant" reveals its score: asked next
            assert r.headers["Location"].endswith(f"/pages/{page_id}#employment")
            r = post(page_id, baseline)
        assert "#" not in r.headers["Location"]
    # the total is worked out from the scores, never typed: the outcome tool page does not ask it
    tool = sam.get(page_url(ref, BASELINE, "outcome_tool")).data.decode()
    assert 'name="baseline_total"' not in tool and "Total outcome tool score" not in tool
    post("outcome_tool", {**baseline, "baseline_total": 99})  # whatever is sent for it is set aside
    r = post("recovery_needs", baseline)
    assert r.headers["Location"].endswith(f"/forms/{BASELINE}/check"), text(r)
    check = sam.get(r.headers["Location"]).data.decode()
    row = check[check.index("Total outcome tool score") :][:600]
    assert "22" in row and "Worked out from your answers" in row and "Change" not in row
    with app.app_context():
        assert not engine().case(ref, actor).records.get(BASELINE)  # a draft is not a record
    r = sam.post(f"/casework/cases/{ref}/forms/{BASELINE}/check")
    assert r.headers["Location"].endswith(f"/casework/cases/{ref}")
    sam.post(f"/casework/cases/{ref}/actions/record_baseline", data={"state": "awaiting_baseline"})
    page = text(sam.get(f"/casework/cases/{ref}"))
    assert "Baseline assessment (outcome tool) 1 , Monday 11 September 2017" in page  # its own date
    assert "Baseline assessment (outcome tool) (1)" in page
    with app.app_context():
        assert engine().case(ref, actor).records[BASELINE][0]["baseline_total"] == 22

    # six weeks after the baseline the first review of agreed outcomes is due: on the week's list
    clock.set("2017-10-18T09:00")
    due = text(sam.get("/casework/due"))
    assert f"3pm on Monday 23 October 2017 {ref} 6-weekly review of agreed outcomes 1: due" in due


def test_a_contact_dated_after_today_is_refused_with_what_to_do(
    app: Flask, caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    aisha = caseworker()
    ref = accepted_referral(aisha)
    r = aisha.post(page_url(ref, CONTACT, "contact"),
                   data={"contact_date": ["16", "4", "2024"], "meaningful_contact": "yes",
                         "contact_kind": "community_location", "contact_interventions": ["one_to_one"],
                         "_action": "continue"}, content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 200  # tomorrow, on the programme's clock: asked again, not kept
    page = text(r)
    assert "There is a problem" in page
    assert "The date of the contact must be today or in the past" in page
    assert not [a for a in stored_answers(app, ref) if a["form"] == CONTACT]
    record_contact(aisha, ref, "15")  # today is fine
    assert "Contact record (1)" in text(aisha.get(f"/casework/cases/{ref}"))


def test_a_one_page_record_saved_for_later_goes_back_to_the_case(
    caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    aisha = caseworker()
    ref = accepted_referral(aisha)
    page = aisha.get(page_url(ref, CONTACT, "contact")).data.decode()
    # no task list to go back to
    assert f'href="/casework/cases/{ref}" class="govuk-back-link"' in page
    r = aisha.post(page_url(ref, CONTACT, "contact"), data={"contact_date": ["15", "4", "2024"], "_action": "save"},
                   content_type="multipart/form-data")  # fmt: skip
    assert r.headers["Location"].endswith(f"/casework/cases/{ref}")
    case = text(aisha.get(r.headers["Location"]))
    assert "Your answers have been saved. You can come back to them at any time." in case
    assert "Continue the new contact record" in case
    # a form of several pages still has its task list
    assert "You have completed" in text(
        aisha.get(f"/casework/cases/{ref}/forms/bradford_initial_interview")
    )


def test_an_action_that_cannot_succeed_is_explained_not_offered(
    caseworker: Callable[..., FlaskClient], bradford_clock: Clock
) -> None:
    aisha = caseworker()
    ref = start_referral(aisha)
    fill_referral(aisha, ref, ["2", "9", "2008"])  # aged 15: the criteria are not met
    for url in (f"/casework/cases/{ref}", f"/casework/cases/{ref}/forms/{REFERRAL}/check"):
        html = aisha.get(url).data.decode()
        assert "/actions/accept_referral" not in html, url  # no button that could only be refused
        assert "Accept the referral is not available yet. The service is for people aged 16 and over." in text(aisha.get(url))  # fmt: skip
    # what can be done is still offered
    assert "/actions/refuse_referral" in aisha.get(f"/casework/cases/{ref}").data.decode()


def test_a_guard_without_its_own_message_is_said_in_plain_words(app: Flask) -> None:
    from engine.web.offers import plain, sentence

    spec = {"guard": 'exit_route == "step_down"'}
    said = sentence(plain('the condition is not met: exit_route == "step_down"', [spec]))
    assert said == "What has been recorded on this case does not allow it yet."
    spec = {"guard": "x > 1", "guard_message": "Record the interview first"}
    assert (
        sentence(plain("Record the interview first: no such key x", [spec]))
        == "Record the interview first."
    )
