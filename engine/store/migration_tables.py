"""Tables written once for both databases, for migrations that differ between them only in how
each makes an id, an integer or a real, or reads JSON (filled in by `str.format` in
engine.store.migrations).
"""

# Migration 17's tables, the same on both databases but for how each makes an id.
STAFF = """
    CREATE TABLE staff_roles (
        id {id},
        user_id {user_id} NOT NULL REFERENCES users(id),
        role TEXT NOT NULL,
        programme_id TEXT,
        organisation_id TEXT REFERENCES organisations(id),
        granted_by TEXT NOT NULL,
        granted_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX staff_roles_once ON staff_roles
        (user_id, role, coalesce(programme_id, ''), coalesce(organisation_id, ''));
    CREATE INDEX staff_roles_by_programme ON staff_roles (programme_id, role);
    ALTER TABLE users ADD COLUMN disabled_at TEXT;
    INSERT INTO staff_roles (user_id, role, programme_id, organisation_id, granted_by, granted_at)
        SELECT id, role, NULL, CASE WHEN role = 'caseworker' THEN organisation_id END, 'upgrade',
               created_at
        FROM users WHERE role IN ('commissioner', 'assessor', 'caseworker');
    CREATE TABLE service_log (
        id {id},
        at TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        actor_id TEXT,
        action TEXT NOT NULL,
        programme_id TEXT,
        subject TEXT,
        detail TEXT NOT NULL DEFAULT '{{}}'
    );
    CREATE INDEX service_log_by_subject ON service_log (subject, id);
"""

# Migration 19's tables: the same on both databases but for their ids, integers and reals.
PANELS = """
    ALTER TABLE assessments ADD COLUMN completed_at TEXT;
    CREATE TABLE assignments (
        id {id},
        case_id {int} NOT NULL REFERENCES cases(id),
        programme_id TEXT NOT NULL,
        assessor TEXT NOT NULL,
        assigned_by TEXT NOT NULL,
        assigned_at TEXT NOT NULL,
        released_at TEXT,
        released_by TEXT,
        release_reason TEXT
    );
    CREATE INDEX assignments_by_case ON assignments (case_id);
    CREATE INDEX assignments_by_assessor ON assignments (assessor, released_at);
    CREATE INDEX assignments_by_programme ON assignments (programme_id);
    CREATE UNIQUE INDEX assignments_live_once ON assignments (case_id, assessor) WHERE released_at IS NULL;
    CREATE TABLE moderated_scores (
        case_id {int} PRIMARY KEY REFERENCES cases(id),
        score {real} NOT NULL,
        reason TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    """

# Each entry upgrades the schema by one version; never edit one that has shipped, add another.
# Migration 23's table: the same on both databases but for its id and integers.
DRAFTS = """
    ALTER TABLE programme_versions ADD COLUMN files TEXT;
    ALTER TABLE programme_versions ADD COLUMN published_by TEXT;
    CREATE TABLE programme_drafts (
        id {id},
        programme_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        main_file TEXT NOT NULL,
        files TEXT NOT NULL,
        base_version TEXT,
        revision {int} NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        saved_by TEXT NOT NULL,
        saved_at TEXT NOT NULL,
        published_version TEXT,
        published_at TEXT,
        closed_at TEXT
    );
    CREATE INDEX programme_drafts_by_programme ON programme_drafts (programme_id, id);
"""

# Migration 25: each case's label in lists, filled from the label question of its own version
# (read from each version's JSON once, into a temporary table, not once per case).
LABELS = """
    ALTER TABLE cases ADD COLUMN label TEXT;
    CREATE TEMPORARY TABLE label_questions AS
        SELECT pv.programme_id, pv.version, w.key AS workflow, {questions} AS question
        FROM programme_versions pv, {each}
        WHERE {questions} IS NOT NULL;
    UPDATE cases SET label = (
        SELECT {text}
        FROM label_questions q JOIN answers a ON a.case_id = cases.id AND a.record_no = 0
        WHERE q.programme_id = cases.programme_id AND q.version = cases.version
            AND q.workflow = cases.workflow AND {typed}
        ORDER BY a.form_id LIMIT 1)
    WHERE EXISTS (SELECT 1 FROM label_questions q WHERE q.programme_id = cases.programme_id
        AND q.version = cases.version AND q.workflow = cases.workflow);
    DROP TABLE label_questions;
"""
