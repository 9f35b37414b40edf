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

from engine.errors import DatabaseError, EmailTaken, StaleCase

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
        reminder_id INTEGER REFERENCES reminders(id),
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
    CREATE UNIQUE INDEX outbox_once ON outbox (reminder_id, to_role, to_address);
    CREATE TABLE pins (
        programme_id TEXT NOT NULL,
        target TEXT NOT NULL,
        at TEXT NOT NULL,
        pinned_by TEXT,
        pinned_at TEXT NOT NULL,
        PRIMARY KEY (programme_id, target)
    );
    """,
    # 3: accounts for the web app. People sign in with an email and a password (hashed by
    # werkzeug.security); several people of one organisation share its cases. A reset token is
    # stored only as its SHA-256, used once, and expires. Uploaded files live outside the web root
    # under random names; this table says whose case each belongs to.
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        organisation_id TEXT REFERENCES organisations(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX users_by_organisation ON users (organisation_id);
    CREATE TABLE password_resets (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        token_hash TEXT NOT NULL UNIQUE,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases(id),
        form_id TEXT NOT NULL,
        question_id TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        kind TEXT NOT NULL,
        stored_as TEXT NOT NULL UNIQUE,
        uploaded_by TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX uploads_by_case ON uploads (case_id);
    """,
    # 4: casework and monitoring returns. A record of a repeatable form (a contact, a quarterly
    # return) is saved whole; while it is being filled in page by page its answers wait here, one
    # draft per case and form, shared by the organisation's people, and leave when it is recorded.
    """
    CREATE TABLE record_drafts (
        case_id INTEGER NOT NULL REFERENCES cases(id),
        form_id TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_by TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (case_id, form_id)
    );
    """,
    # 5: assessments. One row per assessor per case: their scores against the programme's
    # criteria (a number on the scale, or met / not met), a comment on each and overall, and a
    # recommendation; or the conflict of interest they declared, which keeps them off the case.
    """
    CREATE TABLE assessments (
        case_id INTEGER NOT NULL REFERENCES cases(id),
        assessor TEXT NOT NULL,
        scores TEXT NOT NULL DEFAULT '{}',
        notes TEXT NOT NULL DEFAULT '{}',
        comment TEXT,
        recommendation TEXT,
        conflict TEXT,
        version TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (case_id, assessor)
    );
    CREATE INDEX assessments_by_assessor ON assessments (assessor);
    """,
    # 6: failed sign-ins, so guessing a password is slowed to a few tries per quarter hour
    """
    CREATE TABLE sign_in_failures (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL,
        address TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX sign_in_failures_by_email ON sign_in_failures (email, at);
    """,
    # 7: answers typed on a page whose session had run out, kept until the person signs in
    # again and sees them (bound to their browser by a random token; gone after a day)
    """
    CREATE TABLE kept_answers (
        token TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX kept_answers_by_age ON kept_answers (created_at);
    """,
    # 8: which cases ever entered a state, for KPIs counting cases as they stood in past periods
    """
    CREATE INDEX audit_by_state ON audit (to_state, case_id);
    """,
    # 9: when each action was last taken on a case (re-planning after every save) read from the
    # index alone, not from every audit row of a case saved thousands of times
    """
    CREATE INDEX audit_actions ON audit (case_id, action, at);
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


class ReminderStore:
    """The scheduler's queries (mixed into Store): planning rows, claiming them, the outbox."""

    # Store supplies `db`, `path` and `execute`.
    db: sqlite_utils.Database
    path: str

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:  # pragma: no cover
        raise NotImplementedError  # Store's own execute is the one used

    def plan_rows(self, rows: list[dict[str, Any]]) -> int:
        """Insert reminder rows that are not there yet (the key makes planning idempotent)."""
        cur = self.execute_many(
            "INSERT OR IGNORE INTO reminders (key, programme_id, version, kind, rule, case_id, due_at, anchor_at, "
            "payload, created_at) VALUES (:key, :programme_id, :version, :kind, :rule, :case_id, :due_at, "
            ":anchor_at, :payload, :created_at)",
            [{**r, "payload": json.dumps(r.get("payload", {}))} for r in rows],
        )
        return cur.rowcount

    def execute_many(self, sql: str, rows: list[dict[str, Any]]) -> sqlite3.Cursor:
        """Run one statement for many rows."""
        try:
            return self.db.conn.executemany(sql, rows)  # type: ignore[attr-defined]
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise _friendly(exc, self.path) from None

    def cancel_other_rows(self, case_id: int, keep: set[str], now: str) -> int:
        """Cancel a case's pending rows that its current facts no longer call for."""
        pending = [
            r[0]
            for r in self.execute(
                "SELECT key FROM reminders WHERE case_id = ? AND status = 'pending'", (case_id,)
            )
        ]
        gone = [k for k in pending if k not in keep]
        for key in gone:
            self.execute(
                "UPDATE reminders SET status = 'cancelled', done_at = ?, note = 'no longer applies' WHERE key = ? AND status = 'pending'",
                (now, key),
            )
        return len(gone)

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

    def queue_message(self, message: dict[str, Any]) -> None:
        """Put a message in the outbox (once per reminder and recipient)."""
        self.execute(
            "INSERT OR IGNORE INTO outbox (reminder_id, programme_id, case_id, to_role, organisation_id, to_address, "
            "subject, body, created_at) VALUES (:reminder_id, :programme_id, :case_id, :to_role, :organisation_id, "
            ":to_address, :subject, :body, :created_at)",
            message,
        )

    def undelivered(self, limit: int) -> list[dict[str, Any]]:
        """Messages not yet handed to a delivery backend."""
        cur = self.execute(
            "SELECT * FROM outbox WHERE delivered_at IS NULL ORDER BY id LIMIT ?", (limit,)
        )
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def mark_delivered(self, message_id: int, backend: str, now: str) -> None:
        """Record that a message was handed over."""
        self.execute(
            "UPDATE outbox SET delivered_at = ?, backend = ? WHERE id = ?",
            (now, backend, message_id),
        )

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

    def fired_all(self, case_id: int) -> dict[str, str]:
        """When each action was last taken on a case."""
        return dict(
            self.execute(
                "SELECT action, max(at) FROM audit WHERE case_id = ? GROUP BY action", (case_id,)
            ).fetchall()
        )

    def open_case_ids(self, programme_id: str) -> list[int]:
        """Every case of a programme (for re-planning after a date is pinned)."""
        return [
            r[0]
            for r in self.execute("SELECT id FROM cases WHERE programme_id = ?", (programme_id,))
        ]


