"""One open SQLite file: the connection (WAL, timeouts), its schema version and upgrades, and
the steps of `transaction()` and `execute`, for the table families (engine.store.connection).

SQLite's errors leave here as `DatabaseError` sentences a person can act on. A family that
expects a clash (a taken email address) asks with ON CONFLICT instead of catching an error.
"""

from __future__ import annotations

import fcntl
import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlite_utils

from engine.errors import Busy, DatabaseError
from engine.store.connection import Connection
from engine.store.migrations import SCHEMA_VERSION, split_statements, sqlite_migration


def _friendly(exc: sqlite3.Error, path: str) -> DatabaseError:
    """SQLite's error as a sentence naming the file and what to do about it."""
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


def _busy(exc: sqlite3.OperationalError) -> bool:
    """True when another connection holds the lock (SQLITE_BUSY), worth trying again."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class SqliteConnection(Connection):
    """The database file every table family reads and writes through (mixed into `SqliteStore`)."""

    db: sqlite_utils.Database
    path: str

    def __init__(self, path: str | Path, *, check: bool = True, timeout: float = 5.0) -> None:
        self.path = str(path)
        self._timeout = timeout
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

    def schema_version(self) -> int:
        """The schema version recorded in the file (0 for a new file)."""
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def upgrade(self) -> list[int]:
        """Apply every migration the file lacks, each in its own transaction; the versions applied."""
        applied = []
        for number in range(self.schema_version() + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in split_statements(sqlite_migration(number)):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")
            applied.append(number)
        return applied

    # SQLite has one writer at a time whatever `serial` says: BEGIN IMMEDIATE is that writer
    def _open(self, serial: bool) -> None:
        self._begin()

    def _commit(self) -> None:
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self.db.execute("ROLLBACK")
            raise _friendly(exc, self.path) from None

    def _rollback(self) -> None:
        self.db.execute("ROLLBACK")

    def _begin(self) -> None:
        """BEGIN IMMEDIATE, waiting for another connection's write in steps of a fraction of a
        millisecond, up to the connection's timeout.

        SQLite's own busy handler sleeps 1, 2, 5, 10, 15… ms between tries: a worker waiting for
        another's save of 2 ms would sleep through most of the time the lock was free. So each
        try answers at once (busy_timeout 0) and this paces them: every 0.1 ms, growing to 2 ms.
        """
        self.db.execute("PRAGMA busy_timeout = 0")
        try:
            deadline, pause = time.monotonic() + self._timeout, 0.0001
            while True:
                try:
                    self.db.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if not _busy(exc) or time.monotonic() >= deadline:
                        raise _friendly(exc, self.path) from None
                except sqlite3.Error as exc:
                    raise _friendly(exc, self.path) from None
                time.sleep(pause)
                pause = min(pause * 1.5, 0.002)
        finally:  # every other statement waits as SQLite does, up to the timeout
            self.db.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        """Run one statement, turning SQLite's errors into sentences."""
        try:
            return self.db.execute(sql, params)
        except sqlite3.Error as exc:
            raise _friendly(exc, self.path) from None

    def execute_many(self, sql: str, rows: list[dict[str, Any]]) -> sqlite3.Cursor:
        """Run one statement for many rows."""
        try:
            return self.db.conn.executemany(sql, rows)  # type: ignore[attr-defined]
        except sqlite3.Error as exc:
            raise _friendly(exc, self.path) from None

    @contextmanager
    def one_at_a_time(self, name: str, *, wait: bool = True) -> Iterator[None]:
        """As `Connection.one_at_a_time`: a lock on a file of its own beside the database (the
        system lets it go if the process holding it dies)."""
        held = None
        if self.path != ":memory:":
            folder = Path(f"{self.path}-locks")
            file = folder / f"{hashlib.sha256(name.encode()).hexdigest()[:24]}.lock"
            with suppress(OSError):  # a folder it may not write to: the work is done, maybe twice
                folder.mkdir(exist_ok=True)
                held = open(file, "a+b")  # noqa: SIM115 - closed below, once the lock is let go
        if held is None:
            yield
            return
        with held:
            try:
                fcntl.flock(held, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                raise Busy(f"another process is working out {name}") from None
            try:
                yield
            finally:
                fcntl.flock(held, fcntl.LOCK_UN)

    def table_names(self) -> list[str]:
        """The tables in the file."""
        return list(self.db.table_names())

    def close(self) -> None:
        """Close the file."""
        self.db.conn.close()

    def backup(self, to: str | Path) -> None:
        """Copy the whole database to a new file while it is in use (SQLite's online backup)."""
        target = sqlite3.connect(str(to))
        try:
            self.db.conn.backup(target)
        finally:
            target.close()
