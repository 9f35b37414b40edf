"""SQLite through sqlite-utils: the schema, its migrations and small typed queries.

All SQL lives here, so another store (PostgreSQL) can sit beside it later. Every user action
runs inside one `transaction()`: state, answers, audit event and money rows commit together or
not at all. The audit table refuses updates and deletes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from .errors import DatabaseError, StaleCase

# Each entry upgrades the schema by one version; never edit one that has shipped, add another.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE programme_versions (
        programme_id TEXT NOT NULL,
        version TEXT NOT NULL,
        data TEXT NOT NULL,
        source TEXT,
        published_at TEXT NOT NULL,
        PRIMARY KEY (programme_id, version)
    );
    CREATE TABLE organisations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        reference TEXT UNIQUE,
        programme_id TEXT NOT NULL,
        version TEXT NOT NULL,
        workflow TEXT NOT NULL,
        state TEXT NOT NULL,
        organisation_id TEXT,
        subject TEXT,
        role TEXT,
        lot TEXT,
        parent_id INTEGER REFERENCES cases(id),
        flags TEXT NOT NULL DEFAULT '{}',
        entered TEXT NOT NULL DEFAULT '{}',
        revision INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX cases_by_state ON cases (programme_id, workflow, state);
    CREATE INDEX cases_by_organisation ON cases (organisation_id);
    CREATE TABLE answers (
        case_id INTEGER NOT NULL REFERENCES cases(id),
        form_id TEXT NOT NULL,
        record_no INTEGER NOT NULL,
        data TEXT NOT NULL,
        submitted_at TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (case_id, form_id, record_no)
    );
    CREATE TABLE awards (
        case_id INTEGER PRIMARY KEY REFERENCES cases(id),
        programme_id TEXT NOT NULL,
        lot TEXT,
        amount INTEGER NOT NULL,
        awarded_at TEXT NOT NULL
    );
    CREATE INDEX awards_by_programme ON awards (programme_id, lot);
    CREATE TABLE payments (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        amount INTEGER NOT NULL,
        paid_at TEXT NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        at TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        actor_id TEXT,
        action TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT,
        version TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_by_case ON audit (case_id, id);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 2: the scheduler. A reminder row is one thing due at one moment; its key makes planning
    # idempotent, its status makes sending exactly-once; the outbox keeps every message sent.
    """
    CREATE TABLE reminders (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        programme_id TEXT NOT NULL,
        version TEXT NOT NULL,
        kind TEXT NOT NULL,
        rule TEXT NOT NULL,
        case_id INTEGER REFERENCES cases(id),
        due_at TEXT NOT NULL,
        anchor_at TEXT,
        status TEXT NOT NULL DEFAULT 'pending',
        note TEXT,
        payload TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        done_at TEXT
    );
    CREATE INDEX reminders_due ON reminders (status, due_at);
    CREATE INDEX reminders_by_case ON reminders (case_id, status);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        reminder_id INTEGER UNIQUE REFERENCES reminders(id),
        programme_id TEXT NOT NULL,
        case_id INTEGER,
        to_role TEXT NOT NULL,
        organisation_id TEXT,
        to_address TEXT,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        delivered_at TEXT,
        backend TEXT
    );
    CREATE INDEX outbox_undelivered ON outbox (delivered_at);
    CREATE TABLE pins (
        programme_id TEXT NOT NULL,
        target TEXT NOT NULL,
        at TEXT NOT NULL,
        pinned_by TEXT,
        pinned_at TEXT NOT NULL,
        PRIMARY KEY (programme_id, target)
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def _friendly(exc: sqlite3.Error, path: str) -> DatabaseError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return DatabaseError(
            f"the database {path} is busy with another action; try again in a moment"
        )
    if "readonly" in text or "read-only" in text:
        return DatabaseError(f"the database {path} is read-only; check its file permissions")
    if "not a database" in text or "malformed" in text:
        return DatabaseError(f"{path} is not a database this engine can read")
    if "unable to open" in text:
        return DatabaseError(
            f"cannot open the database {path}; check the folder exists and may be written"
        )
    return DatabaseError(f"the database {path} refused the change: {exc}")


class Store:
    """One SQLite database file."""

    def __init__(self, path: str | Path, *, check: bool = True, timeout: float = 5.0) -> None:
        self.path = str(path)
        try:
            conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self.db = sqlite_utils.Database(conn)
            if self.path != ":memory:":
                self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            version = self.schema_version()
        except sqlite3.Error as exc:
            raise _friendly(exc, self.path) from None
        if check and version != SCHEMA_VERSION:
            if version > SCHEMA_VERSION:
                raise DatabaseError(
                    f"the database {self.path} was written by a newer version of the engine "
                    f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade the engine"
                )
            if version == 0 and not self.db.table_names():
                self.upgrade()  # a brand-new file: create the schema
            else:
                raise DatabaseError(
                    f"the database {self.path} is from an older version (schema {version} of "
                    f"{SCHEMA_VERSION}); run `commission db upgrade --db {self.path}`"
                )

    # -- schema ---------------------------------------------------------------------------
    def schema_version(self) -> int:
        """The schema version recorded in the file (0 for a new file)."""
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def upgrade(self) -> list[int]:
        """Apply every migration the file lacks, each in its own transaction; the versions applied."""
        applied = []
        for number in range(self.schema_version() + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in _statements(MIGRATIONS[number - 1]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")
            applied.append(number)
        return applied

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: all of an action or none of it."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _friendly(exc, self.path) from None
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self.db.execute("ROLLBACK")
            raise _friendly(exc, self.path) from None

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        """Run one statement, turning SQLite's errors into sentences."""
        try:
            return self.db.execute(sql, params)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise _friendly(exc, self.path) from None

    # -- programme versions -----------------------------------------------------------------
    def save_programme_version(
        self, programme_id: str, version: str, data: dict[str, Any], source: str, now: str
    ) -> bool:
        """Register a version; False when it was already registered."""
        cur = self.execute(
            "INSERT OR IGNORE INTO programme_versions (programme_id, version, data, source, published_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (programme_id, version, json.dumps(data), source, now),
        )
        return cur.rowcount == 1

    def programme_data(self, programme_id: str, version: str) -> dict[str, Any] | None:
        """The normalised document of one version."""
        row = self.execute(
            "SELECT data FROM programme_versions WHERE programme_id = ? AND version = ?",
            (programme_id, version),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def latest_version(self, programme_id: str) -> str | None:
        """The most recently published version of a programme."""
        row = self.execute(
            "SELECT version FROM programme_versions WHERE programme_id = ? ORDER BY published_at DESC, rowid DESC LIMIT 1",
            (programme_id,),
        ).fetchone()
        return row[0] if row else None

    def programme_ids(self) -> list[str]:
        """Every programme with at least one published version."""
        return [
            r[0]
            for r in self.execute("SELECT DISTINCT programme_id FROM programme_versions ORDER BY 1")
        ]

    def versions(self, programme_id: str) -> list[dict[str, Any]]:
        """Each version with when it was published and how many cases it has."""
        rows = self.execute(
            "SELECT v.version, v.published_at, v.source, "
            "(SELECT count(*) FROM cases c WHERE c.programme_id = v.programme_id AND c.version = v.version) "
            "FROM programme_versions v WHERE v.programme_id = ? ORDER BY v.published_at, v.rowid",
            (programme_id,),
        ).fetchall()
        return [
            {"version": r[0], "published_at": r[1], "source": r[2], "cases": r[3]} for r in rows
        ]

    # -- organisations and cases ------------------------------------------------------------
    def ensure_organisation(self, org_id: str, name: str, now: str) -> None:
        """Record an organisation the first time it is seen."""
        self.execute(
            "INSERT OR IGNORE INTO organisations (id, name, created_at) VALUES (?, ?, ?)",
            (org_id, name, now),
        )

    def insert_case(self, row: dict[str, Any], prefix: str) -> int:
        """Create a case row; returns its id and gives it a reference such as `LLR-000042`."""
        cur = self.execute(
            "INSERT INTO cases (programme_id, version, workflow, state, organisation_id, subject, role, lot, "
            "parent_id, flags, entered, revision, created_at, updated_at) VALUES "
            "(:programme_id, :version, :workflow, :state, :organisation_id, :subject, :role, :lot, :parent_id, "
            ":flags, :entered, 0, :created_at, :created_at)",
            {
                **row,
                "flags": json.dumps(row.get("flags", {})),
                "entered": json.dumps(row.get("entered", {})),
            },
        )
        case_id = int(cur.lastrowid or 0)
        self.execute(
            "UPDATE cases SET reference = ? WHERE id = ?", (f"{prefix}-{case_id:06d}", case_id)
        )
        return case_id

    def case(self, case_id: int) -> dict[str, Any] | None:
        """One case row, with its JSON columns decoded."""
        cur = self.execute("SELECT * FROM cases WHERE id = ?", (case_id,))
        row = cur.fetchone()
        if row is None:
            return None
        out = dict(zip([c[0] for c in cur.description], row, strict=True))
        out["flags"] = json.loads(out["flags"])
        out["entered"] = json.loads(out["entered"])
        return out

    def case_id_for_reference(self, reference: str) -> int | None:
        """The id of the case with this reference."""
        row = self.execute("SELECT id FROM cases WHERE reference = ?", (reference,)).fetchone()
        return int(row[0]) if row else None

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
        cur = self.execute(
            "UPDATE cases SET state = ?, flags = ?, entered = ?, revision = revision + 1, updated_at = ? "
            "WHERE id = ? AND revision = ?",
            (state, json.dumps(flags), json.dumps(entered), now, case_id, revision),
        )
        if cur.rowcount != 1:
            raise StaleCase(
                "this case changed while you were looking at it, so your action was not taken; "
                "look at it again and decide"
            )
        return revision + 1

    def touch_case(self, case_id: int, revision: int, now: str) -> int:
        """Bump a case's revision (answers changed) with the same compare-and-set."""
        row = self.case(case_id)
        assert row is not None
        return self.move_case(case_id, revision, row["state"], row["flags"], row["entered"], now)

    def cases_by_state(self, programme_id: str, workflow: str | None = None) -> dict[str, int]:
        """How many cases are in each state."""
        sql = "SELECT state, count(*) FROM cases WHERE programme_id = ?"
        params: tuple = (programme_id,)
        if workflow:
            sql += " AND workflow = ?"
            params += (workflow,)
        return dict(self.execute(sql + " GROUP BY state", params).fetchall())

    def list_cases(self, programme_id: str, *, workflow: str | None = None, state: str | None = None,
                   organisation_id: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:  # fmt: skip
        """Cases of a programme, newest first, filtered as asked."""
        sql = "SELECT id, reference, workflow, state, organisation_id, role, lot, updated_at FROM cases WHERE programme_id = ?"
        params: list[Any] = [programme_id]
        for column, value in (
            ("workflow", workflow),
            ("state", state),
            ("organisation_id", organisation_id),
        ):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        cur = self.execute(sql, (*params, limit, offset))
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    # -- answers ---------------------------------------------------------------------------
    def save_answers(
        self,
        case_id: int,
        form_id: str,
        record_no: int,
        data: dict[str, Any],
        now: str,
        submitted: bool,
    ) -> None:
        """Insert or replace one form's answers (or one record of a repeatable form)."""
        self.execute(
            "INSERT INTO answers (case_id, form_id, record_no, data, submitted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (case_id, form_id, record_no) DO UPDATE SET data = excluded.data, "
            "submitted_at = excluded.submitted_at, updated_at = excluded.updated_at",
            (case_id, form_id, record_no, json.dumps(data), now if submitted else None, now),
        )

    def mark_submitted(self, case_id: int, form_id: str, now: str) -> None:
        """Mark a form's answers as submitted (they stop being a draft)."""
        self.execute(
            "UPDATE answers SET submitted_at = ? WHERE case_id = ? AND form_id = ? AND submitted_at IS NULL",
            (now, case_id, form_id),
        )

    def answers(self, case_id: int) -> list[dict[str, Any]]:
        """Every form's answers and records for a case, in the order they were made."""
        cur = self.execute(
            "SELECT form_id, record_no, data, submitted_at, updated_at FROM answers WHERE case_id = ? "
            "ORDER BY form_id, record_no",
            (case_id,),
        )
        return [
            {
                "form": r[0],
                "record": r[1],
                "data": json.loads(r[2]),
                "submitted_at": r[3],
                "updated_at": r[4],
            }
            for r in cur.fetchall()
        ]

    def next_record_no(self, case_id: int, form_id: str) -> int:
        """The number the next record of a repeatable form gets (1, 2, …)."""
        row = self.execute(
            "SELECT coalesce(max(record_no), 0) FROM answers WHERE case_id = ? AND form_id = ?",
            (case_id, form_id),
        ).fetchone()
        return int(row[0]) + 1

    # -- money -----------------------------------------------------------------------------
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

    # -- audit -----------------------------------------------------------------------------
    def audit(self, case_id: int, at: str, role: str, actor_id: str | None, action: str,
              from_state: str | None, to_state: str | None, version: str, detail: dict[str, Any]) -> None:  # fmt: skip
        """Append one event to the case's audit log."""
        self.execute(
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
        """The case's audit log, oldest first."""
        cur = self.execute(
            "SELECT at, actor_role, actor_id, action, from_state, to_state, version, detail FROM audit "
            "WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        return [
            {
                "at": r[0],
                "role": r[1],
                "actor": r[2],
                "action": r[3],
                "from": r[4],
                "to": r[5],
                "version": r[6],
                "detail": json.loads(r[7]),
            }
            for r in cur.fetchall()
        ]

    def fired(self, case_id: int, action: str) -> str | None:
        """When the action was last taken on the case, if ever."""
        row = self.execute(
            "SELECT at FROM audit WHERE case_id = ? AND action = ? ORDER BY id DESC LIMIT 1",
            (case_id, action),
        ).fetchone()
        return row[0] if row else None

    def children(self, case_id: int) -> list[int]:
        """Cases started from this one (e.g. the contract of an application)."""
        return [r[0] for r in self.execute("SELECT id FROM cases WHERE parent_id = ?", (case_id,))]


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    buf = ""
    for line in script.strip().splitlines():
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            yield buf.strip()
            buf = ""
    if buf.strip():
        yield buf.strip()
