"""One PostgreSQL database, through a pool of connections each process shares (psycopg 3).

The table families' SQL is the same text SQLite runs; `dialect.to_pyformat` rewrites its
placeholders. A statement outside a transaction borrows a connection for itself (autocommit);
`transaction()` holds one connection from BEGIN to COMMIT. A write transaction takes one
advisory lock first, so writers go one at a time, exactly as on SQLite: every rule the engine
checks inside a transaction (an award within the budget, the number of awards) holds with many
web hosts and schedulers as it does with one. Readers never wait for it, and work that needs
no such rule (claiming outbox messages) runs with `serial=False` and row locks instead.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from engine.errors import DatabaseError
from engine.store.connection import Connection
from engine.store.dialect import shown, to_pyformat
from engine.store.migrations import POSTGRES_BASELINE, SCHEMA_VERSION, postgres_migration
from engine.store.postgres_schema import BASELINE, WRITER_LOCK

_WRITER = "SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))"
DEFAULT_TIMEOUT = 5.0  # seconds a writer waits for another before it is told the database is busy
_POOLS: dict[tuple[int, str], ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()


def _pool_for(url: str) -> ConnectionPool:
    """This process's pool for a database (a forked worker makes its own)."""
    key = (os.getpid(), url)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            try:  # one plain connection first, so a wrong URL is told at once and in words
                psycopg.connect(url, connect_timeout=10).close()
            except psycopg.Error as exc:
                raise DatabaseError(
                    f"cannot reach the database {shown(url)}: {_first_line(exc)}; check the server "
                    "is running and COMMISSION_DB names it, its user and password"
                ) from None
            size = int(os.environ.get("COMMISSION_DB_POOL", "8"))
            pool = ConnectionPool(url, min_size=1, max_size=size, kwargs={"autocommit": True},
                                  configure=_configure, timeout=30, open=True, name="commission")  # fmt: skip
            _POOLS[key] = pool
        return pool


def _configure(conn: psycopg.Connection) -> None:
    """A new connection waits for a lock (the writer lock) at most as long as SQLite would."""
    conn.execute(f"SET lock_timeout = '{int(DEFAULT_TIMEOUT * 1000)}ms'")


@atexit.register
def close_pools() -> None:
    """Close every pool this process opened (at exit, or when a test is done with a database)."""
    with _POOLS_LOCK:
        for key, pool in list(_POOLS.items()):
            if key[0] == os.getpid():
                pool.close()
            del _POOLS[key]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class _Rows:
    """A statement's result read whole, so its connection can go back to the pool at once."""

    def __init__(self, rows: list[tuple], names: list[str], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.description = [(name,) for name in names]
        self.rowcount = rowcount

    def fetchone(self) -> tuple | None:
        """The next row, or None."""
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[tuple]:
        """Every remaining row."""
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())


