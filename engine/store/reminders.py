"""The scheduler's tables: reminder rows (planned, claimed, finished), pinned dates, the outbox.

A row's key makes planning idempotent and its status makes sending exactly-once: a row is
claimed (compare-and-set) before it is sent, so two schedulers never send it twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from engine.store.connection import Connection

# an audit row that moved its case to another state. An answer saved never does, so answers
# (thousands on a busy case) are left out by the index that leaves them out (`audit_fired`):
# both databases' planners find it from `action`, whose values they know, not from comparing
# the two states, which PostgreSQL's cannot estimate (it read every answer of the case).
MOVED = (
    "action != 'answer' AND to_state IS NOT NULL AND (from_state IS NULL OR to_state != from_state)"
)


def fired_sql(case: str) -> str:
    """When each action was last taken on the case `case` names, as (action, when): answers
    saved, thousands on a busy case, are read by one seek, the other actions from an index that
    leaves them out (migration 28)."""
    # the last answer as the first row in `at` order, not max(at): inside a subquery SQLite
    # reads every answer of the case for a max (a save slowed by 0.1 ms per 1,000 before it)
    return (
        f"SELECT action, max(at) AS at FROM audit WHERE case_id = {case} AND action != 'answer' "
        f"GROUP BY action UNION ALL SELECT 'answer', at FROM (SELECT at FROM audit "
        f"WHERE case_id = {case} AND action = 'answer' ORDER BY at DESC LIMIT 1) saved"
    )


def facts_sql(case: str, programme: str) -> str:
    """The query `plan_facts` runs, with the SQL naming the case's id and its programme's
    (placeholders or sub-selects, each used in the order case, case, programme, case, case). The
    last column orders the moves (PostgreSQL types a column of NULLs as text: 0 for the rest)."""
    return (
        f"SELECT 'fired', action, at, 0 FROM ({fired_sql(case)}) fired "
        f"UNION ALL SELECT 'pins', target, at, 0 FROM pins WHERE programme_id = {programme} "
        f"UNION ALL SELECT 'pending', key, NULL, 0 FROM reminders WHERE case_id = {case} "
        "AND status = 'pending' UNION ALL SELECT 'moves', to_state, at, id FROM audit "
        f"WHERE case_id = {case} AND {MOVED}"
    )


# a new case's facts as `facts_sql` gives them: it has no events, moves or rows yet, only pins
NEW_CASE_FACTS = "SELECT 'pins', target, at, 0 FROM pins WHERE programme_id = ?"


def plan_facts_of(rows: Iterable[Any]) -> dict[str, Any]:
    """`plan_facts` from the rows of `facts_sql` (moves in the order they were written)."""
    facts: dict[str, Any] = {"fired": {}, "pins": {}, "pending": set(), "moves": []}
    moves: list[tuple[int, str, str]] = []
    for kind, key, value, order in rows:
        if kind == "pending":
            facts["pending"].add(key)
        elif kind == "moves":
            moves.append((order, value, key))
        else:
            facts[kind][key] = value
    facts["moves"] = [(at, state) for _order, at, state in sorted(moves)]
    return facts


class ReminderTables(Connection):
    """Reads and writes of `reminders`, `pins` and `outbox`."""

    def plan_rows(self, rows: list[dict[str, Any]]) -> None:
        """Insert reminder rows that are not there yet (the key makes planning idempotent)."""
        self.write_many(
            "INSERT INTO reminders (key, programme_id, version, kind, rule, case_id, due_at, anchor_at, "
            "payload, created_at) VALUES (:key, :programme_id, :version, :kind, :rule, :case_id, :due_at, "
            ":anchor_at, :payload, :created_at) ON CONFLICT DO NOTHING",
            [{**r, "payload": json.dumps(r.get("payload", {}))} for r in rows],
        )

    def plan_facts(self, case_id: int, programme_id: str) -> dict[str, Any]:
        """What re-planning a case reads, in one query: when each action was last taken on it
        (`fired`), the programme's pinned dates (`pins`), its pending rows' keys (`pending`) and
        its moves between states, oldest first (`moves`: when, the state it moved to)."""
        return plan_facts_of(
            self.execute(facts_sql("?", "?"), (case_id, case_id, programme_id, case_id, case_id))
        )

    def cancel_rows(self, keys: set[str], now: str) -> None:
        """Cancel pending rows by key (their case's facts no longer call for them)."""
        if not keys:
            return
        marks = ",".join("?" * len(keys))
        self.write(
            "UPDATE reminders SET status = 'cancelled', done_at = ?, note = 'no longer applies' "
            f"WHERE status = 'pending' AND key IN ({marks})",
            (now, *sorted(keys)),
        )

    def programme_pending_keys(self, programme_id: str) -> set[str]:
        """The keys of a programme's pending rows about the round itself (no case)."""
        return {
            r[0]
            for r in self.execute(
                "SELECT key FROM reminders WHERE programme_id = ? AND case_id IS NULL "
                "AND status = 'pending'",
                (programme_id,),
            )
        }

    def due_reminders(self, now: str, limit: int) -> list[dict[str, Any]]:
        """Pending rows due by `now`, oldest first."""
        cur = self.execute(
            "SELECT * FROM reminders WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            (now, limit),
        )
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def reminder(self, reminder_id: int) -> dict[str, Any] | None:
        """One reminder row."""
        cur = self.execute("SELECT * FROM reminders WHERE id = ?", (reminder_id,))
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None

    def claim_reminder(self, reminder_id: int) -> bool:
        """Compare-and-set a pending row to `working`; False if someone else has it or finished it."""
        cur = self.execute(
            "UPDATE reminders SET status = 'working' WHERE id = ? AND status = 'pending'",
            (reminder_id,),
        )
        return cur.rowcount == 1

    def finish_reminder(self, reminder_id: int, status: str, note: str, now: str) -> None:
        """Set a claimed row to sent, skipped or back to pending (with when and why)."""
        self.execute(
            "UPDATE reminders SET status = ?, note = ?, done_at = ? WHERE id = ? AND status = 'working'",
            (status, note, None if status == "pending" else now, reminder_id),
        )

    def reminders_for(self, case_id: int) -> list[dict[str, Any]]:
        """A case's reminder rows, in due order."""
        cur = self.execute(
            "SELECT * FROM reminders WHERE case_id = ? ORDER BY due_at, id", (case_id,)
        )
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def pins(self, programme_id: str) -> dict[str, str]:
        """Dates the commissioner has pinned: target → ISO time."""
        return dict(
            self.execute(
                "SELECT target, at FROM pins WHERE programme_id = ?", (programme_id,)
            ).fetchall()
        )

    def pin(self, programme_id: str, target: str, at: str, who: str, now: str) -> None:
        """Pin a vague date (a meeting known by its month) to a moment."""
        self.execute(
            "INSERT INTO pins (programme_id, target, at, pinned_by, pinned_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (programme_id, target) DO UPDATE SET at = excluded.at, pinned_by = excluded.pinned_by, "
            "pinned_at = excluded.pinned_at",
            (programme_id, target, at, who, now),
        )

    def queue_message(self, message: dict[str, Any]) -> None:
        """Put a message in the outbox once per reminder and recipient (`failed_at`: never to send)."""
        self.execute(
            "INSERT INTO outbox (reminder_id, programme_id, case_id, to_role, organisation_id, to_address, "
            "subject, body, created_at, failed_at, error) VALUES (:reminder_id, :programme_id, :case_id, :to_role, "
            ":organisation_id, :to_address, :subject, :body, :created_at, :failed_at, :error) "
            "ON CONFLICT DO NOTHING",
            {"failed_at": None, "error": None, **message},
        )

    def add_outbox_message(self, to_address: str, subject: str, body: str, now: str, *,
                           to_role: str = "applicant", programme_id: str = "",
                           organisation_id: str | None = None) -> int:  # fmt: skip
        """Queue a message that no reminder caused (a password reset link) in the outbox."""
        message_id = self._returning_id(
            "INSERT INTO outbox (programme_id, to_role, organisation_id, to_address, subject, body, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (programme_id, to_role, organisation_id, to_address, subject, body, now),
        )
        assert message_id is not None
        return message_id

    def undelivered(self, limit: int, now: str | None = None) -> list[dict[str, Any]]:
        """Messages still to send: not delivered, not given up on, not claimed by another at `now`."""
        cur = self.execute(
            "SELECT * FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL "
            "AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT ?",
            (now or "", limit),
        )
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def claim_messages(self, message_ids: list[int], sender: str, now: str, until: str) -> set[int]:
        """Claim messages for one sender until `until`: the ids it won (not sent, given up or claimed).

        On PostgreSQL the rows are locked with SKIP LOCKED, so a second scheduler claiming the
        same messages at the same moment passes over them instead of waiting for the first.
        """
        if not message_ids:
            return set()
        marks = ",".join("?" * len(message_ids))
        rows = self.execute(
            "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN (SELECT id FROM outbox "
            f"WHERE id IN ({marks}) AND delivered_at IS NULL AND failed_at IS NULL "
            f"AND (claimed_until IS NULL OR claimed_until < ?){self.skip_locked}) RETURNING id",
            (sender, until, *message_ids, now),
        ).fetchall()
        return {int(r[0]) for r in rows}

    def mark_delivered(self, message_id: int, backend: str, now: str) -> None:
        """Record that a message was handed over."""
        self.execute(
            "UPDATE outbox SET delivered_at = ?, backend = ?, claimed_until = NULL WHERE id = ?",
            (now, backend, message_id),
        )

    def mark_not_delivered(self, message_id: int, error: str, now: str, *, give_up: bool) -> None:
        """Count a failed try and its reason; with `give_up`, stop trying for good."""
        self.execute(
            "UPDATE outbox SET attempts = attempts + 1, error = ?, claimed_until = NULL, "
            "failed_at = CASE WHEN ? THEN ? ELSE NULL END WHERE id = ?",
            (error, give_up, now, message_id),
        )

    def not_delivered(self, programme_id: str) -> list[dict[str, Any]]:
        """A programme's messages given up on, newest first, with why."""
        return self._rows(
            "SELECT o.id, o.to_role, o.to_address, o.subject, o.error, o.attempts, o.failed_at, "
            "c.reference FROM outbox o LEFT JOIN cases c ON c.id = o.case_id "
            "WHERE o.programme_id = ? AND o.failed_at IS NOT NULL ORDER BY o.failed_at DESC, o.id DESC",
            (programme_id,),
        )

    def outbox_for(self, to_address: str) -> list[dict[str, Any]]:
        """Messages queued for one address, newest first."""
        return self._rows(
            "SELECT id, to_address, subject, body, created_at, delivered_at FROM outbox "
            "WHERE to_address = ? ORDER BY id DESC",
            (to_address,),
        )
