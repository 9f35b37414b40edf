"""Fixtures for the web app: a database with the shipped programmes, a frozen clock, clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.runtime import Engine
from engine.web import create_app
from engine.web.services import store

from ..clock import Clock
from ..conftest import ROOT
from ..databases import database_in

LIVERPOOL = "liverpool_life_rooms_2022"
EOI = "liverpool_expression_of_interest"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def clock() -> Clock:
    """Before the Liverpool EOI deadline (31 January 2022, 17:00)."""
    return Clock("2022-01-20T10:00")


def make_app(tmp_path: Path, clock: Clock, **config: Any) -> Flask:
    """An app on a fresh database with the three programmes published."""
    db = database_in(tmp_path, "web")
    engine = Engine(db, clock=clock)
    if not engine.store.programme_ids():  # a second app on the same database publishes nothing
        for name in ("liverpool", "bradford", "llr_hubs"):
            engine.publish(ROOT / "programmes" / f"{name}.yaml")
    settings = {
        "TESTING": True,
        "DATABASE": str(db),
        "CLOCK": clock,
        "SECRET_KEY": "test",
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,  # the test client speaks http; the default is True
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "BASE_URL": "http://localhost",  # as COMMISSION_BASE_URL sets it: links in emails
    }
    return create_app({**settings, **config})


@pytest.fixture
def app(tmp_path: Path, clock: Clock) -> Flask:
    """The app, CSRF off (one test turns it on)."""
    return make_app(tmp_path, clock)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser."""
    return app.test_client()


@pytest.fixture
def applicant(app: Flask) -> Callable[..., FlaskClient]:
    """Makes a browser signed in as a new applicant of a new organisation."""

    def make(email: str = "ann@small.example", organisation: str = "Small Org") -> FlaskClient:
        browser = app.test_client()
        response = browser.post(
            "/auth/register",
            data={"name": "Ann Example", "organisation": organisation, "email": email,
                  "password": PASSWORD, "confirm": PASSWORD},
        )  # fmt: skip
        assert response.status_code == 200 and b"Check your email" in response.data, response.data
        confirm_email(app, browser, email)
        return browser

    return make


def confirm_email(app: Flask, browser: FlaskClient, email: str) -> None:
    """Open the newest confirmation link emailed to `email`, as its owner would: signed in."""
    with app.app_context():
        messages = store().outbox_for(email.strip().lower())
    link = next(m["body"] for m in messages if m["subject"] == "Confirm your email address")
    path = re.search(r"http://localhost(/auth/confirm/\S+)", link)
    assert path, link
    assert browser.get(path.group(1)).status_code == 302


def start_application(browser: FlaskClient, programme: str = LIVERPOOL) -> str:
    """Start an application; its reference."""
    response = browser.post(f"/apply/rounds/{programme}/start", data={})
    assert response.status_code == 302, response.data
    return response.headers["Location"].rsplit("/", 1)[-1]


def text(response: Any) -> str:
    """The page's text with tags and runs of space removed, for reading assertions."""
    html = response.data.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


@pytest.fixture
def uploads(tmp_path: Path) -> Iterator[Path]:
    """Where the app stores uploads in these tests."""
    yield tmp_path / "uploads"


def act_confirming(browser: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    """Post an action as its button does; if it asks "Are you sure…?", answer yes, as a person would."""
    first = browser.post(url, data=data)
    if first.status_code == 200 and b'name="confirmed" value="yes"' in first.data:
        assert b"This cannot be undone." in first.data
        return browser.post(url, data={**data, "confirmed": "yes"}, follow_redirects=True)
    return browser.get(first.headers["Location"]) if first.status_code == 302 else first
