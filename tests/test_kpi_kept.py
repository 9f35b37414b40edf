"""KPI figures kept a run of cases at a time give the figures worked out afresh from every case,
on the first view and after each kind of change, and a change reads only the runs it touched
(issue 19: the KPI and trend pages' first view after a change took tens of seconds at 100,000
cases, as every case was read again).

The programme is built as scripts/bench_pages.py builds it (people moving through states, records
over 14 months, answers changed later), cut into runs of a few cases so that there are many.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from bench_pages_data import REFERRALS_NOW, build_referrals

from engine.reporting import kpi_kept, kpi_runs
from engine.reporting.kpi_groups import by_answer
from engine.reporting.kpi_kept import kept_kpis
from engine.reporting.kpis import KpiCalculator, periods
from engine.runtime import Actor, Engine
from tests.clock import Clock
from tests.databases import database_in

# figures over every measure a KPI can take, and over what a case had by a period's end
EXTRA = [
    {"id": "median_wait", "title": "Median days since referral", "source": "cases",
     "workflow": "referral", "measure": "median", "period": "month",
     "value": "days_between(case.entered.referred, now)"},
    {"id": "contacted_twice", "title": "Contacted twice", "source": "cases",
     "workflow": "referral", "measure": "count", "period": "month",
     "where": "size(case.records.bradford_contact) >= 2", "by": [{"answer": "pcn_locality"}]},
    {"id": "mean_wait", "title": "Average days since referral", "source": "cases",
     "workflow": "referral", "states": ["supported"], "measure": "average", "period": "quarter",
     "value": "days_between(case.entered.referred, now)"},
]  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    """A stopped clock at the moment the referrals are built for."""
    return Clock(REFERRALS_NOW.replace(tzinfo=None).isoformat())


@pytest.fixture
def referrals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock):
    """120 referrals and their records on a stopped clock, kept in runs of 8 (16 by group)."""
    monkeypatch.setattr(kpi_kept, "SIZE", 8)
    monkeypatch.setattr(kpi_kept, "WIDE", 16)
    monkeypatch.setattr(kpi_kept, "NARROW", 4)
    kpi_kept._kept.clear()
    engine = Engine(database_in(tmp_path, "kept"), clock=clock)
    made = build_referrals(engine, 120, 1_200)
    programme = engine.programme(made["programme"])
    programme = replace(
        programme, data={**programme.data, "kpis": [*programme.data["kpis"], *EXTRA]}
    )
    return engine, programme


def _asked(programme, kind: str, by: str):
    tz = ZoneInfo(programme.timezone)
    shown = periods(kind, REFERRALS_NOW.replace(year=REFERRALS_NOW.year - 1), REFERRALS_NOW, tz)
    # a period still to come, which has no figure
    shown.append(
        periods(kind, REFERRALS_NOW + timedelta(days=100), REFERRALS_NOW + timedelta(days=101), tz)[
            0
        ]
    )
    return [(k, p, by) for k in programme.data["kpis"] for p in shown]


def _kept(engine, programme, asked, page=("page",), wide=False):
    with kept_kpis(engine.store, programme, engine.now(), page, wide) as figures:
        figures.prepare(asked)
        spans = [figures.span(k) for k in programme.data["kpis"]]
        return [figures.value(*a) for a in asked], spans, figures.runs_read


def _afresh(engine, programme, asked):
    calc = KpiCalculator(engine.store, programme, engine.now())
    return [calc.value(*a) for a in asked], [calc.span(k) for k in programme.data["kpis"]]


def _same(kept, afresh):
    """Every value equal (averages to float rounding: their parts are added in another order)."""
    for mine, theirs in zip(kept, afresh, strict=True):
        assert [replace(v, value=None) for v in mine] == [replace(v, value=None) for v in theirs]
        for a, b in zip(mine, theirs, strict=True):
            assert a.value == b.value or a.value == pytest.approx(b.value, rel=1e-9), a


@pytest.mark.parametrize(("kind", "by"), [("month", "programme"), ("quarter", "organisation"),
                                          ("month", "lot"), ("month", by_answer("pcn_locality"))])  # fmt: skip
def test_kept_figures_are_the_figures_worked_out_from_every_case(referrals, kind, by):
    engine, programme = referrals
    asked = _asked(programme, kind, by)
    wide = by in ("organisation", "lot")
    values, spans, runs = _kept(engine, programme, asked, wide=wide)
    theirs, their_spans = _afresh(engine, programme, asked)
    _same(values, theirs)
    assert spans == their_spans
    assert runs == len(engine.store.case_buckets(programme.id, 16 if wide else 8)) > 5
    assert sum(v.count for vs in values for v in vs) > 0
    # the period still to come has no figure, not even a 0
    assert all(not v.reported for vs in values[len(values) - 1 :] for v in vs)


def test_kept_figures_after_each_kind_of_change_read_only_the_runs_changed(referrals):
    engine, programme = referrals
    asked = [*_asked(programme, "month", "programme"), *_asked(programme, "month", "organisation"),
             *_asked(programme, "month", by_answer("pcn_locality"))]  # fmt: skip
    before, _spans, _runs = _kept(engine, programme, asked)
    cases = engine.store.programme_cases(programme.id)
    old = next(c for c in cases if c["state"] == "supported")
    caseworker = Actor("caseworker", "kim", old["organisation_id"])

    def act() -> None:
        case = next(c for c in engine.store.programme_cases(programme.id)
                    if c["state"] == "referred" and c["id"] != old["id"])  # fmt: skip
        who = Actor("caseworker", "kim", case["organisation_id"])
        option = next(
            o for o in engine.actions(case["id"], who) if o.allowed and not o.needs_reason
        )
        engine.act(case["id"], option.trigger, who)

    def record() -> None:
        engine.save_record_draft(old["id"], "bradford_contact",
                                 {"contact_date": "2023-05-30", "meaningful_contact": True,
                                  "contact_kind": "phone"}, caseworker)  # fmt: skip
        engine.submit_record_draft(old["id"], "bradford_contact", caseworker)

    def answer() -> None:
        case = next(
            c for c in engine.store.programme_cases(programme.id) if c["state"] == "referred"
        )
        who = Actor("caseworker", "kim", case["organisation_id"])
        engine.save_answers(case["id"], "bradford_referral", {"pcn_locality": "wishh"}, who)

    def start() -> None:
        view = engine.start_case(programme.id, "referral", caseworker, subject="pseudonymous")
        answers = engine.store.answers(old["id"])
        referral = next(a["data"] for a in answers if a["form"] == "bradford_referral")
        engine.save_answers(view.id, "bradford_referral", dict(referral), caseworker)

    for step in (act, record, answer, start):
        step()
        values, spans, runs = _kept(engine, programme, asked)
        theirs, their_spans = _afresh(engine, programme, asked)
        _same(values, theirs)
        assert spans == their_spans
        assert runs == 1, step.__name__  # only the run holding the case changed
        assert values != before, step.__name__  # the change shows
        before = values


def test_figures_kept_for_one_page_leave_another_page_and_programme_alone(referrals):
    engine, programme = referrals
    month, quarter = (
        _asked(programme, "month", "programme"),
        _asked(programme, "quarter", "programme"),
    )
    _kept(engine, programme, month, page=("months",))
    _kept(engine, programme, quarter, page=("quarters",))
    values, _spans, runs = _kept(engine, programme, month, page=("months",))
    assert runs == 0  # nothing changed: no run is read again
    _same(values, _afresh(engine, programme, month)[0])


def test_a_new_day_works_out_again_only_the_figures_that_read_the_moment(referrals, clock):
    engine, programme = referrals
    asked = [*_asked(programme, "month", "programme"), *_asked(programme, "quarter", "programme")]
    before, _spans, _runs = _kept(engine, programme, asked)
    clock.set((REFERRALS_NOW + timedelta(days=1)).replace(tzinfo=None).isoformat())
    values, spans, runs = _kept(engine, programme, asked)
    theirs, their_spans = _afresh(engine, programme, asked)
    _same(values, theirs)
    assert spans == their_spans and runs == 0  # no case changed: no run read for spans
    moved = {v.kpi for vs, ws in zip(values, before, strict=True) for v, w in zip(vs, ws, strict=True)
             if v.value != w.value}  # fmt: skip
    assert {"median_wait", "mean_wait"} <= moved  # a day longer since each referral
    assert moved <= {k["id"] for k in EXTRA}  # the rest were kept


def test_a_process_starting_brings_the_figures_kept_in_the_database_up_to_date(referrals):
    """Figures one web process worked out are kept in the database: another (or the same after a
    restart) reads them and works out again only the runs changed since, never every case."""
    engine, programme = referrals
    asked = [*_asked(programme, "month", "programme"), *_asked(programme, "quarter", "lot")]
    _kept(engine, programme, asked)
    kpi_kept._kept.clear()  # a process that has kept nothing itself
    values, spans, runs = _kept(engine, programme, asked)
    assert runs == 0
    theirs, their_spans = _afresh(engine, programme, asked)
    _same(values, theirs)
    assert spans == their_spans
    case = next(c for c in engine.store.programme_cases(programme.id) if c["state"] == "referred")
    who = Actor("caseworker", "kim", case["organisation_id"])
    engine.save_answers(case["id"], "bradford_referral", {"pcn_locality": "wishh"}, who)
    kpi_kept._kept.clear()
    values, spans, runs = _kept(engine, programme, asked)
    assert runs == 1  # the run holding the case changed since they were kept
    _same(values, _afresh(engine, programme, asked)[0])


def test_figures_kept_further_behind_never_replace_newer_ones(referrals):
    engine, programme = referrals
    store = engine.store
    assert store.keep_figures(programme.id, "kpis:page", 10, b"newer", "2023-06-01T00:00:00+00:00")
    assert not store.keep_figures(
        programme.id, "kpis:page", 9, b"older", "2023-06-01T00:00:00+00:00"
    )
    assert store.kept_figures("kpis:page") == (10, b"newer")
    assert store.keep_figures(programme.id, "kpis:page", 10, b"as new", "2023-06-01T00:00:00+00:00")
    assert store.kept_figures("kpis:page") == (10, b"as new")
    # a page nobody opened for 30 days is let go (worked out again if it is ever opened)
    assert store.keep_figures(programme.id, "kpis:other", 3, b"other", "2023-07-01T00:00:01+00:00")
    assert store.kept_figures("kpis:page") is None and store.kept_figures("kpis:other")


def test_figures_kept_for_another_version_or_too_large_are_worked_out_again(referrals, monkeypatch):
    engine, programme = referrals
    asked = _asked(programme, "month", "programme")
    _kept(engine, programme, asked)
    kpi_kept._kept.clear()
    everything = len(engine.store.case_buckets(programme.id, 8))
    other = replace(programme, version="another")
    values, _spans, runs = _kept(engine, other, asked)
    assert runs == everything  # kept for another version of the programme: not used
    _same(values, _afresh(engine, programme, asked)[0])
    kpi_kept._kept.clear()
    monkeypatch.setattr(kpi_runs, "LIMIT", 100)  # larger than allowed once decompressed
    values, _spans, runs = _kept(engine, other, asked)
    assert runs == everything
    _same(values, _afresh(engine, programme, asked)[0])
    kpi_kept._kept.clear()
    monkeypatch.setattr(kpi_runs, "LIMIT", 1 << 29)
    engine.store.execute("UPDATE kept_figures SET body = ?", (b"not what was kept",))
    values, _spans, runs = _kept(engine, other, asked)
    assert runs == everything  # unreadable: worked out again, never an error page
    _same(values, _afresh(engine, programme, asked)[0])


def test_a_process_that_waited_for_another_reads_what_it_kept(referrals, monkeypatch):
    """Working out every run is done by one process at a time: one that waited for another
    (here the other keeps its figures while this one waits) reads them and reads no run."""
    engine, programme = referrals
    asked = _asked(programme, "month", "programme")
    _kept(engine, programme, asked)
    kept_copy = engine.store.kept_figures(kpi_kept._stored_key(programme, ("page",)))
    assert kept_copy is not None
    engine.store.execute("DELETE FROM kept_figures")
    kpi_kept._kept.clear()
    waited: list[str] = []

    @contextmanager
    def other_process_keeps_them_meanwhile(name: str, *, wait: bool = True):
        waited.append(name)
        engine.store.keep_figures(programme.id, name, kept_copy[0], kept_copy[1], "2023-06-01T00:00:00+00:00")  # fmt: skip
        yield

    monkeypatch.setattr(engine.store, "one_at_a_time", other_process_keeps_them_meanwhile)
    values, _spans, runs = _kept(engine, programme, asked)
    assert waited == [kpi_kept._stored_key(programme, ("page",))] and runs == 0
    _same(values, _afresh(engine, programme, asked)[0])
