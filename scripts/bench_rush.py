"""Benchmark: a deadline rush — 200 applicants fill in and submit within 2 minutes, on 2 web processes.

Run with `.venv/bin/python scripts/bench_rush.py [sqlite] [postgres]` (both when neither is named).
For each database it publishes the Liverpool programme (programmes/liverpool.yaml) on a new
SQLite file or a new PostgreSQL schema, adds APPLICANTS people, each an applicant of an
organisation of their own, and serves the app (as `bench_web:web_app()`, the demo's clock:
2022-01-20T10:00 UTC, the expression of interest round open) from 2 gunicorn masters on 2 ports,
1 sync worker each: 2 web processes, as 2 hosts behind a load balancer would be. Every request goes
to the other process than the one before it, so each applicant's session, CSRF token and answers
must hold across both.

Each applicant, through the pages as a browser without JavaScript would go: signs in (CSRF token
and all), starts an application (POST /apply/rounds/<programme>/start), opens it and its task list,
then fills in the expression of interest: its 10 pages, each GET then POST "Save and continue"
(multipart, as the page's form is), following each redirect — three pages reveal follow-up
questions after a save, so it takes 14 saves, 3 with an upload (a 46 KB PDF) — then "Check your
answers" and submits, and reads the confirmation. The answers meet all nine eligibility criteria.
Two extra applicants go through first, untimed, so every worker has read the programme and compiled
its templates, as a live service's would have.
Applicants start at random offsets in the first START_WITHIN seconds and wait THINK seconds
between requests (a seeded RNG), so the load is spread over the 2 minutes, not as fast as
possible; CLIENT_THREADS threads of this process send the requests, on the same 2-core machine.

Printed per database: p50, p95 and p99 latency (ms) by kind of request and the errors (any status
or redirect other than a browser expects, any failed connection), the request rate achieved, and
the checks afterwards through `Store(url).answers(case_id)` and the `Engine`: every save the server
acknowledged (302) has its answers in the store as sent, and every acknowledged submit left its
case submitted and eligible. Targets: p95 under 300 ms for saves and submits, 0 errors, every
acknowledged save present. Every loop is bounded (steps per applicant, a hard stop at HARD_STOP
seconds); the servers are stopped and the database (or schema) dropped at the end.
"""

from __future__ import annotations

import heapq
import random
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import (
    ROOT,
    add_applicants,
    build,
    csrf_of,
    free_port,
    load,
    postgres_schema,
    request,
    serve,
    stop,
)
from bench_web import NOW, PROGRAMME
from rush_answers import PDF, answers_for, email, multipart, same, stored

APPLICANTS = 200
START_WITHIN = 100.0  # seconds: each applicant starts at a random moment in this window
THINK = (0.05, 0.45)  # seconds between one response and the applicant's next request
CLIENT_THREADS = 24
HARD_STOP = 170.0  # seconds: no request is started after this
MAX_STEPS = 60  # requests per applicant at most (it needs 37)
SEED = 20220131
TARGET_P95_MS = 300.0
PASSWORD = "rush-password-1234"
EOI = "liverpool_expression_of_interest"
KINDS = ("sign-in", "start", "page GET", "save", "submit")
# ---- one applicant: a browser's worth of state and the journey, one request per step ----


class Refused(Exception):
    """A response other than a browser expects: the applicant stops there."""


