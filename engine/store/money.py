"""Awards made on cases and payments against them."""

from __future__ import annotations

from typing import Any

from engine.store.connection import Connection


class MoneyTables(Connection):
    """Reads and writes of `awards` and `payments`."""

    def award_totals(self, programme_id: str) -> dict[str, Any]:
        """How many awards, how much in total, and how much and how many per lot."""
        count, total = self.execute(
            "SELECT count(*), coalesce(sum(amount), 0) FROM awards WHERE programme_id = ?",
            (programme_id,),
        ).fetchone()
        by_lot = {
            r[0]: {"amount": r[1], "count": r[2]}
            for r in self.execute(
                "SELECT lot, sum(amount), count(*) FROM awards WHERE programme_id = ? GROUP BY lot",
                (programme_id,),
            )
        }
        return {"count": count, "amount": total, "lots": by_lot}

    def awards(self, programme_id: str) -> list[dict[str, Any]]:
        """Every award of a programme, in the order made."""
        cur = self.execute(
            "SELECT case_id, lot, amount, awarded_at FROM awards WHERE programme_id = ? "
            "ORDER BY awarded_at, case_id",
            (programme_id,),
        )
        return [
            {"case_id": r[0], "lot": r[1], "amount": r[2], "awarded_at": r[3]}
            for r in cur.fetchall()
        ]

    def insert_award(
        self, case_id: int, programme_id: str, lot: str | None, amount: int, now: str
    ) -> None:
        """Record an award against the programme (and lot)."""
        self.execute(
            "INSERT INTO awards (case_id, programme_id, lot, amount, awarded_at) VALUES (?, ?, ?, ?, ?)",
            (case_id, programme_id, lot, amount, now),
        )

    def award_for(self, case_ids: list[int]) -> dict[str, Any] | None:
        """The award made on any of these cases (an application and the contract it started)."""
        if not case_ids:
            return None
        marks = ",".join("?" * len(case_ids))
        row = self.execute(
            f"SELECT case_id, lot, amount, awarded_at FROM awards WHERE case_id IN ({marks})",
            tuple(case_ids),
        ).fetchone()
        return (
            {"case_id": row[0], "lot": row[1], "amount": row[2], "awarded_at": row[3]}
            if row
            else None
        )

    def insert_payment(self, case_id: int, amount: int, now: str) -> None:
        """Record a payment made on a case."""
        self.execute(
            "INSERT INTO payments (case_id, amount, paid_at) VALUES (?, ?, ?)",
            (case_id, amount, now),
        )

    def payments(self, case_id: int) -> list[dict[str, Any]]:
        """Payments made on a case."""
        return [
            {"amount": r[0], "paid_at": r[1]}
            for r in self.execute(
                "SELECT amount, paid_at FROM payments WHERE case_id = ? ORDER BY id", (case_id,)
            )
        ]

    def programme_payments(self, programme_id: str) -> list[dict[str, Any]]:
        """Every payment made on a programme's cases, in the order made."""
        return [
            {"case_id": r[0], "amount": r[1], "paid_at": r[2]}
            for r in self.execute(
                "SELECT p.case_id, p.amount, p.paid_at FROM payments p JOIN cases c ON c.id = p.case_id "
                "WHERE c.programme_id = ? ORDER BY p.id",
                (programme_id,),
            )
        ]
