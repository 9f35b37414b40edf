"""An administrator answers a personal data request in the browser: finds what is held about a
person, downloads it to send them, and erases it after confirming."""

from __future__ import annotations

import json

from flask import Flask

from engine.runtime import Engine

from ..test_record_drafts import AISHA, BRADFORD, REFERRAL
from .conftest import Clock, text
from .panel import person


def test_an_administrator_finds_sends_and_erases_a_persons_data(app: Flask, clock: Clock) -> None:
    clock.set("2024-04-16T10:00")
    engine = Engine(app.config["DATABASE"], clock=clock)
    view = engine.start_case(BRADFORD, "referral", AISHA, subject="P-77")
    engine.save_answers(
        view.id, "bradford_referral", {**REFERRAL, "local_reference": "HP-77"}, AISHA
    )
    admin = person(app, "root@council.example", "admin")

    found = admin.get("/admin/privacy?kind=person&who=P-77")
    assert found.status_code == 200
    page = text(found)
    assert view.reference in page and "Healthy Minds" in page
    readable = admin.get("/admin/privacy/export.html?kind=person&who=P-77")
    assert readable.headers["Content-Disposition"] == 'attachment; filename="personal-data.html"'
    assert view.reference in readable.data.decode() and "HP-77" in readable.data.decode()
    data = json.loads(admin.get("/admin/privacy/export.json?kind=person&who=P-77").data)
    assert [c["reference"] for c in data["cases"]] == [view.reference]

    asked = admin.post("/admin/privacy/erase", data={"kind": "person", "who": "P-77"})
    assert "Are you sure you want to erase their personal data?" in text(asked)
    assert "This cannot be undone." in text(asked)
    assert engine.store.cases_about("P-77")  # nothing erased before the answer is yes
    done = admin.post("/admin/privacy/erase", data={"kind": "person", "who": "P-77", "confirmed": "yes"},
                      follow_redirects=True)  # fmt: skip
    assert (
        "Erased: their personal data is gone from 1 case. Counts in reports are unchanged."
        in text(done)
    )
    assert "HP-77" not in json.dumps(engine.store.answers(view.id))
    again = admin.get("/admin/privacy?kind=person&who=P-77")
    assert again.status_code == 400
    assert "No case you can see is about that person; check the identifier" in text(again)


def test_a_request_not_whole_says_what_to_enter_and_only_administrators_answer_them(
    app: Flask,
) -> None:
    admin = person(app, "root@council.example", "admin")
    empty = admin.get("/admin/privacy?kind=account&who=")
    assert empty.status_code == 400 and "Enter the account's email address" in text(empty)
    unknown = admin.get("/admin/privacy?kind=account&who=nobody@example.org")
    assert "There is no account with that email address; check it" in text(unknown)
    cora = person(app, "cora@council.example", "commissioner")
    assert cora.get("/admin/privacy").status_code == 403
    assert cora.get("/admin/privacy/export.json?kind=person&who=P-77").status_code == 403
