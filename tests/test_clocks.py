"""Clocks on a case: a limit counted from a date answered on the referral form, clocks that stop
while a person is on hold and resume with the time that was left, and promises judged as the
case stood at their limit, however late the scheduler sweeps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine import load_programme
from engine.runtime import Actor, Engine
from engine.scheduler.sweeper import sweep
from engine.timeline.planner import dry_run

from .clock import Clock
from .conftest import ROOT, refusal
from .databases import database_in

DATA = ROOT / "tests" / "data" / "clocks"
LONDON = ZoneInfo("Europe/London")
SAM = Actor("caseworker", "sam", "hub")
CONTACT = "contacted_in_2_working_days"


def local(text: str) -> datetime:
    """A wall-clock time in London."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture
def clock() -> Clock:
    return Clock("2026-12-07T09:00")


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> Engine:
    eng = Engine(database_in(tmp_path), clock=clock)
    eng.publish(DATA / "clocks.yaml", DATA / "forms")
    return eng


def referral(engine: Engine, referred_on: str) -> int:
    """A person referred, with the referral date the form records."""
    case = engine.start_case("clock_service", "referral", SAM, organisation="hub").id
    engine.save_answers(
        case, "clock_referral", {"referral_date": referred_on, "person_name": "Ada"}, SAM
    )
    return case


def level(engine: Engine, case: int, rule: str = CONTACT) -> tuple[str, datetime | None]:
    found = next(r for r in engine.service_levels(case, SAM) if r.id == rule)
    return found.status, found.due


def pending_due(engine: Engine, case: int, kind: str, rule: str) -> list[datetime]:
    """When the scheduler will next do this for the case (its pending rows)."""
    rows = engine.store.reminders_for(case)
    return [
        datetime.fromisoformat(r["due_at"]).astimezone(LONDON)
        for r in rows
        if r["kind"] == kind and r["rule"] == rule and r["status"] == "pending"
    ]


def test_a_limit_counts_from_the_date_answered_across_a_weekend_and_bank_holidays(
    engine: Engine, clock: Clock
) -> None:
    clock.set("2026-12-29T09:00")  # the form is filled in days after the referral it records
    case = referral(engine, "2026-12-24")
    # Friday 25th and Monday 28th (Boxing Day's substitute) are holidays: the second working day
    # after Thursday 24th is Wednesday 30th, and the limit is the end of it
    assert level(engine, case) == ("pending", local("2026-12-31T00:00"))
    assert pending_due(engine, case, "service_level", CONTACT) == [local("2026-12-31T00:00")]


def test_nothing_falls_due_until_the_date_is_answered(engine: Engine) -> None:
    case = engine.start_case("clock_service", "referral", SAM, organisation="hub").id
    assert level(engine, case) == ("not_started", None)
    assert pending_due(engine, case, "service_level", CONTACT) == []


def test_a_clock_stops_on_hold_and_resumes_with_the_working_days_left(
    engine: Engine, clock: Clock
) -> None:
    case = referral(engine, "2026-12-07")  # Monday: due by the end of Wednesday
    assert level(engine, case)[1] == local("2026-12-10T00:00")
    clock.set("2026-12-08T10:00")
    engine.act(case, "hold", SAM)  # a hospital stay, with Wednesday's working day still to come
    assert level(engine, case) == ("paused", None)
    assert pending_due(engine, case, "service_level", CONTACT) == []  # nothing will flag it
    clock.set("2026-12-14T09:00")
    engine.act(case, "resume_referral", SAM)  # back on Monday: two working days' worth again
    assert level(engine, case) == ("pending", local("2026-12-16T00:00"))
    assert pending_due(engine, case, "service_level", CONTACT) == [local("2026-12-16T00:00")]
    clock.set("2026-12-15T15:00")
    engine.save_answers(case, "clock_contact", {"contact_date": "2026-12-15"}, SAM)
    clock.set("2026-12-16T00:05")
    assert level(engine, case)[0] == "kept"
    assert sweep(engine).notes == [f"{CONTACT}: the promise was kept"]
    assert not engine.case(case, SAM).flags.get(CONTACT)


def test_a_calendar_day_clock_resumes_with_the_time_left_and_its_first_start(
    engine: Engine, clock: Clock
) -> None:
    case = referral(engine, "2026-12-07")
    rule = "seen_in_10_days"  # ten days from entering "referred", 09:00 on Monday 7th
    clock.set("2026-12-09T09:00")
    engine.act(case, "hold", SAM)  # 2 days gone, 8 left
    clock.set("2026-12-12T09:00")
    engine.act(case, "resume_referral", SAM)  # re-entering "referred" does not start again
    assert level(engine, case, rule) == ("pending", local("2026-12-20T09:00"))


def test_a_timed_transition_pauses_too(engine: Engine, clock: Clock) -> None:
    case = referral(engine, "2026-12-01")
    clock.set("2026-12-01T09:00")
    engine.act(case, "activate", SAM)  # review 4 weeks on: 29 December
    assert pending_due(engine, case, "transition", "review") == [local("2026-12-29T09:00")]
    clock.set("2026-12-08T09:00")
    engine.act(case, "hold", SAM)  # a week gone, three left
    assert pending_due(engine, case, "transition", "review") == []
    clock.set("2026-12-22T09:00")
    engine.act(case, "resume_support", SAM)
    assert pending_due(engine, case, "transition", "review") == [local("2027-01-12T09:00")]
    clock.set("2027-01-11T09:00")
    assert sweep(engine).taken == 0
    clock.set("2027-01-12T09:01")
    assert sweep(engine).taken == 1
    assert engine.case(case, SAM).state == "reviewed"


