"""Erasing one person's or one account's personal data keeps every anonymised count the same,
is logged without the erased values, and asking twice erases nothing more."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import NotFound, NotPermitted
from engine.reporting.kpis import KpiCalculator
from engine.runtime import Actor, Engine

from .clock import Clock
from .conftest import ROOT, account
from .databases import database_in
from .test_record_drafts import AISHA, BRADFORD, REFERRAL

COMMISSIONER = Actor("commissioner", "cara@example.org")
LIVERPOOL = "liverpool_life_rooms_2022"
BRADFORD_FILE = ROOT / "programmes" / "bradford.yaml"
PERSONAL = {**REFERRAL, "date_of_birth": "1990-05-17", "local_reference": "HP-17"}


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = Engine(database_in(tmp_path, "erase"), clock=Clock("2024-04-16T10:00"))
    eng.publish(ROOT / "programmes" / "bradford.yaml")
    return eng


def referral(engine: Engine, subject: str, answers: dict[str, object]) -> int:
    view = engine.start_case(BRADFORD, "referral", AISHA, subject=subject)
    engine.save_answers(view.id, "bradford_referral", answers, AISHA)
    engine.act(view.id, "accept_referral", AISHA)
    return view.id


def figures(engine: Engine) -> tuple[object, object]:
    """What anonymised reports show: every KPI for the service's first year, and the dashboard."""
    calc = KpiCalculator(engine.store, engine.programme(BRADFORD), engine.now())
    start, end = datetime(2024, 4, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
    board = engine.dashboard(BRADFORD, COMMISSIONER)
    return calc.table("quarter", start, end), board


def test_erasing_a_person_keeps_kpis_and_dashboard_figures_and_removes_what_names_them(
    engine: Engine,
) -> None:
    erased = referral(engine, "P-1", PERSONAL)
    kept = referral(engine, "P-2", {**PERSONAL, "local_reference": "HP-18"})
    before, untouched = figures(engine), engine.store.answers(kept)

    done = engine.erase_person("P-1", COMMISSIONER)

    assert done["already"] is None and len(done["cases"]) == 1
    assert figures(engine) == before  # KPIs, states and demographics count exactly as before
    answers = engine.store.answers(erased)[0]["data"]
    assert "local_reference" not in answers  # the caseworker's own label for the person
    assert answers["postcode"] == "BD18"  # at most the district, which reports count
    assert answers["date_of_birth"] == "1990-05-01"  # only the month
    assert answers["smi_support_situation"] == PERSONAL["smi_support_situation"]  # a category
    assert engine.store.case(erased)["subject"] == "erased"
    assert engine.store.answers(kept) == untouched  # nobody else's answers change
    assert engine.store.cases_about("P-1") == []
    # logged, with the case and how many rows, never the values
    [entry] = [e for e in engine.store.service_log() if e["action"] == "person_erased"]
    logged = json.dumps(entry)
    assert entry["detail"]["cases"] == [engine.store.case(erased)["reference"]]
    assert "P-1" not in logged and "BD18 4NP" not in logged and "HP-17" not in logged
    assert engine.store.history(erased)[-1]["action"] == "personal_data_erased"


def test_erasing_twice_finds_the_first_erasure_and_nobody_is_refused(engine: Engine) -> None:
    referral(engine, "P-1", PERSONAL)
    first = engine.erase_person("P-1", COMMISSIONER)
    again = engine.erase_person("P-1", COMMISSIONER)
    assert again["already"] is not None and again["cases"] == [] and first["already"] is None
    with pytest.raises(NotFound, match="no case you can see is about that person"):
        engine.erase_person("P-404", COMMISSIONER)
    with pytest.raises(NotPermitted, match="administrator or a commissioner"):
        engine.erase_person("P-1", Actor("assessor", "ann"))


def test_reasons_typed_on_an_erased_case_are_hidden_from_its_history(engine: Engine) -> None:
    view = engine.start_case(BRADFORD, "referral", AISHA, subject="P-3")
    engine.save_answers(view.id, "bradford_referral", PERSONAL, AISHA)
    engine.act(view.id, "refuse_referral", AISHA, reason="Ann Example is supported by her GP")
    engine.erase_person("P-3", COMMISSIONER)
    shown = json.dumps(engine.history(view.id, COMMISSIONER))
    assert "Ann Example" not in shown and "removed when personal data was erased" in shown


def test_erasing_an_account_hides_its_address_and_keeps_its_cases(tmp_path: Path) -> None:
    eng = Engine(database_in(tmp_path, "account"), clock=Clock("2022-01-20T10:00"))
    eng.publish(ROOT / "programmes" / "liverpool.yaml")
    email = "ann@riverside.example"
    eng.store.ensure_organisation("riverside", "Riverside", "2022-01-01T00:00")
    user_id = account(eng.store, email, "Ann Example", "applicant", "riverside")
    eng.store.add_session("s1", user_id, "2022-01-20T10:00")
    eng.store.add_outbox_message(email, "Your draft", "Hello Ann", "2022-01-20T10:00")
    applicant = Actor("applicant", email, "riverside")
    view = eng.start_case(LIVERPOOL, "application", applicant)
    eng.save_answers(view.id, "liverpool_expression_of_interest",
                     {"contact_name": "Ann Example", "organisation_name": "Riverside"}, applicant)  # fmt: skip

    done = eng.erase_account(email, COMMISSIONER)

    assert done["cases"] == [view.reference]
    assert eng.store.user_by_email(email) is None
    user = eng.store.user(user_id)
    assert user["name"] == "Erased account" and user["disabled_at"] is not None
    assert eng.store.session_user("s1") is None  # signed out everywhere
    assert eng.store.outbox_for(email) == []
    data = eng.store.answers(view.id)[0]["data"]
    assert "contact_name" not in data and data["organisation_name"] == "Riverside"
    assert all(e["actor"] != email for e in eng.history(view.id, COMMISSIONER))
    assert eng.store.case(view.id)["state"] == view.state  # the application still counts
    assert email not in json.dumps(eng.store.service_log())
    assert eng.erase_account(email, COMMISSIONER)["already"] is not None


def test_the_command_asks_before_erasing_and_erases_with_yes(
    engine: Engine, tmp_path: Path
) -> None:
    referral(engine, "P-1", PERSONAL)
    runner = CliRunner()
    db = database_in(tmp_path, "erase")
    asked = runner.invoke(main, ["privacy", "erase", "--person", "P-1", "--db", db], input="n\n")
    assert "cannot be undone" in asked.output and "Nothing was erased" in asked.output
    assert engine.store.cases_about("P-1")
    done = runner.invoke(main, ["privacy", "erase", "--person", "P-1", "--yes", "--db", db])
    assert done.exit_code == 0, done.output
    assert "Erased: 1 cases" in done.output and engine.store.cases_about("P-1") == []
    missing = runner.invoke(main, ["privacy", "erase", "--person", "P-9", "--yes", "--db", db])
    assert missing.exit_code == 1 and "check it" in missing.output
