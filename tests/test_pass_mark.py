"""The panel's scores are facts rules read, and a decision below the pass mark is refused in words."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.errors import ActionRefused
from engine.runtime import Actor, Engine
from engine.runtime.assessment import outcome

from .databases import database_in
from .web.panel import PANEL, panel_programme

ANN = Actor("applicant", "ann@example.org", "org_a")
CORA = Actor("commissioner", "cora")
SAFE = {"safeguarding": "met"}


def engine_with(tmp_path: Path, extra: str, award_extra: str = "") -> Engine:
    """The panel programme with `extra` at the top level and `award_extra` on its award."""
    path = panel_programme(tmp_path)
    text = path.read_text().replace("criteria:\n", f"{extra}criteria:\n", 1)
    text = text.replace("      - trigger: award\n        label: Make an award\n",
                        f"      - trigger: award\n        label: Make an award\n{award_extra}")  # fmt: skip
    path.write_text(text)
    engine = Engine(database_in(tmp_path, "panel"), clock=lambda: datetime(2022, 1, 10, tzinfo=UTC))
    engine.publish(path, tmp_path / "panel" / "forms")
    return engine


def assessed(engine: Engine, *sheets: dict) -> int:
    case = engine.start_case(PANEL, "application", ANN)
    engine.save_answers(case.id, "tiny_eoi", {"org_name": "Org A", "income": 50000, "org_type": "charity",
                                              "priorities": ["isolation"], "summary": "Lunch club"}, ANN)  # fmt: skip
    engine.act(case.id, "submit", ANN)
    for i, (scores, recommendation) in enumerate(sheets):
        engine.assess(case.id, Actor("assessor", f"a{i}"), scores={**scores, **SAFE}, recommendation=recommendation)  # fmt: skip
    if sheets:
        engine.act(case.id, "assess", Actor("assessor", "a0"))
    return case.id


def test_the_verdict_is_on_the_criteria_scale_with_its_count_and_recommendations() -> None:
    need = {
        "id": "need",
        "title": "Need",
        "kind": "scored",
        "scale": {"min": 1, "max": 5},
        "weight": 60,
    }
    plan = {
        "id": "plan",
        "title": "Plan",
        "kind": "scored",
        "scale": {"min": 1, "max": 5},
        "weight": 40,
    }
    rows = [
        {"scores": {"need": 4, "plan": 2}, "conflict": None, "recommendation": "recommend"},
        {"scores": {"need": 2, "plan": 2}, "conflict": None, "recommendation": "do_not_recommend"},
        {"scores": {}, "conflict": "my sister runs it", "recommendation": None},
    ]
    facts = outcome([need, plan], rows, {"pass_mark": 3})
    # 0.6 × 4 + 0.4 × 2 = 3.2 and 2.0: a mean of 2.6 out of 5
    assert facts["scores"] == [3.2, 2.0] and facts["mean"] == 2.6 and facts["count"] == 2
    assert facts["passed"] is False and facts["out_of"] == 5.0
    assert facts["recommendations"] == {"recommend": 1, "recommend_with_conditions": 0, "do_not_recommend": 1}  # fmt: skip


def test_a_decision_below_the_pass_mark_is_refused_with_the_score_in_words(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, "assessment: {pass_mark: 3, minimum_assessments: 2}\n",
                         "        pass_mark: true\n")  # fmt: skip
    weak = assessed(engine, ({"need": 2, "delivery": 1}, "recommend"), ({"need": 1, "delivery": 1}, "recommend"))  # fmt: skip
    with pytest.raises(ActionRefused) as refused:
        engine.act(weak, "award", CORA, amount=10000, lot="north")
    # need 60%, delivery 40%, out of 4: 1.6 and 1.0, a mean of 1.3
    assert "the assessors' weighted mean score is 1.3 out of 4, below the pass mark of 3" in refused.value.reasons  # fmt: skip
    strong = assessed(engine, ({"need": 4, "delivery": 3}, "recommend"), ({"need": 3, "delivery": 3}, "recommend"))  # fmt: skip
    assert engine.act(strong, "award", CORA, amount=10000, lot="north").state == "awarded"


def test_a_decision_waits_for_the_assessments_it_needs(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, "assessment: {pass_mark: 3, minimum_assessments: 2}\n",
                         "        pass_mark: true\n")  # fmt: skip
    one = assessed(engine, ({"need": 4, "delivery": 4}, "recommend"))
    options = {o.trigger: o for o in engine.actions(one, CORA)}
    assert "only 1 assessment has been completed; this decision needs 2 assessments first" in options["award"].reasons  # fmt: skip


def test_a_guard_reads_the_panels_recommendations(tmp_path: Path) -> None:
    guard = ("        guard: assessment.recommendations.do_not_recommend == 0\n"
             "        guard_message: an assessor did not recommend it; reject it or ask the panel again\n")  # fmt: skip
    engine = engine_with(tmp_path, "", guard)
    case = assessed(engine, ({"need": 4, "delivery": 4}, "recommend"), ({"need": 4, "delivery": 4}, "do_not_recommend"))  # fmt: skip
    with pytest.raises(ActionRefused) as refused:
        engine.act(case, "award", CORA, amount=10000, lot="north")
    assert refused.value.reasons == [
        "an assessor did not recommend it; reject it or ask the panel again"
    ]