class PostgresConnection(Connection):
    """The PostgreSQL database every table family reads and writes through (in `PostgresStore`)."""

    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, *, check: bool = True, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self._timeout = timeout
        self.path = shown(url)
        _pool_for(url)  # reachable, or told now in words
        self._conn: psycopg.Connection | None = None
        self._depth = 0
        self._locked = False
        version = self.schema_version()
        if check and version != SCHEMA_VERSION:
            if version > SCHEMA_VERSION:
                raise DatabaseError(
                    f"the database {self.path} was written by a newer version of the engine "
                    f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade the engine"
                )
            if version == 0 and not self.table_names():
                self.upgrade()  # a brand-new database: create the schema
            elif version == 0:
                raise DatabaseError(
                    f"the database {self.path} holds tables that are not this engine's; "
                    "give the engine a database (or schema) of its own"
                )
            else:
                raise DatabaseError(
                    f"the database {self.path} is from an older version (schema {version} of "
                    f"{SCHEMA_VERSION}); run `commission db upgrade`"
                )

    @property
    def _pool(self) -> ConnectionPool:
        # looked up each time, not kept: a pool closed (at a fork, or by a test) is made again
        return _pool_for(self.url)

    def _friendly(self, exc: psycopg.Error) -> DatabaseError:
        """The server's refusal as a sentence naming the database and what to do about it."""
        reason = _first_line(exc)
        # before OperationalError: psycopg counts a lock timeout as one
        if isinstance(exc, pg_errors.LockNotAvailable | pg_errors.QueryCanceled):
            return DatabaseError(
                f"the database {self.path} is busy with another action; try again in a moment"
            )
        if isinstance(exc, psycopg.OperationalError | PoolTimeout):
            return DatabaseError(
                f"cannot reach the database {self.path}: {reason}; check the server is running"
            )
        if isinstance(exc, pg_errors.ReadOnlySqlTransaction | pg_errors.InsufficientPrivilege):
            return DatabaseError(
                f"the database {self.path} may not be written by this user; check its grants"
            )
        return DatabaseError(f"the database {self.path} refused the change: {reason}")

    def _run(self, conn: psycopg.Connection, sql: str, params: tuple | dict) -> _Rows:
        try:
            cur = conn.execute(to_pyformat(sql), params)  # type: ignore[arg-type]
            columns = cur.description  # psycopg builds this list anew each time it is asked
            if columns is None:
                return _Rows([], [], cur.rowcount)
            return _Rows(cur.fetchall(), [c.name for c in columns], cur.rowcount)
        except (psycopg.Error, PoolTimeout) as exc:
            raise self._friendly(exc) from None

    def execute(self, sql: str, params: tuple | dict = ()) -> _Rows:
        """Run one statement (in this store's transaction, if one is open)."""
        if self._conn is not None:
            return self._run(self._conn, sql, params)
        try:
            with self._pool.connection() as conn:
                return self._run(conn, sql, params)
        except PoolTimeout as exc:
            raise self._friendly(exc) from None

    def execute_many(self, sql: str, rows: list[dict[str, Any]]) -> _Rows:
        """Run one statement for many rows; `rowcount` is how many rows they changed in all."""
        if not rows:
            return _Rows([], [], 0)
        with self.transaction(serial=False):
            assert self._conn is not None
            try:
                with self._conn.cursor() as cur:  # psycopg pipelines the rows: no round trip each
                    cur.executemany(to_pyformat(sql), rows)
                    return _Rows([], [], max(cur.rowcount, 0))
            except psycopg.Error as exc:
                raise self._friendly(exc) from None

    def _after_copy(self, table: str) -> None:
        """Start a table's identity after the highest id copied in, so new rows never clash."""
        has_id = self.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? AND column_name = 'id' AND is_identity = 'YES'",
            (table,),
        ).fetchone()
        if has_id:
            self.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )

    @contextmanager
    def transaction(self, *, serial: bool = True) -> Iterator[None]:
        """BEGIN … COMMIT on one connection, or ROLLBACK on any error; re-entrant.

        With `serial` the writer lock is taken first, so write transactions run one at a time;
        an inner serial transaction inside a non-serial one takes it when it starts.
        """
        if self._conn is not None:
            if serial and not self._locked:
                self._run(self._conn, _WRITER, (WRITER_LOCK,))
                self._locked = True
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        pool = self._pool
        try:
            conn = pool.getconn()
        except PoolTimeout as exc:
            raise self._friendly(exc) from None
        try:
            self._conn, self._depth = conn, 1
            try:
                self._begin(conn, serial)
                self._locked = serial
                yield
            except BaseException:
                with suppress(psycopg.Error):  # a lost connection is rolled back by the server
                    conn.execute("ROLLBACK")
                raise
            self._run(conn, "COMMIT", ())
        finally:
            self._conn, self._depth, self._locked = None, 0, False
            pool.putconn(conn)

    def _begin(self, conn: psycopg.Connection, serial: bool) -> None:
        """BEGIN, the lock timeout if not the default, and the writer lock: one round trip."""
        script = ["BEGIN"]
        if self._timeout != DEFAULT_TIMEOUT:
            script.append(f"SET LOCAL lock_timeout = '{int(self._timeout * 1000)}ms'")
        if serial:
            script.append(
                f"SELECT pg_advisory_xact_lock({WRITER_LOCK}, hashtext(current_schema()))"
            )
        try:  # no parameters, so several statements go as one message
            conn.execute("; ".join(script).encode())
        except psycopg.Error as exc:
            raise self._friendly(exc) from None

    def schema_version(self) -> int:
        """The version in the `schema_version` table (0 when the engine has never been here)."""
        row = self.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return 0
        row = self.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def upgrade(self) -> list[int]:
        """The baseline for a new database, then each later migration in its own transaction."""
        applied: list[int] = []
        with self.transaction():  # the writer lock: two processes starting at once upgrade once
            version = self.schema_version()
            if version == 0:
                self._script(BASELINE)
                self._script("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                self.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (POSTGRES_BASELINE,)
                )
                applied.append(POSTGRES_BASELINE)
        for number in range(max(self.schema_version(), POSTGRES_BASELINE) + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                if self.schema_version() >= number:
                    continue
                self._script(postgres_migration(number))
                self.execute("UPDATE schema_version SET version = ?", (number,))
            applied.append(number)
        return applied

    def _script(self, sql: str) -> None:
        """Run a migration's statements as they are (no placeholders to rewrite)."""
        assert self._conn is not None
        try:
            self._conn.execute(sql.encode())  # bytes: sent as written, `%` and all
        except psycopg.Error as exc:
            raise self._friendly(exc) from None

    def table_names(self) -> list[str]:
        """The tables in the database's current schema."""
        rows = self.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        ).fetchall()
        return [r[0] for r in rows if r[0] != "schema_version"]


# after the connection: the store is every table family over it (engine.store.database)
from engine.store.database import Store  # noqa: E402


class PostgresStore(Store, PostgresConnection):
    """One PostgreSQL database, through this process's pool of connections."""
