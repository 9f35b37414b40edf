"""Assessment panels: assigning assessors evenly and never to a conflict, reassigning, each
assessor completing their own sheet, and the step out of assessment waiting for the panel."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ActionRefused, NotPermitted
from engine.runtime import Actor, Engine
from engine.runtime.assessment import share_out

from .clock import Clock
from .conftest import account
from .web.panel import GOOD, PANEL, panel_programme

BOSS = Actor("commissioner", "cora@council.example")
TEAM = ["ann@panel.example", "ben@panel.example", "cat@panel.example"]
SETTINGS = "  assessments_needed: 2\n  moderate_when_spread_over: 10"


def _engine(database: str, tmp_path: Path, settings: str = SETTINGS) -> Engine:
    engine = Engine(database, clock=Clock("2022-01-20T10:00"))
    engine.publish(panel_programme(tmp_path, settings), tmp_path / "panel" / "forms")
    with engine.store.transaction():
        for email in TEAM:
            account(engine.store, email, email.split("@")[0].title(), "assessor", programme=PANEL)
    return engine


def _case(engine: Engine, org: str, lot: str | None = None) -> str:
    actor = Actor("applicant", f"{org}@example.org", org)
    case = engine.start_case(PANEL, "application", actor, organisation_name=org)
    engine.save_answers(case.id, "tiny_eoi", {**GOOD, "org_name": org}, actor)
    if lot:
        with engine.store.transaction():
            engine.store.set_case_lot(case.id, lot)
    return engine.act(case.id, "submit", actor).reference


def _score(engine: Engine, ref: str, who: str, need: int, delivery: int) -> None:
    me = Actor("assessor", who)
    engine.assess(ref, me, scores={"need": need, "delivery": delivery, "safeguarding": "met"},
                  recommendation="recommend")  # fmt: skip
    engine.complete_my_assessment(ref, me)


def _why(engine: Engine, ref: str, who: str) -> list[str]:
    return list(next(a for a in engine.actions(ref, Actor("assessor", who)) if a.trigger == "assess").reasons)  # fmt: skip


def test_sharing_out_is_even_least_loaded_first_and_skips_conflicts() -> None:
    cases = [
        {"id": i, "assigned": set(), "conflicted": {"a"} if i == 2 else set()} for i in (1, 2, 3)
    ]
    shares = share_out(cases, ["a", "b", "c"], {"c": 1}, 2)
    assert shares[1] == {"assigned": ["a", "b"], "short": 0}  # c already has one
    assert shares[2] == {"assigned": ["b", "c"], "short": 0}  # never a, who declared an interest
    assert shares[3] == {"assigned": ["a", "b"], "short": 0}  # a had fewest; b before c on a tie
    assert share_out([{"id": 9, "assigned": set(), "conflicted": {"a", "b"}}], ["a", "b"], {}, 2)[9] == {
        "assigned": [], "short": 2}  # fmt: skip


def test_bulk_assignment_by_lot_shares_the_load_and_leaves_other_lots(database: str, tmp_path: Path) -> None:  # fmt: skip
    engine = _engine(database, tmp_path)
    north = [_case(engine, f"org_{n}", "north") for n in "abc"]
    south = _case(engine, "org_s", "south")
    engine.declare_conflict(north[0], Actor("assessor", TEAM[0]), "I am a trustee")
    results = engine.assign_lot(PANEL, "north", 2, BOSS)
    assert [r["reference"] for r in results] == north
    given = {r["reference"]: r["assigned"] for r in results}
    assert TEAM[0] not in given[north[0]] and len(given[north[0]]) == 2
    loads = [sum(email in names for names in given.values()) for email in TEAM]
    assert sorted(loads) == [2, 2, 2]  # six places over three assessors
    assert engine.panel_status(south, BOSS)["assigned"] == []  # the other lot is untouched
    # assessors now see only their own work; the unassigned lot's case is in nobody's queue
    queue = {r["reference"] for r in engine.assessment_queue(Actor("assessor", TEAM[1]))}
    assert queue == {ref for ref, names in given.items() if TEAM[1] in names}
    with pytest.raises(NotPermitted, match="not assigned to you"):
        engine.assess(south, Actor("assessor", TEAM[1]), scores={}, recommendation="recommend")
    history = engine.history(north[1], BOSS)
    assert [h["action"] for h in history].count("assessor_assigned") == 2


def test_a_conflict_is_refused_and_releases_the_work_so_a_commissioner_reassigns(
    database: str, tmp_path: Path
) -> None:
    engine = _engine(database, tmp_path, "  assessments_needed: 1")
    ref = _case(engine, "org_a")
    engine.assign_assessor(ref, TEAM[0], BOSS)
    with pytest.raises(ActionRefused, match="already assessing"):
        engine.assign_assessor(ref, TEAM[0], BOSS)
    with pytest.raises(ActionRefused, match="does not assess for this programme"):
        engine.assign_assessor(ref, "stranger@example.org", BOSS)
    with pytest.raises(NotPermitted):
        engine.assign_assessor(ref, TEAM[1], Actor("assessor", TEAM[1]))
    # the only assessor declares an interest: the case needs another, and says so
    engine.declare_conflict(ref, Actor("assessor", TEAM[0]), "My sister runs it")
    status = engine.panel_status(ref, BOSS)
    assert status["assigned"] == [] and TEAM[0] not in status["choices"]
    assert status["blockers"] == [
        "the assessment this application needs is not complete yet",
        "it needs another assessor: a commissioner assigns them on the assessment panel page",
    ]
    with pytest.raises(ActionRefused, match="declared a conflict of interest"):
        engine.assign_assessor(ref, TEAM[0], BOSS)
    engine.assign_assessor(ref, TEAM[1], BOSS)
    engine.reassign(ref, TEAM[1], TEAM[2], BOSS)  # and that work can move on again
    assert engine.panel_status(ref, BOSS)["assigned"] == [TEAM[2]]
    assert ref not in {r["reference"] for r in engine.assessment_queue(Actor("assessor", TEAM[1]))}
    _score(engine, ref, TEAM[2], 3, 3)
    assert engine.act(ref, "assess", Actor("assessor", TEAM[2])).state == "assessed"


def test_the_step_out_of_assessment_waits_for_the_needed_sheets_and_moderation(
    database: str, tmp_path: Path
) -> None:
    engine = _engine(database, tmp_path)
    ref = _case(engine, "org_a")
    engine.assign_assessor(ref, TEAM[0], BOSS)
    engine.assign_assessor(ref, TEAM[1], BOSS)
    # one assessor's sheet, saved but not complete, does not count, and cannot end the assessment
    engine.assess(ref, Actor("assessor", TEAM[0]), scores={"need": 4, "delivery": 4, "safeguarding": "met"},
                  recommendation="recommend")  # fmt: skip
    assert _why(engine, ref, TEAM[0]) == ["none of the 2 assessments this application needs are complete"]  # fmt: skip
    engine.complete_my_assessment(ref, Actor("assessor", TEAM[0]))
    with pytest.raises(ActionRefused, match="can no longer be changed"):
        engine.assess(ref, Actor("assessor", TEAM[0]), scores={"need": 1, "delivery": 1, "safeguarding": "met"},
                      recommendation="recommend")  # fmt: skip
    with pytest.raises(ActionRefused, match="1 of the 2 assessments this application needs is complete"):  # fmt: skip
        engine.act(ref, "assess", Actor("assessor", TEAM[0]))
    _score(engine, ref, TEAM[1], 2, 2)  # 100% against 50%: 50 points apart, over 10
    reasons = _why(engine, ref, TEAM[1])
    assert reasons == ["the assessors' weighted scores are 50 points apart, more than the 10 the programme "
                       "allows: a commissioner records a moderated score with a reason first"]  # fmt: skip
    with pytest.raises(ActionRefused, match="Give the reason"):
        engine.record_moderated_score(ref, BOSS, 70, " ")
    engine.record_moderated_score(
        ref, BOSS, 70, "The panel met and agreed the delivery plan is sound"
    )
    with pytest.raises(ActionRefused, match="cannot be changed"):
        engine.record_moderated_score(ref, BOSS, 80, "Again")
    assert engine.moderation(ref, BOSS)["moderated"]["score"] == 70
    assert _why(engine, ref, TEAM[1]) == []
    assert engine.act(ref, "assess", Actor("assessor", TEAM[1])).state == "assessed"
    actions = [h["action"] for h in engine.history(ref, BOSS)]
    assert {"assessment_completed", "moderated_score_recorded"} <= set(actions)


def test_without_panel_settings_or_assignments_the_step_opens_as_before(database: str, tmp_path: Path) -> None:  # fmt: skip
    engine = _engine(database, tmp_path, settings="")
    ref = _case(engine, "org_a")
    assert _why(engine, ref, TEAM[0]) == []
    assert {r["reference"] for r in engine.assessment_queue(Actor("assessor", TEAM[0]))} == {ref}
    # once assigned, each assessor assigned must complete their own sheet
    engine.assign_assessor(ref, TEAM[0], BOSS)
    engine.assign_assessor(ref, TEAM[1], BOSS)
    _score(engine, ref, TEAM[0], 3, 3)
    assert _why(engine, ref, TEAM[0]) == [
        "1 of the 2 assessments this application needs is complete"
    ]
    assert _why(engine, ref, TEAM[2]) == [f"only the assessors assigned to {ref} take part in assessing it"]  # fmt: skip
