"""Assessment sums: weighted scores, score sheets checked, moderation across assessors."""

from __future__ import annotations

from engine.runtime.assessment import check_sheet, describe_scale, moderate, weighted_score

NEED = {
    "id": "need",
    "title": "Need",
    "kind": "scored",
    "scale": {"min": 0, "max": 4},
    "weight": 60,
}
PLAN = {
    "id": "plan",
    "title": "Plan",
    "kind": "scored",
    "scale": {"min": 1, "max": 5},
    "weight": 40,
}
SAFE = {"id": "safe", "title": "Safeguarding", "kind": "pass_fail"}


def test_a_weighted_score_is_the_share_of_the_most_a_proposal_could_get() -> None:
    assert weighted_score([NEED, PLAN, SAFE], {"need": 4, "plan": 5, "safe": "met"}) == 100.0
    assert weighted_score([NEED, PLAN], {"need": 2, "plan": 1}) == 30.0  # 0.5 × 60 + 0 × 40
    unweighted = [{k: v for k, v in c.items() if k != "weight"} for c in (NEED, PLAN)]
    assert weighted_score(unweighted, {"need": 4, "plan": 1}) == 50.0  # each counts the same
    assert weighted_score([SAFE], {"safe": "met"}) is None  # nothing is scored


def test_a_score_sheet_names_every_problem() -> None:
    clean, problems = check_sheet([NEED, PLAN, SAFE], {"need": "9", "plan": "x", "safe": "maybe"}, None)  # fmt: skip
    assert clean == {}
    assert problems == {
        "need": "The score for Need must be between 0 and 4",
        "plan": "The score for Plan must be a whole number",
        "safe": "Say whether Safeguarding is met or not met",
        "recommendation": "Choose a recommendation",
    }
    clean, problems = check_sheet([NEED, SAFE], {"need": " 3 ", "safe": "not_met"}, "recommend")
    assert clean == {"need": 3, "safe": "not_met"} and problems == {}
    assert describe_scale(NEED) == "Score 0 to 4, weight 60%"
    assert describe_scale(SAFE) == "Met or not met"


def test_moderation_averages_the_assessors_and_sets_conflicted_ones_aside() -> None:
    def row(who: str, scores: dict, conflict: str | None = None) -> dict:
        return {"assessor": who, "scores": scores, "notes": {}, "comment": None, "conflict": conflict,
                "recommendation": "recommend" if scores else None, "updated_at": "2022-01-01"}  # fmt: skip

    rows = [row("a", {"need": 4, "plan": 5, "safe": "met"}), row("b", {"need": 2, "plan": 1, "safe": "not_met"}),
            row("c", {}, conflict="trustee")]  # fmt: skip
    result = moderate([NEED, PLAN, SAFE], rows)
    assert result["count"] == 2 and result["mean_weighted"] == 65.0  # (100 + 30) / 2
    assert [s["weighted"] for s in result["sheets"]] == [100.0, 30.0]
    assert result["conflicts"] == [{"assessor": "c", "interest": "trustee"}]
    assert [c["summary"] for c in result["criteria"]] == ["mean 3.0", "mean 3.0", "met for 1 of 2"]
    assert result["recommendations"] == {"Recommend": 2}
