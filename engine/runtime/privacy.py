"""Data-protection duties: retention rules applied, and one person's or one account's personal
data erased, with the anonymised counts kept.

Nothing erased is ever written to a log: the service log and each case's history say who or
what acted, when, under which rule, which cases (by reference) and how many rows, never a value.

Return shapes (plain data, for the CLI and the admin pages):
- `apply_retention` → a list, one per rule that reached a case: `{"programme", "rule", "then",
  "cases": [reference, …], "rows": {table: count}}`; with `dry_run` the same, nothing changed.
- `erase_person` / `erase_account` → `{"kind": "person" | "account", "cases": [reference, …],
  "rows": {table: count}, "already": ISO time of an earlier erasure or None}`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import parse_duration, stored_moment
from engine.errors import NotFound, NotPermitted
from engine.model import Programme, RetentionRule
from engine.runtime.core import EngineCore
from engine.runtime.views import SCHEDULER, Actor
from engine.store.privacy import identity_digest
from engine.timeline.occasions import shift
from engine.vocabulary import BANDED, CHOICE, postcode_district

# Who may erase and export personal data: the service's administrators and commissioners, and
# the scheduler (retention). Others are refused whatever cases they can see.
PRIVACY_ROLES = ("admin", "commissioner", "scheduler")


def anonymised(programme: Programme, data: dict[str, Any], label_question: str | None
               ) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
    """One answer set with what identifies a person taken out, and the upload questions erased.

    A choice or a number answer to a personal question is kept (what KPIs and demographics count),
    a postcode as its district, a date as its month; written-in answers, files and the workflow's
    own label for the person go.
    """
    questions = programme.questions()
    kept: dict[str, Any] = {}
    uploads: list[str] = []
    for key, value in data.items():
        q = questions.get(key)
        if key == label_question:
            continue
        if q is None or not q.holds_personal_data():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                # a group's entries: each is checked question by question
                value = [anonymised(programme, v, label_question)[0] for v in value]
            kept[key] = value
        elif q.type in CHOICE or (q.type in BANDED and q.type != "date"):
            kept[key] = value
        elif q.type == "postcode" and postcode_district(value):
            kept[key] = postcode_district(value)
        elif q.type == "date" and isinstance(value, str) and len(value) >= 7:
            kept[key] = f"{value[:7]}-01"
        elif q.type == "file":
            uploads.append(key)
    return kept, uploads


class PrivacyService(EngineCore):
    """Retention, and erasure of one person's or one account's personal data."""

    def _privacy_officer(self, actor: Actor, what: str) -> None:
        if actor.role not in PRIVACY_ROLES:
            raise NotPermitted(f"only an administrator or a commissioner can {what}")

    # -- retention -------------------------------------------------------------------------
    def apply_retention(self, actor: Actor = SCHEDULER, *, dry_run: bool = False) -> list[dict[str, Any]]:  # fmt: skip
        """Apply every published programme's retention rules to the cases whose time has passed."""
        self._privacy_officer(actor, "apply retention rules")
        now = self.now()
        results: list[dict[str, Any]] = []
        for programme_id in self.store.programme_ids():
            if not actor.covers(programme_id):
                continue
            programme = self.programme(programme_id)
            pins = {k: stored_moment(v) for k, v in self.store.pins(programme_id).items()}
            for rule in programme.retention_rules():
                due = [row for row in self._reached(programme, rule)
                       if (at := self._retention_time(programme, rule, row, pins)) and at <= now]  # fmt: skip
                if not due:
                    continue
                rows: Counter[str] = Counter()
                if not dry_run:
                    with self.store.transaction():
                        for row in due:
                            rows.update(self._retire(programme, rule, row, actor))
                        self.store.log_service(
                            self._stamp(), actor.role, actor.id, f"retention_{rule.then}",
                            programme_id=programme_id, subject=f"retention:{rule.id}",
                            detail={"rule": rule.id, "cases": [r["reference"] for r in due],
                                    "rows": dict(rows)},
                        )  # fmt: skip
                results.append({"programme": programme_id, "rule": rule.id, "then": rule.then,
                                "cases": [r["reference"] for r in due], "rows": dict(rows)})  # fmt: skip
        return results

    def _reached(self, programme: Programme, rule: RetentionRule) -> list[dict[str, Any]]:
        return self.store.retention_cases(
            programme.id, rule.workflow, list(rule.states) or None, rule.never_submitted, rule.then
        )

    def _retention_time(self, programme: Programme, rule: RetentionRule, row: dict[str, Any],
                        pins: dict[str, datetime]) -> datetime | None:  # fmt: skip
        """When a rule's time runs out for one case; None while what it counts from has not happened."""
        (kind, name), *_ = rule.counts_from.items()
        start: datetime | None = None
        if kind == "milestone":
            milestone = programme.milestones.get(name)
            if milestone is not None:  # known only by its month or year: from the end of it
                start = pins.get(f"milestone:{name}") or (
                    milestone.span.start if milestone.span.exact else milestone.span.end
                )
        elif kind == "entered" and name in row["entered"]:
            start = stored_moment(row["entered"][name])
        elif kind == "trigger":
            fired = self.store.fired(row["id"], name)
            start = stored_moment(fired) if fired else None
        if start is None:
            return None
        return shift(start, parse_duration(rule.after), +1, ZoneInfo(programme.timezone))

    def _retire(self, programme: Programme, rule: RetentionRule, row: dict[str, Any],
                actor: Actor) -> dict[str, int]:  # fmt: skip
        """Delete or erase one case under a rule, and say so in its history."""
        stamp = self._stamp()
        if rule.then == "delete":
            rows = self.store.remove_case_content(row["id"], stamp)
        else:
            rows = self._erase_case(row, stamp)
        self.store.audit(row["id"], stamp, actor.role, actor.id, f"retention_{rule.then}",
                         row["state"], row["state"], row["version"],
                         {"rule": rule.id, "rows": rows})  # fmt: skip
        return rows

    # -- erasure ---------------------------------------------------------------------------
    def _erase_case(self, row: dict[str, Any], stamp: str) -> dict[str, int]:
        """Erase the personal data in one case's answers, keeping what anonymised counts read."""
        programme = self.programme(row["programme_id"], row["version"])
        label = programme.data["workflows"].get(row["workflow"], {}).get("label_question")
        kept: dict[tuple[str, int], dict[str, Any]] = {}
        uploads: set[str] = set()
        for a in self.store.answers(row["id"]):
            data, files = anonymised(programme, a["data"], label)
            uploads.update(files)
            if data != a["data"]:
                kept[(a["form"], a["record"])] = data
        return self.store.erase_case_answers(row["id"], kept, sorted(uploads), stamp)

    def erase_person(self, subject: str, actor: Actor) -> dict[str, Any]:
        """Erase one person's personal data from every case about them (by subject identifier)."""
        self._privacy_officer(actor, "erase personal data")
        digest = identity_digest(subject)
        cases = [r for r in self.store.cases_about(subject) if actor.covers(r["programme_id"])]
        if not cases:
            return self._already("person", digest, "no case you can see is about that person")
        return self._erase("person", digest, cases, actor, None)

    def erase_account(self, email: str, actor: Actor) -> dict[str, Any]:
        """Erase one account: its name and address, sign-in data and messages, and personal answers
        on its organisation's cases it worked on (never a case about someone it supported)."""
        self._privacy_officer(actor, "erase personal data")
        digest = identity_digest(email)
        user = self.store.user_by_email(email.strip())
        if user is None:
            return self._already("account", digest, "there is no account with that email address")
        cases = [r for r in self.store.cases_acted_on_by(user["email"])
                 if r["subject"] is None and actor.covers(r["programme_id"])]  # fmt: skip
        return self._erase("account", digest, cases, actor, user)

    def _already(self, kind: str, digest: str, missing: str) -> dict[str, Any]:
        """Asking again after an erasure finds the first one; asking about nobody is refused."""
        earlier = self.store.erasure(digest)
        if earlier is None:
            raise NotFound(f"{missing}; check it and try again")
        return {"kind": kind, "cases": [], "rows": {}, "already": earlier["at"]}

    def _erase(self, kind: str, digest: str, cases: list[dict[str, Any]], actor: Actor,
               user: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
        rows: Counter[str] = Counter()
        stamp = self._stamp()
        with self.store.transaction():
            for row in cases:
                counts = self._erase_case(row, stamp)
                rows.update(counts)
                self.store.audit(row["id"], stamp, actor.role, actor.id, "personal_data_erased",
                                 row["state"], row["state"], row["version"], {"rows": counts})  # fmt: skip
            if user is not None:
                rows.update(self.store.erase_account(user["id"], user["email"], stamp))
            self.store.record_erasure(kind, digest, stamp, len(cases))
            self.store.log_service(
                stamp, actor.role, actor.id, f"{kind}_erased", subject=None,
                detail={"cases": [r["reference"] for r in cases], "rows": dict(rows)},
            )  # fmt: skip
        return {"kind": kind, "cases": [r["reference"] for r in cases], "rows": dict(rows),
                "already": None}  # fmt: skip
