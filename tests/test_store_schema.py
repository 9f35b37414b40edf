"""The two databases hold the same tables and columns, SQL is written once for both, PostgreSQL
refuses a database it cannot use with what to do, and schedulers pass over each other's rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DatabaseError
from engine.store import Store
from engine.store.dialect import is_postgres, shown, to_numbered

from .databases import TEST_DB, database_in

NOW = "2022-02-15T09:00:00+00:00"


def test_placeholders_are_numbered_for_postgresql_and_literals_are_left_alone() -> None:
    assert to_numbered("SELECT * FROM t WHERE a = ? AND b = ?") == (
        b"SELECT * FROM t WHERE a = $1 AND b = $2",
        (0, 1),
    )
    # a name used twice is one parameter; a literal keeps its ? and :word, a cast its ::
    assert to_numbered("SELECT :a, :b || 'what? :no 50%', :a::text") == (
        b"SELECT $1, $2 || 'what? :no 50%', $1::text",
        ("a", "b"),
    )
    assert to_numbered("SELECT 'it''s ?' WHERE a LIKE 'x%' AND b = ?") == (
        b"SELECT 'it''s ?' WHERE a LIKE 'x%' AND b = $1",
        (0,),
    )


def test_a_database_is_chosen_by_its_url_and_shown_without_its_password() -> None:
    assert is_postgres("postgresql://u:secret@db.example/commission")
    assert not is_postgres("var/commission.db") and not is_postgres(Path("postgresql:x"))
    assert (
        shown("postgresql://u:secret@db.example:5433/c") == "postgresql://u:***@db.example:5433/c"
    )
    assert shown("var/commission.db") == "var/commission.db"


def _columns(store: Store) -> dict[str, list[str]]:
    if store.kind == "SQLite":
        return {
            t: [r["name"] for r in store._rows(f"PRAGMA table_info({t})")]
            for t in store.table_names()
        }
    rows = store._rows(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    out: dict[str, list[str]] = {}
    for row in rows:
        if row["table_name"] != "schema_version":
            out.setdefault(row["table_name"], []).append(row["column_name"])
    return out


@pytest.mark.postgres_only
def test_postgresql_has_every_table_and_column_sqlite_has_in_the_same_order(tmp_path: Path) -> None:
    sqlite = Store(tmp_path / "engine.db")
    postgres = Store(database_in(tmp_path))
    assert postgres.schema_version() == sqlite.schema_version()
    assert _columns(postgres) == _columns(sqlite)


@pytest.mark.postgres_only
def test_postgresql_refuses_a_newer_or_foreign_database_with_what_to_do(tmp_path: Path) -> None:
    newer = Store(database_in(tmp_path, "newer"))
    newer.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(DatabaseError, match="newer version of the engine"):
        Store(database_in(tmp_path, "newer"))
    foreign = Store(database_in(tmp_path, "foreign"), check=False)
    foreign.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(DatabaseError, match="not this engine's; give the engine a database"):
        Store(database_in(tmp_path, "foreign"))


@pytest.mark.postgres_only
def test_a_wrong_address_is_told_in_words_and_without_the_password() -> None:
    wrong = TEST_DB.rsplit("/", 1)[0] + "/no_such_database_here"
    with pytest.raises(DatabaseError) as refused:
        Store(wrong)
    text = str(refused.value)
    assert "cannot reach the database" in text and "check the server is running" in text
    assert "no_such_database_here" in text and ":commission_test@" not in text


def _queued(store: Store, count: int) -> list[int]:
    with store.transaction():
        return [
            store.add_outbox_message(f"p{i}@example.org", "Hello", "Body", NOW)
            for i in range(count)
        ]


def test_a_message_claimed_by_one_scheduler_is_not_claimed_by_another(database: str) -> None:
    first, second = Store(database), Store(database)
    ids = _queued(first, 3)
    with first.transaction(serial=False):
        assert first.claim_messages(ids[:2], "first", NOW, "2022-02-15T09:05:00+00:00") == set(
            ids[:2]
        )
    with second.transaction(serial=False):
        assert second.claim_messages(ids, "second", NOW, "2022-02-15T09:05:00+00:00") == {ids[2]}


@pytest.mark.postgres_only
def test_a_scheduler_passes_over_rows_another_is_claiming_instead_of_waiting(database: str) -> None:
    first, second = Store(database), Store(database)
    ids = _queued(first, 3)
    with first.transaction(serial=False):  # still open: its rows are locked, not yet committed
        assert first.claim_messages(ids[:2], "first", NOW, "2022-02-15T09:05:00+00:00") == set(
            ids[:2]
        )
        with second.transaction(serial=False):
            second.execute(
                "SET LOCAL lock_timeout = '2s'"
            )  # were it to wait: a failure, not a hang
            assert second.claim_messages(ids, "second", NOW, "2022-02-15T09:05:00+00:00") == {
                ids[2]
            }


@pytest.mark.postgres_only
def test_a_writer_kept_waiting_is_told_the_database_is_busy_not_left_hanging(database: str) -> None:
    holder, quick = Store(database), Store(database, timeout=0.05)
    with holder.transaction():  # holds the writer lock from its first statement on
        holder.ensure_organisation("org_a", "A", NOW)
        assert holder.organisation_names() == {"org_a": "A"}  # read: BEGIN and the lock are sent
        busy = pytest.raises(DatabaseError, match="busy with another action; try again in a moment")
        with busy, quick.transaction():
            quick.ensure_organisation("org_b", "B", NOW)
    assert holder.organisation_names() == {"org_a": "A"}
