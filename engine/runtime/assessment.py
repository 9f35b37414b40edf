"""Assessment against a programme's `criteria`, and the figures a commissioner oversees.

Pure functions over the model and plain rows (no SQL, no I/O): which criteria an application is
judged on, which states wait for an assessor, checking a score sheet, moderating the assessors'
scores into totals, and the dashboard's counts. The `Engine` stores and audits; this decides.
"""

from __future__ import annotations

from datetime import datetime
from statistics import mean
from typing import Any

from engine.model import Programme, Workflow

# What an assessor may recommend; the commissioner decides (the workflow's own transitions).
RECOMMENDATIONS: dict[str, str] = {
    "recommend": "Recommend",
    "recommend_with_conditions": "Recommend with conditions",
    "do_not_recommend": "Do not recommend",
}
MET, NOT_MET = "met", "not_met"


def criteria_for(programme: Programme, workflow: str, role: str | None) -> list[dict[str, Any]]:
    """The criteria a case of this workflow (applying in this role) is assessed against.

    A criterion's `stage` names the form it is judged on, so it belongs to the workflow that form is
    attached to; one without a stage belongs to every workflow an assessor acts in.
    """
    attached = {e["form"] for e in programme.data["forms"] if e["workflow"] == workflow}
    wf = programme.workflows[workflow]
    assessed = bool(assessment_states(wf))
    out = []
    for c in programme.data.get("criteria", []):
        if "stage" in c and c["stage"] not in attached:
            continue
        if "stage" not in c and not assessed:
            continue
        if c.get("applies_to") and role not in c["applies_to"]:
            continue
        out.append(c)
    return out


def assessment_states(wf: Workflow) -> set[str]:
    """The states a case waits in for an assessor: those an assessor-only transition leaves."""
    return {s for t in wf.transitions if t.by == ("assessor",) for s in t.sources}


def describe_scale(c: dict[str, Any]) -> str:
    """A criterion's scale in words: "Met or not met", "0 to 5, weight 30%"."""
    if c["kind"] != "scored":
        return "Met or not met"
    scale = c.get("scale", {"min": 0, "max": 10})
    text = f"Score {scale['min']} to {scale['max']}"
    return text + (f", weight {c['weight']:g}%" if "weight" in c else "")


def check_sheet(criteria: list[dict[str, Any]], scores: dict[str, Any],
                recommendation: str | None) -> tuple[dict[str, Any], dict[str, str]]:  # fmt: skip
    """Clean a score sheet: (scores by criterion, problems by criterion or "recommendation")."""
    clean: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for c in criteria:
        raw = scores.get(c["id"])
        raw = raw.strip() if isinstance(raw, str) else raw
        if raw in (None, ""):
            problems[c["id"]] = (
                f"Score {c['title']}"
                if c["kind"] == "scored"
                else f"Say whether {c['title']} is met"
            )
            continue
        if c["kind"] != "scored":
            if raw not in (MET, NOT_MET):
                problems[c["id"]] = f"Say whether {c['title']} is met or not met"
            else:
                clean[c["id"]] = raw
            continue
        scale = c.get("scale", {"min": 0, "max": 10})
        try:
            value = int(raw)
        except (TypeError, ValueError):
            problems[c["id"]] = f"The score for {c['title']} must be a whole number"
            continue
        if not scale["min"] <= value <= scale["max"]:
            problems[c["id"]] = (
                f"The score for {c['title']} must be between {scale['min']} and {scale['max']}"
            )
            continue
        clean[c["id"]] = value
    if recommendation not in RECOMMENDATIONS:
        problems["recommendation"] = "Choose a recommendation"
    return clean, problems


