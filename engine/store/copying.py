"""`commission db copy`: every row of one database into another, empty one, then proof.

The usual move is an SQLite deployment onto PostgreSQL, but either way round works: both have
the same tables and columns. Rows keep their ids (and so every case reference), tables go in
an order that keeps each row's references valid, and afterwards each table is read again on
both sides and compared by its count and a SHA-256 over its rows in key order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.errors import DatabaseError
from engine.store.database import Store

# Parents before children (a case before its answers, a user before their sessions), each
# table with the columns that order its rows
TABLES: list[tuple[str, str]] = [
    ("organisations", "id"),
    ("programme_versions", "programme_id, version"),
    ("cases", "id"),  # a contract's parent application has the smaller id
    ("answers", "case_id, form_id, record_no"),
    ("record_drafts", "case_id, form_id"),
    ("awards", "case_id"),
    ("payments", "id"),
    ("audit", "id"),
    ("reminders", "id"),
    ("outbox", "id"),
    ("pins", "programme_id, target"),
    ("users", "id"),
    ("password_resets", "id"),
    ("sessions", "id"),
    ("sign_in_failures", "id"),
    ("kept_answers", "token"),
    ("uploads", "id"),
    ("assessments", "case_id, assessor"),
    ("staff_roles", "id"),
    ("service_log", "id"),
    ("erasures", "id"),
    ("assignments", "id"),
    ("moderated_scores", "case_id"),
    ("programme_drafts", "id"),
    ("kept_figures", "key"),  # worked out from the rows above; any may be thrown away
]
BATCH = 2000


@dataclass
class TableCopy:
    """One table's rows on each side after copying, and whether their checksums agree."""

    table: str
    rows: int
    copied: int
    checksum: str
    copied_checksum: str

    @property
    def same(self) -> bool:
        """Whether the copy has every row, unchanged."""
        return self.rows == self.copied and self.checksum == self.copied_checksum


def _batches(store: Store, table: str, order: str) -> Iterator[tuple[list[str], list[tuple]]]:
    """A table's rows in key order, a batch at a time (a million audit rows never all in memory)."""
    offset = 0
    while True:
        cur = store.execute(
            f"SELECT * FROM {table} ORDER BY {order} LIMIT ? OFFSET ?", (BATCH, offset)
        )
        rows = cur.fetchall()
        if not rows:
            return
        yield [c[0] for c in cur.description], rows
        offset += len(rows)


def _plain(value: Any) -> Any:
    """A value as both databases give it back: bytes (SQLite) and memoryview alike as hex."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value


def measure(store: Store, table: str, order: str) -> tuple[int, str]:
    """How many rows a table has and a SHA-256 over them, column by column, in key order."""
    digest, count = hashlib.sha256(), 0
    for names, rows in _batches(store, table, order):
        for row in rows:
            digest.update(json.dumps(dict(zip(names, map(_plain, row), strict=True)), sort_keys=True).encode())  # fmt: skip
            digest.update(b"\n")
            count += 1
    return count, digest.hexdigest()


def _holding(store: Store) -> list[str]:
    """The tables of a database that hold any row."""
    return [t for t, _ in TABLES if store.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()]


def copy_database(source: Store, target: Store) -> list[TableCopy]:
    """Copy every row of `source` into the empty `target`, then compare them table by table."""
    unknown = sorted(set(source.table_names()) - {t for t, _ in TABLES})
    if unknown:
        raise DatabaseError(
            f"{source.path} has tables this engine does not know ({', '.join(unknown)}); "
            "copy only a database this version of the engine made"
        )
    full = _holding(target)
    if full:
        raise DatabaseError(
            f"{target.path} already holds data (in {', '.join(full)}); copy only into an empty "
            "database, so nothing there is mixed with or lost under the copy"
        )
    with target.transaction():  # all or nothing: a copy that fails half-way leaves it empty
        for table, order in TABLES:
            for names, rows in _batches(source, table, order):
                columns = ", ".join(names)
                marks = ", ".join(f":{n}" for n in names)
                target.execute_many(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    [dict(zip(names, row, strict=True)) for row in rows],
                )
            target._after_copy(table)
    report = []
    for table, order in TABLES:
        rows, checksum = measure(source, table, order)
        copied, copied_checksum = measure(target, table, order)
        report.append(TableCopy(table, rows, copied, checksum, copied_checksum))
    return report