@dataclass
class Applicant:
    index: int
    ports: tuple[int, int]
    stats: Stats
    rng: random.Random
    cookie: str = ""
    csrf: str = ""
    turn: int = 0
    reference: str = ""
    acknowledged: list[dict[str, tuple[str, Any]]] = field(default_factory=list)
    uploaded: set[str] = field(default_factory=set)
    submitted: bool = False

    def call(self, kind: str, method: str, path: str, expect: int, body: bytes = b"",
             content_type: str = "application/x-www-form-urlencoded") -> tuple[bytes, str]:  # fmt: skip
        """One request to the next of the 2 processes; the response and its Location."""
        port = self.ports[(self.index + self.turn) % 2]
        self.turn += 1
        raw = build(method, path, self.cookie, body, content_type)
        started = time.perf_counter()
        try:
            status, response = request(port, raw)
        except OSError as exc:
            self.stats.record(kind, started, time.perf_counter(), f"{method} {path}: {exc!r}")
            raise Refused from None
        head, _, page = response.partition(b"\r\n\r\n")
        problem = None if status == expect else f"{method} {path}: {status}, expected {expect}"
        if problem and status == 200:  # a page again: say what it says is wrong
            shown = re.findall(rb'class="govuk-error-message">\s*(?:<span[^>]*>[^<]*</span>)?\s*([^<]+)', page)  # fmt: skip
            problem += f" ({'; '.join(s.decode().strip() for s in shown[:3]) or 'no message'})"
        self.stats.record(kind, started, time.perf_counter(), problem)
        if problem:
            raise Refused
        if found := re.search(rb"Set-Cookie: (commission_session=[^;]+)", head):
            self.cookie = found.group(1).decode()
        if method == "GET" and b'name="csrf_token"' in page:
            self.csrf = csrf_of(page)
        location = re.search(rb"Location: ([^\r\n]+)", head)
        return page, location.group(1).decode() if location else ""

    def journey(self, answers: dict[str, list[tuple[str, str, Any]]]) -> Iterator[None]:
        """The applicant's requests in order; yields after each (the runner waits a think time)."""
        start = f"/apply/rounds/{PROGRAMME}/start"
        self.call("page GET", "GET", "/auth/sign-in", 200)
        yield
        body = urlencode(
            {"csrf_token": self.csrf, "email": email(self.index), "password": PASSWORD}
        )
        _, where = self.call("sign-in", "POST", "/auth/sign-in", 302, body.encode())
        if not where.endswith("/apply/applications"):
            self.stats.fail("sign-in", f"sign-in went to {where!r}")
            return
        yield
        self.call("page GET", "GET", start, 200)
        yield
        _, case_url = self.call("start", "POST", start, 302, urlencode({"csrf_token": self.csrf}).encode())  # fmt: skip
        if not re.search(r"/apply/cases/LIV-\d+$", case_url):
            self.stats.fail("start", f"starting went to {case_url!r}")
            return
        self.reference = case_url.rsplit("/", 1)[1]
        yield
        self.call("page GET", "GET", case_url, 200)
        yield
        tasks, _ = self.call("page GET", "GET", f"{case_url}/forms/{EOI}", 200)
        first = re.search(rb'href="(/apply/cases/[^"]+/pages/[^"]+)"', tasks)
        if not first:
            self.stats.fail("page GET", "no page on the task list")
            return
        url = first.group(1).decode()
        yield
        for _ in range(MAX_STEPS):
            if "/pages/" in url:
                page, _ = self.call("page GET", "GET", url, 200)
                yield
                shown = {n.decode() for n in re.findall(rb'name="([^"]+)"', page)}
                sent = [a for a in answers[url.rsplit("/", 1)[1]] if a[0] in shown]
                fields = [("csrf_token", self.csrf), ("_action", "continue")]
                files = []
                for qid, kind, value in sent:
                    if kind == "file":
                        new = qid not in self.uploaded
                        files.append((qid, value if new else "", PDF if new else b""))
                    elif kind == "date":
                        fields += [(qid, str(part)) for part in value]
                    elif kind == "yesno":
                        fields.append((qid, "yes" if value else "no"))
                    elif kind == "list":
                        fields += [(qid, v) for v in value]
                    else:
                        fields.append((qid, str(value)))
                body, content_type = multipart(fields, files)
                _, where = self.call("save", "POST", url, 302, body, content_type)
                if "/pages/" not in where and not where.endswith("/check"):
                    self.stats.fail("save", f"saving {url} went to {where!r}")
                    return
                self.acknowledged.append({q: (k, stored(k, v)) for q, k, v in sent})
                self.uploaded |= {q for q, k, _ in sent if k == "file"}
                url = where.split("#", 1)[0]
                yield
            elif url.endswith("/check"):
                self.call("page GET", "GET", url, 200)
                yield
                body = urlencode({"csrf_token": self.csrf}).encode()
                _, where = self.call("submit", "POST", url, 302, body)
                if not where.endswith("/confirmation"):
                    self.stats.fail("submit", f"submitting went to {where!r}")
                    return
                self.submitted = True
                yield
                page, _ = self.call("page GET", "GET", where, 200)
                if self.reference.encode() not in page:
                    self.stats.fail("page GET", "the confirmation does not show the reference")
                return
            else:
                self.stats.fail("save", f"unexpected page {url!r}")
                return
        self.stats.fail("save", "too many steps")


