"""One PostgreSQL database, through a pool of connections each process shares (psycopg 3).

The table families' SQL is the same text SQLite runs; `dialect.to_numbered` rewrites its
placeholders. A statement outside a transaction borrows a connection for itself (autocommit);
`transaction()` holds one connection from BEGIN to COMMIT. A write transaction takes one
advisory lock first, so writers go one at a time, exactly as on SQLite: every rule the engine
checks inside a transaction (an award within the budget, the number of awards) holds with many
web hosts and schedulers as it does with one. Readers never wait for it, and work that needs
no such rule (claiming outbox messages) runs with `serial=False` and row locks instead.

Each statement is a round trip to the server, and a round trip costs more than most statements
an action runs. So inside a transaction BEGIN, the writer lock and every `write` (a statement
whose result nobody reads) wait, in order, and go with the next statement whose result is read,
or with COMMIT: one round trip for all of them (`postgres_wire.exchange`, libpq's pipeline). A
compare-and-set going with COMMIT is checked by the server itself (`_asserted`), so a lost one
commits nothing; `_read_together` sends several reads in one round trip.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from engine.errors import Busy, DatabaseError, StaleCase
from engine.store.connection import Connection
from engine.store.dialect import shown
from engine.store.migrations import POSTGRES_BASELINE, SCHEMA_VERSION, postgres_migration
from engine.store.postgres_schema import BASELINE, WORK_LOCK, WRITER_LOCK
from engine.store.postgres_wire import Rows, exchange

_WRITER = f"SELECT pg_advisory_xact_lock({WRITER_LOCK}, hashtext(current_schema()))"
_NAMED = "hashtext(current_schema() || ':' || %s)"  # a lock's name, within this deployment's schema
# a statement held back until the next one read: (SQL, parameters or rows, many, `stale` sentence)
_Held = tuple[str, Any, bool, str | None]
_LOST = "compare-and-set lost at "  # what a compare-and-set checked on the server fails with
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
    """A new connection waits for a lock (the writer lock) at most as long as SQLite would, and
    psycopg prepares nothing on it: having prepared its own, psycopg deallocates every prepared
    statement at a ROLLBACK, ours (`postgres_wire`) too, which would then fail as missing."""
    conn.prepare_threshold = None
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


def _asserted(sql: str, index: int) -> str:
    """A compare-and-set (an UPDATE) that fails on the server when it changes no row, naming
    its place in the pipeline: the server then skips what follows it, COMMIT included.

    Plain SQL has no RAISE: casting a text that is not a number fails, and the text is only
    made when the count is not 1 (a CASE over an aggregate is never folded at planning).
    """
    return (
        f"WITH changed AS ({sql} RETURNING 1) SELECT CAST(CASE count(*) WHEN 1 THEN '0' "
        f"ELSE '{_LOST}{index}' END AS integer) FROM changed"
    )


def _lost(exc: psycopg.Error) -> int | None:
    """The place in the pipeline of the compare-and-set `exc` says was lost, if it says so."""
    message = exc.diag.message_primary or ""
    if exc.sqlstate != "22P02" or _LOST not in message:
        return None
    digits = message.split(_LOST, 1)[1].rstrip('"')
    return int(digits) if digits.isdigit() else None


class PostgresConnection(Connection):
    """The PostgreSQL database every table family reads and writes through (in `PostgresStore`)."""

    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, *, check: bool = True, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self._timeout = timeout
        self.path = shown(url)
        _pool_for(url)  # reachable, or told now in words
        self._conn: psycopg.Connection | None = None  # the transaction's, while one is open
        self._lender: ConnectionPool | None = None
        self._held: list[_Held] = []  # statements waiting to go with the next one read
        self._sent = False  # whether this transaction has sent anything yet
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

    @contextmanager
    def one_at_a_time(self, name: str, *, wait: bool = True) -> Iterator[None]:
        """As `Connection.one_at_a_time`: an advisory lock held by a connection of its own (the
        server lets it go if the process holding it dies)."""
        try:
            with self._pool.connection() as conn:
                key = (WORK_LOCK, name)
                if wait:  # as long as it takes: the work is done once, by whoever holds it
                    conn.execute("SET lock_timeout = 0")
                    try:
                        conn.execute(f"SELECT pg_advisory_lock(%s, {_NAMED})", key)
                    finally:
                        _configure(conn)
                elif not conn.execute(f"SELECT pg_try_advisory_lock(%s, {_NAMED})", key).fetchone()[0]:  # type: ignore[index]  # fmt: skip
                    raise Busy(f"another process is working out {name}")
                try:
                    yield
                finally:
                    conn.execute(f"SELECT pg_advisory_unlock(%s, {_NAMED})", key)
        except (psycopg.Error, PoolTimeout) as exc:
            raise self._friendly(exc) from None

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

    def _send(self, reads: Sequence[_Held] = (), *, on_server: bool = False) -> list[Rows]:
        """Send the statements held back, then `reads`, in one round trip; each read's rows.

        With `on_server` (COMMIT is the last of them) a compare-and-set is checked by the server
        (`_asserted`): a lost one fails there, and the server skips every statement after it.
        """
        conn, held = self._conn, [*self._held, *reads]
        assert conn is not None
        self._held = []
        if not held:
            return []
        self._sent = True
        statements: list[tuple[str, Any]] = []
        places: list[int] = []  # where each held statement's result is (its last row's, if many)
        for index, (sql, params, many, stale) in enumerate(held):
            if many:
                statements += [(sql, row) for row in params]
            else:
                checked = stale is not None and on_server
                statements.append((_asserted(sql, index) if checked else sql, params))
            places.append(len(statements) - 1)
        try:
            results = exchange(conn, statements)
        except psycopg.Error as exc:
            lost = _lost(exc)
            if lost is not None and held[lost][3] is not None:
                raise StaleCase(held[lost][3]) from None
            raise self._friendly(exc) from None
        for place, (_sql, _params, _many, stale) in zip(places, held, strict=True):
            if stale is not None and not on_server and results[place].rowcount != 1:
                raise StaleCase(stale)
        return [results[place] for place in places[len(held) - len(reads) :]]

    def execute(self, sql: str, params: tuple | dict = ()) -> Rows:
        """Run one statement (in this store's transaction, with what it holds back, if one is open)."""
        return self._read_together([(sql, params)])[0]

    def _read_together(self, statements: Sequence[tuple[str, tuple | dict]]) -> list[Rows]:
        """Run statements in order, in one round trip (with what the transaction holds back)."""
        if self._conn is not None:
            return self._send([(sql, params, False, None) for sql, params in statements])
        try:
            with self._pool.connection() as conn:
                return exchange(conn, statements)
        except (psycopg.Error, PoolTimeout) as exc:
            raise self._friendly(exc) from None

    def write(self, sql: str, params: tuple | dict = (), *, stale: str | None = None) -> None:
        """Inside a transaction, hold the statement back to go with the next one read (or COMMIT)."""
        if self._conn is None:
            super().write(sql, params, stale=stale)
        else:
            self._held.append((sql, params, False, stale))

    def write_many(self, sql: str, rows: list[dict[str, Any]]) -> None:
        """Inside a transaction, hold the rows back to go with the next statement read (or COMMIT)."""
        if self._conn is None:
            super().write_many(sql, rows)
        elif rows:
            self._held.append((sql, rows, True, None))

    def execute_many(self, sql: str, rows: list[dict[str, Any]]) -> Rows:
        """Run one statement for many rows; `rowcount` is how many rows they changed in all."""
        if not rows:
            return Rows([], [], 0)
        with self.transaction(serial=False):
            # after what the transaction holds back, in its order: one batch, no round trip a row
            results = self._send([(sql, row, False, None) for row in rows])
            return Rows([], [], sum(r.rowcount for r in results))

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

    # the steps of `Connection.transaction()`: nothing goes to the server until a statement is read
    def _open(self, serial: bool) -> None:
        self._lender = self._pool  # the connection goes back to the pool it came from
        try:
            self._conn = self._lender.getconn()
        except PoolTimeout as exc:
            raise self._friendly(exc) from None
        self._held = [("BEGIN", (), False, None)]
        if self._timeout != DEFAULT_TIMEOUT:
            self._held.append((f"SET LOCAL lock_timeout = '{int(self._timeout * 1000)}ms'", (), False, None))  # fmt: skip
        self._join(serial)

    def _join(self, serial: bool) -> None:
        if serial and not self._locked:  # taken before any statement after it, as at BEGIN
            self._held.append((_WRITER, (), False, None))
            self._locked = True

    def _settle(self) -> None:
        if any(stale is not None for *_rest, stale in self._held):
            self._send()

    def _commit(self) -> None:
        # what is held goes with COMMIT, each compare-and-set checked on the server before it
        self._send([("COMMIT", (), False, None)], on_server=True)

    def _rollback(self) -> None:
        self._held = []
        if self._sent and self._conn is not None:
            with suppress(psycopg.Error):  # a lost connection is rolled back by the server
                self._conn.execute("ROLLBACK")

    def _release(self) -> None:
        conn = self._conn
        self._conn, self._held, self._sent, self._locked = None, [], False, False
        if conn is not None:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                with suppress(psycopg.Error):  # a COMMIT refused: the pool gets it back clean
                    conn.execute("ROLLBACK")
            assert self._lender is not None
            self._lender.putconn(conn)

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
        self._send()  # BEGIN and the writer lock first
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
