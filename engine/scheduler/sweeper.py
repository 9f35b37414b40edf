"""The sweeper: everything due is sent or taken exactly once, surviving restarts.

One job (run by APScheduler in its own process, `commission scheduler`) finds due reminder rows
and handles each in its own transaction: it re-reads the row, does the work (queues a message,
takes a timed action, checks a service level) and marks the row done with a compare-and-set.
Two sweepers, or a sweeper restarted after being killed mid-send, can therefore never do one
row twice: whoever commits first wins, and a killed transaction leaves the row pending.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2.sandbox import SandboxedEnvironment

from engine.errors import ActionRefused, EngineError
from engine.runtime import SCHEDULER, Engine
from engine.scheduler.delivery import Backend, deliver
from engine.scheduler.recipients import ORGANISATION_ROLES, addresses, case_link

LATE_AFTER = timedelta(hours=1)  # a row this overdue was missed while the scheduler was down
_TEMPLATES = SandboxedEnvironment(autoescape=False)


@dataclass
class SweepResult:
    """What one sweep did."""

    sent: int = 0
    taken: int = 0
    checked: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """Rows finished by this sweep."""
        return self.sent + self.taken + self.checked + self.skipped


def _local(moment: str | None, tz: ZoneInfo) -> str:
    if not moment:
        return ""
    local = datetime.fromisoformat(moment).astimezone(tz)
    return f"{local:%-d %B %Y} at {local:%H:%M} {local.tzname()}"


@lru_cache(maxsize=512)  # each reminder's wording is parsed once, not once per message
def _template(source: str) -> Any:
    return _TEMPLATES.from_string(source)


def _render(template: str, context: dict[str, Any]) -> str:
    try:
        return _template(template).render(**context)
    except Exception:  # a broken placeholder still sends the words around it
        return template


def sweep(engine: Engine, *, limit: int = 500) -> SweepResult:
    """Handle every row due by the engine's clock, each exactly once, `limit` rows at a time."""
    result = SweepResult()
    now = engine.now().astimezone(UTC).isoformat()
    while True:  # drain: a week of downtime can leave thousands due at once
        rows = engine.store.due_reminders(now, limit)
        before = result.handled
        for row in rows:
            handle(engine, row["id"], result)
        # a short batch was the last; a batch that finished nothing (rows put back as "not due
        # yet" by a clock a moment behind) would only come back the same
        if len(rows) < limit or result.handled == before:
            return result


def handle(engine: Engine, reminder_id: int, result: SweepResult) -> None:
    """Do one due row in one transaction, unless someone else already has."""
    store = engine.store
    with store.transaction():
        row = store.reminder(reminder_id)
        # claimed inside the transaction: a second sweeper waits for the lock, then finds it gone
        if row is None or not store.claim_reminder(reminder_id):
            return
        status, note = _work(engine, row)
        store.finish_reminder(reminder_id, status, note, engine.now().astimezone(UTC).isoformat())
        if status == "pending":
            return
    if status == "skipped":
        result.skipped += 1
        result.notes.append(f"{row['rule']}: {note}")
    elif row["kind"] == "transition":
        result.taken += 1
    elif row["kind"].startswith("service_level"):
        result.checked += 1
    else:
        result.sent += 1


