"""Benchmark: a programme's KPI table with 100,000 cases and 10,000 returns.

Run with `make bench`. Target: the table (every KPI for one quarter) in under 300 ms, timed from
a new KpiCalculator (so reading the database is included); the median of RUNS runs is reported.
The returns answer differently from one another (counts, choices, free text), as real ones do, so
a calculator cannot do well just by noticing that every return says the same.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.reporting.kpis import KpiCalculator, period_of  # noqa: E402
from engine.runtime import Engine  # noqa: E402

CASES = 100_000
RETURNS = 10_000
NOW = datetime(2022, 9, 1, tzinfo=UTC)
RUNS = 7
INTERVENTIONS = ["peer_support", "creative_activity", "physical_activity", "social_connection"]


def answers(i: int) -> dict[str, object]:
    """The answers of the i-th return: every return a little different."""
    return {
        "people_accessing": 20 + i % 47,
        "opportunities_provided": 5 + i % 13,
        "pre_measures_taken": 10 + i % 31,
        "post_measures_taken": 8 + i % 29,
        "matched_people": 5 + i % 23,
        "matched_improved": i % 17,
        "spend_this_quarter": 10_000 + 37 * (i % 500),
        "grassroots_partners_engaged": i % 6,
        "most_required_interventions": INTERVENTIONS[: i % 4],
        "sustainability_evidence": "" if i % 9 == 0 else f"Groups continue, return {i}.",
    }


def main() -> None:
    """Fill a Liverpool database with contract cases and quarterly returns, then time the table."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "bench.db", clock=lambda: NOW)
        programme, _ = engine.publish(ROOT / "programmes" / "liverpool.yaml")
        stamp = NOW.isoformat()
        db = engine.store.db.conn
        with engine.store.transaction():
            db.executemany(
                "INSERT INTO cases (reference, programme_id, version, workflow, state, organisation_id, flags, entered, "
                "revision, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '{}', '{}', 0, ?, ?)",
                [
                    (
                        f"B-{i}",
                        programme.id,
                        programme.version,
                        "contract" if i < RETURNS else "application",
                        "delivering" if i < RETURNS else "eoi_draft",
                        f"org_{i}",
                        stamp,
                        stamp,
                    )
                    for i in range(CASES)
                ],
            )
            db.executemany(
                "INSERT INTO answers (case_id, form_id, record_no, data, submitted_at, updated_at) VALUES (?, ?, 1, ?, ?, ?)",
                [
                    (
                        i + 1,
                        "liverpool_quarterly_monitoring_return",
                        json.dumps(answers(i)),
                        (NOW - timedelta(days=30 + i % 60)).isoformat(),
                        stamp,
                    )
                    for i in range(RETURNS)
                ],
            )
        quarter = period_of("quarter", NOW - timedelta(days=45), ZoneInfo(programme.timezone))
        times = []
        for _ in range(RUNS):
            t = time.perf_counter()
            rows = KpiCalculator(engine.store, programme, NOW).table(
                "quarter", quarter.start, quarter.end
            )
            times.append((time.perf_counter() - t) * 1000)
        median = statistics.median(times)
        result = {
            "cases": CASES,
            "returns": RETURNS,
            "kpis": len(rows),
            "table_ms": round(median, 1),
            "best_ms": round(min(times), 1),
        }
        print(json.dumps(result))
        print(
            f"KPI table ({len(rows)} rows) for {CASES:,} cases and {RETURNS:,} returns: "
            f"{median:.0f} ms median of {RUNS}, best {min(times):.0f} ms (target < 300 ms)"
        )
        print("target", "met" if median < 300 else "NOT met")


if __name__ == "__main__":
    main()
