"""Re-planning from the facts read with the case plans exactly what reading them afresh plans.

Starting a case, saving answers and taking an action read a case's planning facts (when each
action was last taken, its moves, pinned dates, its pending reminder rows) once, with the case,
and count their own audit event in them (`facts_after`) instead of reading them back. Every
journey in tests/scenarios/ is run again here, and after each of those operations the case is
re-planned from facts read afresh from the database: that must add and cancel nothing. And
the case an action returns, made from what it wrote rather than read back, is the case as read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.runtime import Actor, Engine
from engine.timeline.planner import facts_after, replan_case

from .conftest import EXAMPLE
from .databases import database_in
from .test_scenarios import SCENARIOS, Journey


def _planned_as_afresh(engine: Engine, case_id: int) -> None:
    """Fail if re-planning the case from everything read again changes its reminder rows."""
    store = engine.store
    before = store.reminders_for(case_id)
    row = store.case(case_id)
    assert row is not None
    with store.transaction():
        replan_case(store, engine.programme(row["programme_id"], row["version"]), row, engine.now())
    assert store.reminders_for(case_id) == before, f"case {case_id} planned otherwise afresh"


def _checked(engine: Engine) -> list[str]:
    """Check every start, save and action of the engine as it happens; the operations checked."""
    done: list[str] = []
    for name in ("start_case", "save_answers", "act"):
        original = getattr(engine, name)

        def checked(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            view = _original(*args, **kwargs)
            _planned_as_afresh(engine, view.id)
            if _name == "act":  # the case it returns is made, not read back: as read back
                actor = kwargs.get("actor", args[2] if len(args) > 2 else None)
                assert view == engine.case(view.id, actor)
            done.append(_name)
            return view

        setattr(engine, name, checked)
    return done


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_each_journey_plans_from_the_facts_read_with_the_case_as_from_facts_read_afresh(
    path: Path, tmp_path: Path
) -> None:
    journey = Journey(yaml.load(path.read_text("utf-8"), Loader=yaml.CSafeLoader), tmp_path)
    done = _checked(journey.engine)
    journey.run()
    assert "start_case" in done  # every journey starts a case: the check ran


def test_an_action_counts_as_last_taken_and_as_a_move_only_when_the_state_changes() -> None:
    facts = {"fired": {"answer": "2022-01-02T00:00:00+00:00"}, "pins": {}, "pending": {"k"},
             "moves": [("2022-01-01T00:00:00+00:00", "draft")]}  # fmt: skip
    saved = facts_after(facts, "answer", "2022-01-03T00:00:00+00:00", "draft", "draft")
    assert saved["fired"] == {"answer": "2022-01-03T00:00:00+00:00"}
    assert saved["moves"] == facts["moves"] and saved["pending"] == {"k"}
    moved = facts_after(saved, "submit", "2022-01-04T00:00:00+00:00", "draft", "submitted")
    assert moved["moves"][-1] == ("2022-01-04T00:00:00+00:00", "submitted")
    assert moved["fired"]["submit"] == "2022-01-04T00:00:00+00:00"
    # an earlier time (a clock set back) leaves the later one standing, as max(at) reads it
    again = facts_after(moved, "submit", "2022-01-01T12:00:00+00:00", "submitted", "submitted")
    assert again["fired"]["submit"] == "2022-01-04T00:00:00+00:00"
    assert facts["fired"] == {"answer": "2022-01-02T00:00:00+00:00"}  # what was read is kept


def test_the_case_an_award_returns_is_in_the_award_s_lot(tmp_path: Path) -> None:
    engine = Engine(database_in(tmp_path), clock=lambda: datetime(2022, 1, 10, 12, tzinfo=UTC))
    engine.publish(EXAMPLE / "programmes" / "tiny.yaml")
    ann, cora = Actor("applicant", "ann", "org_a"), Actor("commissioner", "cora")
    case = engine.start_case("tiny_grants", "application", ann).id
    engine.save_answers(case, "tiny_eoi", {"org_name": "Org", "income": 50000, "org_type": "charity",
                                           "priorities": ["isolation"], "summary": "Lunch club"}, ann)  # fmt: skip
    engine.act(case, "submit", ann)
    awarded = engine.act(case, "award", cora, amount=10000, lot="north")
    assert (awarded.state, awarded.lot) == ("awarded", "north")
    assert awarded == engine.case(case, cora)
