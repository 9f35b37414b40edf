"""The database a test runs on: a new SQLite file, or, when COMMISSION_TEST_DB names a
PostgreSQL server, a new schema of its own in that database (so tests never see each other's rows).

`make test` runs the suite once on SQLite and, when COMMISSION_TEST_DB is set, once more on
PostgreSQL. A test that makes sense on one database only says so with the `sqlite_only` or
`postgres_only` marker; the other run deselects it and says how many it left out.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import quote

TEST_DB = os.environ.get("COMMISSION_TEST_DB", "")
ON_POSTGRES = TEST_DB.startswith(("postgresql://", "postgres://"))
KIND = "PostgreSQL" if ON_POSTGRES else "SQLite"
_made: set[str] = set()


def database_in(tmp_path: Path, name: str = "engine") -> str:
    """The test's database called `name` (the same one each time it is asked for)."""
    if not ON_POSTGRES:
        return str(tmp_path / f"{name}.db")
    # named for the run and the test's folder: two runs on one server never share a schema
    key = f"{os.getpid()}/{tmp_path}/{name}"
    schema = "t_" + hashlib.sha1(key.encode()).hexdigest()[:20]
    if schema not in _made:
        import psycopg

        with psycopg.connect(TEST_DB, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        _made.add(schema)
    joiner = "&" if "?" in TEST_DB else "?"
    return f"{TEST_DB}{joiner}options={quote(f'-csearch_path={schema}')}"


def let_go() -> None:
    """Close this process's connections (after each test: a server has only so many)."""
    if ON_POSTGRES:
        from engine.store.postgres import close_pools

        close_pools()


def drop_all() -> None:
    """Drop every schema this run made (another run on the same server keeps its own)."""
    if not ON_POSTGRES or not _made:
        return
    import psycopg

    let_go()
    with psycopg.connect(TEST_DB, autocommit=True) as conn:
        for schema in sorted(_made):
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    _made.clear()
