"""The assessment panel: assessors' queues, their score sheets and declared conflicts of
interest, and the moderated totals a commissioner sees.

Stores and audits; `engine.runtime.assessment` decides (criteria, sheets, moderation).
"""

from __future__ import annotations

from typing import Any

from engine.errors import ActionRefused, AnswersInvalid, NotPermitted
from engine.model import Programme
from engine.runtime import assessment
from engine.runtime.assignments import AssignmentService
from engine.runtime.views import Actor


class PanelService(AssignmentService):
    """Queue, score, declare conflicts on and moderate the assessment of cases."""

    def assessment_criteria(self, case_id: int | str, actor: Actor) -> list[dict[str, Any]]:
        """The programme's criteria this case is assessed against (its workflow, its role)."""
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        return assessment.criteria_for(programme, row["workflow"], row["role"])

    def assessment_queue(
        self, actor: Actor, programme_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Cases waiting for an assessor, less those this assessor declared a conflict on."""
        if actor.role not in ("assessor", "commissioner"):
            raise NotPermitted(f"a {actor.role} has no assessment queue")
        mine = self.store.assessments_by(actor.id)
        given = self.store.assigned_to(actor.id) if actor.role == "assessor" else set()
        out = []
        wanted = [programme_id] if programme_id else self.store.programme_ids()
        for pid in [p for p in wanted if actor.covers(p)]:
            for version in {v["version"] for v in self.store.versions(pid)}:
                programme = self.programme(pid, version)
                # once a programme's cases are assigned, an assessor's queue is what is given them
                assigned_only = actor.role == "assessor" and self.store.uses_assignments(pid)
                for wf in programme.workflows.values():
                    states = sorted(assessment.assessment_states(wf))
                    for row in self.store.cases_in_states(pid, wf.id, states):
                        if row["version"] != version or (assigned_only and row["id"] not in given):
                            continue
                        own = mine.get(row["id"])
                        if own is not None and own["conflict"] is not None:
                            continue
                        label = next(s.label for s in wf.states if s.id == row["state"])
                        out.append({**row, "programme_name": programme.name, "workflow_title": wf.title,
                                    "state_label": label, "scored": bool(own and own["scores"])})  # fmt: skip
        return sorted(out, key=lambda r: r["id"])

    def _assessable(self, case_id: int | str, actor: Actor) -> tuple[dict[str, Any], Programme]:
        if actor.role != "assessor":
            raise NotPermitted(f"only an assessor can assess an application, not a {actor.role}")
        row, programme = self._in_assessment(case_id, actor)
        own = self.store.assessments_by(actor.id).get(row["id"])
        if own is not None and own["conflict"] is not None:
            raise NotPermitted(
                f"you declared a conflict of interest in {row['reference']}, so you take no part in assessing it"
            )
        if self.store.uses_assignments(row["programme_id"]) and row["id"] not in self.store.assigned_to(actor.id):  # fmt: skip
            raise NotPermitted(f"{row['reference']} is not assigned to you: only its assigned assessors assess it")  # fmt: skip
        return row, programme

    def my_assessment(self, case_id: int | str, actor: Actor) -> dict[str, Any] | None:
        """This assessor's own score sheet for a case, if they have one."""
        row = self._row(case_id, actor)
        return self.store.assessments_by(actor.id).get(row["id"])

    def assess(self, case_id: int | str, actor: Actor, *, scores: dict[str, Any],
               notes: dict[str, str] | None = None, comment: str | None = None,
               recommendation: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Record (or revise) this assessor's scores, comments and recommendation; audited."""
        with self.store.transaction():
            row, programme = self._assessable(case_id, actor)
            if (self.store.assessments_by(actor.id).get(row["id"]) or {}).get("completed_at"):
                raise ActionRefused(f"You completed your assessment of {row['reference']}, so it can no longer be changed")  # fmt: skip
            criteria = assessment.criteria_for(programme, row["workflow"], row["role"])
            clean, problems = assessment.check_sheet(criteria, scores, recommendation)
            if problems:
                raise AnswersInvalid("the assessment", {k: [v] for k, v in problems.items()},
                                     {c["id"]: c["title"] for c in criteria})  # fmt: skip
            now = self._stamp()
            kept_notes = {k: v.strip() for k, v in (notes or {}).items() if k in clean and v and v.strip()}  # fmt: skip
            sheet = {"case_id": row["id"], "assessor": actor.id, "scores": clean, "notes": kept_notes,
                     "comment": (comment or "").strip() or None, "recommendation": recommendation,
                     "conflict": None, "version": row["version"], "now": now}  # fmt: skip
            self.store.save_assessment(sheet)
            self.store.audit(row["id"], now, actor.role, actor.id, "assessment", row["state"], row["state"],
                             row["version"], {"scores": clean, "recommendation": recommendation,
                                              "weighted": assessment.weighted_score(criteria, clean)})  # fmt: skip
        return sheet

    def declare_conflict(self, case_id: int | str, actor: Actor, interest: str) -> None:
        """Declare a conflict of interest: the assessor leaves the application (any scores are set aside)."""
        if not interest or not interest.strip():
            raise ActionRefused("say what the conflict of interest is")
        with self.store.transaction():
            row, _programme = self._assessable(case_id, actor)
            now = self._stamp()
            self.store.save_assessment({"case_id": row["id"], "assessor": actor.id, "scores": {}, "notes": {},
                                        "comment": None, "recommendation": None, "conflict": interest.strip(),
                                        "version": row["version"], "now": now})  # fmt: skip
            self.store.audit(row["id"], now, actor.role, actor.id, "conflict_declared", row["state"],
                             row["state"], row["version"], {"interest": interest.strip()})  # fmt: skip
            self._release_on_conflict(row, actor, now)

    def complete_my_assessment(self, case_id: int | str, actor: Actor) -> None:
        """Mark this assessor's own sheet complete (it can no longer be changed); audited."""
        if actor.role != "assessor":
            raise NotPermitted(f"only an assessor completes an assessment, not a {actor.role}")
        with self.store.transaction():
            row, _programme = self._assessable(case_id, actor)
            own = self.store.assessments_by(actor.id).get(row["id"])
            if own is None or not (own["scores"] or own["recommendation"]):
                raise ActionRefused("Save your assessment before you complete it")
            now = self._stamp()
            if not self.store.complete_assessment(row["id"], actor.id, now):
                raise ActionRefused(f"You have already completed your assessment of {row['reference']}")  # fmt: skip
            self.store.audit(row["id"], now, actor.role, actor.id, "assessment_completed", row["state"],
                             row["state"], row["version"], {})  # fmt: skip

    def moderation(self, case_id: int | str, actor: Actor) -> dict[str, Any]:
        """Every assessor's scores and the moderated totals (mean weighted score), for a commissioner."""
        self._commissioner_only(actor, "the assessors' scores")
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        criteria = assessment.criteria_for(programme, row["workflow"], row["role"])
        return {**assessment.moderate(criteria, self.store.assessments(row["id"])),
                "moderated": self.store.moderated_score(row["id"])}  # fmt: skip
