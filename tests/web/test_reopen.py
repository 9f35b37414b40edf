"""A submitted form can be reopened before the deadline when the workflow says so, and not after."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from engine.runtime import Actor, Engine

from ..conftest import EXAMPLE
from .conftest import Clock, make_app, text
from .panel import GOOD, person

REOPEN = (
    "      - trigger: reopen\n        label: Reopen to make changes\n        source: submitted\n"
    "        dest: draft\n        by: [applicant]\n        deadline: closes\n"
)


def _programme(tmp_path: Path) -> tuple[Path, Path]:
    """The documentation's tiny programme, whose workflow also lets an applicant reopen a submission."""
    forms = tmp_path / "reopen" / "forms"
    forms.mkdir(parents=True)
    (forms / "tiny_eoi.yaml").write_bytes((EXAMPLE / "forms" / "tiny_eoi.yaml").read_bytes())
    source = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")
    marker = "      - trigger: award\n        source: submitted\n"
    assert marker in source
    path = tmp_path / "reopen" / "tiny.yaml"
    path.write_text(source.replace(marker, REOPEN + marker), "utf-8")
    return path, forms


def _submitted(tmp_path: Path, clock: Clock) -> tuple[Flask, str]:
    app = make_app(tmp_path, clock)
    engine = Engine(app.config["DATABASE"], clock=clock)
    programme, _ = engine.publish(*_programme(tmp_path))
    actor = Actor("applicant", "ann@org-a.example", "org_a")
    case = engine.start_case(programme.id, "application", actor, organisation_name="Org A")
    engine.save_answers(case.id, "tiny_eoi", GOOD, actor)
    return app, engine.act(case.id, "submit", actor).reference


def test_an_applicant_reopens_a_submitted_form_changes_it_and_submits_again(
    tmp_path: Path, clock: Clock
) -> None:
    app, ref = _submitted(tmp_path, clock)
    browser = person(app, "ann@org-a.example", "applicant", "org_a")
    page = f"/apply/cases/{ref}/forms/tiny_eoi/pages/organisation"
    locked = browser.get(page)
    assert locked.status_code == 302 and locked.headers["Location"].endswith(
        "/check"
    )  # read only once sent
    case = text(browser.get(f"/apply/cases/{ref}"))
    assert "Reopen to make changes" in case

    reopened = browser.post(f"/apply/cases/{ref}/actions/reopen", data={"state": "submitted"})
    assert reopened.status_code == 302
    assert browser.get(page).status_code == 200  # open for changes again
    saved = browser.post(page, data={"org_name": "Org A (renamed)", "income": "50000", "org_type": "charity",
                                     "_action": "save"})  # fmt: skip
    assert saved.status_code == 302
    sent = browser.post(f"/apply/cases/{ref}/forms/tiny_eoi/check", data={})
    assert sent.status_code == 302
    shown = text(browser.get(f"/apply/cases/{ref}"))
    assert "Org A (renamed)" in text(browser.get(f"/apply/cases/{ref}/forms/tiny_eoi/check"))
    assert "Reopen to make changes" in shown  # submitted again, so it could be reopened again


def test_after_the_deadline_a_submitted_form_cannot_be_reopened(
    tmp_path: Path, clock: Clock
) -> None:
    app, ref = _submitted(tmp_path, clock)
    browser = person(app, "ann@org-a.example", "applicant", "org_a")
    clock.set("2022-02-21T17:01")  # the tiny round closes at 17:00 (Europe/London, GMT in February)
    refused = browser.post(
        f"/apply/cases/{ref}/actions/reopen", data={"state": "submitted"}, follow_redirects=True
    )
    assert "the deadline was" in text(refused).lower()
    assert browser.get(f"/apply/cases/{ref}/forms/tiny_eoi/pages/organisation").status_code == 302
