"""Reminders reach real inboxes exactly once: a real SMTP server counts what arrives.

Each test queues reminders with the scheduler's sweep on a small programme, then delivers them
to an aiosmtpd server on 127.0.0.1: with two schedulers at once, after a kill mid-send, after a
week of downtime, to the people who hold a role when it is sent.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.runtime import Actor, Engine
from engine.scheduler.delivery import (
    CLAIM_AT_ONCE,
    MAX_ATTEMPTS,
    NotifyBackend,
    SmtpBackend,
    deliver,
)
from engine.scheduler.sweeper import sweep, time_left

from .conftest import EXAMPLE, ROOT, account
from .databases import database_in
from .notify_api import notify_api
from .smtp_server import certificate, free_port, smtp_server
from .test_scheduler import Clock, at

TINY = (EXAMPLE / "programmes" / "tiny.yaml").read_text("utf-8")


def programme(tmp_path: Path, **replace: str) -> Engine:
    """The worked example's programme (reminded 7 days before 21 February 17:00), edited."""
    text = TINY
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    folder = tmp_path / "programmes"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yaml").write_text(text, "utf-8")
    clock = Clock(at("2022-01-20T10:00"))
    engine = Engine(database_in(folder.parent, "d"), clock=clock)
    engine.publish(folder / "tiny.yaml", EXAMPLE / "forms")
    return engine


def person(engine: Engine, email: str, role: str = "applicant", org: str | None = None) -> None:
    """Someone with an account: the people reminders are sent to."""
    with engine.store.transaction():
        if org:
            engine.store.ensure_organisation(org, org, "2022-01-01")
        account(engine.store, email, email.split("@")[0], role, org)


def drafts(engine: Engine, n: int) -> list[str]:
    """`n` organisations, each with one person and one draft; their addresses."""
    addresses = []
    for i in range(n):
        person(engine, f"p{i}@org{i}.example", org=f"org_{i}")
        engine.start_case("tiny_grants", "application", Actor("applicant", f"p{i}", f"org_{i}"))
        addresses.append(f"p{i}@org{i}.example")
    return addresses


def queued(engine: Engine, when: str) -> int:
    """Sweep as if it were `when`; the reminders queued."""
    engine._clock.now = at(when)  # type: ignore[attr-defined]
    return sweep(engine).sent


def smtp(port: int) -> SmtpBackend:
    """The SMTP backend as `commission scheduler` builds it, on a server with no TLS."""
    return SmtpBackend("127.0.0.1", port, sender="funding@council.example", starttls=False)


def test_each_person_who_holds_the_role_when_it_is_sent_gets_their_own_message(
    tmp_path: Path,
) -> None:
    engine = programme(tmp_path)
    person(engine, "ann@org-a.example", org="org_a")
    case = engine.start_case("tiny_grants", "application", Actor("applicant", "ann", "org_a"))
    person(engine, "ben@org-a.example", org="org_a")  # a colleague added after the case began
    person(engine, "zed@org-z.example", org="org_z")  # another organisation: not told
    assert queued(engine, "2022-02-14T17:00") == 1
    with smtp_server() as (inbox, port):
        assert deliver(engine.store, smtp(port)) == 2
    by_address = {m["To"]: m for m in inbox.messages}
    assert set(by_address) == {"ann@org-a.example", "ben@org-a.example"}
    mail = by_address["ben@org-a.example"]
    assert mail["Subject"] == "Applications close in 7 days"
    body = mail.get_payload()
    assert "Submit your application before 21 February 2022 at 17:00 GMT." in body
    assert f"Case {case.reference}: http://127.0.0.1:5000/apply/cases/{case.reference}" in body
    assert mail["Message-ID"].startswith("<commission-outbox-")


def test_a_message_nobody_can_receive_is_shown_as_not_delivered_with_why(tmp_path: Path) -> None:
    engine = programme(tmp_path)
    engine.start_case("tiny_grants", "application", Actor("applicant", "x", "org_nobody"))
    assert queued(engine, "2022-02-14T17:00") == 1
    assert engine.store.undelivered(10) == []  # never tried again and again
    [failed] = engine.store.not_delivered("tiny_grants")
    assert failed["error"] == "nobody at the organisation has the applicant role"


