"""Assessors: the queue, a score sheet against the criteria, conflicts of interest; moderated totals."""

from __future__ import annotations

import html as markup
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.errors import ActionRefused, NotPermitted
from engine.runtime import Actor, Engine
from engine.runtime.assessment import assessment_states, criteria_for

from ..databases import database_in
from .conftest import Clock, act_confirming
from .conftest import text as page_text
from .panel import person, seed_engine, submitted_case


def text(response: TestResponse) -> str:
    """The page's words, entities decoded."""
    return markup.unescape(page_text(response))


@pytest.fixture
def engine(app: Flask, tmp_path: Path, clock: Clock) -> Engine:
    """An engine on the app's database, with the panel programme published."""
    return seed_engine(app, tmp_path, clock)


def score(browser: FlaskClient, ref: str, need: str, delivery: str, safeguarding: str,
          recommendation: str = "recommend", **more: str):  # fmt: skip
    """Fill in and save the score sheet."""
    data = {"score-need": need, "score-delivery": delivery, "score-safeguarding": safeguarding,
            "recommendation": recommendation, **more}  # fmt: skip
    return browser.post(f"/assess/cases/{ref}", data=data, follow_redirects=True)


def test_an_assessor_scores_an_application_against_the_criteria(engine: Engine, app: Flask) -> None:
    ref = submitted_case(engine, "org_a", "Org A")
    asa = person(app, "asa@panel.example", "assessor")
    queue = text(asa.get("/assess/"))
    assert (
        "1 waiting" in queue and ref in queue and "Tiny panel grants" in queue and "To do" in queue
    )

    sheet = text(asa.get(f"/assess/cases/{ref}"))
    assert "1. Evidence of need" in sheet and "(Score 0 to 4, weight 60%)" in sheet
    assert "0: No evidence" in sheet and "4: Strong evidence" in sheet
    assert "3. Safeguarding in place" in sheet and "(Met or not met) Met Not met" in sheet
    assert "What was your income in your last accounts? £50,000" in sheet  # the application itself

    # a sheet with a score missing and one off the scale: every problem, linked, nothing saved
    r = asa.post(f"/assess/cases/{ref}", data={"score-need": "7", "score-safeguarding": "met"})
    assert r.status_code == 400
    page = text(r)
    assert "There is a problem" in page
    assert "The score for Evidence of need must be between 0 and 4" in page
    assert "Score Ability to deliver" in page and "Choose a recommendation" in page
    assert 'href="#score-delivery-0"' in r.data.decode()  # its first choice, which the link focuses
    assert engine.my_assessment(ref, Actor("assessor", "asa@panel.example")) is None

    page = text(
        score(asa, ref, "3", "2", "met", **{"note-need": "Good local data", "comment": "Solid"})
    )
    assert f"Your assessment of {ref} is saved." in page and "You have scored this" in page
    assert "Scored" in text(asa.get("/assess/"))
    saved = engine.my_assessment(ref, Actor("assessor", "asa@panel.example"))
    assert saved["scores"] == {"need": 3, "delivery": 2, "safeguarding": "met"}
    assert saved["notes"] == {"need": "Good local data"} and saved["comment"] == "Solid"
    # the assessment is in the case's audit history
    history = engine.history(ref, Actor("commissioner", "c"))
    assert history[-1]["action"] == "assessment" and history[-1]["actor"] == "asa@panel.example"
    assert history[-1]["detail"]["weighted"] == 65.0  # (3/4 × 60 + 2/4 × 40) / 100

    # the workflow's assessor step, from the same page
    html = asa.get(f"/assess/cases/{ref}").data.decode()
    revision = html.split('name="revision" value="')[1].split('"')[0]
    r = act_confirming(asa, f"/assess/cases/{ref}/actions/assess", {"revision": revision})
    assert (
        f"Complete the assessment: done. The status of {ref} is now: Assessed by the panel."
        in text(r)
    )
    assert "No application is waiting for you" in text(r)


def test_a_declared_conflict_removes_the_application_from_the_assessor(
    engine: Engine, app: Flask
) -> None:
    ref = submitted_case(engine, "org_a", "Org A")
    other = submitted_case(engine, "org_b", "Org B")
    asa = person(app, "asa@panel.example", "assessor")
    r = asa.post(f"/assess/cases/{ref}/conflict", data={"interest": ""}, follow_redirects=True)
    assert "Say what your interest in this organisation or application is" in text(r)

    r = asa.post(f"/assess/cases/{ref}/conflict", data={"interest": "I am a trustee of Org A"},
                 follow_redirects=True)  # fmt: skip
    page = text(r)
    assert f"You declared a conflict of interest: {ref} has left your queue." in page
    assert "1 waiting" in page and other in page and ref not in page.split("waiting")[1]
    # gone for good: the page, scoring it and acting on it
    assert asa.get(f"/assess/cases/{ref}").status_code == 404
    assert score(asa, ref, "4", "4", "met").status_code == 404
    assert asa.post(f"/assess/cases/{ref}/actions/assess", data={}).status_code == 404
    me = Actor("assessor", "asa@panel.example")
    with pytest.raises(NotPermitted, match="you declared a conflict of interest"):
        engine.assess(ref, me, scores={"need": 4, "delivery": 4, "safeguarding": "met"}, recommendation="recommend")  # fmt: skip
    with pytest.raises(ActionRefused, match="conflict of interest"):
        engine.act(ref, "assess", me)
    assert not any(a.allowed for a in engine.actions(ref, me))
    # another assessor is not affected, and the commissioner sees the declaration
    bo = person(app, "bo@panel.example", "assessor")
    assert ref in text(bo.get("/assess/"))
    cora = person(app, "cora@council.example", "commissioner")
    page = text(cora.get(f"/commission/cases/{ref}"))
    assert "asa@panel.example: I am a trustee of Org A" in page
    assert "Conflict of interest declared" in page  # in the history


