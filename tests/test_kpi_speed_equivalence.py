"""KPIs worked out together for a whole page give the same figures as each worked out alone.

A page's calculator reads each programme's cases once and keeps them as they stood at each
period's end for every KPI over the same cases, and keeps what a KPI's expressions gave for a case
seen the same way in several periods (issue 19). These tests build a referral programme the way
scripts/bench_pages.py does (people moving through states, records sent over 14 months, cases put
on hold and stepped down after a period ended, referral answers changed long after they were
first saved) and check that sharing that work never changes a figure: every KPI, every period,
every breakdown, against a calculator that worked out only that one period of that one KPI.
Some KPIs read the moment (`now`), whose answer differs in each period for a case nothing
happened to.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from bench_pages_data import REFERRALS_NOW, build_referrals

from engine.reporting.kpi_groups import answer_breakdowns, by_answer
from engine.reporting.kpis import KpiCalculator, periods
from engine.runtime import Engine
from tests.clock import Clock
from tests.databases import database_in


@pytest.fixture(scope="module")
def referrals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, object]:
    """A programme of 300 referrals with their records and audit rows, on a stopped clock."""
    clock = Clock(REFERRALS_NOW.replace(tzinfo=None).isoformat())
    # an SQLite file, or a PostgreSQL schema of its own (COMMISSION_TEST_DB)
    engine = Engine(database_in(tmp_path_factory.mktemp("kpis"), "referrals"), clock=clock)
    made = build_referrals(engine, 300, 3_000)
    programme = engine.programme(made["programme"])
    _edit_referrals_later(engine)
    # KPIs over the same cases that read their records and answers as at each period's end,
    # broken down by an answer: what sharing the cases between KPIs must not change
    extra = [
        {"id": "contacted_twice", "title": "Contacted twice", "source": "cases",
         "workflow": "referral", "measure": "count", "period": "month",
         "where": "size(case.records.bradford_contact) >= 2",
         "by": [{"answer": "pcn_locality"}]},
        {"id": "last_contact_meaningful", "title": "Last contact meaningful", "source": "cases",
         "workflow": "referral", "states": ["supported"], "measure": "percentage", "period": "month",
         "numerator": "meaningful_contact"},
        # the moment itself: the same case, unchanged, gives another figure in each period
        {"id": "days_since_referral", "title": "Days since referral", "source": "cases",
         "workflow": "referral", "measure": "average", "period": "month",
         "value": "days_between(case.entered.referred, now)",
         "where": 'case.state != "not_accepted"'},
        # the dates of records sent by the period's end, against the moment
        {"id": "contacted_in_30_days", "title": "Contacted in the last 30 days", "source": "cases",
         "workflow": "referral", "measure": "percentage", "period": "month",
         "where": "size(case.records.bradford_contact) >= 1",
         "numerator": 'case.records.bradford_contact.exists(c, now - c.contact_date <= duration("720h"))'},
        # answers of a once-only form changed after it was first saved
        {"id": "referred_by_mdt", "title": "Referred by an MDT", "source": "cases",
         "workflow": "referral", "measure": "percentage", "period": "month",
         "numerator": 'referral_source == "mdt"', "by": [{"answer": "pcn_locality"}]},
    ]  # fmt: skip
    data = {**programme.data, "kpis": [*programme.data["kpis"], *extra]}
    return engine, replace(programme, data=data)


EXTRA = {"contacted_twice", "last_contact_meaningful", "days_since_referral",
         "contacted_in_30_days", "referred_by_mdt"}  # fmt: skip


def _edit_referrals_later(engine: Engine) -> None:
    """Change every fifth referral's source and locality a day before now: a once-only form's
    answers are written over in place, so every period counts them as they are now."""
    rows = engine.store.execute(
        "SELECT case_id, record_no, data FROM answers WHERE form_id = 'bradford_referral'"
    ).fetchall()
    later = (REFERRALS_NOW - timedelta(days=1)).isoformat()
    with engine.store.transaction():
        for n, (case_id, record_no, stored) in enumerate(rows):
            if n % 5:
                continue
            data = stored if isinstance(stored, dict) else json.loads(stored)
            data |= {"referral_source": "mdt", "pcn_locality": "wishh"}
            engine.store.execute(
                "UPDATE answers SET data = ?, updated_at = ? WHERE case_id = ? "
                "AND form_id = 'bradford_referral' AND record_no = ?",
                (json.dumps(data), later, case_id, record_no),
            )


@pytest.mark.parametrize("kind", ["month", "quarter"])
@pytest.mark.parametrize("by", ["programme", "organisation", "lot"])
def test_a_page_of_kpis_matches_each_kpi_worked_out_alone(referrals, kind, by):
    engine, programme = referrals
    now = REFERRALS_NOW
    shown = periods(kind, now.replace(year=now.year - 1), now, _tz(programme))
    together = KpiCalculator(engine.store, programme, now)
    counted = 0
    for kpi in programme.data["kpis"]:
        for p in shown:
            alone = KpiCalculator(engine.store, programme, now).value(kpi, p, by)
            assert together.value(kpi, p, by) == alone, (kpi["id"], p.label)
            counted += sum(v.count for v in alone)
    assert counted > 0  # the programme has figures to compare, not only empty periods


def test_breakdowns_by_an_answer_match_each_worked_out_alone(referrals):
    engine, programme = referrals
    now = REFERRALS_NOW
    together = KpiCalculator(engine.store, programme, now)
    shown = periods("month", now.replace(year=now.year - 1), now, _tz(programme))
    asked = [(k, q) for k in programme.data["kpis"] for q in answer_breakdowns(k)]
    counted = 0
    for kpi in programme.data["kpis"]:  # the same calculator serves the programme's rows first
        for p in shown:
            together.value(kpi, p)
    for kpi, question in asked:
        for p in shown:
            alone = KpiCalculator(engine.store, programme, now).value(kpi, p, by_answer(question))
            assert together.value(kpi, p, by_answer(question)) == alone, (kpi["id"], p.label)
            counted += sum(v.count for v in alone)
    assert asked and counted > 0


def test_a_case_moved_after_a_period_ended_counts_in_its_state_then(referrals):
    engine, programme = referrals
    now = REFERRALS_NOW
    calc = KpiCalculator(engine.store, programme, now)
    kpis = {k["id"]: k for k in programme.data["kpis"]}
    shown = periods("month", now.replace(year=now.year - 1), now, _tz(programme))
    # people supported at each month's end, and every referral: the same cases, read once
    supported = [calc.value(kpis["people_supported"], p)[0] for p in shown]
    received = [calc.value(kpis["referrals_received"], p)[0] for p in shown]
    assert all(s.count <= r.count for s, r in zip(supported, received, strict=True))
    # people supported rise and fall as cases move in and out of support: never only current
    counts = [s.count for s in supported if s.reported]
    assert len(set(counts)) > 1
    current = engine.store.cases_by_state(programme.id, "referral").get("supported", 0)
    assert counts[-1] == current


def _tz(programme):
    from zoneinfo import ZoneInfo

    return ZoneInfo(programme.timezone)


def test_a_breakdown_by_an_answer_after_kpis_that_read_none(referrals):
    engine, programme = referrals
    now = REFERRALS_NOW
    # the programme's own KPIs read no answers, so its cases are first read without them
    plain = replace(programme, data={**programme.data, "kpis": [
        k for k in programme.data["kpis"] if k["id"] not in EXTRA]})  # fmt: skip
    kpis = {k["id"]: k for k in plain.data["kpis"]}
    calc = KpiCalculator(engine.store, plain, now)
    shown = periods("month", now.replace(year=now.year - 1), now, _tz(plain))
    before = [calc.value(kpis["referrals_received"], p) for p in shown]
    by_locality = [
        calc.value(kpis["referrals_received"], p, by_answer("pcn_locality")) for p in shown
    ]
    alone = [
        KpiCalculator(engine.store, plain, now).value(
            kpis["referrals_received"], p, by_answer("pcn_locality")
        )
        for p in shown
    ]
    assert by_locality == alone
    assert any(v.group != "(none)" and v.count for vs in by_locality for v in vs)  # answers read
    # and the figures already worked out stay as they were
    assert [calc.value(kpis["referrals_received"], p) for p in shown] == before


def _monthly(referrals, kpi_id):
    """A calculator on the referrals, one KPI of theirs, and the twelve months to now."""
    engine, programme = referrals
    now = REFERRALS_NOW
    kpi = next(k for k in programme.data["kpis"] if k["id"] == kpi_id)
    shown = periods("month", now.replace(year=now.year - 1), now, _tz(programme))
    return KpiCalculator(engine.store, programme, now), kpi, shown


def test_a_figure_that_reads_the_moment_moves_with_it(referrals):
    calc, kpi, shown = _monthly(referrals, "days_since_referral")
    # people referred long ago wait longer at each month's end: an average worked out once per
    # case and kept for later periods would stop growing
    values = [calc.value(kpi, p)[0].value for p in shown]
    assert all(v is not None for v in values)
    assert values[-1] > values[len(values) // 2] > values[0]


def test_answers_changed_later_count_as_they_are_now_in_every_period(referrals):
    calc, kpi, shown = _monthly(referrals, "referred_by_mdt")
    # every fifth referral now says MDT, so each month's share is at least about a fifth
    for p in shown:
        (value,) = calc.value(kpi, p)
        assert value.count == 0 or value.value >= 15, p.label
