"""The typed interface of assessment panels in the store (see `engine.store.panels`)."""

from __future__ import annotations

from typing import Any, Protocol


class PanelStore(Protocol):
    """Assessors assigned to cases, sheets marked complete, and moderated scores."""

    def assign_assessor(self, case_id: int, programme_id: str, assessor: str,
                        assigned_by: str, now: str) -> bool:  # fmt: skip
        """Assign an assessor to a case; False if they are assigned to it already."""

    def release_assignment(self, case_id: int, assessor: str, released_by: str,
                           reason: str, now: str) -> bool:  # fmt: skip
        """Take an assessor off a case (the row stays, released); False if they were not on it."""

    def assignments(self, case_id: int) -> list[dict[str, Any]]:
        """Every assignment of a case, live and released, in the order made."""

    def live_assignments(self, programme_id: str) -> list[dict[str, Any]]:
        """The assignments in force in a programme, in the order made."""

    def uses_assignments(self, programme_id: str) -> bool:
        """Whether a commissioner has ever assigned an assessor to a case of the programme."""

    def assigned_to(self, assessor: str) -> set[int]:
        """The cases an assessor is assigned to now."""

    def complete_assessment(self, case_id: int, assessor: str, now: str) -> bool:
        """Mark an assessor's sheet complete; False if there is no open sheet to complete."""

    def save_moderated_score(self, case_id: int, score: float, reason: str,
                             recorded_by: str, now: str) -> bool:  # fmt: skip
        """Record a case's moderated score once; False if one is recorded already."""

    def moderated_score(self, case_id: int) -> dict[str, Any] | None:
        """A case's moderated score, with its reason, if one was recorded."""

    def panels_of(self, case_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Each case's assessments, assignments and moderated score, for many cases in few reads."""

    def assessor_loads(self, case_ids: list[int]) -> dict[str, dict[str, int]]:
        """Each assessor's live assignments, completed sheets and conflicts among these cases."""