class Store(ReminderStore):
    """One SQLite database file."""

    def __init__(self, path: str | Path, *, check: bool = True, timeout: float = 5.0) -> None:
        self.path = str(path)
        self._depth = 0
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
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: all of an action or none of it.

        Re-entrant: inside another transaction it joins it (the outermost one commits), so the
        scheduler can take an action and mark its reminder done as one unit.
        """
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _friendly(exc, self.path) from None
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.db.execute("ROLLBACK")
            raise
        self._depth = 0
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
        """Create a case row; returns its id and gives it a reference such as `ABC-000042`."""
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
        return self._case_row(self.execute("SELECT * FROM cases WHERE id = ?", (case_id,)))

    def case_by_reference(self, reference: str) -> dict[str, Any] | None:
        """The case with this reference (e.g. `LIV-000042`), as `case`."""
        return self._case_row(self.execute("SELECT * FROM cases WHERE reference = ?", (reference,)))

    def _case_row(self, cur: sqlite3.Cursor) -> dict[str, Any] | None:
        row = cur.fetchone()
        if row is None:
            return None
        out = dict(zip([c[0] for c in cur.description], row, strict=True))
        out["flags"] = json.loads(out["flags"])
        out["entered"] = json.loads(out["entered"])
        return out

    def programme_cases(self, programme_id: str) -> list[dict[str, Any]]:
        """Every case of a programme, JSON columns decoded (for KPIs and exports)."""
        cur = self.execute(
            "SELECT * FROM cases WHERE programme_id = ? ORDER BY id", (programme_id,)
        )
        names = [c[0] for c in cur.description]
        out = []
        for r in cur.fetchall():
            row = dict(zip(names, r, strict=True))
            row["flags"] = json.loads(row["flags"])
            row["entered"] = json.loads(row["entered"])
            out.append(row)
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

    def form_entries(self, programme_id: str, form_id: str) -> list[dict[str, Any]]:
        """Every submitted answer set of one form, with its case's facts (for KPIs over returns)."""
        cur = self.execute(
            "SELECT c.id, c.workflow, c.state, c.flags, c.entered, c.organisation_id, c.lot, c.role, c.reference, "
            "a.data, a.submitted_at FROM answers a JOIN cases c ON c.id = a.case_id "
            "WHERE c.programme_id = ? AND a.form_id = ? AND a.submitted_at IS NOT NULL ORDER BY a.submitted_at",
            (programme_id, form_id),
        )
        names = ["case_id", "workflow", "state", "flags", "entered", "organisation_id", "lot", "role", "reference",
                 "data", "submitted_at"]  # fmt: skip
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def state_changes(self, case_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        """Each case's moves from the audit log, oldest first: (when, the state it moved to)."""
        out: dict[int, list[tuple[str, str]]] = {}
        for start in range(0, len(case_ids), 500):  # SQLite's limit on parameters
            chunk = case_ids[start : start + 500]
            rows = self.execute(
                f"SELECT case_id, at, to_state FROM audit WHERE case_id IN ({','.join('?' * len(chunk))}) "
                "AND to_state IS NOT NULL AND (from_state IS NULL OR to_state != from_state) ORDER BY case_id, id",
                tuple(chunk),
            ).fetchall()
            for case_id, at, state in rows:
                out.setdefault(case_id, []).append((at, state))
        return out

    def workflow_cases(
        self, programme_id: str, workflow: str | None, states: list[str] | None
    ) -> list[dict[str, Any]]:
        """Cases of a workflow that are or were in some states, with their answers, for KPIs.

        A case that has left one of the states is read too (it may have been in it at the end of
        an earlier period): the audit log names every state a case has entered.
        """
        where = "programme_id = ?" + (" AND workflow = ?" if workflow else "")
        base: list[Any] = [programme_id, *([workflow] if workflow else [])]
        if states:
            marks = ",".join("?" * len(states))
            # two indexed reads, rather than one scan of every case of the workflow
            ids = (
                f"SELECT id FROM cases WHERE {where} AND state IN ({marks}) UNION "
                f"SELECT id FROM cases WHERE {where} AND id IN "
                f"(SELECT case_id FROM audit WHERE to_state IN ({marks}))"
            )
            params = tuple([*base, *states, *base, *states])
            sql = f"SELECT * FROM cases WHERE id IN ({ids})"
        else:
            ids, params = f"SELECT id FROM cases WHERE {where}", tuple(base)
            sql = f"SELECT * FROM cases WHERE {where}"
        cur = self.execute(sql + " ORDER BY id", params)
        names = [c[0] for c in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        if rows:
            answers = self.execute(
                "SELECT a.case_id, a.form_id, a.record_no, a.data, a.submitted_at FROM answers a JOIN ("
                + ids
                + ") c ON c.id = a.case_id ORDER BY a.case_id, a.form_id, a.record_no",
                params,
            ).fetchall()
            by_case: dict[int, list[dict[str, Any]]] = {}
            for case_id, form, record, data, submitted in answers:
                by_case.setdefault(case_id, []).append(
                    {"form": form, "record": record, "data": data, "submitted_at": submitted}
                )
            for row in rows:
                row["answers"] = by_case.get(row["id"], [])
        return rows

    def programme_answers(self, programme_id: str) -> dict[int, list[dict[str, Any]]]:
        """Every answer and record of every case of a programme, by case, in one query."""
        cur = self.execute(
            "SELECT a.case_id, a.form_id, a.record_no, a.data, a.submitted_at FROM answers a "
            "JOIN cases c ON c.id = a.case_id WHERE c.programme_id = ? ORDER BY a.case_id, a.form_id, a.record_no",
            (programme_id,),
        )
        out: dict[int, list[dict[str, Any]]] = {}
        for case_id, form, record, data, submitted in cur.fetchall():
            out.setdefault(case_id, []).append(
                {
                    "form": form,
                    "record": record,
                    "data": json.loads(data),
                    "submitted_at": submitted,
                }
            )
        return out

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

    def organisation_names(self) -> dict[str, str]:
        """Organisation id → name."""
        return dict(self.execute("SELECT id, name FROM organisations").fetchall())

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

    # -- answers kept over an expired session ----------------------------------------------
    def keep_answers(self, token: str, path: str, data: str, at: str, forget_before: str) -> None:
        """Keep a page's posted answers under a token (and drop any kept too long)."""
        with self.transaction():
            self.execute("DELETE FROM kept_answers WHERE created_at < ?", (forget_before,))
            self.execute(
                "INSERT INTO kept_answers (token, path, data, created_at) VALUES (?, ?, ?, ?)",
                (token, path, data, at),
            )

    def kept_answers(self, token: str, path: str, since: str) -> str | None:
        """The answers kept under this token for this page, if not too old."""
        row = self.execute(
            "SELECT data FROM kept_answers WHERE token = ? AND path = ? AND created_at >= ?",
            (token, path, since),
        ).fetchone()
        return row[0] if row else None

    def forget_kept(self, token: str) -> None:
        """Drop kept answers once they are saved."""
        with self.transaction():
            self.execute("DELETE FROM kept_answers WHERE token = ?", (token,))

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

    def first_event(self, programme_id: str, anchor: dict[str, Any]) -> str | None:
        """When any case of the programme first took an action or entered a state (an anchor)."""
        if "trigger" in anchor:
            sql, value = "a.action = ?", anchor["trigger"]
        elif "entered" in anchor:
            sql, value = "a.to_state = ?", anchor["entered"]
        else:
            return None
        row = self.execute(
            f"SELECT min(a.at) FROM audit a JOIN cases c ON c.id = a.case_id WHERE c.programme_id = ? AND {sql}",
            (programme_id, value),
        ).fetchone()
        return row[0] if row else None

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

    # -- accounts ----------------------------------------------------------------------------
    def _rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        cur = self.execute(sql, params)
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def create_user(self, email: str, password_hash: str | None, name: str, role: str,
                    organisation_id: str | None, now: str) -> int:  # fmt: skip
        """Add a person who can sign in; raises EmailTaken if an account already uses the email."""
        try:
            cur = self.execute(
                "INSERT INTO users (email, password_hash, name, role, organisation_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (email.strip().lower(), password_hash, name, role, organisation_id, now, now),
            )
        except sqlite3.IntegrityError:
            # callers above the store must not need to know which database said no
            raise EmailTaken("an account already uses this email address") from None
        return int(cur.lastrowid or 0)

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        """The person with this email address (any case), if any."""
        rows = self._rows("SELECT * FROM users WHERE email = ?", (email.strip().lower(),))
        return rows[0] if rows else None

    def user(self, user_id: int) -> dict[str, Any] | None:
        """One person by id."""
        rows = self._rows("SELECT * FROM users WHERE id = ?", (user_id,))
        return rows[0] if rows else None

    def set_password(self, user_id: int, password_hash: str, now: str) -> None:
        """Replace a person's password hash."""
        self.execute(
            "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
            (password_hash, now, user_id),
        )

    def users_in_organisation(self, organisation_id: str) -> list[dict[str, Any]]:
        """The people who share an organisation's cases."""
        return self._rows(
            "SELECT id, email, name, role, password_hash IS NOT NULL AS active FROM users "
            "WHERE organisation_id = ? ORDER BY name",
            (organisation_id,),
        )

    def organisation_name(self, organisation_id: str) -> str | None:
        """An organisation's name."""
        row = self.execute(
            "SELECT name FROM organisations WHERE id = ?", (organisation_id,)
        ).fetchone()
        return row[0] if row else None

    def add_password_reset(self, user_id: int, token_hash: str, expires_at: str, now: str) -> None:
        """Record a reset token (its hash only) that expires at `expires_at`."""
        self.execute(
            "INSERT INTO password_resets (user_id, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?)",
            (user_id, token_hash, expires_at, now),
        )

    def password_reset(self, token_hash: str) -> dict[str, Any] | None:
        """The reset with this token hash, used or not."""
        rows = self._rows("SELECT * FROM password_resets WHERE token_hash = ?", (token_hash,))
        return rows[0] if rows else None

    def use_password_reset(self, reset_id: int, now: str) -> bool:
        """Mark a reset used, once: False if it was already used."""
        cur = self.execute(
            "UPDATE password_resets SET used_at = ? WHERE id = ? AND used_at IS NULL",
            (now, reset_id),
        )
        if cur.rowcount == 1:  # one link sets one password: the person's other links stop working
            self.execute(
                "UPDATE password_resets SET used_at = ? WHERE used_at IS NULL AND user_id = "
                "(SELECT user_id FROM password_resets WHERE id = ?)",
                (now, reset_id),
            )
        return cur.rowcount == 1

    def add_outbox_message(self, to_address: str, subject: str, body: str, now: str, *,
                           to_role: str = "applicant", programme_id: str = "",
                           organisation_id: str | None = None) -> int:  # fmt: skip
        """Queue a message that no reminder caused (a password reset link) in the outbox."""
        cur = self.execute(
            "INSERT INTO outbox (programme_id, to_role, organisation_id, to_address, subject, body, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (programme_id, to_role, organisation_id, to_address, subject, body, now),
        )
        return int(cur.lastrowid or 0)

    def outbox_for(self, to_address: str) -> list[dict[str, Any]]:
        """Messages queued for one address, newest first."""
        return self._rows(
            "SELECT id, to_address, subject, body, created_at, delivered_at FROM outbox "
            "WHERE to_address = ? ORDER BY id DESC",
            (to_address,),
        )

    def add_upload(self, row: dict[str, Any]) -> None:
        """Record an uploaded file: its random id, case, question, name, size, kind and stored name."""
        self.execute(
            "INSERT INTO uploads (id, case_id, form_id, question_id, name, size, kind, stored_as, uploaded_by, "
            "created_at) VALUES (:id, :case_id, :form_id, :question_id, :name, :size, :kind, :stored_as, "
            ":uploaded_by, :created_at)",
            row,
        )

    def upload(self, upload_id: str) -> dict[str, Any] | None:
        """One uploaded file's record."""
        rows = self._rows("SELECT * FROM uploads WHERE id = ?", (upload_id,))
        return rows[0] if rows else None

    def cases_for_organisation(self, organisation_id: str) -> list[dict[str, Any]]:
        """Every case of an organisation, across programmes, newest first."""
        return self._rows(
            "SELECT id, reference, programme_id, workflow, state, role, lot, updated_at FROM cases "
            "WHERE organisation_id = ? ORDER BY id DESC",
            (organisation_id,),
        )

    # -- casework and monitoring returns ---------------------------------------------------------
    def record_draft(self, case_id: int, form_id: str) -> dict[str, Any] | None:
        """The answers so far of a record being filled in, if any."""
        row = self.execute(
            "SELECT data FROM record_drafts WHERE case_id = ? AND form_id = ?", (case_id, form_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def save_record_draft(self, case_id: int, form_id: str, data: dict[str, Any], who: str | None,
                          now: str) -> None:  # fmt: skip
        """Keep the answers so far of a record being filled in."""
        self.execute(
            "INSERT INTO record_drafts (case_id, form_id, data, updated_by, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (case_id, form_id) DO UPDATE SET data = excluded.data, "
            "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (case_id, form_id, json.dumps(data), who, now),
        )

    def delete_record_draft(self, case_id: int, form_id: str) -> None:
        """Forget a record's draft (it was recorded, or discarded)."""
        self.execute(
            "DELETE FROM record_drafts WHERE case_id = ? AND form_id = ?", (case_id, form_id)
        )

    def organisation_cases(self, organisation_id: str) -> list[dict[str, Any]]:
        """An organisation's cases with their subject and flags decoded, newest first."""
        rows = self._rows(
            "SELECT id, reference, programme_id, version, workflow, state, subject, flags, created_at, "
            "updated_at FROM cases WHERE organisation_id = ? ORDER BY id DESC",
            (organisation_id,),
        )
        for row in rows:
            row["flags"] = json.loads(row["flags"])
        return rows

    def pending_for_organisation(self, organisation_id: str, until: str) -> list[dict[str, Any]]:
        """Pending reminder rows and checks on an organisation's cases due by `until`, soonest first."""
        rows = self._rows(
            "SELECT r.id, r.kind, r.rule, r.case_id, r.due_at, r.payload, c.reference, c.programme_id, "
            "c.version, c.workflow, c.state, c.subject FROM reminders r JOIN cases c ON c.id = r.case_id "
            "WHERE c.organisation_id = ? AND r.status = 'pending' AND r.due_at <= ? "
            "ORDER BY r.due_at, r.id",
            (organisation_id, until),
        )
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

    # -- commissioning and assessment ------------------------------------------------------------
    def cases_in_states(self, programme_id: str | None, workflow: str | None,
                        states: list[str]) -> list[dict[str, Any]]:  # fmt: skip
        """Cases (of one programme and workflow, or all) in any of these states, oldest first."""
        if not states:
            return []
        sql = (
            "SELECT id, reference, programme_id, version, workflow, state, organisation_id, role, lot, "
            f"updated_at FROM cases WHERE state IN ({','.join('?' * len(states))})"
        )
        params: list[Any] = list(states)
        for column, value in (("programme_id", programme_id), ("workflow", workflow)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        return self._rows(sql + " ORDER BY id", tuple(params))

    def overdue_reminders(self, programme_id: str, now: str) -> list[dict[str, Any]]:
        """Pending reminder rows of a programme whose time has passed, oldest first."""
        rows = self._rows(
            "SELECT r.id, r.kind, r.rule, r.case_id, r.due_at, r.payload, c.reference FROM reminders r "
            "LEFT JOIN cases c ON c.id = r.case_id WHERE r.programme_id = ? AND r.status = 'pending' "
            "AND r.due_at < ? ORDER BY r.due_at, r.id",
            (programme_id, now),
        )
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

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

    # -- sign-in throttling
    def record_sign_in_failure(self, email: str, address: str, at: str) -> None:
        """Note a failed sign-in for this email address from this network address."""
        self.execute(
            "INSERT INTO sign_in_failures (email, address, at) VALUES (?, ?, ?)",
            (email.lower(), address, at),
        )

    def sign_in_failures(self, email: str, address: str, since: str) -> int:
        """How many sign-ins failed for this email from this address since a moment."""
        row = self.execute(
            "SELECT count(*) FROM sign_in_failures WHERE email = ? AND address = ? AND at >= ?",
            (email.lower(), address, since),
        ).fetchone()
        return int(row[0])

    def clear_sign_in_failures(self, email: str) -> None:
        """Forget failed sign-ins once the person has signed in."""
        self.execute("DELETE FROM sign_in_failures WHERE email = ?", (email.lower(),))


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
