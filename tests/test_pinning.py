"""Pinning a meeting known only by its month: the reminders hung on it move with the pin, a pin
outside the month is refused saying which month, and the command line does the same."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import ActionRefused, NotFound, NotPermitted
from engine.runtime import Actor, Engine
from engine.timeline.planner import dry_run, pins_of

from .clock import Clock
from .conftest import ROOT
from .databases import database_in

LONDON = ZoneInfo("Europe/London")
MAY_MEETING = "review:quarterly_monitoring_meeting:0"


def at(text: str) -> datetime:
    """A time on the programme's clock (London)."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """Liverpool published in April 2022, the frozen clock the engine reads."""
    eng = Engine(database_in(tmp_path, "pin"), clock=Clock("2022-04-01T08:00"))
    eng.publish(ROOT / "programmes" / "liverpool.yaml")
    return eng


@pytest.fixture
def contract(engine: Engine) -> int:
    """A Liverpool contract in delivery: its provider's quarterly reports hang on the meetings."""
    p = engine.programme("liverpool_life_rooms_2022")
    with engine.store.transaction():
        return engine.store.insert_case({
            "programme_id": p.id, "version": p.version, "workflow": "contract", "state": "delivering",
            "organisation_id": "org_a", "subject": None, "role": None, "lot": None, "parent_id": None,
            "entered": {}, "created_at": at("2022-03-01T09:00").isoformat(),
        }, "T")  # fmt: skip


CORA = Actor("commissioner", "cora@council.example", programmes=frozenset({"liverpool_life_rooms_2022"}))  # fmt: skip


def pending(engine: Engine, case_id: int, rule: str) -> list[str]:
    """When a case's pending reminders of one rule fall due, on the programme's clock."""
    return [
        datetime.fromisoformat(r["due_at"]).astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
        for r in engine.store.reminders_for(case_id)
        if r["rule"] == rule and r["status"] == "pending"
    ]


def test_pinning_the_may_meeting_plans_the_report_reminders_and_changing_it_moves_them(
    engine: Engine, contract: int
) -> None:
    pid = "liverpool_life_rooms_2022"
    # known only as May 2022: nothing can be sent about it yet
    assert pending(engine, contract, "quarterly_return_due_today") == []

    pinned = engine.pin_date(pid, MAY_MEETING, at("2022-05-18T10:00"), CORA)
    assert pinned.known_as(LONDON) == "10am on Wednesday 18 May 2022"
    # the report is due a week before the meeting, and reminded a week before that
    assert pending(engine, contract, "quarterly_return_due_today") == ["2022-05-11 10:00"]
    assert pending(engine, contract, "quarterly_return_due_in_a_week") == ["2022-05-04 10:00"]

    engine.pin_date(pid, MAY_MEETING, at("2022-05-25T14:30"), CORA)  # the meeting moves
    assert pending(engine, contract, "quarterly_return_due_today") == ["2022-05-18 14:30"]
    assert pending(engine, contract, "quarterly_return_due_in_a_week") == ["2022-05-11 14:30"]
    # the dry run reads the same pin
    p = engine.programme(pid)
    items = dry_run(p, at("2022-05-01T00:00"), at("2022-05-31T23:59"), pins_of(engine.store, pid))
    due = [i.due for i in items if i.rule == "quarterly_return_due_today"]
    assert due == [at("2022-05-18T14:30")]
    # who pinned it, and when, is on the service log
    logged = engine.store.service_log(subject=MAY_MEETING)
    assert [(e["actor_id"], e["action"]) for e in logged] == [("cora@council.example", "date pinned")] * 2  # fmt: skip
    assert logged[0]["detail"]["label"] == "Quarterly contract monitoring meeting, May 2022"


def test_a_may_meeting_pinned_in_june_is_refused_saying_which_month_and_nothing_changes(
    engine: Engine, contract: int
) -> None:
    with pytest.raises(ActionRefused) as refused:
        engine.pin_date("liverpool_life_rooms_2022", MAY_MEETING, at("2022-06-01T10:00"), CORA)
    assert refused.value.message == (
        "Quarterly contract monitoring meeting must be in May 2022: enter a date in May 2022"
    )
    assert engine.store.pins("liverpool_life_rooms_2022") == {}
    assert pending(engine, contract, "quarterly_return_due_today") == []
    # the last minute of May is still May; a day pinned to another day is refused too
    engine.pin_date("liverpool_life_rooms_2022", MAY_MEETING, at("2022-05-31T23:59"), CORA)
    with pytest.raises(ActionRefused, match="must be on Friday 1 April 2022"):
        engine.pin_date(
            "liverpool_life_rooms_2022", "milestone:activity_start", at("2022-04-02T09:00"), CORA
        )


