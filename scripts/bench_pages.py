"""Benchmark (issue 19): the pages commissioners, assessors and caseworkers reach, at scale.

Run with `make bench` (or `.venv/bin/python scripts/bench_pages.py [--quick] [--postgres]`). It
builds two databases, rows written with `execute_many` as the engine itself writes them
(scripts/bench_pages_data.py and bench_pages_applications.py):
- referrals: programmes/bradford.yaml's `referral` workflow, CASES people (default 100,000) across
  20 provider organisations, with their referral, contact records, interviews, action plans,
  reviews and step up / step down / discharge records, AUDIT audit rows (default 1,000,000) and
  the service level's reminder rows;
- applications: programmes/liverpool.yaml's `application` workflow, APPLICATIONS applications
  (default 5,000) from as many organisations, through eligibility, full proposals, assessments by
  a panel of three, awards and the contracts they start.
Then, in process with Flask's test client (the app as tests/web/conftest.py makes it, a frozen
clock), it signs in a commissioner, an assessor and a caseworker and follows the links each
reaches, timing every page: the median of RUNS runs after one warm-up (the warm-up is shown too,
as a person opening a page after any case changed may wait that long), its size, and whether it
meets the targets (under 150 ms, under 500 kB); a page slower than SLOW_MS is timed fewer times. People reached,
KPIs and trends are also timed once each just after a change to one case, once each as a
newly started process's first view, and once each after the scheduler worked them out ahead
with nothing kept before (as after a new version), with the scheduler's time for it. A CSV export is timed to its first
byte and whole. The sign-in page and the accessibility statement are timed the same way as
anchors, so figures can be compared across machines. Exits 0 whether targets are met or not.

`--quick` is 10,000 referrals, 100,000 audit rows and 1,000 applications. `--postgres` uses
COMMISSION_BENCH_DB (default the test server scripts/test_postgres.sh makes), a schema per
database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import Any

from werkzeug.security import generate_password_hash

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import load, postgres_schema
from bench_pages_applications import APPLICATIONS_NOW, PANEL, build_applications
from bench_pages_data import REFERRALS_NOW, build_referrals

from engine.runtime import Actor, Engine

RUNS = 5
MS_TARGET, KB_TARGET = 150, 500
SLOW_MS = 5000  # a slower warm-up is timed once more, and RUNS times only if that is quicker
PASSWORD = "bench pages password 19"

# ---- timing the pages --------------------------------------------------------------------------


def signed_in(app: Any, email: str, role: str, organisation: str | None = None) -> Any:
    """A browser signed in as a new person with this role, as tests/web/panel.py's `person`."""
    engine = Engine(app.config["DATABASE"])
    with engine.store.transaction():
        user_id = engine.store.create_user(email, generate_password_hash(PASSWORD), email.split("@")[0].title(),
                                           role, organisation, "2022-01-01")  # fmt: skip
        # staff hold no role until one is granted: every programme, a caseworker's in their organisation
        engine.store.grant_role(user_id, role, None, organisation if role == "caseworker" else None,
                                "bench", "2022-01-01")  # fmt: skip
    browser = app.test_client()
    response = browser.post("/auth/sign-in", data={"email": email, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"{email} could not sign in (status {response.status_code})")
    return browser


def fetch(browser: Any, url: str) -> tuple[int, bytes, float, float]:
    """One request: its status, body, milliseconds to the first byte and to the last."""
    t = time.perf_counter()
    response = browser.get(url)
    chunks = response.iter_encoded()
    first = next(chunks, b"")
    ttfb = (time.perf_counter() - t) * 1000
    body = first + b"".join(chunks)
    response.close()
    return response.status_code, body, ttfb, (time.perf_counter() - t) * 1000


class Timer:
    """Times pages on one database and keeps each page's figures."""

    def __init__(self, database: str, runs: int) -> None:
        self.database, self.runs = database, runs
        self.results: list[dict[str, Any]] = []

    def time(
        self, audience: str, page: str, browser: Any, url: str | None, *, stream: bool = False
    ) -> bytes:
        """Warm up once, then the median of `runs`; a page that fails is reported, never raised."""
        result: dict[str, Any] = {
            "database": self.database,
            "audience": audience,
            "page": page,
            "url": url,
        }
        body = b""
        if url is None:
            result["error"] = "no link to it"
        else:
            try:
                status, body, _ttfb, first = fetch(browser, url)
                # a slow warm-up is timed once more, and RUNS times only if that is quicker (a
                # page whose figures are kept between views): the run must end
                timings = [fetch(browser, url) for _ in range(self.runs if first < SLOW_MS else 1)]
                if first >= SLOW_MS and timings[0][3] < SLOW_MS:
                    timings += [fetch(browser, url) for _ in range(self.runs - 1)]
                runs = len(timings)
                status = max(t[0] for t in timings)
                result |= {"status": status, "first_ms": round(first, 1), "runs": runs,
                           "ms": round(statistics.median(t[3] for t in timings), 1),
                           "kb": round(len(body) / 1024, 1)}  # fmt: skip
                if stream:
                    result["ttfb_ms"] = round(statistics.median(t[2] for t in timings), 1)
                if status != 200:
                    result["error"] = f"status {status}"
            # a page that fails at scale is a finding, not the end of the run
            except Exception as exc:
                result["error"] = f"{type(exc).__name__}: {str(exc)[:120]}"
        # an export is a download, not a page: judged by how soon it starts (streamed, any size)
        judged = result.get("ttfb_ms" if stream else "ms", MS_TARGET)
        result["met"] = (
            "error" not in result and judged < MS_TARGET and (stream or result["kb"] < KB_TARGET)
        )
        self.results.append(result)
        return body

    def once(self, audience: str, page: str, browser: Any, url: str) -> None:
        """One view, timed alone: the first after a change, which no warm-up can hide."""
        status, body, _ttfb, ms = fetch(browser, url)
        kb = round(len(body) / 1024, 1)
        self.results.append({"database": self.database, "audience": audience, "page": page,
                             "url": url, "status": status, "first_ms": round(ms, 1), "runs": 1,
                             "ms": round(ms, 1), "kb": kb,
                             "met": status == 200 and ms < MS_TARGET and kb < KB_TARGET})  # fmt: skip


def after_a_change(timer: Timer, browser: Any, engine: Engine, pid: str) -> None:
    """People reached, KPIs and trends, each timed once just after a caseworker changes one
    referral's answers (a case from the middle of the programme's history, a new one each time):
    their figures are kept between views and brought up to date by what changed."""
    middle = engine.store.execute(
        "SELECT id FROM cases WHERE programme_id = ? ORDER BY id LIMIT 1 OFFSET "
        "(SELECT count(*) / 2 FROM cases WHERE programme_id = ?)", (pid, pid)).fetchone()[0]  # fmt: skip
    referred = engine.store.execute(
        "SELECT id, organisation_id FROM cases WHERE programme_id = ? AND state = 'referred' "
        "AND id >= ? ORDER BY id LIMIT 3", (pid, middle)).fetchall()  # fmt: skip
    for (case_id, org), (page, path) in zip(
        referred,
        (("people reached", "people"), ("KPIs", "kpis"), ("trends", "trends")),
        strict=False,
    ):
        who = Actor("caseworker", f"worker@{org}.example.org", org)
        engine.save_answers(case_id, "bradford_referral", {"pcn_locality": "wishh"}, who)
        timer.once("commissioner", f"{page}, after a change", browser, f"/commission/{pid}/{path}")


def forget_in_process() -> None:
    """Let go of every figure this process keeps, as a web process that has just started."""
    from engine.reporting import kpi_kept, memo, people_kept

    for kept in (kpi_kept._kept, memo._kept, people_kept._kept):
        kept.clear()


def after_a_restart(timer: Timer, browser: Any, pid: str) -> None:
    """People reached, KPIs and trends, each timed once as the first view of a web process that
    has just started: nothing kept in the process, only what the database keeps."""
    forget_in_process()
    for page, path in (("people reached", "people"), ("KPIs", "kpis"), ("trends", "trends")):
        timer.once("commissioner", f"{page}, new process", browser, f"/commission/{pid}/{path}")


def worked_out_ahead(timer: Timer, browser: Any, engine: Engine, pid: str) -> None:
    """People reached, KPIs and trends as first opened after the scheduler worked them out ahead
    (`warm_pages`), nothing kept before, as after a new version: the scheduler's time (not a
    page's, so never judged by the page targets), then each page's in a web process of its own."""
    from engine.reporting.page_figures import warm_pages

    forget_in_process()
    engine.store.execute("DELETE FROM kept_figures")
    began = time.perf_counter()
    warm_pages(engine.store, engine.programme(pid), engine.now())
    ms = (time.perf_counter() - began) * 1000
    timer.results.append({"database": timer.database, "audience": "scheduler", "page": "works out all three ahead",
                          "url": "", "status": 200, "first_ms": round(ms, 1), "runs": 1, "ms": round(ms, 1),
                          "kb": 0.0, "met": True})  # fmt: skip
    forget_in_process()
    for page, path in (("people reached", "people"), ("KPIs", "kpis"), ("trends", "trends")):
        timer.once(
            "commissioner", f"{page}, worked out ahead", browser, f"/commission/{pid}/{path}"
        )


def links(body: bytes, pattern: str) -> list[str]:
    """The links on a page whose address matches `pattern` (a regular expression), in order."""
    found = (unescape(h) for h in re.findall(r'href="([^"#]+)"', body.decode("utf-8", "replace")))
    return list(dict.fromkeys(h for h in found if re.fullmatch(pattern, h)))


def link(body: bytes, pattern: str) -> str | None:
    """The first link on a page whose address matches `pattern`."""
    return next(iter(links(body, pattern)), None)


def last_page(body: bytes) -> int:
    """The highest page number a list's pagination links to (1 if it has none)."""
    return max((int(n) for n in re.findall(rb"[?&](?:amp;)?page=(\d+)", body)), default=1)


def commissioner_pages(timer: Timer, browser: Any, pid: str, search: str) -> None:
    """Home, dashboard, lists, a case, reports and exports, each reached from the one before."""
    t = lambda page, url, **kw: timer.time("commissioner", page, browser, url, **kw)  # noqa: E731
    home = t("home", "/commission/")
    board = t("programme dashboard", link(home, f"/commission/{pid}"))
    found = t("cases list, first page", link(board, f"/commission/{pid}/cases"))
    t("cases list, last page", f"/commission/{pid}/cases?page={last_page(found)}")
    t("cases list, filtered by state", link(board, rf"/commission/{pid}/cases\?.*state=.+") or
      f"/commission/{pid}/cases?state=supported")  # fmt: skip
    t("cases list, a search", f"/commission/{pid}/cases?q={search}")
    t("a case", link(found, r"/commission/cases/[^/?]+"))
    for page, path in (("people reached", "people"), ("KPIs", "kpis"), ("trends", "trends")):
        t(page, link(board, f"/commission/{pid}/{path}") or link(home, f"/commission/{pid}/{path}"))
    meetings = t("meetings", link(board, f"/commission/{pid}/meetings"))
    pack = link(meetings, rf"/commission/{pid}/meetings/[^/]+/\d+")
    t("a meeting pack", pack)
    t("a meeting pack as CSV", pack and f"{pack}?format=csv", stream=True)
    t("cases as CSV", link(found, rf"/commission/{pid}/export\.csv.*") or link(board, rf"/commission/{pid}/export\.csv.*"), stream=True)  # fmt: skip


def caseworker_pages(timer: Timer, browser: Any, search: str) -> None:
    """The organisation's people, a person's case, a record of a contact, and what is due."""
    t = lambda page, url: timer.time("caseworker", page, browser, url)  # noqa: E731
    home = t("home (people list)", "/casework/")
    t("due", link(home, "/casework/due") or "/casework/due")
    t("people list, a search", f"/casework/?q={search}")
    t("a case, newest", link(home, r"/casework/cases/[^/?]+"))
    found = t("people list, filtered by state", "/casework/?state=supported")
    record = r"/casework/cases/[^/]+/records/[^/]+/\d+"
    cases = links(found, r"/casework/cases/[^/?]+")[:5]  # the first with a record on it
    with_records = next((c for c in cases if link(fetch(browser, c)[1], record)), None)
    case = t("a case under support", with_records or (cases or [None])[0])
    t("a record", link(case, record))


def assessor_pages(timer: Timer, browser: Any) -> None:
    """The assessor's queue and an application to score."""
    queue = timer.time("assessor", "queue", browser, "/assess/")
    timer.time("assessor", "queue, last page", browser, f"/assess/?page={last_page(queue)}")
    timer.time("assessor", "an application to score", browser, link(queue, r"/assess/cases/[^/?]+"))


def anchors(timer: Timer, app: Any) -> None:
    """Pages that read no cases, timed the same way: a yardstick for this machine."""
    browser = app.test_client()
    timer.time("anchor", "sign-in page", browser, "/auth/sign-in")
    timer.time("anchor", "accessibility statement", browser, "/accessibility")


def make_app(database: str, now: datetime, uploads: Path) -> Any:
    """The app as tests/web/conftest.py makes it, its clock stopped at `now`."""
    from engine.web import create_app

    return create_app({"TESTING": True, "DATABASE": database, "CLOCK": lambda: now, "SECRET_KEY": "bench",
                       "WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False,
                       "UPLOAD_FOLDER": str(uploads), "BASE_URL": "http://localhost"})  # fmt: skip


@contextmanager
def databases(postgres: bool, tmp: Path) -> Iterator[Callable[[str], Any]]:
    """Makes a fresh database by name: an SQLite file, or a PostgreSQL schema of its own."""
    if not postgres:
        yield lambda name: str(tmp / f"{name}.db")
        return
    from contextlib import ExitStack

    with ExitStack() as stack:

        def schema(name: str) -> str:
            url = stack.enter_context(postgres_schema())
            if url is None:
                raise SystemExit("--postgres: no PostgreSQL server to measure")
            return url

        yield schema


def report(results: list[dict[str, Any]], built: dict[str, Any], kind: str) -> None:
    """The table, one line per page, then every figure as one JSON line."""
    print(
        f"\n{kind}: median of the timed runs, the warm-up (first), time to first byte for exports"
    )
    print(
        f"{'database':<13}{'who':<13}{'page':<32}{'median':>9}{'first':>9}{'TTFB':>8}{'size':>10}  target"
    )
    for r in results:
        head = f"{r['database']:<13}{r['audience']:<13}{r['page']:<32}"
        if "ms" not in r:
            print(f"{head}{'—':>9}{'':>27}  {r['error']}")
            continue
        ttfb = f"{r['ttfb_ms']:.0f}ms" if "ttfb_ms" in r else ""
        verdict = "met" if r["met"] else "NOT met" + (f" ({r['error']})" if "error" in r else "")
        print(
            f"{head}{r['ms']:>7.0f}ms{r['first_ms']:>7.0f}ms{ttfb:>8}{r['kb']:>8.1f}kB  {verdict}"
        )
    print(json.dumps({"database": kind, "built": built, "pages": results, "load": load()}))
    timed = [r for r in results if r["audience"] != "anchor" and r["url"] is not None]
    met = all(r["met"] for r in timed)
    print(f"targets (every page under {MS_TARGET} ms and {KB_TARGET} kB; an export's first byte under "
          f"{MS_TARGET} ms):", "met" if met else "NOT met")  # fmt: skip


def main() -> None:
    """Build both databases, then time each audience's pages on them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="referrals (default 100,000)")
    parser.add_argument("--audit", type=int, help="audit rows of the referrals (default 10 a case)")
    parser.add_argument(
        "--applications", type=int, default=5_000, help="applications (default 5,000)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="10,000 referrals and 1,000 applications"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="PostgreSQL (COMMISSION_BENCH_DB), not SQLite"
    )
    parser.add_argument(
        "--runs", type=int, default=RUNS, help="timed runs a page, after one warm-up"
    )
    args = parser.parse_args()
    if args.quick:
        args.cases, args.applications = 10_000, 1_000
    audit = args.audit if args.audit is not None else 10 * args.cases
    kind = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"load {load()}; {kind}; {args.cases:,} referrals, {audit:,} audit rows, {args.applications:,} applications"
    )
    built: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, databases(args.postgres, Path(tmp)) as new:
        for name, now in (("referrals", REFERRALS_NOW), ("applications", APPLICATIONS_NOW)):
            db = new(name)
            engine = Engine(db, clock=lambda now=now: now)
            t = time.perf_counter()
            made = (build_referrals(engine, args.cases, audit) if name == "referrals"
                    else build_applications(engine, args.applications))  # fmt: skip
            if engine.store.kind == "PostgreSQL":  # statistics, as autovacuum keeps them live
                engine.store.execute("VACUUM ANALYZE")
            else:
                engine.store.execute("ANALYZE")
            built[name] = {k: v for k, v in made.items() if k != "organisations"} | {
                "seconds": round(time.perf_counter() - t)
            }
            print(f"{name}: built in {built[name]['seconds']} s: " + ", ".join(
                f"{v:,} {k}" for k, v in made.items() if isinstance(v, int) and v))  # fmt: skip
            app = make_app(db, now, Path(tmp) / "uploads")
            timer = Timer(name, args.runs)
            anchors(timer, app)
            boss = signed_in(app, f"boss@{name}.example.org", "commissioner")
            if name == "referrals":
                commissioner_pages(timer, boss, made["programme"], "BHM-0012")
                after_a_change(timer, boss, engine, made["programme"])
                after_a_restart(timer, boss, made["programme"])
                worked_out_ahead(timer, boss, engine, made["programme"])
                org = made["organisations"][0][0]
                worker = signed_in(app, f"worker@{org}.example.org", "caseworker", org)
                caseworker_pages(timer, worker, "MY00012")
            else:
                commissioner_pages(timer, boss, made["programme"], "Community organisation 12")
                assessor_pages(timer, signed_in(app, PANEL[0], "assessor"))
            results += timer.results
    report(results, built, kind)


if __name__ == "__main__":
    main()