def test_a_late_sweep_still_flags_a_promise_missed_at_its_limit(
    engine: Engine, clock: Clock
) -> None:
    case = referral(engine, "2026-12-07")  # due by the end of Wednesday 9th
    clock.set("2026-12-10T11:00")  # Thursday, a day late: the contact was made after the limit
    engine.save_answers(case, "clock_contact", {"contact_date": "2026-12-10"}, SAM)
    assert level(engine, case)[0] == "missed"  # as it stood at the limit, not as it stands now
    clock.set("2026-12-11T08:00")  # the scheduler was down until Friday
    assert sweep(engine).checked == 1
    assert engine.case(case, SAM).flags.get(CONTACT) is True


def test_a_promise_kept_in_time_stays_kept_when_the_sweep_is_late(
    engine: Engine, clock: Clock
) -> None:
    case = referral(engine, "2026-12-07")
    clock.set("2026-12-09T16:00")
    engine.save_answers(case, "clock_contact", {"contact_date": "2026-12-09"}, SAM)
    clock.set("2026-12-14T08:00")
    engine.act(case, "close", SAM)  # later events do not change the verdict either
    assert sweep(engine).notes == [f"{CONTACT}: the promise was kept"]
    assert not engine.case(case, SAM).flags.get(CONTACT)
    assert level(engine, case)[0] == "kept"


def test_the_dry_run_counts_from_a_date_answered(engine: Engine) -> None:
    programme = load_programme(DATA / "clocks.yaml", DATA / "forms")
    items = dry_run(programme, local("2026-12-07T00:00"), local("2026-12-20T00:00"))
    checks = [p.due for p in items if p.kind == "service_level" and p.rule == CONTACT]
    assert checks == [local("2026-12-10T00:00")]  # a referral dated the 7th, as the window opens


def _broken(tmp_path: Path, old: str, new: str) -> str:
    return refusal(tmp_path, DATA, "clocks.yaml", old, new)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "{answer: referral_date,",
            "{answer: person_name,",
            'counts from the answer to "person_name", which is not a date; name a date question',
        ),
        (
            "{answer: referral_date,",
            "{answer: contact_date,",
            'there is no question "contact_date" asked once per case in workflow "referral"',
        ),
        (
            "paused_in: [on_hold]}\n  - id: seen",
            "paused_in: [on_hols]}\n  - id: seen",
            'there is no state "on_hols" in workflow "referral"; did you mean "on_hold"?',
        ),
        (
            "{entered: referred, after: 10 days, paused_in: [on_hold]}",
            "{entered: referred, after: 10 days, paused_in: [referred]}",
            'counts from entering "referred", so its clock cannot also pause in that state',
        ),
    ],
)
def test_a_clock_the_engine_cannot_keep_is_refused_in_words(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    assert says in _broken(tmp_path, old, new)


def test_a_cadence_cannot_pause(tmp_path: Path) -> None:
    review = (
        "reviews:\n  - id: check_in\n    title: Check-in\n    kind: review\n    workflow: referral\n"
        "    at: {entered: active, after: 2 weeks, paused_in: [on_hold]}\n"
    )
    says = _broken(tmp_path, "service_levels:\n", review + "service_levels:\n")
    assert "is a cadence's; only time limits, timed transitions and reminders pause" in says


def test_a_page_says_the_clock_is_stopped_and_when_a_limit_falls(
    engine: Engine, clock: Clock
) -> None:
    from engine.web.describe import promises

    case = referral(engine, "2026-12-07")
    programme = engine.programme("clock_service")
    words = promises(programme, engine.case(case, SAM), engine.service_levels(case, SAM))
    assert words[0]["tag"] == "Due"
    assert words[0]["words"] == "Must be met by the end of Wednesday 9 December 2026."
    clock.set("2026-12-08T10:00")
    engine.act(case, "hold", SAM)
    words = promises(programme, engine.case(case, SAM), engine.service_levels(case, SAM))
    assert [w["tag"] for w in words] == ["Paused", "Paused"]
    assert words[0]["words"].startswith("The clock is stopped while the case is on hold, and")


def test_the_cli_shows_each_time_limit_and_a_paused_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from click.testing import CliRunner

    from engine.cli import main

    run, db = CliRunner().invoke, ["--db", database_in(tmp_path, "cli")]
    sam = ["--as", "caseworker:sam@hub"]
    monkeypatch.setenv("COMMISSION_NOW", "2026-12-07T09:00")
    published = run(main, ["publish", str(DATA / "clocks.yaml"), "--forms-dir", str(DATA / "forms"), *db])  # fmt: skip
    assert published.exit_code == 0, published.output
    started = run(main, ["case", "start", "clock_service", "referral", *sam, *db, "--json"])
    ref = json.loads(started.stdout)["reference"]
    answers = '{"referral_date": "2026-12-07", "person_name": "Ada"}'
    answered = run(main, ["case", "answer", ref, "clock_referral", "--answers", answers, *sam, *db])
    assert answered.exit_code == 0, answered.output
    shown = run(main, ["case", "show", ref, *sam, *db])
    assert "pending  First contact within 2 working days of the referral date (due by the end of Wednesday 9 December 2026)" in shown.stdout  # fmt: skip
    monkeypatch.setenv("COMMISSION_NOW", "2026-12-08T10:00")
    assert run(main, ["case", "act", ref, "hold", *sam, *db]).exit_code == 0
    shown = run(main, ["case", "show", ref, *sam, *db, "--json"])
    assert {t["status"] for t in json.loads(shown.stdout)["time_limits"]} == {"paused"}
