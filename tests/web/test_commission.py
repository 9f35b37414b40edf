"""Commissioners: the dashboard, deciding on cases, previews, CSV, workflow pictures; and who may not."""

from __future__ import annotations

import csv
import html as markup
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.runtime import Actor, Engine

from .conftest import EOI, LIVERPOOL, Clock, act_confirming, start_application
from .conftest import text as page_text
from .panel import PANEL, person, seed_engine, submitted_case

ASSESSOR = Actor("assessor", "asa@panel.example")


def text(response: TestResponse) -> str:
    """The page's words, entities decoded."""
    return markup.unescape(page_text(response))


@pytest.fixture
def engine(app: Flask, tmp_path: Path, clock: Clock) -> Engine:
    """An engine on the app's database, with the panel programme published."""
    return seed_engine(app, tmp_path, clock)


@pytest.fixture
def cora(app: Flask) -> FlaskClient:
    """A commissioner, signed in."""
    return person(app, "cora@council.example", "commissioner")


def assessed_case(engine: Engine, org: str) -> str:
    """A submitted application the panel has finished with; its reference."""
    ref = submitted_case(engine, org, org.replace("_", " ").title())
    engine.act(ref, "assess", ASSESSOR)
    return ref


def decide(browser: FlaskClient, ref: str, trigger: str, **fields: str):
    """Post a decision as the case page's form does (with the revision the page showed)."""
    html = browser.get(f"/commission/cases/{ref}").data.decode()
    revision = html.split('name="revision" value="')[1].split('"')[0]
    return act_confirming(
        browser, f"/commission/cases/{ref}/actions/{trigger}", {"revision": revision, **fields}
    )


def test_the_dashboard_shows_cases_by_state_money_awards_deadlines_and_overdue(
    engine: Engine, cora: FlaskClient, clock: Clock
) -> None:
    cora_actor = Actor("commissioner", "cora@council.example")
    first, second = assessed_case(engine, "org_a"), assessed_case(engine, "org_b")
    submitted_case(engine, "org_c")
    draft = engine.start_case(PANEL, "application", Actor("applicant", "d", "org_d"))
    engine.act(first, "award", cora_actor, amount=12000, lot="north")
    engine.act(second, "award", cora_actor, amount=15000, lot="south")
    clock.set("2022-02-15T09:00")  # past the "closes in 7 days" reminder, which nobody has sent

    page = text(cora.get(f"/commission/{PANEL}"))
    assert "Tiny panel grants" in page
    assert (
        "Total fund £100,000 Awarded £27,000 Remaining £73,000 Awards made 2 of at most 10" in page
    )
    assert "North £50,000 £12,000 £38,000 1" in page and "South £50,000 £15,000 £35,000 1" in page
    assert "Draft 1 draft" in page and "Submitted 1 submitted" in page and "Awarded (final) 2 awarded" in page  # fmt: skip
    assert "Assessed by the panel 0" in page
    # deadlines still ahead, in the programme's words and time; those passed are gone
    assert "Applications close 5pm on Monday 21 February 2022" in page
    assert "Round opens" not in page
    # the reminder rows past their time, with the case they are about
    assert "Reminders and checks past their time, not yet sent (1)" in page
    assert draft.reference in page
    # each count links to the cases in that state
    html = cora.get(f"/commission/{PANEL}").data.decode()
    assert f"/commission/{PANEL}/cases?workflow=application&amp;state=awarded" in html
    listing = text(cora.get(f"/commission/{PANEL}/cases?workflow=application&state=awarded"))
    assert "2 cases" in listing and first in listing and second in listing and draft.reference not in listing  # fmt: skip


