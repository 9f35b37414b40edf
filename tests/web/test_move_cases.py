"""A commissioner moves open cases to a newer version: the preview, "Are you sure…?", the results,
and the applicant of a moved draft sees which new questions need answers."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.runtime import Actor, Engine

from ..test_diff_in_words import ON_HOLD, edited
from ..test_moving_cases import CRITERION, VOLUNTEERS, start
from .conftest import Clock
from .conftest import text as page_text
from .panel import person
from .test_pin_dates import commissioner

PID = "tiny_grants"
MOVE = f"/commission/{PID}/versions/move"
COMMISSIONER = Actor("commissioner", "cleo")


def text(response: object) -> str:
    """The page's words, entities decoded."""
    return html.unescape(page_text(response))


@pytest.fixture
def cases(app: Flask, clock: Clock, tmp_path: Path) -> dict[str, str]:
    """Version 1 (with "On hold") with a draft, a case on hold and a closed one; then version 2."""
    engine = Engine(app.config["DATABASE"], clock=clock)
    clock.set("2022-01-10T10:00")
    engine.publish(edited(tmp_path, "v1", ON_HOLD))
    made = {"draft": start(engine, "org_a"), "held": start(engine, "org_b"),
            "closed": start(engine, "org_c")}  # fmt: skip
    engine.act(made["held"], "pause", COMMISSIONER)
    engine.act(made["closed"], "reject", COMMISSIONER, reason="Out of area")
    clock.set("2022-01-12T09:00")
    programme, _new = engine.publish(edited(tmp_path, "v2", CRITERION, VOLUNTEERS))
    made["version"] = programme.version
    clock.set("2022-01-20T10:00")
    return made


@pytest.fixture
def cora(app: Flask) -> FlaskClient:
    """A commissioner of every programme."""
    return person(app, "cora@council.example", "commissioner")


def test_the_preview_groups_cases_by_what_would_happen_in_words(
    cora: FlaskClient, cases: dict[str, str]
) -> None:
    page = cora.get(MOVE)
    assert page.status_code == 200
    said = text(page)
    assert "Version 2, published 9am on Wednesday 12 January 2022 (newest)" in said
    assert "Cases that can move (1)" in said
    assert f"{cases['draft']}, Org_A" in said
    assert (
        "need answers to new questions. Their people see which on their application: Expression of interest: How many volunteers help you?"
        in said
    )
    assert "Answers kept but no longer shown: Describe your project" in said
    assert "Cases that stay on their version (2)" in said
    assert 'The new version has no "On hold" status, so the case would have nowhere to be.' in said
    assert "It is not funded, and a closed case stays on the version it was decided on." in said
    assert cases["version"] not in page.data.decode()  # versions are named in words, never by id
    # a closed or held case is never offered to tick
    boxes = re.findall(r'name="cases" type="checkbox" value="([^"]+)"', page.data.decode())
    assert boxes == [cases["draft"]]
    # reached from the programme's Versions page
    assert (
        'href="/commission/tiny_grants/versions/move">Move open cases'
        in cora.get("/studio/tiny_grants/versions").data.decode()
    )


def test_moving_asks_first_then_says_what_happened_to_each_case(
    app: Flask, cora: FlaskClient, cases: dict[str, str]
) -> None:
    chosen = [cases["draft"], cases["held"], cases["closed"]]
    confirm = cora.post(MOVE, data={"to": "2", "cases": chosen})
    assert confirm.status_code == 200
    said = text(confirm)
    assert (
        "Are you sure you want to move 3 cases to version 2, published 9am on Wednesday 12 January 2022?"
        in said
    )
    assert "This cannot be undone." in said
    assert cases["version"] not in confirm.data.decode()

    done = cora.post(f"{MOVE}/confirmed", data={"to": "2", "cases": chosen, "reason": "New form"})
    assert done.status_code == 200
    said = text(done)
    assert "1 moved, 2 not moved" in said
    assert 'The new version has no "On hold" status, so the case would have nowhere to be.' in said
    assert "It is not funded, and a closed case stays on the version it was decided on." in said
    assert "Needs answers: How many volunteers help you?" in said

    # the applicant of the moved draft sees which new question their form needs
    ann = person(app, "ann@org-a.example", "applicant", "org_a")
    mine = text(ann.get(f"/apply/cases/{cases['draft']}"))
    assert "Needs answers" in mine
    assert "This form has changed. Answer: How many volunteers help you?" in mine
    # and the answer the new version no longer asks for is not shown anywhere on the form
    check = ann.get(f"/apply/cases/{cases['draft']}/forms/tiny_eoi/check")
    assert check.status_code == 200 and "Ann's group" in text(check)
    assert "Lunch clubs" not in text(check)
    staff_view = cora.get(f"/commission/cases/{cases['draft']}")
    assert staff_view.status_code == 200 and "Ann's group" in text(staff_view)
    assert "Lunch clubs" not in text(staff_view)
    # the preview now has nothing left that can move
    assert "Cases that can move" not in text(cora.get(MOVE))


def test_all_that_can_move_and_nothing_chosen(cora: FlaskClient, cases: dict[str, str]) -> None:
    nothing = cora.post(MOVE, data={"to": "2"})
    assert nothing.status_code == 400
    assert "Select the cases to move, or select all cases that can move" in text(nothing)

    assert "The 1 case that can move" in text(cora.get(MOVE))
    confirm = cora.post(MOVE, data={"to": "2", "all": "yes"})
    assert "Are you sure you want to move 1 case to version 2" in text(confirm)
    done = cora.post(f"{MOVE}/confirmed", data={"to": "2", "all": "yes"})
    assert "1 moved, 0 not moved" in text(done)
    assert cases["draft"] in text(done)


def test_a_commissioner_of_another_programme_gets_page_not_found(
    app: Flask, cases: dict[str, str]
) -> None:
    other = commissioner(app, "olga@council.example", "liverpool_life_rooms_2022")
    assert other.get(MOVE).status_code == 404
    assert other.post(MOVE, data={"to": "2", "cases": [cases["draft"]]}).status_code == 404
    assert other.post(f"{MOVE}/confirmed", data={"to": "2", "all": "yes"}).status_code == 404


def test_an_unknown_version_number_is_not_found(cora: FlaskClient, cases: dict[str, str]) -> None:
    assert cora.get(f"{MOVE}?to=7").status_code == 404