def test_the_commissioner_sees_each_assessors_scores_and_the_moderated_total(
    engine: Engine, app: Flask
) -> None:
    ref = submitted_case(engine, "org_a", "Org A")
    asa = person(app, "asa@panel.example", "assessor")
    bo = person(app, "bo@panel.example", "assessor")
    score(asa, ref, "3", "2", "met", comment="Solid")  # (0.75 × 60 + 0.5 × 40) = 65%
    score(bo, ref, "4", "4", "not_met", recommendation="recommend_with_conditions")  # 100%
    cora = person(app, "cora@council.example", "commissioner")
    page = text(cora.get(f"/commission/cases/{ref}"))
    assert "2 assessors scored this application." in page
    assert "Moderated total (mean weighted score): 82.5%" in page
    assert "Criterion asa@panel.example bo@panel.example Across assessors" in page
    assert "Evidence of need Score 0 to 4, weight 60% 3 4 mean 3.5" in page
    assert "Safeguarding in place Met or not met Met Not met met for 1 of 2" in page
    assert "Weighted score 65.0% 100.0% 82.5%" in page
    assert "Recommendation Recommend Solid Recommend with conditions" in page
    moderated = engine.moderation(ref, Actor("commissioner", "c"))
    assert moderated["mean_weighted"] == 82.5 and moderated["count"] == 2
    with pytest.raises(NotPermitted):
        engine.moderation(ref, Actor("assessor", "asa@panel.example"))


def test_pass_fail_programmes_queue_their_panel_stage(engine: Engine) -> None:
    """Liverpool's proposals wait for the panel; its criteria are all met / not met."""
    programme = engine.programme("liverpool_life_rooms_2022")
    assert assessment_states(programme.workflows["application"]) == {"proposal_submitted"}
    criteria = criteria_for(programme, "application", None)
    assert len(criteria) == 8 and {c["kind"] for c in criteria} == {"pass_fail"}
    assert criteria_for(programme, "contract", None) == []


def test_applicants_caseworkers_and_commissioners_cannot_use_the_assessors_pages(
    engine: Engine, app: Flask, applicant: Callable[..., FlaskClient]
) -> None:
    ref = submitted_case(engine, "org_a", "Org A")
    people = [applicant(), person(app, "cas@org.example", "caseworker", "org_a"),
              person(app, "cora@council.example", "commissioner")]  # fmt: skip
    for browser in people:
        for url in ("/assess/", f"/assess/cases/{ref}"):
            assert browser.get(url).status_code == 403, url
        assert score(browser, ref, "4", "4", "met").status_code == 403
        assert browser.post(f"/assess/cases/{ref}/conflict", data={"interest": "x"}).status_code == 403  # fmt: skip
    assert engine.my_assessment(ref, Actor("assessor", "x")) is None
    asa = person(app, "asa@panel.example", "assessor")
    assert asa.get("/assess/cases/TP-999999").status_code == 404


def test_the_demo_assessor_has_a_proposal_to_assess_and_the_commissioner_every_dashboard(
    tmp_path: Path,
) -> None:
    import os
    import re

    from click.testing import CliRunner

    from engine.cli import main
    from engine.web import create_app

    from ..conftest import ROOT

    db = database_in(tmp_path, "demo")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(main, ["demo", "--db", str(db)])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    password = re.search(r"demo password: (\S+)", result.output).group(1)
    app = create_app({"DATABASE": str(db), "SECRET_KEY": "t", "SESSION_COOKIE_SECURE": False,
                      "CLOCK": Clock("2024-06-01T10:00"), "WTF_CSRF_ENABLED": False})  # fmt: skip

    def signed_in(email: str) -> FlaskClient:
        browser = app.test_client()
        browser.post("/auth/sign-in", data={"email": email, "password": password})
        return browser

    asa = signed_in("assessor@example.org")
    queue = text(asa.get("/assess/"))
    ref = re.search(
        r"(LLR-\d{6}) Programme Mental Health Resilience and Recovery Hubs", queue
    ).group(1)
    sheet = text(asa.get(f"/assess/cases/{ref}"))
    assert "Person centred values" in sheet and "Riverside Wellbeing CIO" in sheet
    cora = signed_in("commissioner@example.org")
    for pid in ("liverpool_life_rooms_2022", "bradford_healthy_minds_wave2", "llr_resilience_recovery_hubs"):  # fmt: skip
        assert cora.get(f"/commission/{pid}").status_code == 200, pid
        for wf in ("application", "contract"):
            assert cora.get(f"/commission/{pid}/workflows/{wf}").status_code == 200, (pid, wf)
    assert "Submitted" in text(cora.get(f"/commission/cases/{ref}"))
    # uploaded files open from the case page, for the commissioner and the assessor alike
    html = cora.get("/commission/cases/LIV-000002").data.decode()
    link = re.search(r'href="(/commission/cases/LIV-000002/files/[^"]+)">constitution.pdf', html)
    download = cora.get(link.group(1))
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    html = asa.get(f"/assess/cases/{ref}").data.decode()
    link = re.search(rf'href="(/assess/cases/{ref}/files/[^"]+)"', html)
    assert asa.get(link.group(1)).status_code == 200
    assert asa.get("/assess/cases/LIV-000002").status_code == 404  # not waiting for assessment