def test_a_commissioner_awards_an_amount_and_the_history_records_it(
    engine: Engine, cora: FlaskClient
) -> None:
    ref = assessed_case(engine, "org_a")
    page = text(cora.get(f"/commission/cases/{ref}"))
    assert "Decisions open now" in page and "Make an award" in page
    assert "Org A" in page and "Have an income under £1 million Met" in page
    assert "What was your income in your last accounts? £50,000" in page  # check your answers
    html = cora.get(f"/commission/cases/{ref}").data.decode()
    assert 'name="amount"' in html and 'name="lot"' in html and 'value="north"' in html

    done = text(decide(cora, ref, "award", amount="£12,500", lot="north"))
    assert f"Make an award: done. The status of {ref} is now: Awarded." in done
    assert "Award £12,500 (North)" in done  # the audit history, the lot by its name
    assert "cora@council.example (commissioner) Made an award. Status: Awarded" in done
    assert (
        "asa@panel.example (assessor) Completed the assessment. Status: Assessed by the panel"
        in done
    )
    assert "No action leads on from here" in done


def test_a_refused_decision_shows_the_engines_reasons(engine: Engine, cora: FlaskClient) -> None:
    ref = assessed_case(engine, "org_a")
    page = text(decide(cora, ref, "award", amount="25000"))
    assert "There is a problem" in page
    assert '"Make an award" cannot be taken yet' in page
    assert "an award can be at most £20,000; £25,000 is £5,000 too much" in page
    assert "say which lot the award is in" in page
    assert "State Assessed by the panel" in page  # nothing happened
    # a reason is asked for where the workflow says so, and refused without one
    page = text(decide(cora, ref, "reject"))
    assert "give a reason" in page
    # an action that is not the commissioner's shows why, and posting it anyway is refused
    other = submitted_case(engine, "org_b")
    page = text(cora.get(f"/commission/cases/{other}"))
    assert "Actions not open now, and why" in page
    assert "Complete the assessment This action is not for a commissioner: it is taken by assessor." in page  # fmt: skip
    page = text(decide(cora, other, "assess"))
    assert 'you cannot "Complete the assessment"' in page


def test_two_commissioners_deciding_at_once_the_second_is_told_the_case_changed(
    engine: Engine, app: Flask, cora: FlaskClient
) -> None:
    ref = assessed_case(engine, "org_a")
    cal = person(app, "cal@council.example", "commissioner")
    seen = cal.get(f"/commission/cases/{ref}").data.decode()  # Cal looks at the case…
    revision = seen.split('name="revision" value="')[1].split('"')[0]
    decide(cora, ref, "award", amount="10000", lot="north")  # …Cora awards it meanwhile
    r = act_confirming(
        cal, f"/commission/cases/{ref}/actions/reject", {"revision": revision, "reason": "Weak"}
    )
    page = text(r)
    assert "this case changed while you were looking at it, so your action was not taken" in page
    assert "State Awarded" in page


def test_applications_download_as_csv_anonymised_when_the_programme_says(
    engine: Engine, cora: FlaskClient, applicant: Callable[..., FlaskClient]
) -> None:
    ref = submitted_case(engine, "org_a", "Org A")
    r = cora.get(f"/commission/{PANEL}/export.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert f'filename="{PANEL}-cases.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.data.decode())))
    assert rows[0]["Reference"] == ref and rows[0]["Status"] == "Submitted"
    assert rows[0]["What is your organisation's name?"] == "Org A"
    assert rows[0]["What was your income in your last accounts?"] == "50000"

    # Liverpool reports anonymised: a contact's name and email are left out
    ann = applicant()
    liv = start_application(ann)
    page = f"/apply/cases/{liv}/forms/{EOI}/pages/contact"
    ann.post(page, data={"contact_name": "Ann Example", "contact_role": "Director", "_action": "save",
                         "contact_email": "ann@small.example", "contact_phone": "0151 123 4567"})  # fmt: skip
    r = cora.get(f"/commission/{LIVERPOOL}/export.csv?workflow=application")
    assert "anonymised" in r.headers["Content-Disposition"]
    body = r.data.decode()
    assert liv in body and "Job title or role" in body and "Director" in body
    assert "Full name" not in body and "ann@small.example" not in body


