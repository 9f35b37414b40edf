"""The scheduler: every deadline, cadence and review reminder, on time and exactly once.

Frozen clocks throughout; nothing sleeps. "Killed" sweepers are real processes ended mid-send.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.definition.loader import load_programme
from engine.runtime import Actor, Engine
from engine.scheduler.delivery import FileBackend, deliver
from engine.scheduler.sweeper import sweep
from engine.timeline.planner import dry_run

from .conftest import EXAMPLE, ROOT, account
from .databases import database_in

LONDON = ZoneInfo("Europe/London")
ANN = Actor("applicant", "ann", "org_a")


def at(text: str) -> datetime:
    """A programme-local time (London) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


# -- the dry run over each programme's life ------------------------------------------------


def test_liverpool_dry_run_matches_its_dates() -> None:
    lp = load_programme(ROOT / "programmes" / "liverpool.yaml")
    items = dry_run(lp, at("2022-01-01T00:00"), at("2023-04-30T23:59"))
    close = [i for i in items if i.kind == "transition" and i.rule == "close_eoi_round"]
    # the round closes as soon as the 17:00 GMT deadline has passed
    assert [i.due for i in close] == [datetime(2022, 1, 31, 17, 0, 1, tzinfo=UTC)]
    proposal = [i for i in items if i.rule == "close_proposal_round"]
    assert [i.due for i in proposal] == [datetime(2022, 2, 21, 17, 0, 1, tzinfo=UTC)]
    # the meetings are known only by month: the reports "one week before" are listed, unpinned
    due_today = [i for i in items if i.rule == "quarterly_return_due_today"]
    assert [i.due for i in due_today] == [None] * 4
    assert [i.anchor.strftime("%Y-%m") for i in due_today] == [
        "2022-05",
        "2022-08",
        "2022-11",
        "2023-02",
    ]
    # once the commissioner pins the meetings, each report falls due exactly a week before
    pins = {f"review:quarterly_monitoring_meeting:{n}": at(d) for n, d in
            enumerate(["2022-05-18T10:00", "2022-08-17T10:00", "2022-11-16T10:00", "2023-02-15T10:00"])}  # fmt: skip
    pinned = [i for i in dry_run(lp, at("2022-01-01T00:00"), at("2023-04-30T23:59"), pins)
              if i.rule == "quarterly_return_due_today"]  # fmt: skip
    assert [i.due.astimezone(LONDON).isoformat() for i in pinned] == [
        "2022-05-11T10:00:00+01:00", "2022-08-10T10:00:00+01:00",
        "2022-11-09T10:00:00+00:00", "2023-02-08T10:00:00+00:00"]  # fmt: skip


def test_llr_reviews_every_6_weeks_and_6_months_from_a_baseline() -> None:
    llr = load_programme(ROOT / "programmes" / "llr_hubs.yaml")
    baseline = at("2017-10-02T10:00")
    items = dry_run(llr, baseline, at("2018-10-31T23:59"))
    review_checks = [
        i
        for i in items
        if i.kind == "service_level" and i.rule == "outcomes_reviewed_within_6_weeks"
    ]
    assert [i.due.astimezone(LONDON).date().isoformat() for i in review_checks] == ["2017-11-13"]
    from engine.timeline.occasions import occasions

    reviews = {r["id"]: r for r in llr.data["reviews"]}
    events = {"trigger:record_baseline": baseline}
    six_weekly = occasions(llr, reviews["outcome_review"], events, {}, at("2018-03-31T00:00"))
    assert [o.at.date().isoformat() for o in six_weekly] == [
        "2017-11-13",
        "2017-12-25",
        "2018-02-05",
        "2018-03-19",
    ]
    six_monthly = occasions(llr, reviews["need_review"], events, {}, at("2018-10-31T00:00"))
    assert [o.at.date().isoformat() for o in six_monthly] == ["2018-04-02", "2018-10-02"]
    assert (
        six_weekly[0].at.hour == 10
    )  # a 6-week review keeps the time of day across the clock change