def test_two_schedulers_at_once_deliver_every_message_exactly_once(tmp_path: Path) -> None:
    engine = programme(tmp_path)
    addresses = drafts(engine, 120)
    assert queued(engine, "2022-02-14T17:00") == 120
    script = (
        "import sys\n"
        "from engine.store import Store\n"
        "from engine.scheduler.delivery import SmtpBackend, deliver\n"
        "print(deliver(Store(sys.argv[1]), SmtpBackend('127.0.0.1', int(sys.argv[2]), starttls=False)))\n"
    )
    with smtp_server() as (inbox, port):
        both = [
            subprocess.Popen(
                [sys.executable, "-c", script, str(database_in(tmp_path, "d")), str(port)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        counts = [int(p.communicate(timeout=120)[0].strip() or 0) for p in both]
    assert sum(counts) == 120
    assert all(n == 1 for n in inbox.ids().values()) and len(inbox.ids()) == 120
    assert sorted(m["To"] for m in inbox.messages) == sorted(addresses)


DIE_AFTER = r"""
import os, sys
from engine.store import Store
from engine.scheduler.delivery import SmtpBackend, deliver

sent = {"n": 0}

class DiesMidSend(SmtpBackend):
    def send(self, message):
        super().send(message)  # the server has the message…
        sent["n"] += 1
        if sent["n"] == int(sys.argv[3]):
            os._exit(9)  # …and the sender is killed before it can mark it delivered

deliver(Store(sys.argv[1]), DiesMidSend("127.0.0.1", int(sys.argv[2]), sender="funding@council.example", starttls=False))
"""


def test_a_scheduler_killed_mid_send_repeats_at_most_the_message_in_flight(tmp_path: Path) -> None:
    engine = programme(tmp_path)
    drafts(engine, 30)
    assert queued(engine, "2022-02-14T17:00") == 30
    with smtp_server() as (inbox, port):
        killed = subprocess.run([sys.executable, "-c", DIE_AFTER, str(database_in(tmp_path, "d")), str(port), "10"],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert killed.returncode == 9, killed.stderr
        assert len(inbox.messages) == 10
        # restarted at once: what the dead sender had claimed waits (the one in flight among it)
        claimed = CLAIM_AT_ONCE - 10 + 1
        assert deliver(engine.store, smtp(port)) == 30 - CLAIM_AT_ONCE
        # once its claims lapse they are sent: the one in flight again, the only repeat
        later = datetime.now(UTC) + timedelta(minutes=6)
        assert deliver(engine.store, smtp(port), clock=lambda: later) == claimed
        assert deliver(engine.store, smtp(port), clock=lambda: later) == 0
    ids = inbox.ids()
    assert len(ids) == 30 and sorted(ids.values()) == [1] * 29 + [2]


def test_after_a_week_down_useful_reminders_arrive_once_with_the_time_left_then(
    tmp_path: Path,
) -> None:
    engine = programme(tmp_path, **{"subject: Applications close in 7 days": "subject: '{{ time_left }} left to apply'"})  # fmt: skip
    drafts(engine, 3)
    # down from 10 to 17 February: the reminder fell due on the 14th, the deadline is the 21st
    assert queued(engine, "2022-02-17T17:00") == 3
    assert queued(engine, "2022-02-17T17:05") == 0
    with smtp_server() as (inbox, port):
        assert deliver(engine.store, smtp(port)) == 3
        assert deliver(engine.store, smtp(port)) == 0
    assert [m["Subject"] for m in inbox.messages] == ["4 days left to apply"] * 3
    assert all(n == 1 for n in inbox.ids().values())


def test_on_missed_send_is_sent_however_late_and_the_default_only_while_useful(
    tmp_path: Path,
) -> None:
    always = programme(tmp_path / "a", **{"      body: Submit your application before {{ deadline }}.": "      body: Submit your application before {{ deadline }}.\n    on_missed: send"})  # fmt: skip
    drafts(always, 2)
    assert queued(always, "2022-02-28T09:00") == 2  # a week after the deadline, as told to
    useful = programme(tmp_path / "b")
    drafts(useful, 2)
    result_at = "2022-02-28T09:00"
    assert queued(useful, result_at) == 0  # the default: the deadline it was for has gone


def test_one_sweep_drains_everything_due(tmp_path: Path) -> None:
    engine = programme(tmp_path)
    drafts(engine, 30)
    engine._clock.now = at("2022-02-14T17:00")  # type: ignore[attr-defined]
    assert sweep(engine, limit=7).sent == 30  # batches of 7: all of them, in one sweep
    assert len(engine.store.undelivered(100)) == 30


def test_an_address_the_server_refuses_is_given_up_at_once_and_shown(tmp_path: Path) -> None:
    engine = programme(tmp_path)
    drafts(engine, 2)
    queued(engine, "2022-02-14T17:00")
    with smtp_server() as (inbox, port):
        inbox.refuse.add("p1@org1.example")
        assert deliver(engine.store, smtp(port)) == 1
        assert deliver(engine.store, smtp(port)) == 0  # not tried again
    [failed] = engine.store.not_delivered("tiny_grants")
    assert failed["to_address"] == "p1@org1.example"
    assert "the mail server refused p1@org1.example: 550" in failed["error"]


def test_a_server_that_is_down_is_tried_again_then_given_up_after_a_set_number(
    tmp_path: Path,
) -> None:
    engine = programme(tmp_path)
    drafts(engine, 1)
    queued(engine, "2022-02-14T17:00")
    nobody = free_port()
    for _ in range(MAX_ATTEMPTS - 1):
        assert deliver(engine.store, smtp(nobody)) == 0
        assert engine.store.not_delivered("tiny_grants") == []  # still to try
    assert deliver(engine.store, smtp(nobody)) == 0
    [failed] = engine.store.not_delivered("tiny_grants")
    assert failed["attempts"] == MAX_ATTEMPTS and "ConnectionRefusedError" in failed["error"]
    with smtp_server() as (inbox, port):
        assert deliver(engine.store, smtp(port)) == 0 and inbox.messages == []


@pytest.mark.parametrize(
    ("moment", "words"),
    [("2022-02-14T17:00", "7 days"), ("2022-02-20T17:00", "1 day"), ("2022-02-21T12:00", "5 hours"),
     ("2022-02-21T16:50", "1 hour"), ("2022-02-21T17:30", "no time")],
)  # fmt: skip
def test_time_left_is_worked_out_when_the_message_is_sent(moment: str, words: str) -> None:
    assert time_left(at("2022-02-21T17:00").isoformat(), at(moment)) == words


def test_smtp_uses_starttls_with_a_verified_certificate_and_logs_in(tmp_path: Path) -> None:
    engine = programme(tmp_path)
    drafts(engine, 2)
    queued(engine, "2022-02-14T17:00")
    cert, key = certificate(tmp_path)
    login = ("scheduler", "a long secret")
    with smtp_server(tls=(cert, key), login=login) as (inbox, port):
        # an unverifiable certificate is not trusted: nothing is sent in the clear or to it
        doubtful = SmtpBackend("127.0.0.1", port, *login, sender="funding@council.example")
        assert deliver(engine.store, doubtful) == 0 and inbox.messages == []
        # a wrong password is refused by the server
        wrong = SmtpBackend("127.0.0.1", port, "scheduler", "guess", "funding@council.example", ca_file=str(cert))  # fmt: skip
        assert deliver(engine.store, wrong) == 0 and inbox.messages == []
        right = SmtpBackend("127.0.0.1", port, *login, "funding@council.example", ca_file=str(cert))
        assert deliver(engine.store, right) == 2
    assert sorted(m["To"] for m in inbox.messages) == ["p0@org0.example", "p1@org1.example"]


def test_gov_uk_notify_gets_each_message_once_with_its_reference(tmp_path: Path) -> None:
    engine = programme(tmp_path)
    drafts(engine, 3)
    queued(engine, "2022-02-14T17:00")
    template = str(uuid.uuid4())
    with notify_api() as (service, url):
        service.refuse.add("p2@org2.example")
        backend = NotifyBackend(service.api_key, template, base_url=url)
        assert deliver(engine.store, backend) == 2
        assert deliver(engine.store, backend) == 0
    references = [s["reference"] for s in service.sent]
    assert len(set(references)) == 2 and all(r.startswith("commission-outbox-") for r in references)
    assert {s["email_address"] for s in service.sent} == {"p0@org0.example", "p1@org1.example"}
    assert all(s["template_id"] == template for s in service.sent)
    assert service.sent[0]["personalisation"]["subject"] == "Applications close in 7 days"
    [refused] = engine.store.not_delivered("tiny_grants")
    assert (
        refused["to_address"] == "p2@org2.example"
        and "GOV.UK Notify refused it" in refused["error"]
    )
