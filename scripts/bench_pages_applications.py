"""The application database scripts/bench_pages.py times the assessor's pages on.

programmes/liverpool.yaml's `application` workflow: one application per organisation, through
eligibility, full proposals, a panel of three assessors (their assessments and a few declared
conflicts), the commissioner's decisions, awards and the contract cases they start. The demo's
awarded application (demo/seed.yaml) gives the answers, varied a little from one to the next.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from bench_common import ROOT
from bench_pages_data import Case, Rows, next_id, stamp

from engine.runtime import Engine
from engine.runtime.assessment import criteria_for, weighted_score

APPLICATIONS_NOW = datetime(2022, 3, 10, 10, 0, tzinfo=UTC)  # full proposals in, panel at work
EOI_DEADLINE = datetime(2022, 1, 31, 17, 0, tzinfo=UTC)  # liverpool.yaml's eoi_deadline

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"  # fmt: skip
PANEL = [
    "assessor1@panel.example.org",
    "assessor2@panel.example.org",
    "assessor3@panel.example.org",
]
COMMISSIONER = "commissioner@council.example.org"


def demo_answers() -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo's awarded application (demo/seed.yaml): its expression of interest and full proposal."""
    spec = yaml.safe_load((ROOT / "demo" / "seed.yaml").read_text("utf-8"))
    item = next(c for c in spec["cases"] if c.get("as") == "lodgelane@example.org")
    proposal = next(s["answers"]["liverpool_full_proposal"] for s in item["then"]
                    if "liverpool_full_proposal" in (s.get("answers") or {}))  # fmt: skip
    return item["answers"]["liverpool_expression_of_interest"], proposal


def build_applications(engine: Engine, applications: int) -> dict[str, Any]:
    """Publish Liverpool and write `applications` applications, one per organisation, with their assessments."""
    programme, _ = engine.publish(ROOT / "programmes" / "liverpool.yaml")
    rng, rows = random.Random(5000), Rows(engine)
    eoi, proposal = demo_answers()
    first, awards = next_id(engine), 0
    children = []
    opened = datetime(2021, 12, 6, 9, tzinfo=UTC)
    with engine.store.transaction():
        for i in range(applications):
            engine.store.ensure_organisation(
                f"org_{i:05d}", f"Community organisation {i + 1:,}", stamp(opened)
            )
    for i in range(applications):
        case_id, org = first + i, f"org_{i:05d}"
        name = f"Community organisation {i + 1:,}"
        applicant = ("applicant", f"contact@org{i:05d}.example.org")
        commissioner = ("commissioner", COMMISSIONER)
        started = opened + timedelta(minutes=rng.randint(0, 55 * 24 * 60))
        case = Case(rows, programme, "application", case_id, org, started, applicant)
        files = {}
        for question, value in eoi.items():
            if isinstance(value, dict) and "file" in value:
                file_id = f"f{case_id}{question[:3]}{rng.randrange(10**9):09d}"
                rows.add("uploads", {"id": file_id, "case_id": case_id, "form_id": "liverpool_expression_of_interest",
                                     "question_id": question, "name": value["file"], "size": len(PDF),
                                     "uploaded_by": applicant[1], "at": stamp(started), "content": PDF})  # fmt: skip
                files[question] = {"name": value["file"], "size": len(PDF), "id": file_id}
        fate = rng.random()  # how far it got: see the thresholds below
        income = (
            rng.randrange(200_000, 750_000, 1000)
            if 0.08 <= fate < 0.27
            else rng.randrange(760_000, 4_000_000, 1000)
        )
        answers = {**eoi, **files, "organisation_name": name, "contact_email": applicant[1], "income": income,
                   "liverpool_beneficiaries_percent": float(rng.randint(75, 100)),
                   "project_outline": f"Community connection sessions run by {name} for residents isolated during the pandemic."}  # fmt: skip
        if fate < 0.08:  # never submitted: closed with the round
            case.answer(
                started,
                applicant,
                "liverpool_expression_of_interest",
                {k: answers[k] for k in list(answers)[:9]},
            )
            case.act(EOI_DEADLINE + timedelta(seconds=30), ("scheduler", "scheduler"), "close_eoi_round",
                     "closed", effects=["cancel_reminders"], checks_passed={"at": "eoi_deadline"})  # fmt: skip
            case.write()
            continue
        case.answer(started, applicant, "liverpool_expression_of_interest", answers)
        submitted = min(
            started + timedelta(hours=rng.uniform(1, 48)),
            EOI_DEADLINE - timedelta(minutes=rng.randint(5, 300)),
        )
        case.act(submitted, applicant, "submit_eoi", "eoi_submitted", ("liverpool_expression_of_interest",),
                 checks_passed={"deadline": "eoi_deadline"})  # fmt: skip
        checked = datetime(2022, 2, 1, 9, tzinfo=UTC) + timedelta(
            minutes=rng.randint(0, 9 * 24 * 60)
        )
        if fate < 0.27:
            case.act(checked, commissioner, "find_ineligible", "ineligible",
                     reason="Your income in your last accounts is under £750,000.")  # fmt: skip
        elif fate < 0.29:
            case.act(checked, applicant, "withdraw", "withdrawn", effects=["cancel_reminders"])
        else:
            case.act(
                checked,
                commissioner,
                "confirm_eligible",
                "eligible",
                checks_passed={"eligibility": "every criterion met"},
            )
            case.act(
                checked,
                commissioner,
                "invite_to_full_proposal",
                "invited",
                checks_passed={"not_before": "eoi_deadline"},
            )
            begun = checked + timedelta(hours=rng.uniform(2, 150))
            if fate < 0.36:
                case.act(datetime(2022, 2, 21, 17, 0, 30, tzinfo=UTC), ("scheduler", "scheduler"), "close_proposal_round",
                         "closed", effects=["cancel_reminders"], checks_passed={"at": "full_submission_deadline"})  # fmt: skip
            else:
                case.act(
                    begun,
                    applicant,
                    "start_proposal",
                    "proposal_draft",
                    checks_passed={"deadline": "full_submission_deadline"},
                )
                title = f"{rng.choice(['Connected', 'Together', 'Stronger', 'Brighter'])} {rng.choice(['Communities', 'Neighbours', 'Streets', 'Futures'])}"
                case.answer(begun, applicant, "liverpool_full_proposal",
                            {**proposal, "project_title": title, "amount_requested": rng.choice([50000, 75000, 100000])})  # fmt: skip
                case.act(begun + timedelta(hours=2), applicant, "submit_proposal", "proposal_submitted",
                         ("liverpool_full_proposal",), checks_passed={"deadline": "full_submission_deadline"})  # fmt: skip
                awards = _panel(
                    rows, case, rng, programme, fate, awards, children, first + applications
                )
        case.write()
    for child in children:
        child.write()
    rows.flush()
    if engine.store.kind == "PostgreSQL":
        engine.store.execute(
            "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"
        )
    return {"programme": programme.id, **rows.counts}