def test_bradford_checks_two_contacts_four_weeks_after_referral() -> None:
    bd = load_programme(ROOT / "programmes" / "bradford.yaml")
    referred = at("2024-07-01T09:30")
    items = dry_run(bd, referred, at("2024-12-31T23:59"))
    check = [i for i in items if i.rule == "two_contacts_within_4_weeks"]
    assert [(i.kind, i.due.astimezone(LONDON).isoformat()) for i in check] == [
        ("service_level_warn", "2024-07-22T09:30:00+01:00"),
        ("service_level", "2024-07-29T09:30:00+01:00"),
    ]
    assert [i.due for i in items if i.rule == "close_lead_eois"] == []  # outside the window
    lead = [
        i
        for i in dry_run(bd, at("2024-01-01T00:00"), at("2024-03-01T00:00"))
        if i.rule == "close_lead_eois"
    ]
    assert [i.due for i in lead] == [datetime(2024, 2, 26, 9, 0, 1, tzinfo=UTC)]


# -- rows written with their cause, cancelled when it goes away ----------------------------------


@pytest.fixture
def engine(tmp_path: Path) -> tuple[Engine, Clock]:
    clock = Clock(at("2022-01-20T10:00"))
    e = Engine(database_in(tmp_path, "s"), clock=clock)
    e.publish(EXAMPLE / "programmes" / "tiny.yaml")
    with e.store.transaction():  # the people the reminders are for
        for org in ("org_a", "org_b"):
            e.store.ensure_organisation(org, org.replace("_", " ").title(), "2022-01-01")
        e.store.create_user("ann@org-a.example", None, "Ann", "applicant", "org_a", "2022-01-01")
        e.store.create_user("bob@org-b.example", None, "Bob", "applicant", "org_b", "2022-01-01")
        account(e.store, "cora@council.example", "Cora", "commissioner")
    return e, clock


GOOD = {
    "org_name": "Org A",
    "income": 50000,
    "org_type": "charity",
    "priorities": ["isolation"],
    "summary": "Lunch club",
}


def test_a_draft_is_reminded_and_a_submitted_one_is_not(engine: tuple[Engine, Clock]) -> None:
    e, clock = engine
    draft = e.start_case("tiny_grants", "application", ANN)
    done = e.start_case("tiny_grants", "application", Actor("applicant", "bob", "org_b"))
    e.save_answers(done.id, "tiny_eoi", GOOD, Actor("applicant", "bob", "org_b"))
    e.act(done.id, "submit", Actor("applicant", "bob", "org_b"))
    pending = {r["case_id"]: r["status"] for r in e.store.due_reminders("9999", 100)}
    assert pending == {draft.id: "pending"}  # the submitted case's reminder was cancelled
    clock.now = at("2022-02-14T17:00")
    result = sweep(e)
    assert result.sent == 1
    [message] = e.store.undelivered(10)
    assert (
        message["case_id"],
        message["to_role"],
        message["organisation_id"],
        message["to_address"],
    ) == (
        draft.id,
        "applicant",
        "org_a",
        "ann@org-a.example",
    )
    assert message["body"] == (
        "Submit your application before 21 February 2022 at 17:00 GMT.\n\n"
        f"Case {draft.reference}: http://127.0.0.1:5000/apply/cases/{draft.reference}"
    )


def test_planning_twice_writes_nothing_twice(engine: tuple[Engine, Clock]) -> None:
    e, _clock = engine
    case = e.start_case("tiny_grants", "application", ANN)
    for _ in range(3):
        e.save_answers(case.id, "tiny_eoi", {"org_name": "Org A"}, ANN)
    assert len(e.store.reminders_for(case.id)) == 1


# -- exactly once -----------------------------------------------------------------------------


def many_drafts(e: Engine, n: int) -> None:
    """`n` organisations, each with one person and one draft application."""
    with e.store.transaction():
        for i in range(n):
            e.store.ensure_organisation(f"org_{i}", f"Org {i}", "2022-01-01")
            e.store.create_user(f"a{i}@org-{i}.example", None, f"A{i}", "applicant", f"org_{i}", "2022-01-01")  # fmt: skip
    for i in range(n):
        e.start_case("tiny_grants", "application", Actor("applicant", f"a{i}", f"org_{i}"))


