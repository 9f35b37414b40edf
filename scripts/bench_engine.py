"""Benchmark: the engine with 100,000 cases in one database, on SQLite and on PostgreSQL.

Run with `make bench`. Targets: starting a case, saving answers and taking an action each under
5 ms median; listing a commissioner's cases by state under 50 ms; on PostgreSQL each operation
within 3x of SQLite's, measured in the same run. PostgreSQL is the database COMMISSION_BENCH_DB
names (default: the test server `scripts/test_postgres.sh` makes), in a schema of its own that is
dropped afterwards; without a reachable server only SQLite is measured, and the script says so.
"""

from __future__ import annotations

import argparse
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

sys.path.insert(0, str(ROOT / "scripts"))
from bench_common import load, postgres_schema  # noqa: E402

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


def measure(db: str, cases: int = CASES) -> dict[str, float]:
    """Fill one database with `cases` cases, then time the everyday operations on it."""
    engine = Engine(db, clock=lambda: NOW)
    programme, _ = engine.publish(ROOT / "docs" / "example" / "programmes" / "tiny.yaml")
    states = ["draft", "submitted", "awarded", "rejected"]
    now = NOW.isoformat()
    with engine.store.transaction():
        engine.store.execute_many(
            "INSERT INTO cases (reference, programme_id, version, workflow, state, organisation_id, flags, entered, "
            "revision, created_at, updated_at) VALUES (:reference, :programme_id, :version, 'application', :state, "
            ":organisation_id, '{}', '{}', 0, :now, :now)",
            [{"reference": f"BULK-{i}", "programme_id": programme.id, "version": programme.version,
              "state": states[i % 4], "organisation_id": f"org_{i % 5000}", "now": now} for i in range(cases)],
        )  # fmt: skip
    if (
        engine.store.kind == "PostgreSQL"
    ):  # statistics and visibility, as autovacuum keeps them live
        engine.store.execute("VACUUM ANALYZE")
    applicant = Actor("applicant", "ann", "org_bench")
    started: list[int] = []
    figures = {"start_ms": timed(lambda i: started.append(engine.start_case(programme.id, "application", applicant).id))}  # fmt: skip
    figures["answer_ms"] = timed(lambda i: engine.save_answers(started[i], "tiny_eoi", ANSWERS, applicant))  # fmt: skip
    figures["act_ms"] = timed(lambda i: engine.act(started[i], "submit", applicant))
    figures["list_ms"] = timed(lambda i: (engine.store.cases_by_state(programme.id, "application"),
                               engine.store.list_cases(programme.id, workflow="application", state="submitted", limit=50)), 50)  # fmt: skip
    return figures


def main() -> None:
    """Both databases, one after the other, then the figures and PostgreSQL's against SQLite's."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=CASES,
                        help=f"cases to fill each database with (default {CASES:,}; fewer while iterating)")  # fmt: skip
    cases = parser.parse_args().cases
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = measure(str(Path(tmp) / "bench.db"), cases)
    with postgres_schema() as url:
        if url:
            results["PostgreSQL"] = measure(url, cases)
    met = True
    for kind, f in results.items():
        print(
            json.dumps(
                {
                    "database": kind,
                    "cases": cases + SAMPLES,
                    **{k: round(v, 2) for k, v in f.items()},
                }
            )
        )
        print(f"{kind}: start {f['start_ms']:.2f} ms, answer {f['answer_ms']:.2f} ms, act {f['act_ms']:.2f} ms "
              f"(targets < 5 ms); list by state {f['list_ms']:.2f} ms (target < 50 ms) — median, {cases:,} cases")  # fmt: skip
        met &= max(f["start_ms"], f["answer_ms"], f["act_ms"]) < 5 and f["list_ms"] < 50
    if "PostgreSQL" in results:
        ratios = {k: results["PostgreSQL"][k] / results["SQLite"][k] for k in results["SQLite"]}
        print("PostgreSQL against SQLite: " + ", ".join(f"{k[:-3]} {r:.1f}x" for k, r in ratios.items()) + " (target within 3x)")  # fmt: skip
        met &= max(ratios.values()) <= 3
    print("targets", "met" if met else "NOT met", f"(load average {load()})")


if __name__ == "__main__":
    main()
