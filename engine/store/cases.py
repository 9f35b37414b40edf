"""One case at a time: its row, answers, record drafts, children and append-only audit log.

A case moves by compare-and-set on its `revision`, so two people acting on one case cannot both
win: the second is told the case changed.
"""

from __future__ import annotations

import json
from typing import Any

from engine.store.connection import Connection, Cursor
from engine.store.privacy import ERASED_REASON, identity_digest
from engine.store.reminders import NEW_CASE_FACTS, facts_sql, fired_sql, plan_facts_of
from engine.store.reporting import _chunks, _decoded  # the package's own helpers

_CHANGED = (
    "this case changed while you were looking at it, so your action was not taken; "
    "look at it again and decide"
)

# one answer row, read alone or beside its case (`a` the answers table)
_ANSWER_COLUMNS = "a.form_id, a.record_no, a.data, a.submitted_at, a.updated_at, a.created_at"
_ANSWER_WIDTH = 6
# a case with its answers, one row per answer (one row of NULL answer columns for none)
_CASE_AND_ANSWERS = (
    f"SELECT c.*, {_ANSWER_COLUMNS} FROM cases c LEFT JOIN answers a ON a.case_id = c.id"
)
_NEW_CASE = (
    "INSERT INTO cases (programme_id, version, workflow, state, organisation_id, subject, role, lot, "
    "parent_id, flags, entered, revision, created_at, updated_at) {} :programme_id, :version, "
    ":workflow, :state, :organisation_id, :subject, :role, :lot, {}, :flags, :entered, 0, "
    ":created_at, :created_at{}"
)
_INSERT_CASE = _NEW_CASE.format("VALUES (", ":parent_id", ")")
# the same, only on the programme's newest version (as `latest_version` finds it): a caller that
# knew the version before its transaction began learns in the same round trip if it still is
_INSERT_CASE_ON_NEWEST = _NEW_CASE.format(
    "SELECT",
    "CAST(:parent_id AS INTEGER)",
    " WHERE :version = (SELECT version FROM programme_versions "
    "WHERE programme_id = :programme_id ORDER BY seq DESC LIMIT 1) RETURNING *",
)


def _case_and_answers_of(case: int | str) -> tuple[str, tuple[int | str]]:
    """The statement reading a case by id or reference with its answers, and its parameter."""
    key = "reference" if isinstance(case, str) else "id"
    return f"{_CASE_AND_ANSWERS} WHERE c.{key} = ? ORDER BY a.form_id, a.record_no", (case,)


def _case_params(row: dict[str, Any]) -> dict[str, Any]:
    """A new case's row as `_INSERT_CASE` takes it, its JSON columns encoded."""
    return {
        **row,
        "flags": json.dumps(row.get("flags", {})),
        "entered": json.dumps(row.get("entered", {})),
    }


def _answer(r: Any) -> dict[str, Any]:
    """An answer row as the engine reads it, its data decoded."""
    return {"form": r[0], "record": r[1], "data": json.loads(r[2]), "submitted_at": r[3],
            "updated_at": r[4], "created_at": r[5]}  # fmt: skip