def test_each_workflow_is_drawn_with_mermaid_and_listed_as_a_table(cora: FlaskClient) -> None:
    r = cora.get(f"/commission/{LIVERPOOL}/workflows/application")
    html = markup.unescape(r.data.decode())  # what Mermaid reads: the text of the <pre>
    assert '<pre class="app-mermaid" id="diagram">stateDiagram-v2' in html
    assert 'state "Expression of interest in progress" as s_eoi_draft' in html
    assert "[*] --> s_eoi_draft" in html
    assert "s_eoi_draft --> s_eoi_submitted : Submit expression of interest (applicant)" in html
    assert "s_awarded --> [*]" in html
    assert "/static/mermaid/mermaid.min.js" in html and "/static/app/workflow.js" in html
    # the text alternative: every transition, who takes it and what it needs
    page = text(r)
    assert (
        "Submit expression of interest Expression of interest in progress Expression of interest "
        "submitted applicant" in page
    )
    assert "before the expression of interest deadline" in page
    assert "Make a direct award Assessed by the panel Awarded commissioner records an award" in page
    assert "(final: the case ends here)" in page
    # scripts stay locked to this site; only this page lets Mermaid style its drawing
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-eval" not in csp
    assert "style-src 'self' 'unsafe-inline'" in csp
    assert "style-src 'self';" in cora.get(f"/commission/{LIVERPOOL}").headers["Content-Security-Policy"]  # fmt: skip
    script = cora.get("/static/mermaid/mermaid.min.js")
    assert script.status_code == 200 and script.mimetype in ("text/javascript", "application/javascript")  # fmt: skip
    assert cora.get("/static/mermaid/package.json").status_code == 404
    listing = text(cora.get(f"/commission/{LIVERPOOL}/workflows"))
    assert "Application" in listing and "Contract" in listing


def test_any_form_previews_as_an_applicant_sees_it_read_only(cora: FlaskClient) -> None:
    listing = text(cora.get(f"/commission/{LIVERPOOL}/forms"))
    assert "Expression of interest" in listing
    r = cora.get(f"/commission/{LIVERPOOL}/forms/{EOI}/preview")
    html = r.data.decode()
    assert r.status_code == 200 and "read only" in html
    main = html.split("<main")[1]
    assert '<fieldset class="govuk-fieldset" disabled>' in main and "<form" not in main
    assert "Next page" in html
    later = cora.get(f"/commission/{LIVERPOOL}/forms/{EOI}/preview/type_and_governance")
    page = text(later)
    assert "Conditional Asked only when" in page and "Previous page" in page
    assert cora.get(f"/commission/{LIVERPOOL}/forms/{EOI}/preview/nope").status_code == 404
    assert cora.get(f"/commission/{LIVERPOOL}/forms/nope/preview").status_code == 404


def test_applicants_caseworkers_and_assessors_cannot_use_the_commissioners_pages(
    engine: Engine, app: Flask, applicant: Callable[..., FlaskClient], client: FlaskClient
) -> None:
    ref = assessed_case(engine, "org_a")
    urls = ["/commission/", f"/commission/{PANEL}", f"/commission/{PANEL}/cases",
            f"/commission/cases/{ref}", f"/commission/{PANEL}/export.csv",
            f"/commission/{PANEL}/forms/tiny_eoi/preview", f"/commission/{PANEL}/workflows/application"]  # fmt: skip
    people = [applicant(), person(app, "cas@org.example", "caseworker", "org_a"),
              person(app, "asa@panel.example", "assessor")]  # fmt: skip
    for browser in people:
        for url in urls:
            assert browser.get(url).status_code == 403, url
        r = browser.post(f"/commission/cases/{ref}/actions/award", data={"revision": "2", "amount": "9000"})  # fmt: skip
        assert r.status_code == 403
    assert client.get(f"/commission/{PANEL}").status_code == 302  # signed out: sign in first
    assert engine.case(ref, Actor("commissioner", "x")).state == "assessed"
    cora = person(app, "cora@council.example", "commissioner")
    assert cora.get("/commission/cases/TP-999999").status_code == 404
    assert cora.get("/commission/nope").status_code == 404
    assert cora.get(f"/commission/{PANEL}/workflows/nope").status_code == 404


