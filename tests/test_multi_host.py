"""Several hosts on one PostgreSQL: two web servers and two schedulers, one of each killed -9.

Two gunicorn masters (2 workers each, on their own ports) serve `tests.multi_host_app:app()` and
two `commission scheduler` processes sweep and deliver, all on one PostgreSQL schema. Applicants
in threads of this test sign in on server A or B, start applications and save pages. A third of
the way through, server A (master and workers) is killed with SIGKILL; its applicants carry on
against B with the same cookies, sending again any request that got no answer. Later scheduler 1
is killed with SIGKILL, as soon as it is caught holding claims on messages it has not finished
sending (the SMTP server takes a moment over each, so it nearly always is). Afterwards:
- every save the web acknowledged (302) is in the case's answers;
- no case is half-written: each action's rows (case, audit event, revision, answers, reminder
  row, its messages) are all there or none are;
- every reminder was delivered to a real SMTP server, each exactly once, except at most the one
  message scheduler 1 had handed to the server but not yet marked delivered when it was killed.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from werkzeug.security import generate_password_hash

from engine.runtime import Engine
from engine.scheduler.delivery import SmtpBackend, deliver, message_key
from engine.store import Store

from .conftest import EXAMPLE, ROOT
from .databases import database_in
from .smtp_server import Inbox, free_port

pytestmark = pytest.mark.postgres_only

APPLICANTS = 16  # one organisation each, half starting on server A, half on B
COLLEAGUES = 2  # more applicants of each organisation: every reminder goes to three people
APPLICATIONS = 3  # each applicant starts this many, one after another…
SAVES = 4  # …and saves this many pages of each
STEPS = APPLICATIONS * SAVES  # saves per applicant
PASSWORD = "a long enough password"
SECRET = "one key for every host"
SENDER = "funding@council.example"
SWEEP_NOW = "2022-02-15T09:00:00+00:00"  # the schedulers' clock: closing_soon fell due on the 14th
SMTP_DELAY = 0.03  # the server takes a moment over each message, as a real one does
DEADLINE = 60.0  # seconds any one wait may take before the test gives up


class SlowInbox(Inbox):
    """The test SMTP server's inbox, taking SMTP_DELAY over each message before accepting it."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(SMTP_DELAY)
        return await super().handle_DATA(server, session, envelope)


