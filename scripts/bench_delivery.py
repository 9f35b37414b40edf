"""Benchmark: 10,000 due reminders delivered by two schedulers at once to a real SMTP server.

Run with `make bench`. Target: every message arrives exactly once, with its own `To:`, in under
30 s. Two `commission scheduler --once` processes run side by side on one SQLite database
(COMMISSION_NOTIFY=smtp), sending to an aiosmtpd server on 127.0.0.1 in this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.runtime import Engine  # noqa: E402
from tests.smtp_server import smtp_server  # noqa: E402

DUE = 10_000
START = datetime(2022, 1, 10, 12, tzinfo=UTC)


def fill(db_path: Path) -> None:
    """10,000 organisations, each with one applicant and one draft whose reminder is due."""
    engine = Engine(db_path, clock=lambda: START)
    programme, _ = engine.publish(ROOT / "docs" / "example" / "programmes" / "tiny.yaml")
    stamp = START.isoformat()
    db = engine.store.db.conn
    with engine.store.transaction():
        db.executemany("INSERT INTO organisations (id, name, created_at) VALUES (?, ?, ?)",
                       [(f"org_{i}", f"Org {i}", stamp) for i in range(DUE)])  # fmt: skip
        db.executemany(
            "INSERT INTO users (email, name, role, organisation_id, created_at, updated_at) "
            "VALUES (?, ?, 'applicant', ?, ?, ?)",
            [(f"p{i}@org{i}.example", f"P {i}", f"org_{i}", stamp, stamp) for i in range(DUE)],
        )
        db.executemany(
            "INSERT INTO cases (reference, programme_id, version, workflow, state, organisation_id, flags, "
            "entered, revision, created_at, updated_at) VALUES (?, ?, ?, 'application', 'draft', ?, '{}', "
            '\'{"draft": "2022-01-10T12:00:00+00:00"}\', 0, ?, ?)',
            [
                (f"B-{i}", programme.id, programme.version, f"org_{i}", stamp, stamp)
                for i in range(DUE)
            ],
        )
        db.executemany(
            "INSERT INTO reminders (key, programme_id, version, kind, rule, case_id, due_at, anchor_at, payload, "
            "created_at) VALUES (?, ?, ?, 'reminder', 'closing_soon', ?, ?, ?, '{}', ?)",
            [(f"bench:{n}", programme.id, programme.version, n + 1, (START + timedelta(days=1)).isoformat(),
              (START + timedelta(days=30)).isoformat(), stamp) for n in range(DUE)],
        )  # fmt: skip


def main() -> None:
    """Fill a database, then time two schedulers delivering everything over SMTP."""
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as (inbox, port):
        db_path = Path(tmp) / "bench.db"
        fill(db_path)
        env = {**os.environ, "COMMISSION_NOTIFY": "smtp", "SMTP_HOST": "127.0.0.1",
               "SMTP_PORT": str(port), "SMTP_STARTTLS": "0",
               "COMMISSION_NOW": (START + timedelta(days=1, minutes=1)).isoformat()}  # fmt: skip
        command = [sys.executable, "-m", "engine.cli", "scheduler", "--once", "--db", str(db_path),
                   "--outbox", str(Path(tmp) / "outbox")]  # fmt: skip
        t = time.perf_counter()
        both = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
                for _ in range(2)]  # fmt: skip
        said = [p.communicate(timeout=600)[0].strip() for p in both]
        took = time.perf_counter() - t
        ids = inbox.ids()
        once = len(ids) == DUE and set(ids.values()) == {1}
        addressed = all(m["To"] and m["To"].endswith(".example") for m in inbox.messages)
        print(json.dumps({"messages": DUE, "arrived": len(inbox.messages), "distinct": len(ids),
                          "seconds": round(took, 1), "schedulers": said}))  # fmt: skip
        print(f"{len(inbox.messages):,} arrived for {DUE:,} due, {len(ids):,} distinct, in {took:.1f} s "
              f"(target: each exactly once, under 30 s)")  # fmt: skip
        print("targets", "met" if once and addressed and took < 30 else "NOT met")


if __name__ == "__main__":
    main()