def test_every_page_of_every_form_of_every_programme_previews(
    app: Flask, cora: FlaskClient
) -> None:
    engine = Engine(app.config["DATABASE"])
    for pid in engine.store.programme_ids():
        programme = engine.programme(pid)
        for form in programme.forms.values():
            for page_id, title, _questions in form.pages:
                r = cora.get(f"/commission/{pid}/forms/{form.id}/preview/{page_id}")
                assert r.status_code == 200, (pid, form.id, page_id)
                assert title in text(r)
        for wf in programme.workflows:
            assert cora.get(f"/commission/{pid}/workflows/{wf}").status_code == 200


def test_bradford_due_diligence_and_the_panels_appointment_through_the_forms_they_fill(
    app: Flask, clock: Clock, cora: FlaskClient
) -> None:
    """The commissioner records due diligence and invites; the panel records its decision and appoints."""
    import yaml

    from ..conftest import ROOT

    steps = yaml.safe_load((ROOT / "tests/scenarios/bradford_lead_appointment.yaml").read_text())
    eoi = steps["steps"][1]["answer"]["answers"]
    clock.set("2024-02-19T11:00")
    engine = Engine(app.config["DATABASE"], clock=clock)
    lena = Actor("applicant", "lena", "horton_park_wellbeing")
    case = engine.start_case("bradford_healthy_minds_wave2", "application", lena, role="lead", lot="lot_1")  # fmt: skip
    engine.save_answers(case.id, "bradford_lead_eoi", eoi, lena)
    ref = engine.act(case.id, "submit_lead_eoi", lena).reference

    clock.set("2024-02-27T09:30")
    page = text(decide(cora, ref, "start_due_diligence"))
    assert "is now: Due diligence" in page and "Forms you fill in" in page
    assert "Due diligence checks" in page
    form = f"/commission/cases/{ref}/forms/bradford_due_diligence"
    assert "Not yet started" in text(cora.get(form))
    checks = {k: "yes" for k in ("constitution_checked", "accounts_checked", "bank_account_checked",
                                 "policies_insurance_checked", "reference_checked", "track_record_checked")}  # fmt: skip
    r = cora.post(f"{form}/pages/checks", data={**checks, "dspt_checked": "standards_met_up_to_date",
                                                "_action": "continue"})  # fmt: skip
    assert r.status_code == 302 and r.headers["Location"].endswith(f"{form}/pages/outcome")
    r = cora.post(f"{form}/pages/outcome", data={"due_diligence_outcome": "passed", "_action": "continue"})  # fmt: skip
    assert r.status_code == 302
    page = text(decide(cora, ref, "invite_to_panel"))
    assert f"The status of {ref} is now: Invited to the procurement event." in page

    # the panel: the application is in the assessor's queue with the panel's own form
    clock.set("2024-03-05T14:00")
    panel = person(app, "panel@bradford.example", "assessor")
    assert ref in text(panel.get("/assess/"))
    sheet = text(panel.get(f"/assess/cases/{ref}"))
    assert "The panel's forms Procurement event — independent panel decision" in sheet
    assert "2. Track record of delivering specialist mental health provision" in sheet
    record = f"/assess/cases/{ref}/forms/bradford_panel_assessment"
    r = panel.post(f"{record}/pages/panel", data={"panel_date": ["5", "3", "2024"], "panel_independent": "yes", "presentation_given": "yes",
                   "_action": "continue"})  # fmt: skip
    assert r.status_code == 302, text(r)
    met = {k: "met" for k in ("specialist_mental_health_track_record", "lived_experience_workforce",
                              "overseeing_partners", "system_relationships", "mobilisation_by_april",
                              "presentation")}  # fmt: skip
    assert panel.post(f"{record}/pages/criteria", data={**met, "_action": "continue"}).status_code == 302  # fmt: skip
    r = panel.post(f"{record}/pages/decision", data={"panel_recommendation": "appoint", "panel_reasons": "Strong", "_action": "continue"})  # fmt: skip
    assert r.status_code == 302 and r.headers["Location"].endswith("#award_amount"), text(r)
    page = text(panel.get(f"/assess/cases/{ref}"))
    assert (
        "Not open yet, and why" in page and "What yearly allocation is agreed for the Lead" in page
    )
    r = panel.post(f"{record}/pages/decision", data={"panel_recommendation": "appoint",
                   "award_amount": "260000", "panel_reasons": "Strong", "_action": "continue"})  # fmt: skip
    assert r.status_code == 302, text(r)
    html = panel.get(f"/assess/cases/{ref}").data.decode()
    assert "Appoint as Lead Service Provider" in html
    revision = html.split('name="revision" value="')[1].split('"')[0]
    r = act_confirming(panel, f"/assess/cases/{ref}/actions/appoint_lead", {"revision": revision})
    assert f"The status of {ref} is now: Appointed as Lead Service Provider." in text(r)
    dashboard = text(cora.get("/commission/bradford_healthy_minds_wave2"))
    assert "£260,000" in dashboard and "Awards made 1" in dashboard


