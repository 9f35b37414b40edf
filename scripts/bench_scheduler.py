"""Benchmark: the scheduler with 100,000 open cases and 1,000,000 reminder rows.

Run with `make bench`. Targets: a sweep that finds nothing due under 50 ms; sending 10,000 due
reminders to the file backend under 10 s.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.runtime import Engine  # noqa: E402
from engine.scheduler.delivery import FileBackend, deliver  # noqa: E402
from engine.scheduler.sweeper import sweep  # noqa: E402

CASES = 100_000
ROWS = 1_000_000
DUE = 10_000
START = datetime(2022, 1, 10, 12, tzinfo=UTC)


def main() -> None:
    """Fill a database, then time an empty sweep and a sweep that sends 10,000 reminders."""
    clock = {"now": START}
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "bench.db", clock=lambda: clock["now"])
        programme, _ = engine.publish(ROOT / "docs" / "example" / "programmes" / "tiny.yaml")
        stamp = START.isoformat()
        db = engine.store.db.conn
        with engine.store.transaction():
            db.executemany(
                "INSERT INTO cases (reference, programme_id, version, workflow, state, organisation_id, flags, "
                "entered, revision, created_at, updated_at) VALUES (?, ?, ?, 'application', 'draft', ?, '{}', "
                '\'{"draft": "2022-01-10T12:00:00+00:00"}\', 0, ?, ?)',
                [
                    (f"B-{i}", programme.id, programme.version, f"org_{i}", stamp, stamp)
                    for i in range(CASES)
                ],
            )
            # one organisation and one applicant per case: reminders go to people, at send time
            db.executemany(
                "INSERT INTO organisations (id, name, created_at) VALUES (?, ?, ?)",
                [(f"org_{i}", f"Org {i}", stamp) for i in range(CASES)],
            )
            db.executemany(
                "INSERT INTO users (email, name, role, organisation_id, created_at, updated_at) "
                "VALUES (?, ?, 'applicant', ?, ?, ?)",
                [
                    (f"p{i}@org{i}.example", f"P {i}", f"org_{i}", stamp, stamp)
                    for i in range(CASES)
                ],
            )
            # ten rows per case: the first 10,000 fall due at +1 day, the rest months later
            db.executemany(
                "INSERT INTO reminders (key, programme_id, version, kind, rule, case_id, due_at, anchor_at, payload, "
                "created_at) VALUES (?, ?, ?, 'reminder', 'closing_soon', ?, ?, ?, '{}', ?)",
                (
                    (
                        f"bench:{n}",
                        programme.id,
                        programme.version,
                        n % CASES + 1,
                        (START + timedelta(days=1 if n < DUE else 90 + n % 200)).isoformat(),
                        (START + timedelta(days=300)).isoformat(),
                        stamp,
                    )
                    for n in range(ROWS)
                ),
            )
        idle = []
        for _ in range(20):
            t = time.perf_counter()
            result = sweep(engine)
            idle.append((time.perf_counter() - t) * 1000)
            assert result.handled == 0
        clock["now"] = START + timedelta(days=1, minutes=1)
        t = time.perf_counter()
        sent = 0
        while True:
            result = sweep(engine, limit=2000)
            sent += result.sent
            if not result.handled:
                break
        delivered = deliver(engine.store, FileBackend(Path(tmp) / "outbox", echo=False))
        busy = time.perf_counter() - t
        assert sent == DUE and delivered == DUE, (sent, delivered)
        figures = {
            "cases": CASES,
            "rows": ROWS,
            "idle_sweep_ms": statistics.median(idle),
            "send_10000_s": busy,
        }
        print(json.dumps({k: round(v, 3) for k, v in figures.items()}))
        print(
            f"empty sweep {figures['idle_sweep_ms']:.2f} ms (target < 50 ms); "
            f"10,000 reminders sent to files {busy:.1f} s (target < 10 s)"
        )
        print("targets", "met" if figures["idle_sweep_ms"] < 50 and busy < 10 else "NOT met")


if __name__ == "__main__":
    main()
