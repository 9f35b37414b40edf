"""Benchmark: the engine with 100,000 cases in one database.

Run with `make bench`. Targets: starting a case, saving answers and taking an action each under
5 ms median; listing a commissioner's cases by state under 50 ms.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.runtime import Actor, Engine  # noqa: E402

CASES = 100_000
SAMPLES = 300
NOW = datetime(2022, 1, 10, 12, tzinfo=UTC)
ANSWERS = {
    "org_name": "Org",
    "income": 50000,
    "org_type": "charity",
    "priorities": ["isolation"],
    "summary": "Lunch club",
}


def timed(fn, n: int = SAMPLES) -> float:
    """Median milliseconds of n calls."""
    times = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    """Fill a database with 100,000 cases, then time the everyday operations."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "bench.db", clock=lambda: NOW)
        programme, _ = engine.publish(ROOT / "docs" / "example" / "programmes" / "tiny.yaml")
        states = ["draft", "submitted", "awarded", "rejected"]
        now = NOW.isoformat()
        with engine.store.transaction():
            engine.store.db.conn.executemany(
                "INSERT INTO cases (reference, programme_id, version, workflow, state, organisation_id, flags, entered, "
                "revision, created_at, updated_at) VALUES (?, ?, ?, 'application', ?, ?, '{}', '{}', 0, ?, ?)",
                [
                    (
                        f"BULK-{i}",
                        programme.id,
                        programme.version,
                        states[i % 4],
                        f"org_{i % 5000}",
                        now,
                        now,
                    )
                    for i in range(CASES)
                ],
            )
        applicant = Actor("applicant", "ann", "org_bench")
        started: list[int] = []
        start_ms = timed(
            lambda i: started.append(engine.start_case(programme.id, "application", applicant).id)
        )
        answer_ms = timed(lambda i: engine.save_answers(started[i], "tiny_eoi", ANSWERS, applicant))
        act_ms = timed(lambda i: engine.act(started[i], "submit", applicant))
        list_ms = timed(lambda i: (engine.store.cases_by_state(programme.id, "application"),
                                   engine.store.list_cases(programme.id, workflow="application", state="submitted", limit=50)), 50)  # fmt: skip
        figures = {
            "cases": CASES + SAMPLES,
            "start_ms": start_ms,
            "answer_ms": answer_ms,
            "act_ms": act_ms,
            "list_ms": list_ms,
        }
        print(json.dumps({k: round(v, 2) for k, v in figures.items()}))
        print(f"start {start_ms:.2f} ms, answer {answer_ms:.2f} ms, act {act_ms:.2f} ms (targets < 5 ms); "
              f"list by state {list_ms:.2f} ms (target < 50 ms) — median, {CASES:,} cases")  # fmt: skip
        met = max(start_ms, answer_ms, act_ms) < 5 and list_ms < 50
        print("targets", "met" if met else "NOT met")


if __name__ == "__main__":
    main()
