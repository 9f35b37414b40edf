"""Benchmark: a programme's KPI table with 100,000 cases and 10,000 returns.

Run with `make bench`. Target: the table (every KPI for one quarter) in under 300 ms.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.kpis import KpiCalculator, period_of  # noqa: E402
from engine.runtime import Engine  # noqa: E402

CASES = 100_000
RETURNS = 10_000
NOW = datetime(2022, 9, 1, tzinfo=UTC)


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
            answers = {
                "people_accessing": 40,
                "opportunities_provided": 12,
                "pre_measures_taken": 30,
                "post_measures_taken": 25,
                "matched_people": 20,
                "matched_improved": 12,
                "spend_this_quarter": 15000,
                "grassroots_partners_engaged": 2,
                "most_required_interventions": ["peer_support"],
                "sustainability_evidence": "Groups continue.",
            }
            db.executemany(
                "INSERT INTO answers (case_id, form_id, record_no, data, submitted_at, updated_at) VALUES (?, ?, 1, ?, ?, ?)",
                [
                    (
                        i + 1,
                        "liverpool_quarterly_monitoring_return",
                        json.dumps(answers),
                        (NOW - timedelta(days=30 + i % 60)).isoformat(),
                        stamp,
                    )
                    for i in range(RETURNS)
                ],
            )
        quarter = period_of("quarter", NOW - timedelta(days=45), ZoneInfo(programme.timezone))
        times = []
        for _ in range(3):
            t = time.perf_counter()
            calc = KpiCalculator(engine.store, programme, NOW)
            rows = [v for kpi in programme.data["kpis"] for v in calc.value(kpi, quarter)]
            times.append((time.perf_counter() - t) * 1000)
        best = min(times)
        print(
            json.dumps(
                {"cases": CASES, "returns": RETURNS, "kpis": len(rows), "table_ms": round(best, 1)}
            )
        )
        print(
            f"KPI table ({len(rows)} rows) for {CASES:,} cases and {RETURNS:,} returns: {best:.0f} ms (target < 300 ms)"
        )
        print("target", "met" if best < 300 else "NOT met")


if __name__ == "__main__":
    from zoneinfo import ZoneInfo

    main()
