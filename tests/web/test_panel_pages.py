"""The commissioner's assessment panel pages: assigning, assessors seeing only their work, the
case stuck by a conflict freed by reassigning, and the moderated score confirmed first."""

from __future__ import annotations

import html as markup
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.runtime import Actor, Engine

from .conftest import Clock, act_confirming
from .conftest import text as page_text
from .panel import PANEL, person, seed_engine, submitted_case


def text(response: TestResponse) -> str:
    """The page's words, entities decoded."""
    return markup.unescape(page_text(response))


@pytest.fixture
def engine(app: Flask, tmp_path: Path, clock: Clock) -> Engine:
    """The panel programme, needing one completed assessment and moderating over 10 points."""
    return seed_engine(
        app, tmp_path, clock, "  assessments_needed: 1\n  moderate_when_spread_over: 10"
    )


def sheet(browser: FlaskClient, ref: str, need: str = "3") -> None:
    """Score, save and complete this assessor's sheet."""
    data = {"score-need": need, "score-delivery": "2", "score-safeguarding": "met", "recommendation": "recommend"}  # fmt: skip
    assert browser.post(f"/assess/cases/{ref}", data=data).status_code == 302
    page = text(browser.post(f"/assess/cases/{ref}/complete", follow_redirects=True))
    assert f"You completed your assessment of {ref}." in page


def test_the_commissioner_assigns_and_each_assessor_sees_only_their_work(engine: Engine, app: Flask) -> None:  # fmt: skip
    one, two = submitted_case(engine, "org_a", "Org A"), submitted_case(engine, "org_b", "Org B")
    asa, bo = (
        person(app, "asa@panel.example", "assessor"),
        person(app, "bo@panel.example", "assessor"),
    )
    cora = person(app, "cora@council.example", "commissioner")
    assert "Assessment panel" in text(cora.get(f"/commission/{PANEL}"))  # linked from the dashboard
    page = text(cora.get(f"/commission/{PANEL}/panel"))
    assert "Nothing is assigned yet, so every assessor sees every application waiting" in page
    assert "Asa (asa@panel.example) 0 0 0" in page and "Nobody assigned" in page
    assert one in text(bo.get("/assess/")) and two in text(bo.get("/assess/"))

    r = cora.post(
        f"/commission/{PANEL}/panel/assign", data={"per_case": "0"}, follow_redirects=True
    )
    assert "Enter how many assessors each application needs" in text(r)
    page = text(cora.post(f"/commission/{PANEL}/panel/assign", data={"per_case": "1"}, follow_redirects=True))  # fmt: skip
    assert f"{one}: given to Asa (asa@panel.example)." in page  # the least loaded, by name
    assert f"{two}: given to Bo (bo@panel.example)." in page
    assert "Asa (asa@panel.example) 1 0 0" in page and "Assessors see only the applications assigned to them" in page  # fmt: skip
    queue = text(bo.get("/assess/"))
    assert two in queue and one not in queue
    assert bo.get(f"/assess/cases/{one}").status_code == 404  # not theirs to assess

    # the case page says where the panel stands, and links to the case's panel
    case = text(cora.get(f"/commission/cases/{one}"))
    assert "0 of 1 assessments complete" in case and "the assessment this application needs is not complete yet" in case  # fmt: skip
    sheet(asa, one)
    assert "1 of 1 assessments complete" in text(cora.get(f"/commission/cases/{one}/panel"))
    assert "Completed" in text(cora.get(f"/commission/cases/{one}/panel"))
    # commissioners only, and never a form without its token
    for url in (f"/commission/{PANEL}/panel", f"/commission/cases/{one}/panel"):
        assert asa.get(url).status_code == 403


def test_a_case_whose_only_assessor_declares_a_conflict_is_freed_by_assigning_another(
    engine: Engine, app: Flask
) -> None:
    ref = submitted_case(engine, "org_a", "Org A")
    asa, bo = (
        person(app, "asa@panel.example", "assessor"),
        person(app, "bo@panel.example", "assessor"),
    )
    cora = person(app, "cora@council.example", "commissioner")
    r = cora.post(f"/commission/cases/{ref}/panel/assign", data={"assessor": ["asa@panel.example"]},
                  follow_redirects=True)  # fmt: skip
    assert f"Asa (asa@panel.example) is now assessing {ref}." in text(r)
    assert ref not in text(bo.get("/assess/"))
    asa.post(f"/assess/cases/{ref}/conflict", data={"interest": "I am a trustee of Org A"})

    page = text(cora.get(f"/commission/cases/{ref}/panel"))
    assert "Declared a conflict of interest" in page
    assert (
        "it needs another assessor: a commissioner assigns them on the assessment panel page"
        in page
    )
    # the programme's panel says so too, rather than "Nobody assigned"
    overview = text(
        cora.get("/commission/" + engine.store.case_by_reference(ref)["programme_id"] + "/panel")
    )
    assert "Asa (asa@panel.example): declared a conflict of interest" in overview
    html = cora.get(f"/commission/cases/{ref}/panel").data.decode()
    assert 'value="asa@panel.example"' not in html.split('id="assign"')[1]  # not offered again
    r = cora.post(f"/commission/cases/{ref}/panel/assign", data={}, follow_redirects=True)
    assert "Choose at least one assessor to assign" in text(r)
    cora.post(f"/commission/cases/{ref}/panel/assign", data={"assessor": ["bo@panel.example"]})
    assert ref in text(bo.get("/assess/"))
    sheet(bo, ref)
    html = bo.get(f"/assess/cases/{ref}").data.decode()
    revision = html.split('name="revision" value="')[1].split('"')[0]
    r = act_confirming(bo, f"/assess/cases/{ref}/actions/assess", {"revision": revision})
    assert f"The status of {ref} is now: Assessed by the panel." in text(r)


