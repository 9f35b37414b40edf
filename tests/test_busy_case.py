"""A case saved thousands of times is saved as quickly as a new one: what a save reads about the
case's history (the planner's facts) costs the same whatever the number of answers saved before.

Measured as work the database does, never as time: on SQLite the virtual machine's steps (its
progress handler), on PostgreSQL the pages a query touches (EXPLAIN's buffer counts), each for
the facts of a case with a handful of answers saved and of one with 3,000, after the statistics
a live database keeps (ANALYZE) and before them. Both once read every answer saved: SQLite
because a max() inside a subquery reads all rows, PostgreSQL because it could not estimate the
rows that moved a case between states.
"""

from __future__ import annotations

import re

import pytest

from engine.store import Store
from engine.store.reminders import facts_sql

from .databases import ON_POSTGRES

NOW = "2022-01-20T10:00:00+00:00"
SAVES = 3000


def _case(store: Store, answers: int) -> int:
    """A case that has started, moved once and had `answers` answers saved (audit rows)."""
    with store.transaction():
        store.ensure_organisation("org_a", "A", NOW)
        case = store.insert_case({"programme_id": "tiny_grants", "version": "v1", "workflow": "application",
                                  "state": "submitted", "organisation_id": "org_a", "subject": None, "role": None,
                                  "lot": None, "parent_id": None, "created_at": NOW}, "CASE")  # fmt: skip
        store.audit(case, NOW, "applicant", "ann", "start", None, "draft", "v1", {})
        store.audit(case, NOW, "applicant", "ann", "submit", "draft", "submitted", "v1", {})
        for n in range(answers):
            at = f"2022-01-{10 + n % 10:02d}T09:{n % 60:02d}:00+00:00"
            store.audit(case, at, "applicant", "ann", "answer", "draft", "draft", "v1", {"n": n})
    return case


def _work(store: Store, case: int) -> int:
    """How much work reading the case's planning facts takes (steps or pages, see above)."""
    sql, params = facts_sql("?", "?"), (case, case, "tiny_grants", case, case)
    if ON_POSTGRES:
        plan = "\n".join(r[0] for r in store.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params))
        return sum(int(n) for n in re.findall(r"shared hit=(\d+)", plan.split("Planning")[0]))
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    conn = store.db.conn  # type: ignore[attr-defined]
    conn.set_progress_handler(count, 10)
    try:
        store.execute(sql, params).fetchall()
    finally:
        conn.set_progress_handler(None, 0)
    return steps[0]


@pytest.fixture
def store(database: str) -> Store:
    return Store(database)


def test_a_busy_cases_facts_are_read_with_the_same_work_as_a_new_ones(store: Store) -> None:
    quiet = _case(store, 5)
    busy = _case(store, SAVES)
    facts = store.plan_facts(busy, "tiny_grants")
    assert facts["moves"] == [(NOW, "draft"), (NOW, "submitted")]
    assert facts["fired"]["answer"] == "2022-01-19T09:59:00+00:00"  # the latest, not the last
    for analysed in (False, True):
        if analysed:
            store.execute("ANALYZE")
        assert _work(store, busy) <= 2 * _work(store, quiet) + 10, (
            f"reading a busy case's facts does work in proportion to its answers (ANALYZE: {analysed})"
        )