class Stats:
    """Latencies and errors by kind of request, from every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms: dict[str, list[float]] = {k: [] for k in KINDS}
        self.errors: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.said: list[str] = []
        self.first = float("inf")
        self.last = 0.0
        self.last_submit = 0.0
        self.moments: list[float] = []

    def record(self, kind: str, started: float, ended: float, problem: str | None) -> None:
        with self.lock:
            self.ms[kind].append((ended - started) * 1000)
            self.first, self.last = min(self.first, started), max(self.last, ended)
            self.moments.append(started)
            if kind == "submit" and not problem:
                self.last_submit = max(self.last_submit, ended)
            if problem:
                self.errors[kind] += 1
                if len(self.said) < 8:
                    self.said.append(f"{kind}: {problem}")

    def fail(self, kind: str, problem: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.said) < 8:
                self.said.append(f"{kind}: {problem}")


# ---- running the applicants: a heap of who is due next, served by CLIENT_THREADS threads ----


def warm_up(ports: tuple[int, int]) -> None:
    """Two extra applicants through every page, at once and untimed, one starting on each process:
    each worker has read the programme and compiled its templates before the rush, as a live
    service's would have."""
    for i in (APPLICANTS, APPLICANTS + 1):
        person = Applicant(i, ports, Stats(), random.Random(i))
        try:
            for _ in person.journey(answers_for(i, person.rng)):
                pass
        except Refused:
            pass
        if not person.submitted:
            raise SystemExit(f"the warm-up applicant did not get through: {person.stats.said}")


def rush(ports: tuple[int, int]) -> tuple[Stats, list[Applicant], float]:
    """Every applicant's journey, paced; the figures, the applicants, and when it began."""
    stats = Stats()
    rng = random.Random(SEED)
    began = time.monotonic()
    due: list[tuple[float, int, Iterator[None]]] = []
    people = []
    for i in range(APPLICANTS):
        own = random.Random(rng.random())
        person = Applicant(i, ports, stats, own)
        people.append(person)
        heapq.heappush(due, (began + own.uniform(0, START_WITHIN), i, person.journey(answers_for(i, own))))  # fmt: skip
    cond = threading.Condition()
    running = [0]

    def worker() -> None:
        while True:
            with cond:
                while True:
                    if due:
                        wait = due[0][0] - time.monotonic()
                        if wait <= 0:
                            _, i, steps = heapq.heappop(due)
                            running[0] += 1
                            break
                        cond.wait(wait)
                    elif running[0] == 0:
                        cond.notify_all()
                        return
                    else:
                        cond.wait()
            again = None
            if time.monotonic() - began < HARD_STOP:
                try:
                    next(steps)
                    again = time.monotonic() + people[i].rng.uniform(*THINK)
                except (StopIteration, Refused):
                    pass
            else:
                stats.fail("save", f"applicant {i} not finished by the hard stop")
            with cond:
                running[0] -= 1
                if again is not None:
                    heapq.heappush(due, (again, i, steps))
                cond.notify_all()

    threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats, people, began


def verify(db: str, people: list[Applicant]) -> dict[str, int]:
    """Check, through the store and the engine, what the server acknowledged."""
    from engine.runtime import Actor, Engine
    from engine.store import Store

    store = Store(db)
    engine = Engine(store)
    out = dict.fromkeys(("saves", "saves_held", "submits", "submitted", "eligible"), 0)
    shown = 0
    for person in people:
        if not person.reference:
            continue
        row = store.case_by_reference(person.reference)
        assert row is not None, person.reference
        rows = [a for a in store.answers(row["id"]) if a["form"] == EOI]
        data = rows[0]["data"] if rows else {}
        for save in person.acknowledged:
            out["saves"] += 1
            wrong = [q for q, (kind, value) in save.items() if not same(kind, value, data.get(q))]
            if not wrong:
                out["saves_held"] += 1
            elif shown < 5:
                shown += 1
                print(f"    {person.reference}: {', '.join(f'{q}={data.get(q)!r}, sent {save[q][1]!r}' for q in wrong)}")  # fmt: skip
        if person.submitted:
            out["submits"] += 1
            if row["state"] == "eoi_submitted" and rows and rows[0]["submitted_at"]:
                out["submitted"] += 1
            actor = Actor("applicant", email(person.index), row["organisation_id"])
            if all(c.passed for c in engine.eligibility(row["id"], actor)):
                out["eligible"] += 1
    return out