def test_scores_far_apart_need_a_moderated_score_confirmed_first(
    engine: Engine, app: Flask
) -> None:
    ref = submitted_case(engine, "org_a", "Org A")
    asa, bo = (
        person(app, "asa@panel.example", "assessor"),
        person(app, "bo@panel.example", "assessor"),
    )
    cora = person(app, "cora@council.example", "commissioner")
    cora.post(f"/commission/cases/{ref}/panel/assign", data={"assessor": ["asa@panel.example", "bo@panel.example"]})  # fmt: skip
    sheet(asa, ref, need="4")  # 80%
    sheet(bo, ref, need="0")  # 20%
    closed = text(bo.get(f"/assess/cases/{ref}"))
    assert "the assessors' weighted scores are 60 points apart, more than the 10 the programme allows" in closed  # fmt: skip
    r = cora.post(f"/commission/cases/{ref}/panel/moderate", data={"score": "150", "reason": ""})
    assert r.status_code == 400
    assert "There is a problem" in text(r)
    assert "Enter the moderated score as a number from 0 to 100" in text(r) and "Give the reason" in text(r)  # fmt: skip
    # what was typed is kept beside its message, not lost to the error
    r = cora.post(f"/commission/cases/{ref}/panel/moderate", data={"score": "abc", "reason": "We met on Tuesday"})  # fmt: skip
    assert 'value="abc"' in r.data.decode() and ">We met on Tuesday</textarea>" in r.data.decode()
    ask = text(cora.post(f"/commission/cases/{ref}/panel/moderate", data={"score": "55", "reason": "Agreed at the panel"}))  # fmt: skip
    assert f"Record a moderated score of 55% for {ref}?" in ask and "This cannot be undone." in ask
    assert (
        engine.moderation(ref, Actor("commissioner", "cora@council.example"))["moderated"] is None
    )  # nothing yet
    r = cora.post(f"/commission/cases/{ref}/panel/moderate",
                  data={"score": "55", "reason": "Agreed at the panel", "confirmed": "yes"}, follow_redirects=True)  # fmt: skip
    assert f"The moderated score of 55% is recorded for {ref}." in text(r)
    case = text(cora.get(f"/commission/cases/{ref}"))
    assert "Moderated score: 55%. Reason: Agreed at the panel" in case
    assert "Moderated score recorded" in text(
        cora.get(f"/commission/cases/{ref}")
    )  # in the history
    assert "weighted scores are" not in text(bo.get(f"/assess/cases/{ref}"))


def test_only_a_programme_with_assessors_links_to_an_assessment_panel(
    app: Flask, clock: Clock
) -> None:
    from ..conftest import EXAMPLE

    service, _ = Engine(app.config["DATABASE"], clock=clock).publish(EXAMPLE / "programmes" / "link_service.yaml")  # fmt: skip
    cora = person(app, "cora@council.example", "commissioner")
    assert "Assessment panel" in text(cora.get("/commission/liverpool_life_rooms_2022"))
    assert "Assessment panel" not in text(cora.get(f"/commission/{service.id}"))


def test_the_panel_lists_25_applications_a_page_and_counts_every_page(
    engine: Engine, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    refs = [submitted_case(engine, f"org_{n:02}", f"Org {n:02}") for n in range(1, 28)]
    asa = person(app, "asa@panel.example", "assessor")
    person(app, "bo@panel.example", "assessor")
    cora = person(app, "cora@council.example", "commissioner")
    last = refs[-1]  # on the second page
    cora.post(f"/commission/cases/{last}/panel/assign", data={"assessor": ["asa@panel.example"]})
    sheet(asa, last)

    def listed(html: str) -> list[str]:
        return [r for r in refs if f">{r}<span" in html]

    from engine.store.assessments import AssessmentTables

    one_by_one: list[int] = []
    real = AssessmentTables.assessments
    monkeypatch.setattr(AssessmentTables, "assessments",
                        lambda self, case_id: one_by_one.append(case_id) or real(self, case_id))  # fmt: skip
    first = cora.get(f"/commission/{PANEL}/panel")
    html = first.data.decode()
    assert listed(html) == refs[:25] and one_by_one == []  # the page's panels read together
    assert "Showing 1 to 25 of 27 applications" in text(first)
    assert f'href="/commission/{PANEL}/panel?page=2"' in html
    # the assessors' table counts every application waiting, not only this page's
    assert "Asa (asa@panel.example) 1 1 0" in text(first) and "Bo (bo@panel.example) 0 0 0" in text(first)  # fmt: skip

    second = cora.get(f"/commission/{PANEL}/panel?page=2")
    assert listed(second.data.decode()) == refs[25:]
    assert "Showing 26 to 27 of 27 applications" in text(second)
    assert "Asa (asa@panel.example): completed" in text(second) and "1 of 1 assessments complete" in text(second)  # fmt: skip

    beyond = cora.get(f"/commission/{PANEL}/panel?page=9")
    assert "There is no page 9: choose a page from 1 to 2" in text(beyond)
    assert listed(beyond.data.decode()) == refs[:25]
    assert "Enter a page number as a whole number, like 2" in text(cora.get(f"/commission/{PANEL}/panel?page=two"))  # fmt: skip