class CaseTables(Connection):
    """Reads and writes of `cases`, `answers`, `record_drafts` and `audit`, one case at a time."""

    def insert_case(self, row: dict[str, Any], prefix: str) -> int:
        """Create a case row; returns its id and gives it a reference such as `ABC-000042`."""
        case_id = self._returning_id(f"{_INSERT_CASE} RETURNING id", _case_params(row))
        assert case_id is not None
        self._set_reference(case_id, prefix)
        return case_id

    def insert_case_with_facts(
        self, row: dict[str, Any], prefix: str
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Create a case row as `insert_case` does, if its version is still its programme's
        newest (None if another was published since): the row as stored (as `case` gives it)
        and what re-planning it reads (as `plan_facts`), in one round trip."""
        inserted, pins = self._read_together([
            (_INSERT_CASE_ON_NEWEST, _case_params(row)),
            (NEW_CASE_FACTS, (row["programme_id"],)),
        ])  # fmt: skip
        stored = self._case_row(inserted)
        if stored is None:
            return None
        stored["reference"] = self._set_reference(stored["id"], prefix)
        # a new case has no events, moves or reminder rows (each refers to a case that exists)
        return stored, plan_facts_of(pins.fetchall())

    def _set_reference(self, case_id: int, prefix: str) -> str:
        reference = f"{prefix}-{case_id:06d}"
        self.write("UPDATE cases SET reference = ? WHERE id = ?", (reference, case_id))
        return reference

    def case(self, case_id: int) -> dict[str, Any] | None:
        """One case row, with its JSON columns decoded."""
        return self._case_row(self.execute("SELECT * FROM cases WHERE id = ?", (case_id,)))

    def case_by_reference(self, reference: str) -> dict[str, Any] | None:
        """The case with this reference (e.g. `LIV-000042`), as `case`."""
        return self._case_row(self.execute("SELECT * FROM cases WHERE reference = ?", (reference,)))

    def _case_row(self, cur: Cursor) -> dict[str, Any] | None:
        row = cur.fetchone()
        if row is None:
            return None
        out = dict(zip([c[0] for c in cur.description], row, strict=True))
        out["flags"] = json.loads(out["flags"])
        out["entered"] = json.loads(out["entered"])
        return out

    def move_case(
        self,
        case_id: int,
        revision: int,
        state: str,
        flags: dict[str, Any],
        entered: dict[str, str],
        now: str,
    ) -> int:
        """Compare-and-set the case's state; raises StaleCase if someone else moved it first."""
        self.write(
            "UPDATE cases SET state = ?, flags = ?, entered = ?, revision = revision + 1, updated_at = ? "
            "WHERE id = ? AND revision = ?",
            (state, json.dumps(flags), json.dumps(entered), now, case_id, revision),
            stale=_CHANGED,
        )
        return revision + 1

    def set_case_lot(self, case_id: int, lot: str | None) -> None:
        """Put a case in a lot (its one lot: the start, its answers and its award agree)."""
        self.write("UPDATE cases SET lot = ? WHERE id = ?", (lot, case_id))

    def set_case_label(self, case_id: int, label: str | None) -> None:
        """Keep the answer that labels a case in lists on the case (searched without its answers)."""
        self.write("UPDATE cases SET label = ? WHERE id = ?", (label, case_id))

    def touch_case(self, case_id: int, revision: int, now: str) -> int:
        """Bump a case's revision (answers changed) with the same compare-and-set."""
        self.write(
            "UPDATE cases SET revision = revision + 1, updated_at = ? WHERE id = ? AND revision = ?",
            (now, case_id, revision),
            stale=_CHANGED,
        )
        return revision + 1

    def change_case_version(self, case_id: int, revision: int, version: str, now: str) -> int:
        """Pin a case to another version of its programme, with the same compare-and-set."""
        self.write(
            "UPDATE cases SET version = ?, revision = revision + 1, updated_at = ? "
            "WHERE id = ? AND revision = ?",
            (version, now, case_id, revision),
            stale="this case changed while you were looking at it, so it was not moved; "
            "look at it again and decide",
        )
        return revision + 1

    def cases_by_version(self, programme_id: str, version: str | None = None, workflow: str | None = None,
                         state: str | None = None, *, limit: int = 0, offset: int = 0) -> list[dict[str, Any]]:  # fmt: skip
        """Case counts by version, workflow and state; with `limit`, the cases of one, oldest first."""
        if not limit:
            return self._rows(
                "SELECT version, workflow, state, count(*) AS count FROM cases "
                "WHERE programme_id = ? AND removed_at IS NULL GROUP BY version, workflow, state",
                (programme_id,),
            )
        return self._rows(
            "SELECT id, reference, organisation_id, version, workflow, state, revision FROM cases "
            "WHERE programme_id = ? AND version = ? AND workflow = ? AND state = ? "
            "AND removed_at IS NULL ORDER BY id LIMIT ? OFFSET ?",
            (programme_id, version, workflow, state, limit, offset),
        )

    def children(self, case_id: int) -> list[int]:
        """Cases started from this one (e.g. the contract of an application)."""
        return [r[0] for r in self.execute("SELECT id FROM cases WHERE parent_id = ?", (case_id,))]

    def save_answers(
        self,
        case_id: int,
        form_id: str,
        record_no: int,
        data: dict[str, Any],
        now: str,
        submitted: bool,
    ) -> None:
        """Insert or replace one form's answers (or one record of a repeatable form, which keeps
        the time it was first sent)."""
        self.write(
            "INSERT INTO answers (case_id, form_id, record_no, data, submitted_at, updated_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (case_id, form_id, record_no) DO UPDATE SET data = excluded.data, "
            # a record corrected later keeps the time it was first sent: reports and time limits
            # place it then
            "submitted_at = CASE WHEN answers.record_no > 0 "
            "THEN coalesce(answers.submitted_at, excluded.submitted_at) ELSE excluded.submitted_at END, "
            "updated_at = excluded.updated_at",
            (case_id, form_id, record_no, json.dumps(data), now if submitted else None, now, now),
        )

    def mark_submitted(self, case_id: int, form_id: str, now: str) -> None:
        """Mark a form's answers as submitted (they stop being a draft)."""
        self.write(
            "UPDATE answers SET submitted_at = ? WHERE case_id = ? AND form_id = ? AND submitted_at IS NULL",
            (now, case_id, form_id),
        )

    def answers(self, case_id: int) -> list[dict[str, Any]]:
        """Every form's answers and records for a case, in the order they were made."""
        cur = self.execute(
            f"SELECT {_ANSWER_COLUMNS} FROM answers a WHERE a.case_id = ? ORDER BY a.form_id, a.record_no",
            (case_id,),
        )
        return [_answer(r) for r in cur.fetchall()]

    def case_with_answers(
        self, case: int | str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """A case by id or reference, as `case`, with its answers as `answers`: one statement."""
        return self._case_and_answers(self.execute(*_case_and_answers_of(case)))

    def _case_and_answers(self, cur: Cursor) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        rows = cur.fetchall()
        if not rows:
            return None
        width = len(cur.description) - _ANSWER_WIDTH  # the case's columns, then the answer's
        names = [c[0] for c in cur.description[:width]]
        row = dict(zip(names, rows[0][:width], strict=True))
        row["flags"] = json.loads(row["flags"])
        row["entered"] = json.loads(row["entered"])
        # a case with no answers is one row whose answer columns are all NULL
        return row, [_answer(r[width:]) for r in rows if r[width] is not None]

    def case_with_facts(
        self, case: int | str
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]] | None:
        """A case by id or reference with its answers (as `case_with_answers`) and what
        re-planning it reads (as `plan_facts`), in one round trip: all an action reads first."""
        key = "reference" if isinstance(case, str) else "id"
        ident = "?" if key == "id" else "(SELECT id FROM cases WHERE reference = ?)"
        found, facts = self._read_together([
            _case_and_answers_of(case),
            (facts_sql(ident, f"(SELECT programme_id FROM cases WHERE {key} = ?)"), (case,) * 5),
        ])  # fmt: skip
        both = self._case_and_answers(found)
        return None if both is None else (*both, plan_facts_of(facts.fetchall()))

    def next_record_no(self, case_id: int, form_id: str) -> int:
        """The number the next record of a repeatable form gets (1, 2, …)."""
        row = self.execute(
            "SELECT coalesce(max(record_no), 0) FROM answers WHERE case_id = ? AND form_id = ?",
            (case_id, form_id),
        ).fetchone()
        return int(row[0]) + 1

    def record_draft(self, case_id: int, form_id: str) -> dict[str, Any] | None:
        """The answers so far of a record being filled in, if any."""
        row = self.execute(
            "SELECT data FROM record_drafts WHERE case_id = ? AND form_id = ?", (case_id, form_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def save_record_draft(self, case_id: int, form_id: str, data: dict[str, Any], who: str | None,
                          now: str) -> None:  # fmt: skip
        """Keep the answers so far of a record being filled in."""
        self.write(
            "INSERT INTO record_drafts (case_id, form_id, data, updated_by, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (case_id, form_id) DO UPDATE SET data = excluded.data, "
            "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (case_id, form_id, json.dumps(data), who, now),
        )

    def delete_record_draft(self, case_id: int, form_id: str) -> None:
        """Forget a record's draft (it was recorded, or discarded)."""
        self.write(
            "DELETE FROM record_drafts WHERE case_id = ? AND form_id = ?", (case_id, form_id)
        )

    def audit(self, case_id: int, at: str, role: str, actor_id: str | None, action: str,
              from_state: str | None, to_state: str | None, version: str, detail: dict[str, Any]) -> None:  # fmt: skip
        """Append one event to the case's audit log."""
        self.write(
            "INSERT INTO audit (case_id, at, actor_role, actor_id, action, from_state, to_state, version, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                case_id,
                at,
                role,
                actor_id,
                action,
                from_state,
                to_state,
                version,
                json.dumps(detail, default=str),
            ),
        )

    def history(self, case_id: int) -> list[dict[str, Any]]:
        """The case's audit log, oldest first (an erased account's address and, on a case whose
        personal data was erased, the reasons people typed, hidden: the log itself never changes)."""
        return self.histories_of([case_id]).get(case_id, [])

    def histories_of(self, case_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Each of these cases' audit logs, as `history` gives one, by case."""
        hidden = {r[0] for r in self.execute("SELECT digest FROM erasures WHERE kind = 'account'")}
        erased: set[int] = set()
        rows: list[Any] = []
        for marks, chunk in _chunks(sorted(set(case_ids))):
            erased |= {r[0] for r in self.execute(
                f"SELECT id FROM cases WHERE id IN ({marks}) AND erased_at IS NOT NULL", chunk)}  # fmt: skip
            rows += self.execute(
                "SELECT case_id, at, actor_role, actor_id, action, from_state, to_state, version, "
                f"detail FROM audit WHERE case_id IN ({marks}) ORDER BY case_id, id",
                chunk,
            ).fetchall()
        out: dict[int, list[dict[str, Any]]] = {}
        for r in rows:
            detail = json.loads(r[8])
            if r[0] in erased and "reason" in detail:
                detail["reason"] = ERASED_REASON
            actor = None if r[3] and identity_digest(r[3]) in hidden else r[3]
            out.setdefault(r[0], []).append({"at": r[1], "role": r[2], "actor": actor, "action": r[4],
                                             "from": r[5], "to": r[6], "version": r[7], "detail": detail})  # fmt: skip
        return out

    def cases_of(self, case_ids: list[int]) -> dict[int, dict[str, Any]]:
        """These cases' rows, as `case` gives one, by id (any not found left out)."""
        out: dict[int, dict[str, Any]] = {}
        for marks, chunk in _chunks(sorted(set(case_ids))):
            out.update((r["id"], r) for r in _decoded(self.execute(f"SELECT * FROM cases WHERE id IN ({marks})", chunk)))  # fmt: skip
        return out

    def fired_of(self, case_ids: list[int]) -> dict[int, dict[str, str]]:
        """When each action was last taken on each of these cases, as `fired_all`, by case."""
        out: dict[int, dict[str, str]] = {}
        for marks, chunk in _chunks(sorted(set(case_ids))):
            for case_id, action, at in self.execute(
                f"SELECT case_id, action, max(at) FROM audit WHERE case_id IN ({marks}) "
                "GROUP BY case_id, action",
                chunk,
            ).fetchall():
                out.setdefault(case_id, {})[action] = at
        return out

    def fired(self, case_id: int, action: str) -> str | None:
        """When the action was last taken on the case, if ever."""
        row = self.execute(
            "SELECT at FROM audit WHERE case_id = ? AND action = ? ORDER BY id DESC LIMIT 1",
            (case_id, action),
        ).fetchone()
        return row[0] if row else None

    def fired_all(self, case_id: int) -> dict[str, str]:
        """When each action was last taken on a case."""
        return dict(self.execute(fired_sql("?"), (case_id, case_id)).fetchall())
