"""Assessors' scores, comments and recommendations on a case, and conflicts they declared."""

from __future__ import annotations

import json
from typing import Any

from engine.store.connection import Connection


class AssessmentTables(Connection):
    """Reads and writes of `assessments`, one row per assessor per case."""

    def save_assessment(self, row: dict[str, Any]) -> None:
        """Insert or replace one assessor's assessment of a case."""
        self.execute(
            "INSERT INTO assessments (case_id, assessor, scores, notes, comment, recommendation, conflict, "
            "version, created_at, updated_at) VALUES (:case_id, :assessor, :scores, :notes, :comment, "
            ":recommendation, :conflict, :version, :now, :now) ON CONFLICT (case_id, assessor) DO UPDATE SET "
            "scores = excluded.scores, notes = excluded.notes, comment = excluded.comment, "
            "recommendation = excluded.recommendation, conflict = excluded.conflict, "
            "version = excluded.version, updated_at = excluded.updated_at",
            {**row, "scores": json.dumps(row["scores"]), "notes": json.dumps(row["notes"])},
        )

    def assessments(self, case_id: int) -> list[dict[str, Any]]:
        """Every assessor's assessment of a case (and declared conflicts), in the order made."""
        rows = self._rows(
            "SELECT * FROM assessments WHERE case_id = ? ORDER BY created_at, assessor", (case_id,)
        )
        for row in rows:
            row["scores"] = json.loads(row["scores"])
            row["notes"] = json.loads(row["notes"])
        return rows

    def assessments_by(self, assessor: str) -> dict[int, dict[str, Any]]:
        """One assessor's assessments and conflicts, by case id."""
        rows = self._rows("SELECT * FROM assessments WHERE assessor = ?", (assessor,))
        for row in rows:
            row["scores"] = json.loads(row["scores"])
            row["notes"] = json.loads(row["notes"])
        return {row["case_id"]: row for row in rows}