def weighted_score(criteria: list[dict[str, Any]], scores: dict[str, Any]) -> float | None:
    """One assessor's weighted score as a percentage of the most a proposal could get.

    Each scored criterion counts (score − min) / (max − min) of its weight; without weights, each
    counts the same. None when the programme scores nothing (every criterion is met / not met).
    """
    scored = [c for c in criteria if c["kind"] == "scored" and c["id"] in scores]
    if not scored:
        return None
    weights = [c.get("weight", 1 if not any("weight" in x for x in scored) else 0) for c in scored]
    total = sum(weights)
    if not total:
        return None
    got = 0.0
    for c, w in zip(scored, weights, strict=True):
        scale = c.get("scale", {"min": 0, "max": 10})
        span = (scale["max"] - scale["min"]) or 1
        got += (scores[c["id"]] - scale["min"]) / span * w
    return round(got / total * 100, 1)


def shared_scale(criteria: list[dict[str, Any]]) -> tuple[int, int] | None:
    """The (min, max) every scored criterion shares, or None when they differ or none is scored."""
    scales = {
        (c.get("scale", {}).get("min", 0), c.get("scale", {}).get("max", 10))
        for c in criteria
        if c["kind"] == "scored"
    }
    return next(iter(scales)) if len(scales) == 1 else None