def _panel(rows: Rows, case: Case, rng: random.Random, programme: Any, fate: float, awards: int,
           children: list[Case], child_base: int) -> int:  # fmt: skip
    """Assessments of a submitted proposal; then, for some, the panel's step and the decision."""
    criteria = criteria_for(programme, "application", None)
    done = fate > 0.75  # the rest still wait for the panel
    panel = PANEL if done else rng.sample(PANEL, rng.randint(0, 2))
    for assessor in panel:
        at = datetime(2022, 2, 22, 9, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 15 * 24 * 60))
        if rng.random() < 0.02 and not done:
            rows.add("assessments", {"case_id": case.id, "assessor": assessor, "scores": "{}", "comment": None,
                                     "recommendation": None, "conflict": "I am a trustee of this organisation.",
                                     "version": case.programme.version, "at": stamp(at)})  # fmt: skip
            case.log(at, ("assessor", assessor), "conflict_declared", case.row["state"], case.row["state"],
                     {"interest": "I am a trustee of this organisation."})  # fmt: skip
            continue
        scores = {c["id"]: "met" if rng.random() < 0.85 else "not_met" for c in criteria}
        advice = (
            "recommend"
            if all(v == "met" for v in scores.values())
            else rng.choice(["recommend_with_conditions", "do_not_recommend"])
        )
        rows.add("assessments", {"case_id": case.id, "assessor": assessor, "scores": json.dumps(scores),
                                 "comment": "Clear plan; sustainability depends on volunteers.", "recommendation": advice,
                                 "conflict": None, "version": case.programme.version, "at": stamp(at)})  # fmt: skip
        case.log(at, ("assessor", assessor), "assessment", case.row["state"], case.row["state"],
                 {"scores": scores, "recommendation": advice, "weighted": weighted_score(criteria, scores)})  # fmt: skip
    if not done:
        return awards
    moment = max(datetime.fromisoformat(a["at"]) for a in case.audit) + timedelta(hours=1)
    case.act(moment, ("assessor", PANEL[0]), "record_assessment", "assessed",
             checks_passed={"not_before": "full_submission_deadline"})  # fmt: skip
    decided = moment + timedelta(hours=rng.uniform(2, 96))  # the commissioner, after the panel
    if decided > APPLICATIONS_NOW or fate < 0.8:
        return awards
    commissioner = ("commissioner", COMMISSIONER)
    if awards < 14 and fate > 0.97:
        child_id = child_base + len(children)
        case.act(decided, commissioner, "award", "awarded", effects=["record_award", "start_case"],
                 award={"amount": 50000, "lot": None}, started=child_id)  # fmt: skip
        rows.add(
            "awards",
            {
                "case_id": case.id,
                "programme_id": case.programme.id,
                "amount": 50000,
                "at": stamp(decided),
            },
        )
        children.append(Case(rows, case.programme, "contract", child_id, case.row["organisation_id"], decided,
                             commissioner, parent_id=case.id, start_detail={"started_by": case.row["reference"]}))  # fmt: skip
        return awards + 1
    case.act(
        decided,
        commissioner,
        "reject",
        "rejected",
        reason="Other proposals met more of the criteria.",
    )
    return awards
