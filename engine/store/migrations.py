"""The schema: every migration in order, the version they reach, and how one is split to run.

A migration is SQL text applied once; each connection's `upgrade` runs the ones a database lacks.
Migrations 1 to 14 were written for SQLite alone. PostgreSQL starts from one baseline that
reaches version 14 with the same tables and columns (engine.store.postgres_schema); every
migration after 14 is either one text both databases take, or a pair of texts
(`{"sqlite": …, "postgresql": …}`), so the two schemas never drift (tests/test_store_schema.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from engine.store.migration_tables import DRAFTS, LABELS, PANELS, STAFF

MIGRATIONS: list[str | dict[str, str]] = [
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
    # 10: failed sign-ins from one network address, across every email tried from it
    """
    CREATE INDEX sign_in_failures_by_address ON sign_in_failures (address, at);
    """,
    # 11: delivery claimed message by message (two schedulers never send one message), tries
    # counted, and a message that cannot be delivered kept with its reason
    """
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
    ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN failed_at TEXT;
    ALTER TABLE outbox ADD COLUMN error TEXT;
    DROP INDEX outbox_undelivered;
    CREATE INDEX outbox_undelivered ON outbox (delivered_at, failed_at, id);
    """,
    # 12: sessions the server can end (signing out, a new password), and kept answers bound to
    # the person whose session ran out, so nobody else's answers are ever adopted
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        ended_at TEXT
    );
    CREATE INDEX sessions_by_user ON sessions (user_id);
    ALTER TABLE kept_answers ADD COLUMN user_id INTEGER;
    CREATE INDEX kept_answers_by_user ON kept_answers (user_id, created_at);
    """,
    # 13: an account made on the sign-up page is used only once its email address is confirmed
    # (so the page never has to say that an address already has an account); earlier ones are
    """
    ALTER TABLE users ADD COLUMN confirmed_at TEXT;
    UPDATE users SET confirmed_at = created_at;
    """,
    # 14: the order versions were published in, kept in a column both databases have (PostgreSQL
    # has no rowid), and an uploaded file's bytes kept in the database, where every web host
    # finds them (files written to one host's disk are missing on the others)
    """
    ALTER TABLE programme_versions ADD COLUMN seq INTEGER;
    UPDATE programme_versions SET seq = rowid;
    ALTER TABLE uploads ADD COLUMN content BLOB;
    """,
    # 15: lists of cases paged in the database: a programme's or an organisation's cases by when
    # they last changed read from an index, and each case's next pending reminder from another
    """
    CREATE INDEX cases_by_programme_changed ON cases (programme_id, updated_at, id);
    CREATE INDEX cases_by_organisation_changed ON cases (organisation_id, updated_at, id);
    CREATE INDEX reminders_next_by_case ON reminders (case_id, status, due_at);
    """,
    # 16: when a form's answers were first saved: later saves write over the row and its
    # updated_at, and a report as at an earlier day leaves out a form nobody had begun by then
    """
    ALTER TABLE answers ADD COLUMN created_at TEXT;
    UPDATE answers SET created_at = coalesce(submitted_at, updated_at);
    """,
    # 17: staff roles scoped to programmes (and a caseworker's to a provider organisation), an
    # account that can be switched off, and a log of service-wide changes (staff, retention,
    # publishing) kept apart from any one case's log and just as append-only. Staff who had a
    # global role keep it: a role with no programme covers every programme.
    {
        "sqlite": STAFF.format(id="INTEGER PRIMARY KEY", user_id="INTEGER")
        + """
    CREATE TRIGGER service_log_no_update BEFORE UPDATE ON service_log
        BEGIN SELECT RAISE(ABORT, 'the service log is append-only'); END;
    CREATE TRIGGER service_log_no_delete BEFORE DELETE ON service_log
        BEGIN SELECT RAISE(ABORT, 'the service log is append-only'); END;
    """,
        "postgresql": STAFF.format(
            id="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", user_id="BIGINT"
        )
        + """
    CREATE TRIGGER service_log_no_update BEFORE UPDATE OR DELETE ON service_log
        FOR EACH ROW EXECUTE FUNCTION audit_append_only();
    CREATE TRIGGER service_log_no_truncate BEFORE TRUNCATE ON service_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
    """,
    },
    # 18: data-protection duties. A case whose content retention removed (`removed_at`: it
    # leaves lists, its row stays for the counts and the append-only audit that names it) or
    # whose personal data was erased (`erased_at`), and each erasure of a person or an account,
    # kept as a SHA-256 of what named them (never the name itself), so history pages hide an
    # erased account's address and asking twice finds the first erasure.
    {
        "sqlite": """
    ALTER TABLE cases ADD COLUMN removed_at TEXT;
    ALTER TABLE cases ADD COLUMN erased_at TEXT;
    CREATE TABLE erasures (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        digest TEXT NOT NULL,
        cases INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX erasures_by_digest ON erasures (digest);
    """,
        "postgresql": """
    ALTER TABLE cases ADD COLUMN removed_at TEXT;
    ALTER TABLE cases ADD COLUMN erased_at TEXT;
    CREATE TABLE erasures (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        digest TEXT NOT NULL,
        cases INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX erasures_by_digest ON erasures (digest);
    """,
    },
    # 19: assessment panels. A commissioner assigns assessors to cases (an assignment is released,
    # never deleted, when the assessor declares a conflict or the work is given to someone else),
    # each assessor marks their own sheet complete, and a commissioner records a moderated score
    # with a reason when the assessors' weighted scores are too far apart.
    {
        "sqlite": PANELS.format(id="INTEGER PRIMARY KEY", int="INTEGER", real="REAL"),
        "postgresql": PANELS.format(
            id="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            int="BIGINT",
            real="DOUBLE PRECISION",
        ),
    },
    # 20: organisations known once. Their Charity Commission and Companies House numbers (no two
    # organisations hold the same one), and their name as it is compared (`name_key`, worked out
    # in engine.store.organisations; rows from before get theirs the first time a name is looked up).
    """
    ALTER TABLE organisations ADD COLUMN charity_number TEXT;
    ALTER TABLE organisations ADD COLUMN company_number TEXT;
    ALTER TABLE organisations ADD COLUMN name_key TEXT;
    CREATE UNIQUE INDEX organisations_charity_number ON organisations (charity_number)
        WHERE charity_number IS NOT NULL;
    CREATE UNIQUE INDEX organisations_company_number ON organisations (company_number)
        WHERE company_number IS NOT NULL;
    CREATE INDEX organisations_by_name_key ON organisations (name_key);
    """,
    # 21: the work account (the provider's issuer and subject) a staff account first signed in
    # with: a provider that later gives the same email address to someone else signs nobody in
    """
    ALTER TABLE users ADD COLUMN work_account TEXT;
    CREATE UNIQUE INDEX users_by_work_account ON users (work_account) WHERE work_account IS NOT NULL;
    """,
    # 22: an organisation's flagged cases (a missed promise) read without reading every case: a
    # partial index of the few cases whose flags are not empty (`organisation_flagged`)
    """
    CREATE INDEX cases_flagged_by_organisation ON cases (organisation_id, id) WHERE flags <> '{}';
    """,
    # 23: programmes edited in the browser. Each published version keeps the files it was built
    # from (to download, and to start the next draft from) and who published it; a draft is a
    # set of files being edited, saved with who and when, and a revision so that two people
    # saving the same draft cannot overwrite each other unawares.
    {
        "sqlite": DRAFTS.format(id="INTEGER PRIMARY KEY", int="INTEGER"),
        "postgresql": DRAFTS.format(
            id="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", int="BIGINT"
        ),
    },
    # 24: lists of cases counted from an index alone: every list leaves out cases whose content
    # went under a retention rule (`removed_at IS NULL`), which the older indexes do not hold, so
    # counting a programme's 100,000 cases read every row (~150 ms); by programme, and by
    # organisation for a caseworker's lists
    """
    CREATE INDEX cases_listed ON cases (programme_id, workflow, state) WHERE removed_at IS NULL;
    CREATE INDEX cases_listed_by_organisation ON cases (organisation_id, programme_id, workflow, state)
        WHERE removed_at IS NULL;
    """,
    # 25: the answer that labels a case in lists (its workflow's `label_question`), kept on the
    # case: searching a caseworker's people by it read and parsed every case's answers (a quarter
    # of a second for 5,000). Filled here from each case's own version; the engine keeps it since
    {
        "sqlite": LABELS.format(
            questions="json_extract(w.value, '$.label_question')",
            each="json_each(pv.data, '$.workflows') w",
            text="nullif(trim(CAST(json_extract(a.data, '$.' || q.question) AS TEXT)), '')",
            typed="json_type(a.data, '$.' || q.question) IN ('text', 'integer', 'real')",
        ),
        "postgresql": LABELS.format(
            questions="w.value ->> 'label_question'",
            each="jsonb_each(pv.data::jsonb -> 'workflows') w",
            text="nullif(trim(a.data::jsonb ->> q.question), '')",
            typed="jsonb_typeof(a.data::jsonb -> q.question) IN ('string', 'number')",
        ),
    },
    # 26: a programme's flagged cases (its dashboard) read without reading every case: the
    # partial index of migration 22, by programme
    "CREATE INDEX cases_flagged ON cases (programme_id, id) WHERE flags <> '{}';",
    # 27: how many cases each organisation holds in a programme (the trend page's choices) counted
    # from the index alone, never from 100,000 case rows; partial, so that no other read of a
    # programme's cases takes it for a narrower one
    "CREATE INDEX cases_by_programme_organisation ON cases (programme_id, organisation_id) "
    "WHERE organisation_id IS NOT NULL;",
    # 28: re-planning a case reads when each action was last taken and its moves between states:
    # answers saved, thousands on a busy case, are neither, so these indexes leave them out
    "CREATE INDEX audit_fired ON audit (case_id, action, at) WHERE action != 'answer';\n"
    "CREATE INDEX audit_moves ON audit (case_id, id) "
    "WHERE to_state IS NOT NULL AND (from_state IS NULL OR to_state != from_state);",
    # 29: figures worked out from every case of a programme (a KPI or trend page's), kept where
    # every web process and host finds them, with the audit row they are up to date with: a
    # process that starts brings them up to date rather than reading 100,000 cases again
    {
        "sqlite": "CREATE TABLE kept_figures (key TEXT PRIMARY KEY, checked INTEGER NOT NULL, "
        "kept_at TEXT NOT NULL, body BLOB NOT NULL);",
        "postgresql": "CREATE TABLE kept_figures (key TEXT PRIMARY KEY, checked BIGINT NOT NULL, "
        "kept_at TEXT NOT NULL, body BYTEA NOT NULL);",
    },
]
SCHEMA_VERSION = len(MIGRATIONS)
POSTGRES_BASELINE = 14  # the version PostgreSQL's one baseline reaches


def sqlite_migration(number: int) -> str:
    """The text that takes an SQLite database to schema `number`."""
    step = MIGRATIONS[number - 1]
    return step if isinstance(step, str) else step["sqlite"]


def postgres_migration(number: int) -> str:
    """The text that takes a PostgreSQL database to schema `number` (after the baseline)."""
    step = MIGRATIONS[number - 1]
    return step if isinstance(step, str) else step["postgresql"]


def split_statements(script: str) -> Iterator[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    buf = ""
    for line in script.strip().splitlines():
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            yield buf.strip()
            buf = ""
    if buf.strip():
        yield buf.strip()