@pytest.mark.parametrize("typed", ["²", "٣٠٠٠", "1" * 5000])
def test_an_amount_that_is_not_plain_pounds_gets_a_message_not_an_error_page(
    engine: Engine, cora: FlaskClient, typed: str
) -> None:
    ref = assessed_case(engine, "org_a")
    response = decide(cora, ref, "award", amount=typed, lot="north")
    assert response.status_code == 200
    page = text(response)
    assert "Enter the amount as a whole number of pounds, like 75000" in page
    assert "State Assessed by the panel" in page  # nothing happened


def test_a_message_that_could_not_be_delivered_is_on_the_dashboard_with_why(
    engine: Engine, cora: FlaskClient, clock: Clock
) -> None:
    from engine.scheduler.sweeper import sweep

    draft = engine.start_case(PANEL, "application", Actor("applicant", "d", "org_nobody"))
    clock.set("2022-02-14T17:00")
    assert sweep(engine).sent == 1  # the "closes in 7 days" reminder, for nobody with an account
    page = text(cora.get(f"/commission/{PANEL}"))
    assert "Messages not delivered (1)" in page
    assert f"The organisation's applicants {draft.reference} Applications close in 7 days" in page
    assert "Not delivered: nobody at the organisation has the applicant role" in page


def test_the_dashboard_counts_every_flagged_case_and_lists_the_first_few_by_name(
    engine: Engine, cora: FlaskClient
) -> None:
    refs = [submitted_case(engine, f"org_{i}") for i in range(27)]
    with engine.store.transaction():
        for ref in refs[:26]:  # a flag raised on 26 cases, and one raised then cleared
            row = engine.store.case_by_reference(ref)
            flags = {"late_report": True} if ref != refs[0] else {"late_report": False}
            engine.store.move_case(row["id"], row["revision"], row["state"], flags, row["entered"], "2022-02-01T09:00:00+00:00")  # fmt: skip
    page = text(cora.get(f"/commission/{PANEL}"))
    assert "Cases with a flag raised (25)" in page
    assert "Late report" in page and "late_report" not in page
    assert "Showing the first" not in page  # all 25 fit
    with engine.store.transaction():
        row = engine.store.case_by_reference(refs[26])
        engine.store.move_case(row["id"], row["revision"], row["state"], {"late_report": True}, row["entered"], "2022-02-01T09:00:00+00:00")  # fmt: skip
    page = text(cora.get(f"/commission/{PANEL}"))  # the next page view counts it
    assert "Cases with a flag raised (26)" in page
    assert "Showing the first 25 of 26 cases with a flag raised." in page
