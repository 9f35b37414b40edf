"""Assessment panels: a commissioner assigns assessors to cases (one by one, or a lot at a time
with the load shared evenly), reassigns work, and records a moderated score; each assessor
completes their own sheet; the step that ends a case's assessment waits for the panel.

Stores and audits; `engine.runtime.assessment` decides (counts, spread, sharing out).
"""

from __future__ import annotations

from typing import Any

from engine.errors import ActionRefused
from engine.model import Programme, Transition
from engine.runtime import assessment
from engine.runtime.core import EngineCore
from engine.runtime.views import Actor
from engine.store.contract import StoreContract


def panel_settings(programme: Programme) -> dict[str, Any]:
    """The programme's `assessment` settings (how many assessments, when to moderate)."""
    return dict(programme.data.get("assessment", {}))


def step_blockers(store: StoreContract, row: dict[str, Any], programme: Programme,
                  t: Transition, actor: Actor) -> list[str]:  # fmt: skip
    """Why a step out of assessment (an assessor-only transition) cannot be taken yet, if it is one."""
    wf = programme.workflows[row["workflow"]]
    if t.by != ("assessor",) or not set(t.sources) & assessment.assessment_states(wf):
        return []
    live = [a["assessor"] for a in store.assignments(row["id"]) if a["released_at"] is None]
    if actor.role == "assessor" and store.uses_assignments(row["programme_id"]) and actor.id not in live:  # fmt: skip
        return [f"only the assessors assigned to {row['reference']} take part in assessing it"]
    criteria = assessment.criteria_for(programme, row["workflow"], row["role"])
    return assessment.panel_blockers(panel_settings(programme), criteria, store.assessments(row["id"]),
                                     live, store.moderated_score(row["id"]))  # fmt: skip


