"""What every database the store runs on offers the table families: `execute`, `execute_many`,
`write` and `write_many` (statements whose result nobody reads), `transaction()`, the schema
version and upgrades, and rows as dicts.

`SqliteConnection` (engine.store.sqlite) and `PostgresConnection` (engine.store.postgres) fill
it in. The table families are written against this base alone, in one SQL text with `?` and
`:name` placeholders, so neither database has its own copy of a query.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any, Protocol

from engine.errors import StaleCase


class Cursor(Protocol):
    """What a statement leaves: its rows, how many it changed, and the names of its columns."""

    rowcount: int
    description: Any

    def fetchone(self) -> Any:
        """The next row, or None."""

    def fetchall(self) -> list[Any]:
        """Every remaining row."""

    def __iter__(self) -> Iterator[Any]:
        """The rows one by one."""


def dicts(cur: Cursor) -> list[dict[str, Any]]:
    """A statement's remaining rows as dicts keyed by column name."""
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


class Connection:
    """The base every table family builds on; a subclass fills in one database."""

    path: str  # where the database is, fit to print (a URL's password hidden)
    # appended to a locking sub-select: a second scheduler passes over rows the first holds
    skip_locked: str = ""

    def execute(self, sql: str, params: tuple | dict = ()) -> Cursor:
        """Run one statement, turning the driver's errors into sentences."""
        raise NotImplementedError

    def execute_many(self, sql: str, rows: list[dict[str, Any]]) -> Cursor:
        """Run one statement for many rows."""
        raise NotImplementedError

    def write(self, sql: str, params: tuple | dict = (), *, stale: str | None = None) -> None:
        """Run a statement whose result nobody reads; with `stale`, raise StaleCase with that
        sentence when it changes no row (a compare-and-set someone else won: an UPDATE, with
        no RETURNING of its own).

        Inside a transaction a database may hold it back and send it with the next statement
        (PostgreSQL does: one round trip for many); it is sent, and its check made, before the
        next read, before an inner transaction block that wrote it ends, and no later than
        COMMIT (PostgreSQL makes the check on the server, in COMMIT's round trip: a lost one
        fails the statement, so COMMIT after it commits nothing).
        """
        cur = self.execute(sql, params)
        if stale is not None and cur.rowcount != 1:
            raise StaleCase(stale)

    def write_many(self, sql: str, rows: list[dict[str, Any]]) -> None:
        """Run one statement for many rows whose result nobody reads (sent as `write` is)."""
        if rows:
            self.execute_many(sql, rows)

    def _read_together(self, statements: Sequence[tuple[str, tuple | dict]]) -> list[Cursor]:
        """Run statements in order, each one's result to read: PostgreSQL sends them, and the
        writes held back before them, in one round trip."""
        return [self.execute(sql, params) for sql, params in statements]

    @contextmanager
    def one_at_a_time(self, name: str, *, wait: bool = True) -> Iterator[None]:
        """Hold a lock called `name` that every process on this database honours, for work no
        two should do at once: wait while another holds it (or, not `wait`, raise `Busy`)."""
        yield  # a database no other process can open needs none

    # -- transactions: one re-entrant frame, each database fills in the steps ------------------
    _depth = 0  # transaction blocks open: the outermost one commits
    _owner: int | None = None  # the thread whose transaction is open

    @cached_property
    def _guard(self) -> threading.Lock:
        """Held by the outermost transaction: another thread's waits for it (made once a store)."""
        return threading.Lock()

    @contextmanager
    def transaction(self, *, serial: bool = True) -> Iterator[None]:
        """All of an action or none of it; with `serial`, one writer at a time, as on SQLite.

        Re-entrant: inside another transaction it joins it (the outermost one commits), so the
        scheduler can take an action and mark its reminder done as one unit. Only the thread that
        opened it joins it: another thread's transaction on this store waits for it to end.
        """
        if self._depth and self._owner == threading.get_ident():
            self._join(serial)
            self._depth += 1
            try:
                yield
                self._settle()  # a lost compare-and-set is told by the block that lost it
            finally:
                self._depth -= 1
            return
        # one connection, one transaction at a time: a thread joining another's would have its
        # writes committed or rolled back by the other (the store is not shared by design, this
        # makes sure)
        with self._guard:
            self._owner = threading.get_ident()
            self._open(serial)
            try:
                self._depth = 1
                try:
                    yield
                except BaseException:
                    self._depth = 0
                    self._rollback()
                    raise
                self._depth = 0
                self._commit()
            finally:
                self._depth, self._owner = 0, None
                self._release()

    def _open(self, serial: bool) -> None:
        """Begin the outermost transaction (with `serial`, as the one writer)."""
        raise NotImplementedError

    def _join(self, serial: bool) -> None:
        """An inner transaction block begins (with `serial`, the writer lock if not yet held)."""

    def _settle(self) -> None:
        """An inner block ends: whatever it wrote and has not yet sent is sent and checked."""

    def _commit(self) -> None:
        """Commit the outermost transaction."""
        raise NotImplementedError

    def _rollback(self) -> None:
        """Roll the outermost transaction back (its block raised)."""
        raise NotImplementedError

    def _release(self) -> None:
        """After the outermost transaction, committed or not: let go of what it held."""

    def schema_version(self) -> int:
        """The schema version recorded in the database (0 for a new one)."""
        raise NotImplementedError

    def upgrade(self) -> list[int]:
        """Apply every migration the database lacks, each in its own transaction; the versions applied."""
        raise NotImplementedError

    def table_names(self) -> list[str]:
        """The tables in the database, for copying one database into another."""
        raise NotImplementedError

    def close(self) -> None:
        """Let go of the database (the process may go on without it)."""

    def _after_copy(self, table: str) -> None:
        """Bring anything the database counts for itself (PostgreSQL's identities) past copied rows."""

    def _rows(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        """A query's rows as dicts keyed by column name."""
        return dicts(self.execute(sql, params))

    def _returning_id(self, sql: str, params: tuple | dict) -> int | None:
        """Run an INSERT … RETURNING id: the new row's id, or None if it inserted nothing."""
        row = self.execute(sql, params).fetchone()
        return int(row[0]) if row else None
