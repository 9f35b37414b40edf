"""Assessment panels: which assessors a commissioner assigned to a case, each assessor's sheet
marked complete, and the moderated score recorded when the assessors' scores are far apart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from engine.store.connection import Connection

CHUNK = 500  # ids in one `IN (…)`: within SQLite's limit on parameters


def _chunks(ids: list[int]) -> Iterator[tuple[str, tuple[int, ...]]]:
    """`ids` a chunk at a time, each with its `?, ?, …` placeholders."""
    for start in range(0, len(ids), CHUNK):
        chunk = tuple(ids[start : start + CHUNK])
        yield ",".join("?" * len(chunk)), chunk


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

    def panels_of(self, case_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Each case's assessments, assignments and moderated score, for many cases in few reads."""
        out: dict[int, dict[str, Any]] = {
            c: {"assessments": [], "assignments": [], "moderated": None} for c in case_ids
        }
        for marks, chunk in _chunks(case_ids):
            for row in self._rows(
                f"SELECT * FROM assessments WHERE case_id IN ({marks}) "
                "ORDER BY case_id, created_at, assessor", chunk,
            ):  # fmt: skip
                row["scores"], row["notes"] = json.loads(row["scores"]), json.loads(row["notes"])
                out[row["case_id"]]["assessments"].append(row)
            for row in self._rows(
                f"SELECT * FROM assignments WHERE case_id IN ({marks}) ORDER BY case_id, id", chunk
            ):
                out[row["case_id"]]["assignments"].append(row)
            for row in self._rows(
                f"SELECT * FROM moderated_scores WHERE case_id IN ({marks})", chunk
            ):
                out[row["case_id"]]["moderated"] = row
        return out

    def assessor_loads(self, case_ids: list[int]) -> dict[str, dict[str, int]]:
        """Each assessor's live assignments, completed sheets and conflicts among these cases."""
        out: dict[str, dict[str, int]] = {}

        def add(who: str, what: str, count: int) -> None:
            seen = out.setdefault(who, {"assigned": 0, "completed": 0, "conflicts": 0})
            seen[what] += int(count or 0)

        for marks, chunk in _chunks(case_ids):
            for who, live in self.execute(
                "SELECT assessor, sum(CASE WHEN released_at IS NULL THEN 1 ELSE 0 END) "
                f"FROM assignments WHERE case_id IN ({marks}) GROUP BY assessor", chunk,
            ).fetchall():  # fmt: skip
                add(who, "assigned", live)
            for who, done, conflicts in self.execute(
                "SELECT assessor, "
                "sum(CASE WHEN conflict IS NULL AND completed_at IS NOT NULL THEN 1 ELSE 0 END), "
                "sum(CASE WHEN conflict IS NOT NULL THEN 1 ELSE 0 END) "
                f"FROM assessments WHERE case_id IN ({marks}) GROUP BY assessor", chunk,
            ).fetchall():  # fmt: skip
                add(who, "completed", done)
                add(who, "conflicts", conflicts)
        return out
