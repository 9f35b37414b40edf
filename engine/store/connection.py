"""What every database the store runs on offers the table families: `execute`, `execute_many`,
`transaction()`, the schema version and upgrades, and rows as dicts.

`SqliteConnection` (engine.store.sqlite) and `PostgresConnection` (engine.store.postgres) fill
it in. The table families are written against this base alone, in one SQL text with `?` and
`:name` placeholders, so neither database has its own copy of a query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol


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

    def transaction(self, *, serial: bool = True) -> AbstractContextManager[None]:
        """All of an action or none of it; with `serial`, one writer at a time, as on SQLite."""
        raise NotImplementedError

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
        cur = self.execute(sql, params)
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def _returning_id(self, sql: str, params: tuple | dict) -> int | None:
        """Run an INSERT … RETURNING id: the new row's id, or None if it inserted nothing."""
        row = self.execute(sql, params).fetchone()
        return int(row[0]) if row else None