class AssignmentService(EngineCore):
    """Assign, reassign and release assessors; complete a sheet; record a moderated score."""

    def _in_assessment(self, case_id: int | str, actor: Actor) -> tuple[dict[str, Any], Programme]:
        """A case this actor may see that is waiting for assessment, and its programme's version."""
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        wf = programme.workflows[row["workflow"]]
        if row["state"] not in assessment.assessment_states(wf):
            label = next((s.label for s in wf.states if s.id == row["state"]), row["state"])
            raise ActionRefused(f"{row['reference']} is not waiting for assessment: it is {label.lower()}")  # fmt: skip
        return row, programme

    def _waiting(self, case_id: int | str, actor: Actor) -> tuple[dict[str, Any], Programme]:
        """A case a commissioner may manage the panel of: one waiting for assessment."""
        self._commissioner_only(actor, "the assessment panel")
        return self._in_assessment(case_id, actor)

    def programme_assessors(self, programme_id: str) -> list[str]:
        """The live accounts that assess for this programme, by address."""
        return self.store.role_addresses("assessor", programme_id)

    def _assign(self, row: dict[str, Any], assessor: str, actor: Actor, now: str) -> None:
        if assessor not in self.programme_assessors(row["programme_id"]):
            raise ActionRefused(f"{assessor} does not assess for this programme: choose one of its assessors")  # fmt: skip
        own = self.store.assessments(row["id"])
        if any(r["assessor"] == assessor and r["conflict"] is not None for r in own):
            raise ActionRefused(
                f"{assessor} declared a conflict of interest in {row['reference']}: choose another assessor"
            )
        if not self.store.assign_assessor(row["id"], row["programme_id"], assessor, actor.id, now):
            raise ActionRefused(f"{assessor} is already assessing {row['reference']}")
        self.store.audit(row["id"], now, actor.role, actor.id, "assessor_assigned", row["state"],
                         row["state"], row["version"], {"assessor": assessor})  # fmt: skip

    def assign_assessor(self, case_id: int | str, assessor: str, actor: Actor) -> None:
        """Assign one assessor to a case waiting for assessment (never one with a conflict); audited."""
        with self.store.transaction():
            row, _programme = self._waiting(case_id, actor)
            self._assign(row, assessor, actor, self._stamp())

    def reassign(self, case_id: int | str, old: str, new: str, actor: Actor) -> None:
        """Give an assessor's work on a case to another assessor; audited."""
        with self.store.transaction():
            row, _programme = self._waiting(case_id, actor)
            now = self._stamp()
            if not self.store.release_assignment(row["id"], old, actor.id, "reassigned", now):
                raise ActionRefused(f"{old} is not assessing {row['reference']}")
            self.store.audit(row["id"], now, actor.role, actor.id, "assessor_released", row["state"],
                             row["state"], row["version"], {"assessor": old, "to": new})  # fmt: skip
            self._assign(row, new, actor, now)

    def assign_lot(self, programme_id: str, lot: str | None, per_case: int,
                   actor: Actor) -> list[dict[str, Any]]:  # fmt: skip
        """Assign every case of a lot (or of the programme) waiting for assessment to `per_case`
        assessors, the least loaded first; what each case got, by reference."""
        self._commissioner_only(actor, "the assessment panel")
        if per_case < 1:
            raise ActionRefused("Enter how many assessors each application needs, 1 or more")
        assessors = self.programme_assessors(programme_id)
        if not assessors:
            raise ActionRefused("Nobody assesses for this programme yet: give someone the assessor role first")  # fmt: skip
        with self.store.transaction():
            rows = [
                r for r in self.waiting_cases(programme_id, actor) if lot is None or r["lot"] == lot
            ]
            loads: dict[str, int] = {}
            for a in self.store.live_assignments(programme_id):
                loads[a["assessor"]] = loads.get(a["assessor"], 0) + 1
            cases = []
            for r in rows:
                sheets = self.store.assessments(r["id"])
                live = {a["assessor"] for a in self.store.assignments(r["id"]) if a["released_at"] is None}  # fmt: skip
                cases.append({"id": r["id"], "assigned": live,
                              "conflicted": {s["assessor"] for s in sheets if s["conflict"] is not None}})  # fmt: skip
            shares = assessment.share_out(cases, assessors, loads, per_case)
            now, out = self._stamp(), []
            for r in rows:
                for assessor in shares[r["id"]]["assigned"]:
                    self._assign(r, assessor, actor, now)
                out.append({"reference": r["reference"], **shares[r["id"]]})
        return out

    def waiting_cases(self, programme_id: str, actor: Actor) -> list[dict[str, Any]]:
        """The programme's cases waiting for assessment (every version), oldest first."""
        self._reach(programme_id, actor)
        out = []
        for version in {v["version"] for v in self.store.versions(programme_id)}:
            programme = self.programme(programme_id, version)
            for wf in programme.workflows.values():
                states = sorted(assessment.assessment_states(wf))
                out += [r for r in self.store.cases_in_states(programme_id, wf.id, states)
                        if r["version"] == version]  # fmt: skip
        return sorted(out, key=lambda r: r["id"])

    def panel_status(self, case_id: int | str, actor: Actor) -> dict[str, Any]:
        """A case's panel for a commissioner: who is assigned, what each has done, what is needed."""
        self._commissioner_only(actor, "the assessment panel")
        row = self._row(case_id, actor)
        panel = {"assessments": self.store.assessments(row["id"]),
                 "assignments": self.store.assignments(row["id"]),
                 "moderated": self.store.moderated_score(row["id"])}  # fmt: skip
        return self._panel(row, panel, self.programme_assessors(row["programme_id"]))

    def panel_overview(self, programme_id: str, actor: Actor, offset: int,
                       limit: int) -> dict[str, Any]:  # fmt: skip
        """Cases waiting for assessment: how many, a page with their panels, each assessor's load."""
        # a few reads however many cases: the page's panels together, the loads counted by the database
        self._commissioner_only(actor, "the assessment panel")
        waiting = self.waiting_cases(programme_id, actor)
        page = waiting[offset : offset + limit]
        assessors = self.programme_assessors(programme_id)
        panels = self.store.panels_of([r["id"] for r in page])
        loads = {a: {"assigned": 0, "completed": 0, "conflicts": 0} for a in assessors}
        loads.update(self.store.assessor_loads([r["id"] for r in waiting]))
        return {
            "total": len(waiting),
            "rows": [
                {"case": r, "status": self._panel(r, panels[r["id"]], assessors)} for r in page
            ],
            "counts": loads,
        }

    def _panel(self, row: dict[str, Any], panel: dict[str, Any],
               assessors: list[str]) -> dict[str, Any]:  # fmt: skip
        """A case's panel from its assessments, assignments and moderated score, as read."""
        programme = self.programme(row["programme_id"], row["version"])
        wf = programme.workflows[row["workflow"]]
        criteria = assessment.criteria_for(programme, row["workflow"], row["role"])
        sheets = {s["assessor"]: s for s in panel["assessments"]}
        assigned = panel["assignments"]
        live = [a["assessor"] for a in assigned if a["released_at"] is None]
        people = []
        for who in dict.fromkeys([a["assessor"] for a in assigned] + list(sheets)):
            sheet = sheets.get(who, {})
            if sheet.get("conflict") is not None:
                status = "Declared a conflict of interest"
            elif sheet.get("completed_at"):
                status = "Completed"
            elif who not in live and any(a["assessor"] == who for a in assigned):
                status = "Work given to another assessor"
            elif sheet.get("scores"):
                status = "Started"
            else:
                status = "Not started"
            people.append({"assessor": who, "status": status, "assigned": who in live})
        moderated = panel["moderated"]
        settings = panel_settings(programme)
        waiting = row["state"] in assessment.assessment_states(wf)
        blockers = assessment.panel_blockers(settings, criteria, list(sheets.values()), live, moderated)  # fmt: skip
        conflicted = {w for w, s in sheets.items() if s["conflict"] is not None}
        return {
            "waiting": waiting,
            "people": people,
            "assigned": live,
            "completed": len(assessment.completed_sheets(list(sheets.values()))),
            "needed": assessment.needed_count(settings, len(live)),
            "spread": assessment.spread(criteria, list(sheets.values())),
            "limit": settings.get("moderate_when_spread_over"),
            "moderated": moderated,
            "blockers": blockers if waiting else [],
            "choices": [a for a in assessors if a not in conflicted and a not in live],
        }

    def record_moderated_score(self, case_id: int | str, actor: Actor, score: float, reason: str) -> None:  # fmt: skip
        """Record the panel's moderated (or consensus) weighted score with a reason, once; audited."""
        if not reason or not reason.strip():
            raise ActionRefused("Give the reason for the moderated score")
        if not 0 <= score <= 100:
            raise ActionRefused("Enter the moderated score as a number from 0 to 100")
        with self.store.transaction():
            row, _programme = self._waiting(case_id, actor)
            if not assessment.completed_sheets(self.store.assessments(row["id"])):
                raise ActionRefused(f"No assessor has completed an assessment of {row['reference']} yet")  # fmt: skip
            now = self._stamp()
            if not self.store.save_moderated_score(row["id"], score, reason.strip(), actor.id, now):
                raise ActionRefused(f"A moderated score is already recorded for {row['reference']}: it cannot be changed")  # fmt: skip
            self.store.audit(row["id"], now, actor.role, actor.id, "moderated_score_recorded", row["state"],
                             row["state"], row["version"], {"score": score, "reason": reason.strip()})  # fmt: skip

    def _release_on_conflict(self, row: dict[str, Any], actor: Actor, now: str) -> None:
        """A declared conflict takes the assessor off the case: the commissioner assigns another."""
        if self.store.release_assignment(
            row["id"], actor.id, actor.id, "conflict of interest", now
        ):
            self.store.audit(row["id"], now, actor.role, actor.id, "assessor_released", row["state"],
                             row["state"], row["version"], {"assessor": actor.id, "why": "conflict"})  # fmt: skip
