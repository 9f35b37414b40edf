"""Retention rules from the programme file: checked where they are written, applied once when
their time has passed (daily by the scheduler), and logged without the values removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import ProgrammeInvalid, load_programme
from engine.cli import main
from engine.runtime import SCHEDULER, Actor, Engine
from engine.scheduler.delivery import FileBackend
from engine.scheduler.retention import run_retention
from engine.scheduler.sweeper import scheduled_work

from .clock import Clock
from .conftest import ROOT
from .databases import database_in
from .test_erasure import PERSONAL, referral

LIVERPOOL = "liverpool_life_rooms_2022"
ANN = Actor("applicant", "ann@riverside.example", "riverside")


@pytest.fixture
def clock() -> Clock:
    return Clock("2022-01-20T10:00")


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> Engine:
    eng = Engine(database_in(tmp_path, "retention"), clock=clock)
    eng.publish(ROOT / "programmes" / "liverpool.yaml")
    return eng


def two_applications(engine: Engine) -> tuple[int, int]:
    """A draft nobody sent, and one whose expression of interest was sent."""
    draft = engine.start_case(LIVERPOOL, "application", ANN).id
    sent = engine.start_case(LIVERPOOL, "application", ANN).id
    for case_id in (draft, sent):
        engine.save_answers(case_id, "liverpool_expression_of_interest",
                            {"contact_name": "Ann Example"}, ANN)  # fmt: skip
    engine.store.mark_submitted(
        sent, "liverpool_expression_of_interest", "2022-01-25T10:00:00+00:00"
    )
    return draft, sent


def test_a_draft_never_sent_goes_six_months_after_the_round_closes_and_only_then(
    engine: Engine, clock: Clock
) -> None:
    draft, sent = two_applications(engine)
    clock.set("2022-08-21T15:00")  # the deadline was 5pm on 21 February: not yet six months
    assert run_retention(engine) == []
    clock.set("2022-08-21T16:30")
    counted = engine.store.state_counts(LIVERPOOL)

    [done] = run_retention(engine)

    reference = engine.store.case(draft)["reference"]
    assert done["rule"] == "unsent_drafts" and done["cases"] == [reference]
    assert done["rows"]["answers"] == 1
    assert engine.store.answers(draft) == [] and engine.store.answers(sent) != []
    # gone from every list, still counted
    listed = [c["id"] for c in engine.store.list_cases(LIVERPOOL)]
    assert draft not in listed and sent in listed
    assert engine.store.find_cases(scope=[(LIVERPOOL, None, None)])[0] == 1
    assert engine.store.state_counts(LIVERPOOL) == counted
    # logged with the rule and the case, never the answers
    [entry] = [e for e in engine.store.service_log() if e["action"] == "retention_delete"]
    assert entry["detail"]["cases"] == [reference] and "Ann Example" not in str(entry)
    assert engine.store.history(draft)[-1]["action"] == "retention_delete"
    assert run_retention(engine) == []  # idempotent: nothing more the second time


def test_a_dry_run_says_what_would_go_and_changes_nothing(engine: Engine, clock: Clock) -> None:
    draft, _sent = two_applications(engine)
    clock.set("2022-09-01T10:00")
    [would] = engine.apply_retention(SCHEDULER, dry_run=True)
    assert would["cases"] == [engine.store.case(draft)["reference"]]
    assert engine.store.answers(draft) != [] and engine.store.service_log() == []


def test_referrals_keep_their_anonymised_answers_seven_years_after_discharge(
    tmp_path: Path,
) -> None:
    clock = Clock("2024-04-16T10:00")
    eng = Engine(database_in(tmp_path, "referrals"), clock=clock)
    eng.publish(ROOT / "programmes" / "bradford.yaml")
    case_id = referral(eng, "P-1", PERSONAL)
    row = eng.store.case(case_id)
    at = "2024-05-01T10:00:00+00:00"  # discharged then (the state machine is not what is tested)
    eng.store.move_case(case_id, row["revision"], "discharged", row["flags"],
                        {**row["entered"], "discharged": at}, at)  # fmt: skip
    clock.set("2031-05-01T09:00")
    assert run_retention(eng) == []
    clock.set("2031-05-01T11:00")
    [done] = run_retention(eng)
    assert done["rule"] == "discharged_referrals" and done["then"] == "erase_personal_data"
    data = eng.store.answers(case_id)[0]["data"]
    assert "local_reference" not in data and data["referral_source"] == PERSONAL["referral_source"]
    assert eng.store.case(case_id)["state"] == "discharged"
    assert run_retention(eng) == []


def test_the_command_applies_retention_on_the_clock_it_is_given(
    engine: Engine, tmp_path: Path
) -> None:
    draft, _sent = two_applications(engine)
    runner, db = CliRunner(), database_in(tmp_path, "retention")
    env = {"COMMISSION_NOW": "2022-09-01T10:00"}
    dry = runner.invoke(main, ["privacy", "retention", "--dry-run", "--db", db], env=env)
    assert dry.exit_code == 0, dry.output
    assert "unsent_drafts" in dry.output and "would go" in dry.output
    assert engine.store.answers(draft) != []
    done = runner.invoke(main, ["privacy", "retention", "--db", db], env=env)
    assert done.exit_code == 0 and engine.store.answers(draft) == []
    again = runner.invoke(main, ["privacy", "retention", "--db", db], env=env)
    assert "Nothing is due" in again.output


RULE = """
retention:
  - id: old_referrals
    workflow: referral
    states: [dischargd]
    from: {entered: discharged}
    after: 7 years
    then: erase_personal_data
  - id: old_drafts
    workflow: aplication
    never_submitted: true
    from: {milestone: lead_eoi_deadline}
    after: 6 months
    then: delete
"""


def test_a_rule_naming_what_is_not_there_is_a_positioned_problem(tmp_path: Path) -> None:
    text = (ROOT / "programmes" / "bradford.yaml").read_text("utf-8")
    text = text[: text.index("\nretention:")] + RULE
    path = tmp_path / "bradford.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ProgrammeInvalid) as caught:
        load_programme(path, ROOT / "forms")
    said = [str(p) for p in caught.value.problems]
    line = text.count("\n", 0, text.index("[dischargd]")) + 1
    assert any(f":{line}:" in s and 'did you mean "discharged"' in s for s in said), said
    assert any('there is no workflow "aplication"' in s and "application" in s for s in said), said


def test_the_scheduler_applies_retention_at_start_and_once_a_day_in_its_one_job(
    engine: Engine, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    draft, sent = two_applications(engine)
    clock.set("2022-08-21T16:30")
    seconds = [1000.0]  # the scheduler's own count of time passing, apart from the engine's clock
    outbox = FileBackend(tmp_path / "outbox", echo=False)
    work = scheduled_work(engine, outbox, clock=lambda: seconds[0])

    work()  # at start: retention, then the sweep, in this one thread
    said = capsys.readouterr().out
    assert "retention: unsent_drafts" in said and "1 cases" in said
    assert engine.store.answers(draft) == [] and engine.store.answers(sent) != []
    assert "1 actions taken" in said  # the round's close, taken late by the sweep after it
    seconds[0] += 23 * 60 * 60
    work()
    assert "retention" not in capsys.readouterr().out  # once a day, not at every sweep
    seconds[0] += 60 * 60
    work()
    assert "[scheduler] retention: nothing due" in capsys.readouterr().out
