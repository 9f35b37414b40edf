"""Assessment panels: which assessors a commissioner assigned to a case, each assessor's sheet
marked complete, and the moderated score recorded when the assessors' scores are far apart."""

from __future__ import annotations

from typing import Any

from engine.store.connection import Connection


class PanelTables(Connection):
    """Reads and writes of `assignments`, `moderated_scores` and `assessments.completed_at`."""

    def assign_assessor(self, case_id: int, programme_id: str, assessor: str,
                        assigned_by: str, now: str) -> bool:  # fmt: skip
        """Assign an assessor to a case; False if they are assigned to it already."""
        # ON CONFLICT rather than catching the clash: PostgreSQL abandons a transaction on error
        cur = self.execute(
            "INSERT INTO assignments (case_id, programme_id, assessor, assigned_by, assigned_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (case_id, programme_id, assessor, assigned_by, now),
        )
        return cur.rowcount == 1

    def release_assignment(self, case_id: int, assessor: str, released_by: str,
                           reason: str, now: str) -> bool:  # fmt: skip
        """Take an assessor off a case (the row stays, released); False if they were not on it."""
        cur = self.execute(
            "UPDATE assignments SET released_at = ?, released_by = ?, release_reason = ? "
            "WHERE case_id = ? AND assessor = ? AND released_at IS NULL",
            (now, released_by, reason, case_id, assessor),
        )
        return cur.rowcount == 1

    def assignments(self, case_id: int) -> list[dict[str, Any]]:
        """Every assignment of a case, live and released, in the order made."""
        return self._rows("SELECT * FROM assignments WHERE case_id = ? ORDER BY id", (case_id,))

    def live_assignments(self, programme_id: str) -> list[dict[str, Any]]:
        """The assignments in force in a programme, in the order made."""
        return self._rows(
            "SELECT * FROM assignments WHERE programme_id = ? AND released_at IS NULL ORDER BY id",
            (programme_id,),
        )

    def uses_assignments(self, programme_id: str) -> bool:
        """Whether a commissioner has ever assigned an assessor to a case of the programme."""
        row = self.execute(
            "SELECT 1 FROM assignments WHERE programme_id = ? LIMIT 1", (programme_id,)
        ).fetchone()
        return row is not None

    def assigned_to(self, assessor: str) -> set[int]:
        """The cases an assessor is assigned to now."""
        rows = self.execute(
            "SELECT case_id FROM assignments WHERE assessor = ? AND released_at IS NULL",
            (assessor,),
        ).fetchall()
        return {int(r[0]) for r in rows}

    def complete_assessment(self, case_id: int, assessor: str, now: str) -> bool:
        """Mark an assessor's sheet complete; False if there is no open sheet to complete."""
        cur = self.execute(
            "UPDATE assessments SET completed_at = ?, updated_at = ? WHERE case_id = ? "
            "AND assessor = ? AND completed_at IS NULL AND conflict IS NULL",
            (now, now, case_id, assessor),
        )
        return cur.rowcount == 1

    def save_moderated_score(self, case_id: int, score: float, reason: str,
                             recorded_by: str, now: str) -> bool:  # fmt: skip
        """Record a case's moderated score once; False if one is recorded already."""
        cur = self.execute(
            "INSERT INTO moderated_scores (case_id, score, reason, recorded_by, recorded_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (case_id, score, reason, recorded_by, now),
        )
        return cur.rowcount == 1

    def moderated_score(self, case_id: int) -> dict[str, Any] | None:
        """A case's moderated score, with its reason, if one was recorded."""
        rows = self._rows("SELECT * FROM moderated_scores WHERE case_id = ?", (case_id,))
        return rows[0] if rows else None
