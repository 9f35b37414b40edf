"""A commissioner pins a meeting known only by its month in the browser: the reminders about it
follow, a day in another month is refused saying which month, and another programme's
commissioner finds no such page."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from engine.cli import main
from engine.runtime import Engine

from ..conftest import account
from .conftest import LIVERPOOL, PASSWORD, Clock, make_app
from .conftest import text as page_text

LONDON = ZoneInfo("Europe/London")
DATES = f"/commission/{LIVERPOOL}/dates"
MAY = f"{DATES}/review:quarterly_monitoring_meeting:0"
MAY_LABEL = "Quarterly contract monitoring meeting, May 2022"


def text(response: object) -> str:
    """The page's words, entities decoded."""
    return html.unescape(page_text(response))


def commissioner(app: Flask, email: str, programme: str) -> FlaskClient:
    """A browser signed in as a commissioner of one programme only."""
    engine = Engine(app.config["DATABASE"])
    with engine.store.transaction():
        account(engine.store, email, "Cora", "commissioner", programme=programme,
                password_hash=generate_password_hash(PASSWORD))  # fmt: skip
    browser = app.test_client()
    signed_in = browser.post("/auth/sign-in", data={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.data
    return browser


@pytest.fixture
def cora(app: Flask) -> FlaskClient:
    """Liverpool's commissioner."""
    return commissioner(app, "cora@council.example", LIVERPOOL)


@pytest.fixture
def contract(app: Flask, clock: Clock) -> int:
    """A Liverpool contract in delivery: its quarterly reports are due before each meeting."""
    engine = Engine(app.config["DATABASE"], clock=clock)
    p = engine.programme(LIVERPOOL)
    with engine.store.transaction():
        return engine.store.insert_case({
            "programme_id": p.id, "version": p.version, "workflow": "contract", "state": "delivering",
            "organisation_id": "org_a", "subject": None, "role": None, "lot": None, "parent_id": None,
            "entered": {}, "created_at": "2022-01-10T09:00:00+00:00",
        }, "T")  # fmt: skip


def due(app: Flask, case_id: int, rule: str) -> list[str]:
    """When the case's pending reminders of one rule fall due, on the programme's clock."""
    rows = Engine(app.config["DATABASE"]).store.reminders_for(case_id)
    return [
        datetime.fromisoformat(r["due_at"]).astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
        for r in rows
        if r["rule"] == rule and r["status"] == "pending"
    ]


def pin(browser: FlaskClient, day: str, month: str, year: str, hour: str, minute: str) -> object:
    """Post the pin form as a person fills it in."""
    return browser.post(MAY, data={"date": [day, month, year], "time": [hour, minute]})


def test_a_commissioner_pins_the_may_meeting_and_the_reminders_and_dry_run_follow(
    app: Flask, cora: FlaskClient, contract: int, clock: Clock, tmp_path: Path
) -> None:
    assert f'href="{DATES}"' in cora.get(f"/commission/{LIVERPOOL}").data.decode()  # the nav
    listed = text(cora.get(DATES))
    assert f"{MAY_LABEL} May 2022 Not pinned yet Pin the date of {MAY_LABEL}" in listed
    assert "Expression of interest deadline 5pm on Monday 31 January 2022 Set in the programme file" in listed  # fmt: skip
    assert "review:" not in listed and "quarterly_monitoring_meeting" not in listed
    assert due(app, contract, "quarterly_return_due_today") == []  # nothing to hang it on yet

    form = text(cora.get(MAY))
    assert "The programme says this happens in May 2022." in form
    assert "For example, 16 5 2022" in form and "quarterly_monitoring" not in form

    done = pin(cora, "18", "5", "2022", "10", "00")
    assert done.status_code == 302 and done.headers["Location"] == DATES
    listed = text(cora.get(DATES))
    assert (f"{MAY_LABEL} is now pinned to 10am on Wednesday 18 May 2022. "
            "Reminders about it have been planned again.") in listed  # fmt: skip
    assert f"{MAY_LABEL} 10am on Wednesday 18 May 2022 Pinned Change the date of {MAY_LABEL}" in listed  # fmt: skip
    # the provider's report is due a week before the meeting: the scheduler will now send it
    assert due(app, contract, "quarterly_return_due_today") == ["2022-05-11 10:00"]
    dry = CliRunner().invoke(main, ["schedule", LIVERPOOL, "--from", "2022-05", "--to", "2022-05",
                                    "--db", app.config["DATABASE"]])  # fmt: skip
    assert dry.exit_code == 0, dry.output
    assert re.search(r"Wed 11 May 2022 10:00 BST\s+reminder\s+reminder quarterly_return_due_today", dry.stdout)  # fmt: skip
    assert "unpinned" not in [line.split()[0] for line in dry.stdout.splitlines() if "quarterly_return_due_today" in line]  # fmt: skip

    # changing it: the form shows the pin, and the reminders move with the meeting
    shown = cora.get(MAY).data.decode()
    assert 'id="date-day" name="date" type="text" value="18"' in shown
    assert 'id="time-minute" name="time" type="text" value="00"' in shown
    assert pin(cora, "25", "5", "2022", "14", "30").status_code == 302
    assert due(app, contract, "quarterly_return_due_today") == ["2022-05-18 14:30"]


def test_a_day_in_another_month_is_refused_saying_which_month(
    app: Flask, cora: FlaskClient, contract: int
) -> None:
    refused = pin(cora, "1", "6", "2022", "10", "00")
    assert refused.status_code == 400
    page = text(refused)
    message = "Quarterly contract monitoring meeting must be in May 2022: enter a date in May 2022"
    assert f"There is a problem {message}" in page  # the summary, then beside the date
    assert f"Error: {message}" in page
    assert 'href="#date-day"' in refused.data.decode()
    assert "<title>Error: " in refused.data.decode()
    assert due(app, contract, "quarterly_return_due_today") == []
    # what was typed stays in the boxes to correct
    assert 'id="date-month" name="date" type="text" value="6"' in refused.data.decode()
    # the month is checked while the time is still to finish: both are said at once
    both = text(pin(cora, "1", "6", "2022", "10", ""))
    assert f"There is a problem {message} Time must include minutes" in both


@pytest.mark.parametrize(
    ("typed", "message", "box"),
    [
        (("", "", "", "10", "00"), "Enter the date", "date-day"),
        (("18", "", "2022", "10", "00"), "Date must include a month", "date-month"),
        (("31", "2", "2022", "10", "00"), "Date must be a real date", "date-day"),
        (("1²", "5", "2022", "10", "00"), "Date must be a real date", "date-day"),
        (("9" * 30, "5", "2022", "10", "00"), "Date must be a real date", "date-day"),
        (("18", "5", "22", "10", "00"), "Year must include 4 numbers", "date-year"),
        (("18", "5", "2022", "", ""), "Enter the time", "time-hour"),
        (("18", "5", "2022", "10", ""), "Time must include minutes", "time-minute"),
        (("18", "5", "2022", "25", "00"), "Enter the hour as a number from 0 to 23", "time-hour"),
    ],
)
def test_each_mistake_in_the_boxes_says_what_to_do(
    cora: FlaskClient, typed: tuple[str, ...], message: str, box: str
) -> None:
    refused = pin(cora, *typed)
    assert refused.status_code == 400
    assert f"There is a problem {message}" in text(refused)
    assert f'href="#{box}"' in refused.data.decode()
    assert "is now pinned" not in text(cora.get(DATES))


def test_another_programmes_commissioner_finds_no_such_page(app: Flask, contract: int) -> None:
    bo = commissioner(app, "bo@bradford.example", "bradford_healthy_minds_wave2")
    assert bo.get(DATES).status_code == 404
    assert bo.get(MAY).status_code == 404
    assert pin(bo, "18", "5", "2022", "10", "00").status_code == 404
    assert due(app, contract, "quarterly_return_due_today") == []


def test_dates_that_are_not_vague_or_not_there_have_no_pin_page(cora: FlaskClient) -> None:
    assert cora.get(f"{DATES}/milestone:eoi_deadline").status_code == 404  # set to the minute
    assert cora.get(f"{DATES}/review:quarterly_monitoring_meeting:9").status_code == 404


def test_the_pin_form_needs_its_csrf_token(tmp_path: Path, clock: Clock) -> None:
    app = make_app(tmp_path, clock, WTF_CSRF_ENABLED=True)
    engine = Engine(app.config["DATABASE"])
    with engine.store.transaction():
        account(engine.store, "cora@council.example", "Cora", "commissioner", programme=LIVERPOOL,
                password_hash=generate_password_hash(PASSWORD))  # fmt: skip
    browser = app.test_client()
    page = browser.get("/auth/sign-in").data.decode()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    signed_in = browser.post("/auth/sign-in", data={"csrf_token": token, "email": "cora@council.example",
                                                    "password": PASSWORD})  # fmt: skip
    assert signed_in.status_code == 302
    data = {"date": ["18", "5", "2022"], "time": ["10", "00"]}
    assert browser.post(MAY, data=data).status_code == 400  # no token: refused
    assert engine.store.pins(LIVERPOOL) == {}
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', browser.get(MAY).data.decode())  # fmt: skip
    assert token, "the form carries a CSRF token"
    assert browser.post(MAY, data={**data, "csrf_token": token.group(1)}).status_code == 302
    pinned = datetime.fromisoformat(engine.store.pins(LIVERPOOL)["review:quarterly_monitoring_meeting:0"])  # fmt: skip
    assert pinned == datetime(2022, 5, 18, 9, 0, tzinfo=UTC)  # 10am BST
