"""KPIs worked out together for a whole page give the same figures as each worked out alone.

A page's calculator reads each programme's cases once and keeps them as they stood at each
period's end for every KPI over the same cases (issue 19). These tests build a referral programme
the way scripts/bench_pages.py does (people moving through states, records sent over 14 months,
cases put on hold and stepped down after a period ended) and check that sharing that work never
changes a figure: every KPI, every period, every breakdown, against a calculator that worked out
only that one.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from bench_pages_data import REFERRALS_NOW, build_referrals

from engine.reporting.kpi_groups import answer_breakdowns, by_answer
from engine.reporting.kpis import KpiCalculator, periods
from engine.runtime import Engine
from tests.clock import Clock


@pytest.fixture(scope="module")
def referrals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, object]:
    """A programme of 300 referrals with their records and audit rows, on a stopped clock."""
    clock = Clock(REFERRALS_NOW.replace(tzinfo=None).isoformat())
    engine = Engine(tmp_path_factory.mktemp("kpis") / "referrals.db", clock=clock)
    made = build_referrals(engine, 300, 3_000)
    programme = engine.programme(made["programme"])
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
    ]  # fmt: skip
    data = {**programme.data, "kpis": [*programme.data["kpis"], *extra]}
    return engine, replace(programme, data=data)


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
    plain = replace(programme, data={**programme.data, "kpis": programme.data["kpis"][:-2]})
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
