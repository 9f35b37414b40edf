"""Where many cases' service levels stand, asked together (the caseworker's due page), is what
asking about each case alone gives: their reads made together change no verdict."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from bench_pages_data import REFERRALS_NOW, build_referrals

from engine.runtime import Actor, Engine
from tests.clock import Clock
from tests.databases import database_in


def test_service_levels_asked_together_are_those_asked_one_by_one(tmp_path: Path) -> None:
    clock = Clock(REFERRALS_NOW.replace(tzinfo=None).isoformat())
    engine = Engine(database_in(tmp_path, "ahead"), clock=clock)
    made = build_referrals(engine, 80, 800)
    org = made["organisations"][0][0]
    worker = Actor("caseworker", f"kim@{org}.example.org", org)
    first = engine.store.programme_cases(made["programme"])[0]["id"]
    referral = next(
        a["data"] for a in engine.store.answers(first) if a["form"] == "bradford_referral"
    )
    for days in (40, 20, 2):  # people referred lately, nobody in touch yet: limits passed or not
        clock.set((REFERRALS_NOW - timedelta(days=days)).replace(tzinfo=None).isoformat())
        view = engine.start_case(made["programme"], "referral", worker, subject="pseudonymous")
        engine.save_answers(view.id, "bradford_referral", dict(referral), worker)
    clock.set(REFERRALS_NOW.replace(tzinfo=None).isoformat())
    cases = [c["id"] for c in engine.store.programme_cases(made["programme"])]
    mine = [c for c in cases if engine.store.case(c)["organisation_id"] == org]
    together = engine.service_levels_of(cases, worker)
    # another organisation's people are left out, as from any list of theirs
    assert sorted(together) == sorted(mine) and len(mine) >= 3
    alone = {c: engine.service_levels(c, worker) for c in mine}
    assert together == alone
    statuses = {r.status for results in alone.values() for r in results}
    assert len(statuses) >= 3, (
        statuses
    )  # verdicts judged as at a limit passed, and now (kept, missed, pending...)