def test_sweeping_twice_or_with_two_sweepers_sends_each_reminder_once(
    tmp_path: Path, engine: tuple[Engine, Clock]
) -> None:
    e, clock = engine
    many_drafts(e, 20)
    clock.now = at("2022-02-15T09:00")
    other = Engine(
        database_in(tmp_path, "s"), clock=clock
    )  # a second scheduler process on the same file
    rows = e.store.due_reminders(clock.now.astimezone(UTC).isoformat(), 100)
    # interleave: each sweeper handles rows the other may already have done
    from engine.scheduler.sweeper import SweepResult, handle

    first, second = SweepResult(), SweepResult()
    for row in rows:
        handle(e, row["id"], first)
        handle(other, row["id"], second)
    assert first.sent + second.sent == 20
    assert sweep(e).handled == 0 and sweep(other).handled == 0
    assert len(e.store.undelivered(100)) == 20
    out = tmp_path / "outbox"
    assert deliver(e.store, FileBackend(out, echo=False)) == 20
    assert deliver(other.store, FileBackend(out, echo=False)) == 0
    assert len(list(out.glob("*.txt"))) == 20


KILL = r"""
import os, sys
from datetime import datetime
from zoneinfo import ZoneInfo
from engine.runtime import Engine
from engine.scheduler.sweeper import sweep
from engine.store import Store
count = {"n": 0}
real = Store.queue_message
def queue_then_die(self, message):
    real(self, message)
    count["n"] += 1
    if count["n"] == int(sys.argv[2]):
        os._exit(9)  # killed mid-send: the message is queued but the row not yet marked
Store.queue_message = queue_then_die
engine = Engine(sys.argv[1], clock=lambda: datetime(2022, 2, 15, 9, tzinfo=ZoneInfo("Europe/London")))
sweep(engine)
"""


def test_a_sweeper_killed_mid_send_loses_nothing_and_repeats_nothing(
    tmp_path: Path, engine: tuple[Engine, Clock]
) -> None:
    e, clock = engine
    many_drafts(e, 10)
    result = subprocess.run([sys.executable, "-c", KILL, str(database_in(tmp_path, "s")), "4"], cwd=ROOT,
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 9, result.stderr
    assert (
        len(e.store.undelivered(100)) == 3
    )  # three finished before the kill; the fourth rolled back
    clock.now = at("2022-02-15T09:05")
    assert sweep(e).sent == 7  # the restarted sweeper finishes the rest
    messages = e.store.undelivered(100)
    assert len(messages) == 10 and len({m["case_id"] for m in messages}) == 10


def test_a_clock_jump_across_the_spring_change_skips_nothing_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    # a deadline at 01:30 on the night the clocks go forward (27 March 2022), reminded 1 hour
    # before and 30 minutes after by a programme whose timed close is at the deadline
    text = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")
    text = text.replace("at: 2022-02-21T17:00", "at: 2022-03-27T03:30").replace(
        "when: {milestone: closes, before: 7 days}", "when: {milestone: closes, before: 1 hour}")  # fmt: skip
    (tmp_path / "programmes").mkdir()
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "tiny_eoi.yaml").write_bytes(
        (EXAMPLE / "forms" / "tiny_eoi.yaml").read_bytes()
    )
    (tmp_path / "programmes" / "tiny.yaml").write_text(text, "utf-8")
    clock = Clock(at("2022-03-26T12:00"))
    e = Engine(database_in(tmp_path, "dst"), clock=clock)
    e.publish(tmp_path / "programmes" / "tiny.yaml")
    many_drafts(e, 3)
    [due] = {r["due_at"] for r in e.store.due_reminders("9999", 10)}
    assert due == "2022-03-27T01:30:00+00:00"  # 03:30 BST less an hour is 02:30 BST = 01:30 UTC
    clock.now = at("2022-03-27T00:59")  # just before the clocks jump from 01:00 GMT to 02:00 BST
    assert sweep(e).sent == 0
    clock.now = datetime(2022, 3, 27, 2, 0, tzinfo=UTC)  # the clock jumps: 03:00 BST
    assert sweep(e).sent == 3
    clock.now = datetime(2022, 3, 27, 2, 1, tzinfo=UTC)
    assert sweep(e).handled == 0


# -- missed while down ----------------------------------------------------------------------------


