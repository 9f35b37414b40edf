"""Benchmark (issue 19): the case lists' search alone, on the referral database of bench_pages.py.

Run with `.venv/bin/python scripts/bench_pages_search.py [--cases N] [--keep DIR] [--postgres]`.
It builds the 100,000 referrals of scripts/bench_pages_data.py (about a minute), then times each
kind of search a person makes, as bench_pages.py times a page (in process, the median of RUNS
runs after a warm-up): a reference's start, a reference's number, part of an organisation's name
in another case of letters, a word that matches nothing, and a caseworker's local label; the
unsearched first page is timed beside them, and bench_pages.py's anchors as a yardstick. The whole benchmark also times the KPI
pages for minutes: this one answers "is search fast yet?" in the time it takes to build.

`--database TARGET` (an SQLite file, or a PostgreSQL URL whose schema is empty) is built once and
used again on the next run (upgraded, nothing rebuilt), so a change can be measured before and
after on the same rows. `--postgres` builds on a fresh schema of COMMISSION_BENCH_DB, dropped
afterwards.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import load
from bench_pages import RUNS, Timer, anchors, databases, make_app, report, signed_in
from bench_pages_data import PROVIDERS, REFERRALS_NOW, build_referrals

from engine.runtime import Engine
from engine.store import Store, is_postgres, shown

# (what is searched, the search) on the commissioner's list of every case
COMMISSIONER_SEARCHES = [
    ("nothing searched", ""),
    ("a reference's start", "BHM-0012"),
    ("a whole reference", "bhm-004321"),
    ("a reference's number", "4321"),
    ("part of a name, mixed case", "wYKE comm"),
    ("a name's word in many", "community"),
    ("matches nothing", "zebra crossing"),
]
CASEWORKER_SEARCHES = [("a local label", "MY00012"), ("a reference's number", "4321")]


def built(database: str, cases: int) -> str:
    """The referral programme's id, building its rows first if the database has none."""
    Store(database, check=False).upgrade()  # a kept database takes any migration added since
    engine = Engine(database, clock=lambda: REFERRALS_NOW)
    found = engine.store.programme_ids()
    if found:
        print(f"using the referrals already in {shown(database)}")
        return found[0]
    t = time.perf_counter()
    made = build_referrals(engine, cases, 10 * cases)
    engine.store.execute("VACUUM ANALYZE" if engine.store.kind == "PostgreSQL" else "ANALYZE")
    print(f"built {made['cases']:,} referrals in {time.perf_counter() - t:.0f} s")
    return str(made["programme"])


def main() -> None:
    """Build (or reuse) the referral database, then time each kind of search."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="referrals (default 100,000)")
    parser.add_argument("--database", help="build in this database once, then use it again")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (COMMISSION_BENCH_DB)")
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs a page, after a warm-up")
    args = parser.parse_args()
    kind = "PostgreSQL" if args.postgres or is_postgres(args.database or "") else "SQLite"
    print(f"load {load()}; {kind}; {args.cases:,} referrals")
    with tempfile.TemporaryDirectory() as tmp, databases(args.postgres, Path(tmp)) as new:
        db = args.database or new("referrals")
        pid = built(db, args.cases)
        app = make_app(db, REFERRALS_NOW, Path(tmp) / "uploads")
        timer = Timer("referrals", args.runs)
        anchors(timer, app)  # this machine's yardstick: figures move with its load
        token = secrets.token_hex(4)  # a kept database already has the last run's people
        boss = signed_in(app, f"boss{token}@referrals.example.org", "commissioner")
        for page, search in COMMISSIONER_SEARCHES:
            timer.time("commissioner", page, boss, f"/commission/{pid}/cases?q={search}")
        org = re.sub(r"\W+", "_", PROVIDERS[0].lower()).strip("_")  # as bench_pages_data names it
        worker = signed_in(app, f"worker{token}@{org}.example.org", "caseworker", org)
        for page, search in CASEWORKER_SEARCHES:
            timer.time("caseworker", page, worker, f"/casework/?q={search}")
        report(timer.results, {"referrals": args.cases}, kind)


if __name__ == "__main__":
    main()
