"""KPIs that count each case in the month of its own date, KPIs broken down by an answer, and
figures that read a case as it stood at the period's end (a review done in October is not in
August's figure)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.reporting.kpi_groups import by_answer, group_labels
from engine.reporting.kpis import KpiCalculator, period_of
from engine.reporting.suppression import anonymised
from engine.runtime import Actor, Engine

from .clock import Clock
from .conftest import ROOT, refusal
from .databases import database_in

DATA = ROOT / "tests" / "data" / "kpi_dates"
LONDON = ZoneInfo("Europe/London")
SAM = Actor("caseworker", "sam", "hub")


@pytest.fixture
def clock() -> Clock:
    return Clock("2026-06-01T09:00")


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> Engine:
    eng = Engine(database_in(tmp_path), clock=clock)
    eng.publish(DATA / "kpi_dates.yaml", DATA / "forms")
    return eng


def refer(engine: Engine, clock: Clock, on: str, **answers: object) -> int:
    """A person referred on `on` (put on the system that day at noon unless `entered` says)."""
    clock.set(f"{answers.pop('entered', on)}T12:00")
    case = engine.start_case("referral_counts", "referral", SAM, organisation="hub").id
    engine.save_answers(case, "kd_referral", {"referral_date": on, **answers}, SAM)
    return case


def figures(
    engine: Engine, clock: Clock, kpi_id: str, month: str, by: str = "programme"
) -> dict[str, float | None]:
    """The KPI for one month (a year and month, like 2026-08), by group."""
    programme = engine.programme("referral_counts")
    calc = KpiCalculator(engine.store, programme, clock())
    kpi = next(k for k in programme.data["kpis"] if k["id"] == kpi_id)
    period = period_of("month", datetime_in(f"{month}-01"), LONDON)
    return {v.group: v.value for v in calc.value(kpi, period, by)}


def datetime_in(day: str) -> datetime:
    """Midnight at the start of a day, in London."""
    return datetime.fromisoformat(day).replace(tzinfo=LONDON)


def test_a_kpi_with_a_date_counts_each_referral_once_in_its_month(
    engine: Engine, clock: Clock
) -> None:
    for day in ("2026-06-03", "2026-06-10", "2026-06-17", "2026-06-30"):
        refer(engine, clock, day)
    for day in ("2026-07-01", "2026-07-20"):
        refer(engine, clock, day)
    for day in ("2026-08-01", "2026-08-02", "2026-08-14", "2026-08-25"):
        refer(engine, clock, day)
    # referred on the last day of August, typed in during September: still August's referral
    refer(engine, clock, "2026-08-31", entered="2026-09-04")
    clock.set("2026-10-15T09:00")
    dated = [
        figures(engine, clock, "referrals_received", m) for m in ("2026-06", "2026-07", "2026-08")
    ]
    assert dated == [{"programme": 4.0}, {"programme": 2.0}, {"programme": 5.0}]
    # without a date, cases are counted as they stood at each month's end: they add up
    undated = [figures(engine, clock, "cases_open", m) for m in ("2026-06", "2026-07", "2026-08")]
    assert undated == [{"programme": 4.0}, {"programme": 6.0}, {"programme": 10.0}]
    # a month with no referrals, after some came in, is a real 0, not "not reported"
    assert figures(engine, clock, "referrals_received", "2026-09") == {"programme": 0.0}


def test_a_case_without_the_date_is_not_counted(engine: Engine, clock: Clock) -> None:
    refer(engine, clock, "2026-06-03")
    clock.set("2026-06-04T12:00")
    engine.start_case("referral_counts", "referral", SAM, organisation="hub")  # no referral date
    clock.set("2026-07-01T09:00")
    assert figures(engine, clock, "referrals_received", "2026-06") == {"programme": 1.0}
    assert figures(engine, clock, "cases_open", "2026-06") == {"programme": 2.0}


def test_a_kpi_dated_by_entering_a_state_counts_in_the_month_it_was_accepted(
    engine: Engine, clock: Clock
) -> None:
    first = refer(engine, clock, "2026-06-20")
    second = refer(engine, clock, "2026-06-25")
    clock.set("2026-06-30T12:00")
    engine.act(first, "accept", SAM)
    clock.set("2026-07-02T12:00")
    engine.act(second, "accept", SAM)
    engine.act(second, "close", SAM)  # accepted in July, whatever happened after
    clock.set("2026-08-10T09:00")
    months = [
        figures(engine, clock, "accepted_in_month", m) for m in ("2026-06", "2026-07", "2026-08")
    ]
    assert months == [{"programme": 1.0}, {"programme": 1.0}, {"programme": 0.0}]


def test_referrals_by_source_are_counted_under_each_option_by_its_label(
    engine: Engine, clock: Clock
) -> None:
    refer(engine, clock, "2026-08-03", referral_source="gp")
    refer(engine, clock, "2026-08-04", referral_source="gp")
    refer(engine, clock, "2026-08-05", referral_source="self")
    refer(engine, clock, "2026-08-06")
    refer(engine, clock, "2026-07-06", referral_source="school")  # July's
    clock.set("2026-09-01T09:00")
    by_source = figures(
        engine, clock, "referrals_received", "2026-08", by_answer("referral_source")
    )
    question = engine.programme("referral_counts").questions()["referral_source"]
    labels = group_labels(question)
    # every option in its order, then those not answered; each named as people read it
    assert [(labels[g], v) for g, v in by_source.items()] == [
        ("Their GP", 2.0),
        ("They referred themselves", 1.0),
        ("Their school", 0.0),
        ("Not answered", 1.0),
    ]


def test_a_checkboxes_breakdown_counts_a_person_under_each_need_they_have(
    engine: Engine, clock: Clock
) -> None:
    refer(engine, clock, "2026-08-03", needs=["housing", "money"])
    refer(engine, clock, "2026-08-04", needs=["money"])
    refer(engine, clock, "2026-08-05")
    clock.set("2026-09-01T09:00")
    by_need = figures(engine, clock, "referrals_received", "2026-08", by_answer("needs"))
    assert by_need == {"housing": 1.0, "money": 2.0, "mood": 0.0, "(none)": 1.0}
    # the whole is still three people, not four answers
    assert figures(engine, clock, "referrals_received", "2026-08") == {"programme": 3.0}


def test_small_groups_of_an_answer_breakdown_are_hidden_when_reports_are_anonymised(
    tmp_path: Path, clock: Clock
) -> None:
    folder = tmp_path / "p"
    shutil.copytree(DATA, folder)
    path = folder / "kpi_dates.yaml"
    path.write_text(
        path.read_text("utf-8") + "reporting:\n  anonymised: true\n  suppress_below: 3\n", "utf-8"
    )
    engine = Engine(database_in(tmp_path), clock=clock)
    engine.publish(path, folder / "forms")
    for day in ("2026-08-03", "2026-08-04", "2026-08-05"):
        refer(engine, clock, day, referral_source="gp")
    refer(engine, clock, "2026-08-06", referral_source="self")
    clock.set("2026-09-01T09:00")
    programme = engine.programme("referral_counts")
    calc = KpiCalculator(engine.store, programme, clock())
    kpi = programme.data["kpis"][0]
    rows = anonymised(calc.value(kpi, period_of("month", datetime_in("2026-08-01"), LONDON),
                                 by_answer("referral_source")), programme)  # fmt: skip
    shown = {r["group"]: (r["value"], r["suppressed"]) for r in rows}
    assert shown["gp"] == (3.0, False)
    assert shown["self"] == (None, True)  # one person: "fewer than 3", never 1
    assert shown["school"] == (0.0, False)


def test_a_review_sent_in_october_is_not_in_augusts_figure(engine: Engine, clock: Clock) -> None:
    case = refer(engine, clock, "2026-08-03")
    refer(engine, clock, "2026-08-04")
    clock.set("2026-10-05T12:00")
    engine.save_answers(case, "kd_review", {"review_date": "2026-10-05"}, SAM)
    clock.set("2026-11-01T09:00")
    assert figures(engine, clock, "reviewed_people", "2026-08") == {"programme": 0.0}
    assert figures(engine, clock, "reviewed_people", "2026-09") == {"programme": 0.0}
    assert figures(engine, clock, "reviewed_people", "2026-10") == {"programme": 1.0}
    # a records KPI dated by the review's own date counts it in October only
    assert figures(engine, clock, "reviews_done", "2026-08") == {"programme": None}
    assert figures(engine, clock, "reviews_done", "2026-10") == {"programme": 1.0}


def test_a_form_first_filled_in_after_a_month_is_not_in_that_months_figure(
    engine: Engine, clock: Clock
) -> None:
    clock.set("2026-06-10T12:00")
    case = engine.start_case("referral_counts", "referral", SAM, organisation="hub").id
    clock.set("2026-08-05T12:00")  # the referral form is only filled in in August
    engine.save_answers(case, "kd_referral", {"referral_date": "2026-06-10", "referral_source": "gp"}, SAM)  # fmt: skip
    clock.set("2026-10-15T09:00")
    assert figures(engine, clock, "cases_open", "2026-06") == {"programme": 1.0}
    assert figures(engine, clock, "gp_referrals_on_the_books", "2026-06") == {"programme": 0.0}
    assert figures(engine, clock, "gp_referrals_on_the_books", "2026-08") == {"programme": 1.0}


def test_a_review_dated_in_august_but_sent_in_october_counts_in_august_by_its_date(
    engine: Engine, clock: Clock
) -> None:
    case = refer(engine, clock, "2026-08-03")
    clock.set("2026-10-05T12:00")
    engine.save_answers(case, "kd_review", {"review_date": "2026-08-28"}, SAM)
    clock.set("2026-11-01T09:00")
    assert figures(engine, clock, "reviews_done", "2026-08") == {"programme": 1.0}
    assert figures(engine, clock, "reviews_done", "2026-10") == {"programme": 0.0}


def _refused(tmp_path: Path, old: str, new: str) -> str:
    return refusal(tmp_path, DATA, "kpi_dates.yaml", old, new)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "{answer: referral_source}",
            "{answer: person_name}",
            ':42:33: error[kpi-not-choice]: KPI "referrals_received" is broken down by the answer '
            'to "person_name", a text question, but only the answers to a choice question fall '
            "into groups; name a radios, select, checkboxes or yes/no question",
        ),
        (
            "date: {answer: referral_date}",
            "date: {answer: referral_source}",
            ':41:20: error[kpi-not-date]: KPI "referrals_received" counts each item in the period '
            'of its answer to "referral_source", a radios question, which holds no date; name a '
            "date question",
        ),
        (
            "date: {answer: referral_date}",
            "date: {answer: review_date}",
            'there is no question "review_date" in the forms of workflow "referral" asked once '
            "per case",
        ),
        (
            "date: {entered: accepted}",
            "date: {entered: acepted}",
            'there is no state "acepted" in workflow "referral"; did you mean "accepted"?',
        ),
        (
            "date: {answer: review_date}",
            "date: {trigger: review}",
            'there is no transition "review" in workflow "referral"',
        ),
    ],
)
def test_the_linter_refuses_a_breakdown_or_date_it_cannot_use(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    assert says in _refused(tmp_path, old, new)


def test_commission_kpis_by_answer_prints_each_option_by_its_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from engine.cli import main

    db = database_in(tmp_path, "cli")
    clock = Clock("2026-08-01T09:00")
    engine = Engine(db, clock=clock)
    engine.publish(DATA / "kpi_dates.yaml", DATA / "forms")
    refer(engine, clock, "2026-08-03", referral_source="school")
    refer(engine, clock, "2026-08-04")
    monkeypatch.setenv("COMMISSION_NOW", "2026-09-02T09:00")
    args = [
        "kpis",
        "referral_counts",
        "--from",
        "2026-08",
        "--to",
        "2026-08",
        "--by",
        "answer",
        "--db",
        db,
    ]
    shown = CliRunner().invoke(main, args)
    assert shown.exit_code == 0, shown.output
    lines = [" ".join(line.split()) for line in shown.stdout.splitlines()]
    assert (
        "August 2026 Their school Referrals received, by answer to “Who referred them?” 1.0"
        in lines
    )
    assert "August 2026 Their GP Referrals received, by answer to “Who referred them?” 0.0" in lines
    assert "August 2026 programme People on the books 2.0" in lines  # no breakdown: the whole
    assert not [line for line in lines if line.startswith("August 2026 school ")]  # no short name