def test_the_programmes_dates_say_how_each_is_known_and_which_can_be_pinned(
    engine: Engine,
) -> None:
    pid = "liverpool_life_rooms_2022"
    engine.pin_date(pid, MAY_MEETING, at("2022-05-18T10:00"), CORA)
    found = {d.label: d for d in engine.pinnable_dates(pid, CORA)}
    may = found["Quarterly contract monitoring meeting, May 2022"]
    assert may.pinned and may.known_as(LONDON) == "10am on Wednesday 18 May 2022"
    august = found["Quarterly contract monitoring meeting, August 2022"]
    assert august.vague and not august.pinned and august.known_as(LONDON) == "August 2022"
    outcome = found["Organisations told the outcome of their expression of interest"]
    assert outcome.known_as(LONDON) == "the week of Monday 7 February 2022" and outcome.vague
    deadline = found["Expression of interest deadline"]
    assert not deadline.vague and deadline.known_as(LONDON) == "5pm on Monday 31 January 2022"
    with pytest.raises(ActionRefused, match="change the file and publish it"):
        engine.pin_date(pid, "milestone:eoi_deadline", at("2022-01-31T18:00"), CORA)


def test_a_date_the_programme_does_not_have_is_named_and_only_its_commissioners_may_pin(
    engine: Engine,
) -> None:
    pid = "liverpool_life_rooms_2022"
    with pytest.raises(NotFound, match='did you mean "review:quarterly_monitoring_meeting:0"'):
        engine.pin_date(pid, "review:quarterly_monitoring_meting:0", at("2022-05-18T10:00"), CORA)
    elsewhere = Actor("commissioner", "bo@council.example", programmes=frozenset({"bradford"}))
    with pytest.raises(NotFound):
        engine.pin_date(pid, MAY_MEETING, at("2022-05-18T10:00"), elsewhere)
    with pytest.raises(NotPermitted):
        engine.pin_date(pid, MAY_MEETING, at("2022-05-18T10:00"), Actor("assessor", "asa"))
    assert engine.store.pins(pid) == {}


def test_the_command_line_pins_through_the_engine_with_the_same_words(
    engine: Engine, contract: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMISSION_NOW", "2022-04-01T09:00")
    db = ["--db", str(database_in(tmp_path, "pin"))]
    run = CliRunner().invoke
    done = run(main, ["pin", "liverpool_life_rooms_2022", MAY_MEETING, "2022-05-18T10:00", *db])
    assert done.exit_code == 0, done.output
    assert done.stdout == f"{MAY_MEETING} pinned to 18 May 2022 10:00 BST; reminders re-planned\n"
    assert pending(engine, contract, "quarterly_return_due_today") == ["2022-05-11 10:00"]
    assert engine.store.service_log(subject=MAY_MEETING)[0]["actor_id"] == "operator"

    june = run(main, ["pin", "liverpool_life_rooms_2022", MAY_MEETING, "2022-06-01T10:00", *db])
    assert june.exit_code == 1
    assert "must be in May 2022: enter a date in May 2022" in june.stderr
    typo = run(main, ["pin", "liverpool_life_rooms_2022", "milestone:webinr", "2022-01-14", *db])
    assert typo.exit_code == 1 and 'did you mean "milestone:webinar"' in typo.stderr


def test_a_reminder_about_the_round_moves_with_its_pinned_meeting_and_is_not_sent_at_the_old_time(
    tmp_path: Path,
) -> None:
    text = (ROOT / "programmes" / "liverpool.yaml").read_text("utf-8")
    text = text.replace("reminders:\n", "reminders:\n  - id: pack_to_the_panel\n    to: [commissioner]\n"
                        "    when: {milestone: monitoring_meeting_may_2022, before: 3 days}\n"
                        "    message:\n      subject: The meeting pack is due\n"
                        "      body: Send the panel its pack.\n", 1)  # fmt: skip
    (tmp_path / "programmes").mkdir()
    (tmp_path / "programmes" / "liverpool.yaml").write_text(text, "utf-8")
    (tmp_path / "forms").symlink_to(ROOT / "forms")
    engine = Engine(database_in(tmp_path, "round"), clock=Clock("2022-04-20T08:00"))
    engine.publish(tmp_path / "programmes" / "liverpool.yaml")
    pid = "liverpool_life_rooms_2022"

    def about_the_round() -> list[str]:
        rows = engine.store.execute(
            "SELECT due_at FROM reminders WHERE programme_id = ? AND case_id IS NULL "
            "AND rule = 'pack_to_the_panel' AND status = 'pending'", (pid,))  # fmt: skip
        return sorted(datetime.fromisoformat(r[0]).astimezone(LONDON).strftime("%Y-%m-%d %H:%M")
                      for r in rows)  # fmt: skip

    may = "milestone:monitoring_meeting_may_2022"
    assert about_the_round() == []  # the May meeting is known only by its month
    engine.pin_date(pid, may, at("2022-05-18T10:00"), CORA)
    assert about_the_round() == ["2022-05-15 10:00"]
    engine.pin_date(pid, may, at("2022-05-25T14:30"), CORA)  # the meeting moves
    assert about_the_round() == ["2022-05-22 14:30"]  # once, at the new time