def test_a_reminder_due_before_the_sweep_survives_a_save_and_is_sent_once(
    engine: tuple[Engine, Clock],
) -> None:
    e, clock = engine
    draft = e.start_case("tiny_grants", "application", ANN)
    # the reminder fell due (7 days before the close) while the scheduler was down; the
    # applicant saves an answer before it is back: their draft still needs the reminder
    clock.now = at("2022-02-14T18:00")
    e.save_answers(draft.id, "tiny_eoi", {"org_name": "Org A"}, ANN)
    assert [r["status"] for r in e.store.reminders_for(draft.id)] == ["pending"]
    assert sweep(e).sent == 1
    assert sweep(e).sent == 0
    assert len(e.store.undelivered(10)) == 1


def test_after_downtime_useful_reminders_go_late_and_stale_ones_are_skipped(
    engine: tuple[Engine, Clock],
) -> None:
    e, clock = engine
    many_drafts(e, 2)
    clock.now = at(
        "2022-02-22T09:00"
    )  # down for a week: the deadline the reminders were for has passed
    result = sweep(e)
    assert (result.sent, result.skipped) == (0, 2)
    assert all("no longer useful" in note for note in result.notes)
    statuses = {r["status"] for c in range(1, 3) for r in e.store.reminders_for(c)}
    assert statuses == {"skipped"}


# -- messages and commands -------------------------------------------------------------------


def test_message_templates_cannot_reach_python_internals() -> None:
    from engine.scheduler.sweeper import _render

    hostile = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    assert "subclasses" in _render(
        hostile, {}
    )  # refused by the sandbox: the words come back as written
    assert (
        _render("Case {{ case.reference }} is due", {"case": {"reference": "LLR-000001"}})
        == "Case LLR-000001 is due"
    )


def test_schedule_calendar_and_a_single_scheduler_run_from_the_command_line(
    tmp_path: Path, monkeypatch
) -> None:
    from click.testing import CliRunner
    from icalendar import Calendar

    from engine.cli import main

    run = CliRunner().invoke
    dry = run(
        main,
        [
            "schedule",
            str(ROOT / "programmes" / "liverpool.yaml"),
            "--from",
            "2022-01",
            "--to",
            "2022-02",
        ],
    )
    assert dry.exit_code == 0, dry.output
    assert "Mon 31 Jan 2022 17:00 GMT" in dry.output and "close_eoi_round" in dry.output
    ics = run(main, ["calendar", str(ROOT / "programmes" / "bradford.yaml")])
    events = [e for e in Calendar.from_ical(ics.output).walk("VEVENT")]
    assert any(str(e["summary"]).startswith("Deadline for Lead") for e in events)
    monkeypatch.setenv("COMMISSION_DB", str(database_in(tmp_path, "cli")))
    monkeypatch.setenv("COMMISSION_NOW", "2022-02-15T09:00:00+00:00")
    assert run(main, ["publish", str(EXAMPLE / "programmes" / "tiny.yaml")]).exit_code == 0
    monkeypatch.setenv("COMMISSION_NOW", "2022-01-20T09:00:00+00:00")
    assert (
        run(
            main, ["case", "start", "tiny_grants", "application", "--as", "applicant:ann@org_a"]
        ).exit_code
        == 0
    )
    from engine.store import Store

    people = Store(database_in(tmp_path, "cli"))  # the person the reminder is for
    with people.transaction():
        people.ensure_organisation("org_a", "Org A", "2022-01-20")
        people.create_user("ann@org-a.example", None, "Ann", "applicant", "org_a", "2022-01-20")
    monkeypatch.setenv("COMMISSION_NOW", "2022-02-15T09:00:00+00:00")
    once = run(main, ["scheduler", "--once", "--outbox", str(tmp_path / "outbox")])
    assert once.exit_code == 0, once.output
    assert "1 sent" in once.output and "1 delivered" in once.output
    [message] = list((tmp_path / "outbox").glob("*.txt"))
    assert "To: ann@org-a.example\nSubject: Applications close in 7 days" in message.read_text()


def test_a_new_programme_version_replans_new_cases_only(tmp_path: Path) -> None:
    (tmp_path / "programmes").mkdir()
    (tmp_path / "forms").mkdir()
    (tmp_path / "forms" / "tiny_eoi.yaml").write_bytes(
        (EXAMPLE / "forms" / "tiny_eoi.yaml").read_bytes()
    )
    path = tmp_path / "programmes" / "tiny.yaml"
    text = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")
    path.write_text(text, "utf-8")
    e = Engine(database_in(tmp_path, "v"), clock=Clock(at("2022-01-20T10:00")))
    e.publish(path)
    old = e.start_case("tiny_grants", "application", ANN)
    path.write_text(
        text.replace("before: 7 days}", "before: 3 days}"), "utf-8"
    )  # the commissioner edits
    e.publish(path)
    new = e.start_case("tiny_grants", "application", Actor("applicant", "bob", "org_b"))
    due = {r["case_id"]: r["due_at"] for r in e.store.due_reminders("9999", 10)}
    assert due == {old.id: "2022-02-14T17:00:00+00:00", new.id: "2022-02-18T17:00:00+00:00"}