def setup(db: str) -> None:
    """The programme published and the applicants added, each with an organisation of its own."""
    from engine.runtime import Engine

    Engine(db).publish(ROOT / "programmes" / "liverpool.yaml")
    # and two to warm the workers up
    add_applicants(db, APPLICANTS + 2, PASSWORD, f"{NOW}:00+00:00", email)


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def run(name: str, db: str) -> None:
    """Set up, rush, verify and print the figures for one database."""
    started, load_start = time.monotonic(), load()
    setup(db)
    ports = (free_port(), free_port())
    env = {"BENCH_DB": db, "BENCH_SECRET": secrets.token_hex(32)}
    servers = []
    try:
        for port in ports:
            servers.append(serve("web_app()", port, env, workers=1))
        warm_up(ports)
        stats, people, began = rush(ports)
    finally:
        for server in servers:
            stop(server)
    load_end = load()
    checked = verify(db, people)
    span = stats.last - stats.first
    count = sum(len(v) for v in stats.ms.values())
    writes = len(stats.ms["save"]) + len(stats.ms["submit"])
    per_10s: dict[int, int] = {}
    for moment in stats.moments:
        per_10s[int((moment - stats.first) // 10)] = per_10s.get(int((moment - stats.first) // 10), 0) + 1  # fmt: skip
    errors = sum(stats.errors.values())
    print(f"{name}: {APPLICANTS} applicants, 2 gunicorn masters x 1 sync worker (requests alternate "
          f"between them), {CLIENT_THREADS} client threads")  # fmt: skip
    print(f"  load average at start: {load_start}; at the end: {load_end}")
    print(f"  {'request':10} {'count':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6}")  # fmt: skip
    for kind in KINDS:
        ms = stats.ms[kind]
        if not ms:
            print(f"  {kind:10} {0:6d} {'':>7} {'':>7} {'':>7} {'':>7} {stats.errors[kind]:6d}")
            continue
        print(f"  {kind:10} {len(ms):6d} {percentile(ms, 50):7.0f} {percentile(ms, 95):7.0f} "
              f"{percentile(ms, 99):7.0f} {max(ms):7.0f} {stats.errors[kind]:6d}")  # fmt: skip
    print(f"  {count} requests in {span:.0f} s: {count / span:.0f}/s (busiest 10 s: "
          f"{max(per_10s.values()) / 10:.0f}/s); saves and submits {writes / span:.1f}/s; "
          f"last submit {stats.last_submit - began:.0f} s after the start")  # fmt: skip
    for line in stats.said:
        print(f"  error: {line}")
    print(f"  afterwards: {checked['saves_held']} of {checked['saves']} acknowledged saves held as "
          f"sent; {checked['submitted']} of {checked['submits']} acknowledged submits submitted, "
          f"{checked['eligible']} eligible")  # fmt: skip
    verdicts = [
        (
            f"save p95 {percentile(stats.ms['save'], 95):.0f} ms",
            percentile(stats.ms["save"], 95) < TARGET_P95_MS,
        ),
        (
            f"submit p95 {percentile(stats.ms['submit'], 95):.0f} ms",
            percentile(stats.ms["submit"], 95) < TARGET_P95_MS,
        ),
        (f"{errors} errors", errors == 0),
        (
            f"{checked['saves'] - checked['saves_held']} acknowledged saves missing",
            checked["saves"] == checked["saves_held"] and checked["saves"] > 0,
        ),
        (
            f"{APPLICANTS - checked['submitted']} applicants not submitted",
            checked["submitted"] == APPLICANTS,
        ),
    ]
    print(
        "  targets: " + "; ".join(f"{what}: {'met' if ok else 'NOT met'}" for what, ok in verdicts)
    )
    print(f"  took {time.monotonic() - started:.0f} s")


def main() -> None:
    wanted = [a.lower() for a in sys.argv[1:]] or ["sqlite", "postgres"]
    unknown = set(wanted) - {"sqlite", "postgres"}
    if unknown:
        raise SystemExit(f"usage: bench_rush.py [sqlite] [postgres] (not {', '.join(sorted(unknown))})")  # fmt: skip
    print(f"Deadline rush: Liverpool expression of interest (10 pages, 14 saves, 3 uploads of "
          f"{len(PDF) // 1024} KB), demo clock {NOW} UTC; applicants start within "
          f"{START_WITHIN:g} s, {THINK[0]:g}-{THINK[1]:g} s between requests (seed {SEED})")  # fmt: skip
    if "sqlite" in wanted:
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", str(Path(tmp) / "rush.db"))
    if "postgres" in wanted:
        with postgres_schema() as url:
            if url:
                run("PostgreSQL", url)


if __name__ == "__main__":
    main()
