"""A small programme with a panel (scored and met / not met criteria) and users for each role.

Made from the documentation's worked example: an assessor-only step between submitted and the
commissioner's award, and criteria with scales and weights, so totals can be checked by hand.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from engine.runtime import Actor, Engine

from ..conftest import EXAMPLE, account
from .conftest import PASSWORD, Clock

PANEL = "tiny_panel"
GOOD = {"org_name": "Org A", "income": 50000, "org_type": "charity",
        "priorities": ["isolation"], "summary": "Lunch club"}  # fmt: skip
CRITERIA = """
criteria:
  - id: need
    title: Evidence of need
    kind: scored
    scale: {min: 0, max: 4, labels: {0: No evidence, 4: Strong evidence}}
    weight: 60
    stage: tiny_eoi
  - id: delivery
    title: Ability to deliver
    kind: scored
    scale: {min: 0, max: 4}
    weight: 40
    stage: tiny_eoi
  - id: safeguarding
    title: Safeguarding in place
    kind: pass_fail
    stage: tiny_eoi
timeline:"""


def panel_programme(tmp_path: Path, settings: str = "") -> Path:
    """Write the panel programme (and its form) under tmp_path; its path. `settings`: lines of
    its `assessment` key, e.g. "  assessments_needed: 2"."""
    (tmp_path / "panel" / "forms").mkdir(parents=True, exist_ok=True)
    (tmp_path / "panel" / "forms" / "tiny_eoi.yaml").write_bytes(
        (EXAMPLE / "forms" / "tiny_eoi.yaml").read_bytes()
    )
    text = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")
    text = text.replace("id: tiny_grants", f"id: {PANEL}").replace(
        "name: Tiny community grants", "name: Tiny panel grants"
    )
    text = text.replace(
        "timeline:", (f"assessment:\n{settings}\n" if settings else "") + CRITERIA, 1
    )
    text = text.replace(
        "      - {id: submitted, label: Submitted}\n",
        "      - {id: submitted, label: Submitted}\n      - {id: assessed, label: Assessed by the panel}\n",
    )
    text = text.replace(
        "      - trigger: award\n        source: submitted\n",
        "      - trigger: assess\n        label: Complete the assessment\n        source: submitted\n"
        "        dest: assessed\n        by: [assessor]\n"
        "      - trigger: award\n        label: Make an award\n        source: assessed\n",
    )
    text = text.replace("source: [draft, submitted]", "source: [draft, submitted, assessed]")
    path = tmp_path / "panel" / "programmes" / "tiny_panel.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def seed_engine(app: Flask, tmp_path: Path, clock: Clock, settings: str = "") -> Engine:
    """An engine on the app's database with the panel programme published."""
    engine = Engine(app.config["DATABASE"], clock=clock)
    engine.publish(panel_programme(tmp_path, settings), tmp_path / "panel" / "forms")
    return engine


def submitted_case(engine: Engine, org: str, name: str | None = None) -> str:
    """An application of organisation `org`, answered and submitted; its reference."""
    actor = Actor("applicant", f"{org}@example.org", org)
    case = engine.start_case(PANEL, "application", actor, organisation_name=name or org)
    engine.save_answers(case.id, "tiny_eoi", {**GOOD, "org_name": name or org}, actor)
    return engine.act(case.id, "submit", actor).reference


def person(app: Flask, email: str, role: str, organisation: str | None = None) -> FlaskClient:
    """A browser signed in as a new person with this role."""
    engine = Engine(app.config["DATABASE"])
    with engine.store.transaction():
        if organisation:
            engine.store.ensure_organisation(organisation, organisation, "2022-01-01")
        account(
            engine.store,
            email,
            email.split("@")[0].title(),
            role,
            organisation,
            password_hash=generate_password_hash(PASSWORD),
        )
    browser = app.test_client()
    r = browser.post("/auth/sign-in", data={"email": email, "password": PASSWORD})
    assert r.status_code == 302, r.data
    return browser