def outcome(criteria: list[dict[str, Any]], rows: list[dict[str, Any]], settings: dict[str, Any],
            moderated: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """What rules read as `assessment`: completed sheets, each weighted score and the mean.

    Scores are on the criteria's own scale (`3.4` out of 5) when they share one, and also as a
    percentage of the most a proposal could get. With no sheet yet, the means are 0 and `count`
    is 0, so a rule reads `assessment.count` first.
    """
    if settings.get("assessments_needed"):  # a panel counts only the sheets marked complete
        rows = [r for r in rows if r.get("completed_at")]
    percents = [
        p
        for r in rows
        if r["conflict"] is None and r["scores"]
        if (p := weighted_score(criteria, r["scores"])) is not None
    ]
    if moderated is not None and percents:  # the panel's agreed score stands for theirs
        percents = [float(moderated["score"])] * len(percents)
    sheets = [r for r in rows if r["conflict"] is None and r["scores"]]
    scale = shared_scale(criteria)
    low, high = scale or (0, 100)
    on_scale = [round(low + p / 100 * (high - low), 2) for p in percents]
    recommendations = dict.fromkeys(RECOMMENDATIONS, 0)
    for r in sheets:
        if r["recommendation"] in recommendations:
            recommendations[r["recommendation"]] += 1
    mean_score = round(mean(on_scale), 2) if on_scale else 0.0
    pass_mark = settings.get("pass_mark")
    needed = int(settings.get("minimum_assessments", 1))
    return {
        "count": len(sheets),
        "scores": on_scale,
        "mean": mean_score,
        "percent": round(mean(percents), 1) if percents else 0.0,
        "out_of": float(high),
        "pass_mark": float(pass_mark) if pass_mark is not None else 0.0,
        "passed": bool(on_scale)
        and len(sheets) >= needed
        and (pass_mark is None or mean_score >= pass_mark),
        "recommendations": recommendations,
    }


def below_pass_mark(facts: dict[str, Any], settings: dict[str, Any]) -> str | None:
    """Why a decision that needs the pass mark cannot be made yet, in words (None: it can)."""
    needed = int(settings.get("minimum_assessments", 1))
    if facts["count"] < needed:
        done = (
            "no assessment has" if not facts["count"] else f"only {facts['count']} assessment has"
        )
        if facts["count"] > 1:
            done = f"only {facts['count']} assessments have"
        return (
            f"{done} been completed; this decision needs "
            f"{'an assessment' if needed == 1 else f'{needed} assessments'} first"
        )
    mark = settings.get("pass_mark")
    if mark is not None and facts["mean"] < mark:
        return (
            f"the assessors' weighted mean score is {facts['mean']:g} out of {facts['out_of']:g}, "
            f"below the pass mark of {mark:g}"
        )
    return None


def completed_sheets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sheets their assessors marked complete (conflicts set aside)."""
    return [r for r in rows if r.get("completed_at") and r["conflict"] is None]


def spread(criteria: list[dict[str, Any]], rows: list[dict[str, Any]]) -> float | None:
    """How far apart the completed sheets' weighted scores are, in points (None: under two)."""
    scores = [w for r in completed_sheets(rows) if (w := weighted_score(criteria, r["scores"])) is not None]  # fmt: skip
    return round(max(scores) - min(scores), 1) if len(scores) > 1 else None


def needed_count(settings: dict[str, Any], assigned: int) -> int:
    """How many completed assessments end a case's assessment: the programme's number, else
    one from each assessor assigned (0: no panel, the step opens as it always did)."""
    return int(settings.get("assessments_needed") or assigned)


def panel_blockers(settings: dict[str, Any], criteria: list[dict[str, Any]],
                   rows: list[dict[str, Any]], assigned: list[str],
                   moderated: dict[str, Any] | None) -> list[str]:  # fmt: skip
    """Why the step that ends a case's assessment cannot be taken yet, in sentences (none: it can).

    `assigned` lists the assessors assigned to the case now; `moderated` is its moderated score.
    """
    done = completed_sheets(rows)
    needed = needed_count(settings, len(assigned))
    reasons = []
    if needed and len(done) < needed:
        if needed == 1:
            reasons.append("the assessment this application needs is not complete yet")
        else:
            verb = "is" if len(done) == 1 else "are"
            count = str(len(done)) if done else "none"
            reasons.append(f"{count} of the {needed} assessments this application needs {verb} complete")  # fmt: skip
        finished = {r["assessor"] for r in done}
        working = [a for a in assigned if a not in finished]
        missing = needed - len(done) - len(working)
        if missing > 0 and (assigned or settings.get("assessments_needed")):
            people = "another assessor" if missing == 1 else f"{missing} more assessors"
            reasons.append(f"it needs {people}: a commissioner assigns them on the assessment panel page")  # fmt: skip
    limit = settings.get("moderate_when_spread_over")
    apart = spread(criteria, rows)
    if limit is not None and apart is not None and apart > limit and moderated is None:
        reasons.append(
            f"the assessors' weighted scores are {apart:g} points apart, more than the {limit:g} "
            "the programme allows: a commissioner records a moderated score with a reason first"
        )
    return reasons


def share_out(cases: list[dict[str, Any]], assessors: list[str], loads: dict[str, int],
              per_case: int) -> dict[int, dict[str, Any]]:  # fmt: skip
    """Share cases among assessors evenly: each case gets `per_case` assessors, the least loaded
    first (ties by address), never one who declared a conflict or is on the case already.

    Each case is {"id", "conflicted": set, "assigned": set}; the result, by case id, lists the
    assessors given it and how many it is still short of.
    """
    load = {a: loads.get(a, 0) for a in assessors}
    out: dict[int, dict[str, Any]] = {}
    for case in sorted(cases, key=lambda c: c["id"]):
        wanted = per_case - len(case["assigned"])
        free = [a for a in assessors if a not in case["conflicted"] and a not in case["assigned"]]
        chosen = sorted(free, key=lambda a: (load[a], a))[: max(wanted, 0)]
        for a in chosen:
            load[a] += 1
        out[case["id"]] = {"assigned": chosen, "short": max(wanted - len(chosen), 0)}
    return out


def moderate(criteria: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The moderated view of one application: each assessor's sheet, and the totals across them."""
    sheets = []
    conflicts = []
    for row in rows:
        if row["conflict"] is not None:
            conflicts.append({"assessor": row["assessor"], "interest": row["conflict"]})
            continue
        if not row["scores"]:
            continue
        sheets.append(
            {
                "assessor": row["assessor"],
                "scores": row["scores"],
                "notes": row["notes"],
                "comment": row["comment"],
                "recommendation": row["recommendation"],
                "recommendation_label": RECOMMENDATIONS.get(row["recommendation"] or "", ""),
                "weighted": weighted_score(criteria, row["scores"]),
                "met": sum(1 for v in row["scores"].values() if v == MET),
                "updated_at": row["updated_at"],
                "completed": bool(row.get("completed_at")),
            }
        )
    per_criterion = []
    for c in criteria:
        values = [s["scores"][c["id"]] for s in sheets if c["id"] in s["scores"]]
        if c["kind"] == "scored":
            summary = f"mean {mean(values):.1f}" if values else "not scored yet"
        else:
            met = sum(1 for v in values if v == MET)
            summary = f"met for {met} of {len(values)}" if values else "not assessed yet"
        per_criterion.append({"criterion": c, "summary": summary})
    weighted = [s["weighted"] for s in sheets if s["weighted"] is not None]
    tally: dict[str, int] = {}
    for s in sheets:
        tally[s["recommendation_label"]] = tally.get(s["recommendation_label"], 0) + 1
    return {
        "sheets": sheets,
        "conflicts": conflicts,
        "criteria": per_criterion,
        "mean_weighted": round(mean(weighted), 1) if weighted else None,
        "recommendations": tally,
        "count": len(sheets),
    }


def dashboard(programme: Programme, by_state: dict[str, dict[str, int]],
              totals: dict[str, Any], now: datetime) -> dict[str, Any]:  # fmt: skip
    """Cases by state per workflow, deadlines ahead, and money awarded and left (per lot and in all)."""
    workflows = []
    for wf in programme.workflows.values():
        counts = by_state.get(wf.id, {})
        states = [
            {"id": s.id, "label": s.label, "final": s.final, "count": counts.get(s.id, 0)}
            for s in wf.states
        ]
        workflows.append({"id": wf.id, "title": wf.title, "states": states,
                          "total": sum(counts.values())})  # fmt: skip
    ahead = sorted(
        (m for m in programme.milestones.values() if m.span.end > now),
        key=lambda m: m.span.start,
    )
    funding = programme.data.get("funding", {})
    lots = []
    for lot in funding.get("lots", []):
        spent = totals["lots"].get(lot["id"], {"amount": 0, "count": 0})
        budget = lot.get("budget")
        lots.append(
            {
                "id": lot["id"],
                "name": lot.get("name", lot["id"]),
                "budget": budget,
                "awarded": spent["amount"],
                "count": spent["count"],
                "remaining": None if budget is None else budget - spent["amount"],
            }
        )
    total = funding.get("total")
    return {
        "workflows": workflows,
        "deadlines": [
            {
                "id": m.id,
                "label": m.label,
                "start": m.span.start,
                "end": m.span.end,
                "exact": m.span.exact,
                "precision": m.span.precision,
            }
            for m in ahead
        ],
        "total": total,
        "awarded": totals["amount"],
        "remaining": None if total is None else total - totals["amount"],
        "awards": totals["count"],
        "max_awards": funding.get("max_awards"),
        "lots": lots,
    }


def add_payments(figures: dict[str, Any], links: dict[int, tuple[int | None, str | None]],
                 awards: list[dict[str, Any]], payments: list[dict[str, Any]]) -> None:  # fmt: skip
    """Add what has been paid (in all and per lot) to a dashboard's money figures.

    A payment counts against the lot of the award it pays: the award on its case or on the case it
    was started from (a contract's application); failing that, the lot of the case itself.
    `links` gives each paid case's parent and lot, and theirs up the chain.
    """
    parent = {c: link[0] for c, link in links.items()}
    case_lot = {c: link[1] for c, link in links.items()}
    award_lot = {a["case_id"]: a["lot"] for a in awards}
    paid: dict[str | None, int] = {}
    for p in payments:
        lot, case_id, seen = None, p["case_id"], 0
        while case_id is not None and seen < 10:
            if case_id in award_lot:
                lot = award_lot[case_id]
                break
            case_id, seen = parent.get(case_id), seen + 1
        if lot is None:
            lot = case_lot.get(p["case_id"])
        paid[lot] = paid.get(lot, 0) + p["amount"]
    figures["paid"] = sum(paid.values())
    for lot_figures in figures.get("lots", []):
        lot_figures["paid"] = paid.get(lot_figures["id"], 0)
