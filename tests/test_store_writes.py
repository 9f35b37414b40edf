"""Writes whose result nobody reads: PostgreSQL holds them back inside a transaction and sends
them with the next statement read, or with COMMIT. Whatever the database, a transaction reads
what it wrote, a compare-and-set that lost undoes the whole action, a failed write undoes
everything before it, and the cases a person works on come back whole in one read."""

from __future__ import annotations

import pytest

from engine.errors import DatabaseError, StaleCase
from engine.store import Store

NOW = "2022-02-15T09:00:00+00:00"


def _case(store: Store, org: str = "org_a") -> int:
    with store.transaction():
        store.ensure_organisation(org, "A", NOW)
        return store.insert_case({"programme_id": "p", "version": "1", "workflow": "application",
                                  "state": "draft", "organisation_id": org, "subject": None, "role": None,
                                  "lot": None, "parent_id": None, "created_at": NOW}, "CASE")  # fmt: skip


@pytest.fixture
def store(database: str) -> Store:
    return Store(database)


def test_a_transaction_reads_what_it_has_just_written(store: Store) -> None:
    case_id = _case(store)
    with store.transaction():
        store.save_answers(case_id, "eoi", 0, {"name": "Lunch club"}, NOW, False)
        store.audit(case_id, NOW, "applicant", "ann", "answer", "draft", "draft", "1", {})
        assert store.fired(case_id, "answer") == NOW
        found = store.case_with_answers(case_id)
        assert found is not None and [a["data"] for a in found[1]] == [{"name": "Lunch club"}]
    assert store.case(case_id)["reference"] == f"CASE-{case_id:06d}"


def test_a_lost_compare_and_set_undoes_the_whole_action(store: Store) -> None:
    case_id = _case(store)
    stale = pytest.raises(StaleCase, match="this case changed while you were looking at it")
    with stale, store.transaction():
        store.save_answers(case_id, "eoi", 0, {"name": "Lunch club"}, NOW, False)
        store.touch_case(case_id, 7, NOW)  # someone else moved it on: revision 0 is stored
        store.audit(case_id, NOW, "applicant", "ann", "answer", "draft", "draft", "1", {})
    assert store.answers(case_id) == [] and store.history(case_id) == []
    assert store.case(case_id)["revision"] == 0


def test_a_lost_compare_and_set_is_told_by_the_inner_block_that_lost_it(store: Store) -> None:
    case_id = _case(store)
    with store.transaction():
        # as the scheduler sees a case moved under the action it takes, and goes on
        with pytest.raises(StaleCase), store.transaction():
            store.move_case(case_id, 3, "submitted", {}, {}, NOW)
        store.ensure_organisation("org_b", "B", NOW)
    assert store.case(case_id)["state"] == "draft"
    assert store.organisation_names() == {"org_a": "A", "org_b": "B"}


def test_a_write_the_database_refuses_undoes_everything_before_it(store: Store) -> None:
    case_id = _case(store)
    with pytest.raises(DatabaseError, match="refused the change"), store.transaction():
        store.save_answers(case_id, "eoi", 0, {"name": "Lunch club"}, NOW, False)
        store.save_answers(case_id + 1000, "eoi", 0, {}, NOW, False)  # no such case
    assert store.answers(case_id) == []
    with store.transaction():  # the connection is whole again for the next action
        store.save_answers(case_id, "eoi", 0, {"name": "Tea dance"}, NOW, False)
    assert store.answers(case_id)[0]["data"] == {"name": "Tea dance"}


def test_a_case_and_its_answers_come_back_together_by_id_or_reference(store: Store) -> None:
    case_id, other = _case(store), _case(store)
    with store.transaction():
        store.save_answers(case_id, "eoi", 0, {"name": "Lunch club"}, NOW, True)
        store.save_answers(case_id, "visit", 2, {"seen": 3}, NOW, True)
        store.save_answers(case_id, "visit", 1, {"seen": 2}, NOW, True)
    row, answers = store.case_with_answers(case_id) or ({}, [])
    assert row == store.case(case_id) and answers == store.answers(case_id)
    assert [(a["form"], a["record"]) for a in answers] == [("eoi", 0), ("visit", 1), ("visit", 2)]
    assert store.case_with_answers(f"CASE-{other:06d}") == (store.case(other), [])
    assert store.case_with_answers(other + 1000) is None
