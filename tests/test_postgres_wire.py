"""A batch of statements goes to PostgreSQL in one round trip (engine.store.postgres_wire) and
comes back exactly as psycopg's own cursors give it: the same values, the same errors, nothing
after a failure run, and the connection fit to use again afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from engine.store import postgres_wire
from engine.store.postgres_wire import exchange

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def conn(database: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database, autocommit=True) as c:
        c.execute("CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT, score REAL, seen BOOLEAN)")
        yield c


def test_values_come_back_as_psycopg_gives_them(conn: psycopg.Connection) -> None:
    exchange(conn, [
        ("INSERT INTO notes VALUES (?, ?, ?, ?)", (1, "it's 50% done", 2.5, True)),
        ("INSERT INTO notes VALUES (:id, :body, :score, :seen)",
         {"id": 2**40, "body": None, "score": None, "seen": False}),
    ])  # fmt: skip
    got = exchange(conn, [
        ("SELECT * FROM notes ORDER BY id", ()),
        ("SELECT body FROM notes WHERE body LIKE 'it''s%' AND id = ?", (1,)),
        ("SELECT :a, :b, :a::text", {"a": 7, "b": "x"}),
    ])  # fmt: skip
    assert got[0].fetchall() == conn.execute("SELECT * FROM notes ORDER BY id").fetchall()
    assert got[0].fetchall() == [] and got[0].rowcount == 2  # read whole, as a cursor is
    assert [d[0] for d in got[0].description] == ["id", "body", "score", "seen"]
    assert got[1].fetchone() == ("it's 50% done",)
    assert got[2].fetchall() == [(7, "x", "7")]


def test_a_failure_stops_the_batch_there_and_is_psycopgs_own_error(
    conn: psycopg.Connection,
) -> None:
    insert = ("INSERT INTO notes (id, body) VALUES (?, ?)", (1, "first"))
    exchange(conn, [insert])
    with pytest.raises(psycopg.errors.UniqueViolation) as refused:
        exchange(conn, [
            ("BEGIN", ()), ("INSERT INTO notes (id, body) VALUES (?, ?)", (2, "second")),
            insert, ("INSERT INTO notes (id, body) VALUES (?, ?)", (3, "third")), ("COMMIT", ()),
        ])  # fmt: skip
    assert refused.value.diag.constraint_name == "notes_pkey"
    conn.execute("ROLLBACK")
    # nothing of the batch was kept: not the row before the failure, not the one after it
    assert conn.execute("SELECT id FROM notes ORDER BY id").fetchall() == [(1,)]


def test_a_statement_first_prepared_in_a_failed_batch_still_runs_afterwards(
    conn: psycopg.Connection,
) -> None:
    """The server skips a Parse after a failure in the same batch: the name must not be taken
    as made, or the statement fails on that connection the next time (psycopg has this bug in
    its pipeline mode, a "prepared statement does not exist" error)."""
    read = ("SELECT count(*) FROM notes WHERE id > ?", (0,))
    exchange(conn, [read])  # its first use: sent unnamed; the second is prepared
    with pytest.raises(psycopg.errors.DivisionByZero):
        exchange(conn, [("BEGIN", ()), ("SELECT 1 / 0", ()), read, ("COMMIT", ())])
    conn.execute("ROLLBACK")
    for _ in range(3):
        assert exchange(conn, [read])[0].fetchone() == (0,)


def test_a_batch_larger_than_the_socket_takes_is_sent_whole(conn: psycopg.Connection) -> None:
    body = "x" * 2000
    rows = [("INSERT INTO notes (id, body) VALUES (?, ?)", (i, body)) for i in range(5000)]
    results = exchange(conn, [("BEGIN", ()), *rows, ("COMMIT", ())])
    assert sum(r.rowcount for r in results) == 5000
    assert conn.execute("SELECT count(*), sum(length(body)) FROM notes").fetchone() == (
        5000,
        5000 * 2000,
    )


def test_statements_beyond_the_prepared_limit_still_run(
    conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres_wire, "PREPARED", 3)
    for _ in range(2):
        got = exchange(conn, [(f"SELECT {n} + ?", (1,)) for n in range(10)])
        assert [r.fetchone() for r in got] == [(n + 1,) for n in range(10)]
    named = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert named == (3,)


def test_statements_prepared_here_outlive_a_rollback_psycopg_makes(database: str) -> None:
    """psycopg deallocates every prepared statement at a ROLLBACK once it has prepared any of its
    own (after 5 uses of one query): connections the store configures never let it prepare, so
    the statements prepared here are still there afterwards."""
    from engine.store.postgres import _configure

    with psycopg.connect(database, autocommit=True) as conn:
        _configure(conn)
        for _ in range(2):  # prepared on its second use
            exchange(conn, [("SELECT ?::int + 1", (1,))])
        for _ in range(6):  # a query of psycopg's own, used often enough to be prepared by it
            conn.execute("SELECT pg_backend_pid()")
        with pytest.raises(psycopg.errors.DivisionByZero), conn.transaction():
            conn.execute("SELECT 1 / 0")  # psycopg rolls back
        assert exchange(conn, [("SELECT ?::int + 1", (2,))])[0].fetchall() == [(3,)]
