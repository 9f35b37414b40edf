"""A reason staff give is shown to the applicant only where the programme shares it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from engine.runtime import Actor, Engine

from .conftest import Clock, start_application, text
from .panel import person, seed_engine, submitted_case
from .test_apply_submission import answered

CORA = Actor("commissioner", "cora@council.example")
WHY = "Your safeguarding policy was last reviewed in 2015: please review it and apply again."


def test_the_applicant_reads_the_reason_for_a_decision_the_programme_shares(
    app: Flask, clock: Clock, applicant: Callable[..., FlaskClient]
) -> None:
    ann = applicant()
    ref = start_application(ann)
    answered(app, clock, ref)
    engine = Engine(app.config["DATABASE"], clock=clock)
    org = engine.case(ref, CORA).organisation
    engine.act(ref, "submit_eoi", Actor("applicant", "ann@small.example", org))
    cora = person(app, "cora@council.example", "commissioner")
    html = cora.get(f"/commission/cases/{ref}").data.decode()
    assert "The applicant will see this reason on their application." in html
    engine.act(ref, "find_ineligible", CORA, reason=WHY)
    page = text(ann.get(f"/apply/cases/{ref}"))
    told = page.split("What the funder told you")[1]
    assert told.startswith(" Marked as not eligible") and WHY in told


def test_a_reason_the_programme_does_not_share_stays_with_staff(
    app: Flask, tmp_path: Path, clock: Clock
) -> None:
    engine = seed_engine(app, tmp_path, clock)
    ref = submitted_case(engine, "org_a", "Org A")
    engine.act(ref, "reject", CORA, reason="Internal: the panel chair knows them")
    ann = person(app, "ann@org-a.example", "applicant", "org_a")
    page = text(ann.get(f"/apply/cases/{ref}"))
    assert "Internal: the panel chair" not in page and "What the funder told you" not in page
    assert "Internal: the panel chair" in text(
        person(app, "c@x.example", "commissioner").get(f"/commission/cases/{ref}")
    )