def example_engine(tmp_path: Path, text: str) -> tuple[Engine, Clock]:
    """The example programme as `text` says, with Ann (applicant) and Cora (commissioner)."""
    (tmp_path / "tiny.yaml").write_text(text)
    clock = Clock(at("2022-01-20T10:00"))
    e = Engine(database_in(tmp_path, "s"), clock=clock)
    e.publish(tmp_path / "tiny.yaml", EXAMPLE / "forms")
    with e.store.transaction():
        e.store.ensure_organisation("org_a", "Org A", "2022-01-01")
        e.store.create_user("ann@org-a.example", None, "Ann", "applicant", "org_a", "2022-01-01")
        account(e.store, "cora@council.example", "Cora", "commissioner")
    return e, clock


def test_one_reminder_is_worded_for_each_audience(tmp_path: Path) -> None:
    # the applicant is asked to act; the commissioner is told which application is still a draft
    text = (EXAMPLE / "programmes" / "tiny.yaml").read_text()
    text = text.replace(
        "    to: [applicant]\n",
        "    to: [applicant, commissioner]\n",
    ).replace(
        "      body: Submit your application before {{ deadline }}.\n",
        "      body: Submit your application before {{ deadline }}.\n"
        "      for:\n"
        "        commissioner:\n"
        '          subject: "{{ case.reference }} is still a draft"\n'
        "          body: It has not been submitted; the round closes {{ deadline }}.\n",
    )
    e, clock = example_engine(tmp_path, text)
    draft = e.start_case("tiny_grants", "application", ANN)
    clock.now = at("2022-02-14T17:00")
    assert sweep(e).sent == 1
    sent = {m["to_address"]: (m["subject"], m["body"].split("\n\n")[0]) for m in e.store.undelivered(10)}  # fmt: skip
    assert sent == {
        "ann@org-a.example": (
            "Applications close in 7 days",
            "Submit your application before 21 February 2022 at 17:00 GMT.",
        ),
        "cora@council.example": (
            f"{draft.reference} is still a draft",
            "It has not been submitted; the round closes 21 February 2022 at 17:00 GMT.",
        ),
    }


def test_a_report_due_once_after_a_case_event_is_reminded_once_and_never_recurs(tmp_path: Path) -> None:  # fmt: skip
    text = (
        (EXAMPLE / "programmes" / "tiny.yaml")
        .read_text()
        .replace(
            "reminders:\n",
            "  - id: six_month_report\n"
            "    title: Six-month report\n"
            "    kind: report\n"
            "    workflow: application\n"
            "    at: {trigger: submit, after: 6 months}\n"
            "reminders:\n"
            "  - id: report_due\n"
            "    to: [applicant]\n"
            "    workflow: application\n"
            "    when: {review: six_month_report, before: 7 days}\n"
            '    message: {subject: Your six-month report, body: "It is due on {{ when }}."}\n',
        )
    )
    e, clock = example_engine(tmp_path, text)
    case = e.start_case("tiny_grants", "application", ANN)
    e.save_answers(case.id, "tiny_eoi", GOOD, ANN)
    clock.now = at("2022-02-01T10:00")  # (the example's awarded state is final: no reports)
    e.act(case.id, "submit", ANN)
    clock.now = at("2022-07-25T09:59")  # 6 months on is 10am BST on 1 August; 7 days before
    sweep(e)
    assert [m["subject"] for m in e.store.undelivered(10)] == []
    clock.now = at("2022-07-25T10:00")
    sweep(e)
    [message] = e.store.undelivered(10)
    assert message["body"].startswith("It is due on 1 August 2022 at 10:00 BST.")
    clock.now = at("2024-01-01T00:00")  # the report never came: nothing recurs
    assert sweep(e).sent == 0
    assert len(e.store.undelivered(10)) == 1