@contextmanager
def slow_smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A plain SMTP server on 127.0.0.1 for the block: (its inbox, its port)."""
    inbox = SlowInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def wait_for(what: str, ready: Any, deadline: float = DEADLINE) -> None:
    """Poll `ready()` every 20 ms until it is true; fail after `deadline` seconds."""
    stop = time.monotonic() + deadline
    while not ready():
        if time.monotonic() > stop:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A process in a process group of its own (so killing the group kills its children too)."""
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Send `sig` to the process and every process it started, then reap it."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def web_server(db: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A gunicorn master with 2 sync workers serving the app on a free port; (process, base URL)."""
    port = free_port()
    process = spawn(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--no-control-socket", "--log-level", "warning", "tests.multi_host_app:app()"],
        {"MULTI_HOST_DB": db, "MULTI_HOST_SECRET": SECRET}, log,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def serving(base: str) -> bool:
    """Whether the server at `base` serves the sign-in page."""
    with suppress(requests.RequestException):
        return requests.get(f"{base}/auth/sign-in", timeout=5).status_code == 200
    return False


def scheduler(db: str, smtp_port: int, log: Path) -> subprocess.Popen[bytes]:
    """`commission scheduler` sweeping every 0.2 s and sending by SMTP to the test's server."""
    env = {"COMMISSION_NOW": SWEEP_NOW, "COMMISSION_NOTIFY": "smtp", "SMTP_HOST": "127.0.0.1",
           "SMTP_PORT": str(smtp_port), "SMTP_STARTTLS": "0", "SMTP_SENDER": SENDER}  # fmt: skip
    args = [sys.executable, "-m", "engine.cli", "scheduler", "--db", db, "--interval", "0.2"]
    return spawn(args, env, log)


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Save:
    """One save the web acknowledged: the case, the page, what was sent and which server said so."""

    reference: str
    page: str
    values: dict[str, Any]  # as the engine keeps them
    server: int


@dataclass
class Applicant:
    """One person driving the load from a thread: on server A (0) or B (1) until A is gone."""

    number: int
    servers: list[str]
    on: int
    http: requests.Session = field(default_factory=requests.Session)
    started: list[str] = field(default_factory=list)  # references of acknowledged starts
    saves: list[Save] = field(default_factory=list)
    unanswered: Counter[str] = field(default_factory=Counter)  # requests that got no answer
    moved: bool = False  # carried on against B after A was killed

    @property
    def email(self) -> str:
        return f"applicant{self.number}@org{self.number}.example"

    @property
    def organisation(self) -> str:
        return f"org_{self.number}"

    def request(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        """The response from this applicant's server, or from B if A gave none (sent again there).

        A request that got no response was never acknowledged; it may or may not have been done,
        and is counted under `what` so the checks can allow for it.
        """
        while True:
            try:
                return self.http.request(method, self.servers[self.on] + path,
                                         allow_redirects=False, timeout=30, **kwargs)  # fmt: skip
            except requests.RequestException:
                if self.on == 1:
                    raise
                self.unanswered[what] += 1
                self.on, self.moved = 1, True

    def token(self, path: str) -> str:
        response = self.request("GET", path, "page")
        assert response.status_code == 200, (path, response.status_code)
        found = CSRF.search(response.text)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def sign_in(self) -> str:
        """Sign in through the sign-in page; a CSRF token for the session's later forms."""
        data = {
            "csrf_token": self.token("/auth/sign-in"),
            "email": self.email,
            "password": PASSWORD,
        }
        response = self.request("POST", "/auth/sign-in", "sign-in", data=data)
        assert response.status_code == 302, ("sign-in", response.status_code)
        return self.token("/apply/rounds/tiny_grants/start")  # the signed-in session's token

    def start(self, token: str) -> str:
        response = self.request("POST", "/apply/rounds/tiny_grants/start", "start",
                                data={"csrf_token": token})  # fmt: skip
        assert response.status_code == 302, ("start", response.status_code)
        reference = response.headers["Location"].rsplit("/", 1)[-1]
        self.started.append(reference)
        return reference

    def save(self, token: str, reference: str, step: int) -> None:
        """Save a page as a draft (`Save and come back later`), the two pages in turn."""
        n = f"{self.number}.{step}"
        if step % 2 == 0:
            page = "organisation"
            posted = {"org_name": f"Organisation {n}", "income": f"{10_000 + step:,}", "org_type": "charity"}  # fmt: skip
            kept: dict[str, Any] = {**posted, "income": 10_000 + step}
        else:
            page = "proposal"
            posted = {"priorities": "isolation", "summary": f"Our project, draft {n}."}
            kept = {**posted, "priorities": ["isolation"]}
        path = f"/apply/cases/{reference}/forms/tiny_eoi/pages/{page}"
        response = self.request("POST", path, reference,
                                data={**posted, "csrf_token": token, "_action": "save"})  # fmt: skip
        assert response.status_code == 302, (path, response.status_code, response.text[:2000])
        assert response.headers["Location"].endswith("/forms/tiny_eoi?saved=1"), response.headers
        self.saves.append(Save(reference, page, kept, self.on))


@dataclass
class Load:
    """The shared progress of the applicants, and the two moments they wait for."""

    acknowledged: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    web_killed: threading.Event = field(default_factory=threading.Event)
    scheduler_killed: threading.Event = field(default_factory=threading.Event)
    errors: list[str] = field(default_factory=list)
    waiting: int = 0  # applicants held at one of the two moments

    def hold(self, event: threading.Event) -> None:
        with self.lock:
            self.waiting += 1
        try:
            assert event.wait(DEADLINE), "the load waited too long for a kill"
        finally:
            with self.lock:
                self.waiting -= 1


def drive(person: Applicant, load: Load) -> None:
    """One applicant's whole visit. Half-way it waits until A is killed (so every applicant of
    A has work left to carry on with on B); three quarters in, until scheduler 1 is killed."""
    try:
        token = person.sign_in()
        for application in range(APPLICATIONS):
            reference = person.start(token)
            for page in range(SAVES):
                step = application * SAVES + page
                if step == STEPS // 2:
                    load.hold(load.web_killed)
                if step == STEPS * 3 // 4:
                    load.hold(load.scheduler_killed)
                person.save(token, reference, step)
                with load.lock:
                    load.acknowledged += 1
    except BaseException as exc:  # reported by the test, with the applicant's number
        load.errors.append(f"applicant {person.number}: {type(exc).__name__}: {exc}")


def outbox(store: Store) -> list[dict[str, Any]]:
    cur = store.execute(
        "SELECT id, reminder_id, case_id, to_address, delivered_at, failed_at, claimed_by, error "
        "FROM outbox ORDER BY id"
    )
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def claimed_by(message: dict[str, Any], process: subprocess.Popen[bytes]) -> bool:
    """Whether the message was claimed by this scheduler (its sender name holds its pid)."""
    return f":{process.pid}:" in (message["claimed_by"] or "")


def holds_claims(store: Store, process: subprocess.Popen[bytes]) -> bool:
    """Whether the scheduler has delivered something and holds claims on messages not yet marked."""
    mine = [m for m in outbox(store) if claimed_by(m, process)]
    return any(m["delivered_at"] for m in mine) and any(not m["delivered_at"] for m in mine)


def test_two_web_servers_and_two_schedulers_survive_losing_one_of_each(tmp_path: Path) -> None:
    db = database_in(tmp_path, "hosts")
    engine = Engine(db)
    engine.publish(EXAMPLE / "programmes" / "tiny.yaml", EXAMPLE / "forms")
    store = engine.store
    hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # quick to check
    people: dict[str, list[str]] = {}
    with store.transaction():
        for i in range(APPLICANTS):
            org = f"org_{i}"
            store.ensure_organisation(org, f"Organisation {i}", "2022-01-01")
            people[org] = [f"applicant{i}@org{i}.example"] + [
                f"colleague{j}@org{i}.example" for j in range(COLLEAGUES)
            ]
            for email in people[org]:
                store.create_user(email, hashed, email.split("@")[0], "applicant", org, "2022-01-01")  # fmt: skip

    processes: list[subprocess.Popen[bytes]] = []
    with slow_smtp_server() as (inbox, smtp_port):
        try:
            web_a, url_a = web_server(db, tmp_path / "web_a.log")
            processes.append(web_a)
            web_b, url_b = web_server(db, tmp_path / "web_b.log")
            processes.append(web_b)
            sched_1 = scheduler(db, smtp_port, tmp_path / "scheduler_1.log")
            processes.append(sched_1)
            sched_2 = scheduler(db, smtp_port, tmp_path / "scheduler_2.log")
            processes.append(sched_2)
            wait_for("both web servers", lambda: serving(url_a) and serving(url_b))

            # ---- the load, with server A and then scheduler 1 killed in the middle of it ----
            load = Load()
            applicants = [Applicant(i, [url_a, url_b], on=i % 2) for i in range(APPLICANTS)]
            threads = [threading.Thread(target=drive, args=(a, load)) for a in applicants]
            for t in threads:
                t.start()
            total = APPLICANTS * STEPS
            # a third of the way, once every applicant has had a save acknowledged (so each of
            # A's applicants has saved on A and will save on B)
            wait_for("a third of the saves", lambda: load.errors or (
                load.acknowledged >= total // 3 and all(a.saves for a in applicants)))  # fmt: skip
            kill_group(web_a)  # the master and its workers, mid-request for some applicants
            load.web_killed.set()
            # scheduler 1 is killed once caught mid-delivery (it has delivered and still holds
            # claims), or, failing that, when every applicant waits for it
            wait_for("half the saves", lambda: load.acknowledged >= total // 2 or load.errors)
            caught_mid_send = False
            stop = time.monotonic() + DEADLINE
            while not load.errors and time.monotonic() < stop:
                if holds_claims(store, sched_1):
                    caught_mid_send = True
                    break
                if load.waiting == APPLICANTS - sum(not t.is_alive() for t in threads):
                    break
                time.sleep(0.02)
            kill_group(sched_1)
            load.scheduler_killed.set()
            for t in threads:
                t.join(DEADLINE)
            assert not any(t.is_alive() for t in threads), "an applicant never finished"
            assert load.errors == []
            assert load.acknowledged == total

            # ---- scheduler 2 finishes everything but scheduler 1's claims, then stops ----
            def settled() -> bool:
                pending = store.execute(
                    "SELECT count(*) FROM reminders WHERE status <> 'sent'"
                ).fetchone()
                return pending[0] == 0 and all(
                    m["delivered_at"] or m["failed_at"] or claimed_by(m, sched_1)
                    for m in outbox(store)
                )

            wait_for("scheduler 2 to send everything it can", settled)
            kill_group(sched_2, signal.SIGTERM)
            left = [m for m in outbox(store) if not m["delivered_at"] and not m["failed_at"]]
            assert all(claimed_by(m, sched_1) for m in left)
            arrived = inbox.ids()
            # handed to the SMTP server by scheduler 1, which was killed before marking it
            # delivered: the only message that can arrive twice (delivery.py's guarantee)
            in_flight = {m["id"] for m in left if f"<{message_key(m)}@council.example>" in arrived}
            assert len(in_flight) <= 1

            # ---- a scheduler after scheduler 1's claims lapse (CLAIM_FOR, 5 minutes) ----
            # Claims run on the wall clock, not COMMISSION_NOW (a frozen clock would never let
            # them lapse), so this run is told it is 10 minutes later in-process.
            later = datetime.now(UTC) + timedelta(minutes=10)
            backend = SmtpBackend("127.0.0.1", smtp_port, sender=SENDER, starttls=False)
            assert deliver(store, backend, clock=lambda: later) == len(left)
            assert deliver(store, backend, clock=lambda: later) == 0
        finally:
            for process in processes:
                if process.poll() is None:
                    kill_group(process)
        received = inbox.ids()
        messages = list(inbox.messages)

    # ---- the load really went through both servers, and A's applicants moved to B ----
    on_a = [a for a in applicants if a.number % 2 == 0]
    assert all(a.moved for a in on_a)
    assert all(any(s.server == 0 for s in a.saves) for a in on_a)
    assert all(any(s.server == 1 for s in a.saves) for a in on_a)

    # ---- every acknowledged save is in its case's answers ----
    cases = {r[0] for r in store.execute("SELECT id FROM cases").fetchall()}
    for person in applicants:
        assert len(person.started) == APPLICATIONS
        for reference in person.started:
            case = store.case_by_reference(reference)
            assert case is not None and case["organisation_id"] == person.organisation
            expected: dict[str, Any] = {}
            acknowledged = [s for s in person.saves if s.reference == reference]
            for s in acknowledged:
                expected.update(s.values)
            assert len(acknowledged) == SAVES
            [row] = store.answers(case["id"])
            assert (row["form"], row["data"]) == ("tiny_eoi", expected), reference
            # a save that got no answer was sent again: done once or twice, never lost
            events = [e for e in store.history(case["id"]) if e["action"] == "answer"]
            assert SAVES <= len(events) <= SAVES + person.unanswered[reference]
        # a start that got no answer may have made a case nobody was told of: left empty
        theirs = store.execute(
            "SELECT count(*) FROM cases WHERE organisation_id = ?", (person.organisation,)
        ).fetchone()[0]
        assert APPLICATIONS <= theirs <= APPLICATIONS + person.unanswered["start"]

    # ---- no case is half-written ----
    for case_id in sorted(cases):
        case = store.case(case_id)
        assert case is not None
        history = store.history(case_id)
        assert [e["action"] for e in history] == ["start"] + ["answer"] * (len(history) - 1)
        assert history[0]["to"] == "draft" and case["state"] == history[-1]["to"] == "draft"
        assert case["revision"] == len(history) - 1  # one revision per save, with its event
        saved = store.answers(case_id)
        asked = {q for e in history[1:] for q in e["detail"]["questions"]}
        if len(history) > 1:
            assert [a["form"] for a in saved] == ["tiny_eoi"] and set(saved[0]["data"]) <= asked
        else:
            assert saved == []
        [reminder] = store.reminders_for(case_id)  # planned with the start, in one transaction
        assert (reminder["rule"], reminder["status"]) == ("closing_soon", "sent")
        sent_to = store.execute(
            "SELECT to_address FROM outbox WHERE reminder_id = ?", (reminder["id"],)
        ).fetchall()
        assert sorted(r[0] for r in sent_to) == sorted(people[case["organisation_id"]])
    for table in ("answers", "audit", "reminders", "outbox"):
        orphans = store.execute(
            f"SELECT count(*) FROM {table} WHERE case_id IS NOT NULL "
            "AND case_id NOT IN (SELECT id FROM cases)"
        ).fetchone()[0]
        assert orphans == 0, table

    # ---- every reminder reached the SMTP server exactly once, bar the one in flight ----
    sent = outbox(store)
    assert len(sent) == len(cases) * (1 + COLLEAGUES)
    assert all(m["delivered_at"] and not m["failed_at"] for m in sent)
    expected_ids = {f"<{message_key(m)}@council.example>": m for m in sent}
    assert set(received) == set(expected_ids)
    twice = {expected_ids[i]["id"] for i, n in received.items() if n == 2}
    assert twice == in_flight and max(received.values()) <= 2
    assert all(m["To"] == expected_ids[str(m["Message-ID"])]["to_address"] for m in messages)
    print(f"scheduler 1 killed {'mid-send' if caught_mid_send else 'between sends'}; "
          f"{len(in_flight)} message in flight; {len(cases)} cases, {len(sent)} messages; "
          f"unanswered by A: {sum((a.unanswered for a in applicants), Counter())}")  # fmt: skip
