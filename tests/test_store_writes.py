"""Writes whose result nobody reads: PostgreSQL holds them back inside a transaction and sends
them with the next statement read, or with COMMIT. Whatever the database, a transaction reads
what it wrote, a compare-and-set that lost undoes the whole action, a failed write undoes
everything before it, and the cases a person works on come back whole in one read.

On PostgreSQL, each round trip counted: an everyday action reads once (the case, its answers
and what re-planning its reminders needs) and sends everything else with COMMIT."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.errors import Busy, DatabaseError, StaleCase
from engine.runtime import Actor, Engine
from engine.store import Store

from .conftest import EXAMPLE

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


def test_a_case_comes_back_with_what_re_planning_it_reads(store: Store) -> None:
    case_id = _case(store)
    with store.transaction():
        store.save_answers(case_id, "eoi", 0, {"name": "Lunch club"}, NOW, False)
        store.audit(case_id, NOW, "applicant", "ann", "start", None, "draft", "1", {})
        store.audit(case_id, "2022-02-16T09:00:00+00:00", "applicant", "ann", "submit", "draft",
                    "submitted", "1", {})  # fmt: skip
        store.audit(case_id, "2022-02-17T09:00:00+00:00", "applicant", "ann", "answer",
                    "submitted", "submitted", "1", {})  # fmt: skip
        store.pin("p", "outcome", "2022-03-01T10:00:00+00:00", "cat", NOW)
    facts = store.plan_facts(case_id, "p")
    assert facts["moves"] == [(NOW, "draft"), ("2022-02-16T09:00:00+00:00", "submitted")]
    assert facts["pins"] == {"outcome": "2022-03-01T10:00:00+00:00"}
    for key in (case_id, f"CASE-{case_id:06d}"):
        found = store.case_with_facts(key)
        assert found is not None
        assert found[:2] == store.case_with_answers(case_id) and found[2] == facts
    assert store.case_with_facts(case_id + 1000) is None


# -- round trips on PostgreSQL ------------------------------------------------------------------
APPLICANT = Actor("applicant", "ann", "org_a")
ANSWERS = {"org_name": "Org", "income": 50000, "org_type": "charity",
           "priorities": ["isolation"], "summary": "Lunch club"}  # fmt: skip


def _label(sql: str) -> str:
    """A statement in a few words: what it does to which table (a read: the first it reads)."""
    words = sql.split()
    verb = words[0].upper()
    if verb == "INSERT":
        return f"INSERT {words[2]}"
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    if verb == "WITH":  # a compare-and-set the server checks (see engine.store.postgres)
        return "UPDATE " + re.findall(r"UPDATE (\w+)", sql)[0] + ", checked"
    if verb == "SELECT":
        table = re.search(r" FROM (\w+)", sql)
        return f"SELECT {table.group(1) if table else words[1].split('(')[0]}"
    return verb


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Each round trip to PostgreSQL made from here on, as the statements it carried: a batch
    the store sends through libpq's pipeline, or a statement psycopg sends on its own."""
    import psycopg

    import engine.store.postgres as postgres

    sent: list[list[str]] = []
    exchange, execute = postgres.exchange, psycopg.Connection.execute

    def counted_exchange(conn: Any, statements: Any) -> Any:
        sent.append([_label(sql) for sql, _params in statements])
        return exchange(conn, statements)

    def counted_execute(conn: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append([_label(query.decode() if isinstance(query, bytes) else str(query))])
        return execute(conn, query, *args, **kwargs)

    monkeypatch.setattr(postgres, "exchange", counted_exchange)
    monkeypatch.setattr(psycopg.Connection, "execute", counted_execute)
    return sent


@pytest.fixture
def engine(database: str) -> Engine:
    e = Engine(database, clock=lambda: datetime(2022, 1, 10, 12, tzinfo=UTC))
    e.publish(EXAMPLE / "programmes" / "tiny.yaml")
    # one of each first: the pool has its connection and the programme is known
    case = e.start_case("tiny_grants", "application", APPLICANT).id
    e.save_answers(case, "tiny_eoi", ANSWERS, APPLICANT)
    e.act(case, "submit", APPLICANT)
    return e


def _counted(trips: list[list[str]], action: Any) -> tuple[Any, list[list[str]]]:
    trips.clear()
    result = action()
    return result, list(trips)


LOCKED = ["BEGIN", "SELECT pg_advisory_xact_lock"]  # the one writer at a time, as on SQLite
READ = [*LOCKED, "SELECT cases", "SELECT audit"]  # the case with its answers; re-planning's facts


@pytest.mark.postgres_only
def test_an_everyday_action_reads_once_and_sends_the_rest_with_commit(
    engine: Engine, trips: list[list[str]]
) -> None:
    case, started = _counted(
        trips, lambda: engine.start_case("tiny_grants", "application", APPLICANT)
    )
    # the new row, on the version the engine last started one on if it is still the newest,
    # and its programme's pins; its reference, audit event and reminder (7 days before the
    # deadline) go with COMMIT
    assert started == [
        [*LOCKED, "INSERT organisations", "INSERT cases", "SELECT pins"],
        ["UPDATE cases", "INSERT audit", "INSERT reminders", "COMMIT"],
    ]
    _, answered = _counted(
        trips, lambda: engine.save_answers(case.id, "tiny_eoi", ANSWERS, APPLICANT)
    )
    assert answered == [READ, ["INSERT answers", "UPDATE cases, checked", "INSERT audit", "COMMIT"]]
    view, acted = _counted(trips, lambda: engine.act(case.id, "submit", APPLICANT))
    # submitted: the form sent, the case moved, its reminder (for drafts) cancelled
    assert acted == [READ, ["UPDATE answers", "UPDATE cases, checked", "INSERT audit",
                            "UPDATE reminders", "COMMIT"]]  # fmt: skip
    # what the action returns is the case as it now stands, without reading it back
    assert view == engine.case(case.id, APPLICANT)
    assert view.state == "submitted" and view.submitted["tiny_eoi"] is not None
    assert [r["status"] for r in engine.store.reminders_for(case.id)] == ["cancelled"]


def test_a_page_works_out_its_answers_from_the_case_its_save_reads(
    engine: Engine, trips: list[list[str]]
) -> None:
    """A web page finds its questions from the case as the save read it: one read for both, and
    nothing written when the page says there is nothing to save (its answers need correcting)."""
    case = engine.start_case("tiny_grants", "application", APPLICANT).id
    engine.save_answers(case, "tiny_eoi", {"org_name": "Org"}, APPLICANT)
    seen = []

    def answers_of(view: Any) -> tuple[str, dict[str, Any]] | None:
        seen.append(view.answers.get("tiny_eoi"))
        return None if len(seen) == 1 else ("tiny_eoi", {"summary": "Lunch club"})

    before = (engine.store.case(case)["revision"], len(engine.store.history(case)))
    nothing, refused = _counted(
        trips, lambda: engine.save_answers_as_read(case, APPLICANT, answers_of)
    )
    assert nothing is None and seen == [{"org_name": "Org"}]
    assert (engine.store.case(case)["revision"], len(engine.store.history(case))) == before
    view, saved = _counted(trips, lambda: engine.save_answers_as_read(case, APPLICANT, answers_of))
    assert view is not None and view.answers["tiny_eoi"] == {
        "org_name": "Org",
        "summary": "Lunch club",
    }
    assert view == engine.case(case, APPLICANT)
    if engine.store.kind == "PostgreSQL":  # the case read once, under the writer lock
        assert refused == [READ, ["COMMIT"]]  # nothing held: COMMIT alone
        assert saved == [
            READ,
            ["INSERT answers", "UPDATE cases, checked", "INSERT audit", "COMMIT"],
        ]


@pytest.mark.postgres_only
def test_a_compare_and_set_lost_at_commit_is_told_in_its_round_trip_and_undoes_everything(
    store: Store, trips: list[list[str]]
) -> None:
    case_id = _case(store)
    trips.clear()
    stale = pytest.raises(StaleCase, match="this case changed while you were looking at it")
    with stale, store.transaction():
        store.save_answers(case_id, "eoi", 0, {"name": "Lunch club"}, NOW, False)
        store.touch_case(case_id, 7, NOW)  # revision 0 is stored
        store.audit(case_id, NOW, "applicant", "ann", "answer", "draft", "draft", "1", {})
    # one round trip with COMMIT, checked by the server; then the connection is rolled back
    assert trips == [
        [*LOCKED, "INSERT answers", "UPDATE cases, checked", "INSERT audit", "COMMIT"],
        ["ROLLBACK"],
    ]
    assert store.answers(case_id) == [] and store.history(case_id) == []
    with store.transaction():  # one that holds commits in the same round trip
        store.touch_case(case_id, 0, NOW)
    assert store.case(case_id)["revision"] == 1


def test_a_signed_in_persons_session_and_roles_come_back_in_one_read(
    store: Store, database: str, trips: list[list[str]]
) -> None:
    """Each request checks its session and reads the roles it grants together: a role taken away
    counts from the next request, and an ended session gives neither person nor roles."""
    with store.transaction():
        store.ensure_organisation("org_a", "A", NOW)
        user = store.create_user("sam@example.org", None, "Sam", "assessor", "org_a", NOW)
        store.grant_role(user, "assessor", "p", None, "admin", NOW)
        store.grant_role(user, "commissioner", None, None, "admin", NOW)
        store.add_session("s1", user, NOW)
    trips.clear()
    person, grants = store.session_user_and_roles("s1")
    assert person is not None and person["email"] == "sam@example.org"
    assert [(g["role"], g["programme_id"]) for g in grants] == [("assessor", "p"), ("commissioner", None)]  # fmt: skip
    if database.startswith("postgresql"):
        assert trips == [["SELECT sessions", "SELECT sessions"]]
    store.revoke_role(next(g["id"] for g in grants if g["role"] == "commissioner"))
    assert [g["role"] for g in store.session_user_and_roles("s1")[1]] == ["assessor"]
    store.end_session("s1", NOW)
    assert store.session_user_and_roles("s1") == (None, [])


def test_work_one_process_does_at_a_time_is_refused_to_another_while_held(
    store: Store, database: str
) -> None:
    """A lock every process honours (working out a page's figures from every case): another
    process asking without waiting is told it is busy; another name, or once let go, is free."""
    other = Store(database)  # as another process opens it: a connection of its own
    with store.one_at_a_time("kpis:page"):
        busy = pytest.raises(Busy, match="another process is working out kpis:page")
        with busy, other.one_at_a_time("kpis:page", wait=False):
            pass
        with other.one_at_a_time("kpis:another page", wait=False):
            pass
    with other.one_at_a_time("kpis:page", wait=False):
        pass


class _Watched:
    """A store's transaction lock that says when `thread` tries to take it."""

    def __init__(self, thread: threading.Thread) -> None:
        self.lock, self.thread, self.tried = threading.Lock(), thread, threading.Event()

    def __enter__(self) -> None:
        if threading.current_thread() is self.thread:
            self.tried.set()
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def test_a_second_threads_transaction_waits_and_is_never_undone_by_the_first(store: Store) -> None:
    case_id = _case(store)
    outcome: list[str] = []

    def second() -> None:
        with store.transaction():
            store.save_answers(case_id, "other", 0, {"name": "Second"}, NOW, False)
        outcome.append("committed")

    other = threading.Thread(target=second)
    store._guard = watched = _Watched(other)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="the first fails"), store.transaction():
        store.save_answers(case_id, "eoi", 0, {"name": "First"}, NOW, False)
        other.start()
        # it waits for this transaction to end; it once joined it, and was rolled back with it
        assert watched.tried.wait(timeout=10), "the second thread went straight into this one"
        raise RuntimeError("the first fails")
    other.join()
    assert outcome == ["committed"]
    assert [a["form"] for a in store.answers(case_id)] == ["other"]