def _work(engine: Engine, row: dict[str, Any]) -> tuple[str, str]:
    """Do what a row asks; (status, note). Runs inside the row's transaction."""
    programme = engine.programme(row["programme_id"], row["version"])
    now = engine.now()
    late = now - datetime.fromisoformat(row["due_at"]) > LATE_AFTER
    case = engine.store.case(row["case_id"]) if row["case_id"] is not None else None
    if row["kind"] == "transition":
        try:
            engine.act(row["case_id"], row["rule"], SCHEDULER)
        except ActionRefused as exc:
            if exc.reasons and all(r.startswith("this happens automatically") for r in exc.reasons):
                return "pending", "not due yet"  # a clock a moment behind: try again next sweep
            return "skipped", f"not taken: {exc}"
        except EngineError as exc:
            return "skipped", f"not taken: {exc}"
        return "sent", "taken late, after the scheduler was down" if late else "taken"
    if row["kind"].startswith("service_level"):
        results = {r.id: r for r in engine.check_service_levels(row["case_id"], SCHEDULER)}
        result = results.get(row["rule"])
        if result is None or result.status == "kept":
            return "skipped", "the promise was kept"
        if row["kind"] == "service_level_warn" and result.status not in ("at_risk", "pending"):
            return "skipped", f"no warning needed ({result.status})"
        sl = next(s for s in programme.data["service_levels"] if s["id"] == row["rule"])
        missed = row["kind"] == "service_level"
        subject = f"{'Missed' if missed else 'Due soon'}: {sl['title']}"
        tz = ZoneInfo(programme.timezone)
        reference = case["reference"] if case else ""
        if missed:
            body = f"Case {reference}: {sl['title']}. This was not met in time, so the case has been flagged."
        else:
            body = f"Case {reference}: {sl['title']}. It must be met by {_local(_due_of(engine, row), tz)}."
        payload = json.loads(row["payload"])
        _queue(engine, row, case, dict.fromkeys(payload.get("to", []), (subject, body)))
        return "sent", "flagged" if missed else "warned"
    # a reminder
    rule = next((r for r in programme.data["reminders"] if r["id"] == row["rule"]), None)
    if rule is None:  # pragma: no cover - rows are only written for rules of their version
        return "skipped", "the reminder no longer exists in this programme version"
    # `send` goes however late; `if_useful` (the default) only while what it leads up to is ahead
    missed = rule.get("on_missed", "if_useful")
    if late and (missed == "skip" or (missed == "if_useful" and _passed(row, now))):
        return "skipped", "missed while the scheduler was down, and no longer useful"
    if case is not None:
        wf = programme.workflows[case["workflow"]]
        if "states" in rule and case["state"] not in rule["states"]:
            return "skipped", f"the case is no longer {', '.join(rule['states'])}"
        if case["state"] in {s.id for s in wf.states if s.final}:
            return "skipped", "the case is closed"
        if "if" in rule:
            ok, why = engine.rule_holds(rule["if"], case, programme)
            if not ok:
                return "skipped", f"its condition does not hold{': ' + why if why else ''}"
    tz = ZoneInfo(programme.timezone)
    state_label = ""
    if case is not None:
        wf = programme.workflows[case["workflow"]]
        state_label = next((s.label for s in wf.states if s.id == case["state"]), case["state"])
    context = {
        "programme": {"id": programme.id, "name": programme.name},
        "case": {
            "reference": case["reference"],
            "state": case["state"],
            "state_label": state_label,
            "organisation": case["organisation_id"],
        }
        if case
        else {},
        "deadline": _local(row["anchor_at"], tz),
        "time_left": time_left(row["anchor_at"], now),
        "when": _local(row["anchor_at"], tz),
        "due": _local(row["due_at"], tz),
    }
    _queue(
        engine, row, case, {role: wording(rule["message"], role, context) for role in rule["to"]}
    )
    return "sent", "sent late, after the scheduler was down" if late else "sent"


def _due_of(engine: Engine, row: dict[str, Any]) -> str:
    """The moment a warned promise falls due: the matching check row's due time."""
    rows = engine.store.reminders_for(row["case_id"])
    check = next(
        (r for r in rows if r["kind"] == "service_level" and r["rule"] == row["rule"]), None
    )
    return check["due_at"] if check else row["due_at"]


def _passed(row: dict[str, Any], now: datetime) -> bool:
    """A reminder ahead of a moment that has itself gone by is no use any more."""
    return bool(row["anchor_at"]) and datetime.fromisoformat(row["anchor_at"]) <= now


