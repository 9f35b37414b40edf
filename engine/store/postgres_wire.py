"""A batch of statements to PostgreSQL in one round trip, straight through libpq's pipeline.

psycopg's pipeline mode polls the socket after each statement it sends and keeps a cursor per
statement: a batch of four or five statements cost the client and the server about a sixth of a
draft save's processor time more than they need. Here each statement is handed to libpq and
pushed to the socket at once (the server starts on it while the next is made ready, without
waiting to hear back), the batch closes with one Sync, and the answers are read back together.
What psycopg does well is still psycopg's: its Transformer turns values into parameters and
columns into Python values (by the column's type, exactly as a cursor does), and errors are its
exceptions, with the server's diagnostics, so callers cannot tell the difference.

A statement used a second time on a connection is prepared there (parsed and planned once), as
psycopg does after five uses; at most `PREPARED` per connection, the rest sent unnamed. A name is
kept only when the server said it made it: a Parse skipped after an earlier error in the same
batch is not remembered as made.
"""

from __future__ import annotations

import select
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer

from engine.store.dialect import to_numbered

PREPARED = 256  # statements a connection keeps prepared (a statement built per call is not)
_SEEN = 4096  # statements whose uses are counted, per connection, before counting starts again
_Ok, _Tuples = pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK
_Sync, _Aborted = pq.ExecStatus.PIPELINE_SYNC, pq.ExecStatus.PIPELINE_ABORTED


class Rows:
    """A statement's result read whole (so its connection can go back to the pool at once), read
    as a cursor is: `fetchone`, `fetchall`, iterating, `description` and `rowcount`."""

    __slots__ = ("_next", "_rows", "names", "rowcount")

    def __init__(self, rows: list[tuple], names: list[str], rowcount: int) -> None:
        self._rows, self._next, self.names, self.rowcount = rows, 0, names, rowcount

    @property
    def description(self) -> list[tuple[str]]:
        """The columns, each as a one-item tuple of its name (as a DB-API cursor has them)."""
        return [(name,) for name in self.names]

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


class _Prepared:
    """What one connection has prepared: a name per statement text and parameter types."""

    def __init__(self) -> None:
        self.names: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self.uses: dict[tuple[bytes, tuple[int, ...]], int] = {}
        self.made = 0  # names given out, so no two are ever the same

    def name_for(self, key: tuple[bytes, tuple[int, ...]]) -> tuple[bytes | None, bool]:
        """The statement's name and whether to prepare it now (on its second use, if there is
        room), or (None, False) to send it unnamed."""
        if (name := self.names.get(key)) is not None:
            return name, False
        if len(self.names) >= PREPARED:
            return None, False
        if len(self.uses) > _SEEN:
            self.uses.clear()
        self.uses[key] = self.uses.get(key, 0) + 1
        if self.uses[key] < 2:
            return None, False
        self.made += 1
        self.names[key] = name = f"_commission_{self.made}".encode()  # taken back if not made
        return name, True


_PREPARED: weakref.WeakKeyDictionary[psycopg.Connection, _Prepared] = weakref.WeakKeyDictionary()


def exchange(conn: psycopg.Connection, statements: Sequence[tuple[str, Any]]) -> list[Rows]:
    """Run statements (store SQL, `?` or `:name` placeholders; a tuple or a dict of values each)
    in order in one round trip; each one's result. The first to fail raises psycopg's error for
    it, and the server skips every statement after it (COMMIT included)."""
    pgconn = conn.pgconn
    prepared = _PREPARED.get(conn)
    if prepared is None:
        prepared = _PREPARED[conn] = _Prepared()
    adapt = Transformer(conn)  # values to parameters, and columns back to values
    sent: list[tuple[tuple[bytes, tuple[int, ...]], bytes] | None] = []  # a Parse's, or None
    pgconn.enter_pipeline_mode()
    try:
        for sql, params in statements:
            query, order = to_numbered(sql)
            values = [params[o] for o in order] if isinstance(params, dict) else params
            if values:
                dumped = adapt.dump_sequence(values, [PyFormat.AUTO] * len(values))
                types, formats = tuple(adapt.types or ()), list(adapt.formats or ())
            else:
                dumped, types, formats = [], (), None
            name, fresh = prepared.name_for((query, types))
            if fresh:
                assert name is not None
                pgconn.send_prepare(name, query, param_types=types)
                sent.append(((query, types), name))
            if name is not None:
                pgconn.send_query_prepared(name, dumped, param_formats=formats)
            else:
                pgconn.send_query_params(query, dumped, param_types=types, param_formats=formats)
            sent.append(None)
            pgconn.flush()  # the server starts on it while the next is made ready
        pgconn.pipeline_sync()
        waiting = select.poll()
        waiting.register(pgconn.socket, select.POLLIN)
        _flush(pgconn, waiting)
        outcomes = [_read(pgconn, waiting) for _ in sent]
        _read_sync(pgconn, waiting)
    except BaseException:
        for item in sent:  # nothing this batch prepared is known to exist
            if item is not None:
                prepared.names.pop(item[0], None)
        raise
    finally:
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            try:
                pgconn.exit_pipeline_mode()
            except psycopg.Error:  # interrupted with results unread: the pool must not lend it
                conn.close()
    return _results(conn, adapt, sent, outcomes, prepared)


def _results(conn: psycopg.Connection, adapt: Transformer, sent: list[Any], outcomes: list[Any],
             prepared: _Prepared) -> list[Rows]:  # fmt: skip
    """Each statement's rows; the first failure raised as psycopg's error for it."""
    results: list[Rows] = []
    failure = None
    for item, res in zip(sent, outcomes, strict=True):
        status = res.status if res is not None else _Aborted
        if status not in (_Ok, _Tuples, _Aborted) and failure is None:
            failure = res
        if item is not None:  # a Parse: its name is kept only if the server made it
            if status != _Ok:
                prepared.names.pop(item[0], None)
        elif failure is None:
            if res.nfields:
                adapt.set_pgresult(res)
                rows = adapt.load_rows(0, res.ntuples, tuple)
                names = [(res.fname(i) or b"").decode() for i in range(res.nfields)]
            else:
                rows, names = [], []
            results.append(Rows(rows, names, res.command_tuples or 0))
    if failure is not None:
        raise pg_errors.error_from_result(failure, encoding=conn.info.encoding)
    return results


def _flush(pgconn: pq.abc.PGconn, waiting: select.poll) -> None:
    """Send everything in libpq's buffer (a large batch takes more than one write)."""
    while pgconn.flush():
        # the server may answer while it is still being sent to: read what it says meanwhile
        waiting.modify(pgconn.socket, select.POLLIN | select.POLLOUT)
        waiting.poll()
        pgconn.consume_input()
    waiting.modify(pgconn.socket, select.POLLIN)


def _read(pgconn: pq.abc.PGconn, waiting: select.poll) -> Any:
    """One message's result (its last, should it give several), after which libpq gives None."""
    last = None
    while (res := _next_result(pgconn, waiting)) is not None:
        last = res
    return last


def _read_sync(pgconn: pq.abc.PGconn, waiting: select.poll) -> None:
    """Read up to the Sync that closes the batch."""
    while (res := _next_result(pgconn, waiting)) is None or res.status != _Sync:
        pass


def _next_result(pgconn: pq.abc.PGconn, waiting: select.poll) -> Any:
    """libpq's next result (None between messages), waiting for the server until it has one."""
    while pgconn.is_busy():
        waiting.poll()
        pgconn.consume_input()
    return pgconn.get_result()
