"""Two processes saving at once on one SQLite file: the second waits for the first, then saves.

SQLite lets one connection write at a time. A save that finds another one under way waits for
it (up to the store's timeout) rather than failing, and waits no longer than that one lasts.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from engine.errors import DatabaseError
from engine.store.database import SqliteStore

pytestmark = pytest.mark.sqlite_only


def _hold(store: SqliteStore, seconds: float, started: threading.Event) -> None:
    """Write inside a transaction that lasts `seconds` (another worker's save)."""
    with store.transaction():
        store.execute("CREATE TABLE IF NOT EXISTS held (n INTEGER)")
        started.set()
        time.sleep(seconds)


def test_a_save_waits_for_another_under_way_and_then_goes_through(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    first, second = SqliteStore(db), SqliteStore(db)
    started = threading.Event()
    other = threading.Thread(target=_hold, args=(first, 0.2, started))
    other.start()
    started.wait(5)
    began = time.monotonic()
    with second.transaction():  # would raise "busy" if it did not wait
        second.execute("INSERT INTO held (n) VALUES (1)")
    waited = time.monotonic() - began
    other.join()
    assert second.execute("SELECT count(*) FROM held").fetchone()[0] == 1
    # it waited for the other save to end, not for the whole timeout (5 s)
    assert 0.1 <= waited < 1


def test_a_save_held_up_past_the_timeout_says_the_database_is_busy(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    first, second = SqliteStore(db), SqliteStore(db, timeout=0.1)
    started = threading.Event()
    other = threading.Thread(target=_hold, args=(first, 0.5, started))
    other.start()
    started.wait(5)
    busy = pytest.raises(DatabaseError, match="busy with another action; try again in a moment")
    with busy, second.transaction():
        second.execute("SELECT 1")
    other.join()
    # and the connection still waits as long as it should afterwards: its timeout is restored
    assert second.execute("PRAGMA busy_timeout").fetchone()[0] == 100