def time_left(moment: str | None, now: datetime) -> str:
    """How long until `moment`, worked out when the message is sent: "7 days", "1 day", "5 hours"."""
    if not moment:
        return ""
    left = datetime.fromisoformat(moment) - now
    if left.total_seconds() <= 0:
        return "no time"
    days = round(left.total_seconds() / 86400)
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = max(round(left.total_seconds() / 3600), 1)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def wording(message: dict[str, Any], role: str, context: dict[str, Any]) -> tuple[str, str]:
    """The (subject, body) `role` is sent: its own wording where the message has one."""
    own = message.get("for", {}).get(role, {})
    subject = own.get("subject", message["subject"])
    return _render(subject, context), _render(own.get("body", message["body"]), context)


def _queue(
    engine: Engine,
    row: dict[str, Any],
    case: dict[str, Any] | None,
    worded: dict[str, tuple[str, str]],
) -> None:
    """One outbox message per person the roles mean now, each with the case and its page."""
    stamp = engine.now().astimezone(UTC).isoformat()
    base_url = os.environ.get("COMMISSION_BASE_URL", "http://127.0.0.1:5000")
    for role, (subject, body) in worded.items():
        found, why = addresses(engine.store, role, case, row["programme_id"])
        text = body
        if case is not None:
            text += f"\n\nCase {case['reference']}: {case_link(base_url, role, case['reference'])}"
        message = {
            "reminder_id": row["id"], "programme_id": row["programme_id"], "case_id": row["case_id"],
            "to_role": role, "organisation_id": case["organisation_id"] if case and role in ORGANISATION_ROLES else None,
            "subject": subject, "body": text, "created_at": stamp,
        }  # fmt: skip
        if not found:  # kept, so the dashboard shows who was not told, and why
            engine.store.queue_message({**message, "to_address": None, "failed_at": stamp, "error": why})  # fmt: skip
        for address in found:
            engine.store.queue_message({**message, "to_address": address})


def scheduled_work(engine: Engine, backend: Backend, clock: Callable[[], float] = time.monotonic) -> Callable[[], None]:  # fmt: skip
    """What the scheduler does every interval, in one thread: data-protection retention at the
    first run and once a day after (`clock` counts the seconds), then a sweep and delivery."""
    # one job, not two: a store holds one transaction at a time, and two jobs in two threads on
    # one engine would write into each other's (at start-up both ran at once)
    from engine.scheduler.retention import DAILY_SECONDS, retention_summary, run_retention

    retention_due = clock()

    def work() -> None:
        nonlocal retention_due
        if clock() >= retention_due:
            retention_due = clock() + DAILY_SECONDS
            try:
                print(f"[scheduler] {retention_summary(run_retention(engine))}", flush=True)
            except Exception as exc:  # reminders still go out; retention is tried again tomorrow
                print(f"[scheduler] retention failed, tried again in a day: {exc}", flush=True)
        result = sweep(engine)
        delivered = deliver(engine.store, backend)
        if result.handled or delivered:
            print(f"[scheduler] {result.sent} sent, {result.taken} actions taken, {result.checked} checks, "
                  f"{result.skipped} skipped; {delivered} delivered", flush=True)  # fmt: skip

    return work


def run_forever(open_engine: Callable[[], Engine], backend: Backend, interval: float = 30.0) -> None:  # fmt: skip
    """`commission scheduler`: catch up at once, then sweep and deliver every `interval` seconds;
    beside it, in a thread and on an engine of its own, report figures worked out ahead."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from engine.scheduler.warming import warming

    engine = open_engine()
    scheduler = BlockingScheduler(timezone=UTC)
    # never overlapping itself; missed runs are merged, since each run catches up anyway
    for job, name in ((scheduled_work(engine, backend), "sweep"), (warming(open_engine()), "warm")):
        scheduler.add_job(job, "interval", seconds=interval, next_run_time=datetime.now(UTC),
                          max_instances=1, coalesce=True, id=name)  # fmt: skip
    print(
        f"[scheduler] sweeping {engine.store.path} every {interval:g} s; Ctrl-C to stop", flush=True
    )
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()
