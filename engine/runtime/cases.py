"""Cases: opening a case, reading it, its answers and its history; saving answers is in
`answering`, its eligibility criteria are checked in `eligibility`.

Starting a case, saving answers and taking an action (`actions`) read once, in one round trip:
the case, its answers and what re-planning its reminders needs; everything else they do is
written, and goes to the database with COMMIT.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import span_phrase
from engine.definition.schema_check import did_you_mean
from engine.errors import ActionRefused, NotFound, NotPermitted
from engine.forms.answers import reads_case
from engine.forms.visibility import visible_answers
from engine.model import Form, Programme, Workflow
from engine.runtime.eligibility import EligibilityService
from engine.runtime.labels import label_of
from engine.runtime.views import Actor, CaseView
from engine.timeline.planner import facts_after
from engine.timeline.windows import CLOSED, OPENING, window


class _Superseded(Exception):
    """A case was about to start on a version of its programme that is no longer the newest."""


def next_record_no(stored: list[dict[str, Any]], form_id: str) -> int:
    """The number the next record of a repeatable form gets, from the case's answers as read
    (as `next_record_no` counts in the database)."""
    return max((a["record"] for a in stored if a["form"] == form_id), default=0) + 1


def lot_questions(form: Form) -> list[str]:
    """The form's questions whose answer is a lot (`options_from: lots`), outside groups."""
    return [q.id for _pid, _t, qs in form.pages for q in qs if q.spec.get("options_from") == "lots"]


class CaseService(EligibilityService):
    """Open cases, show them, save their answers and check them against the eligibility criteria."""

    # -- cases -----------------------------------------------------------------------------
    def start_case(
        self,
        programme_id: str,
        workflow: str,
        actor: Actor,
        *,
        organisation: str | None = None,
        organisation_name: str | None = None,
        role: str | None = None,
        subject: str | None = None,
        lot: str | None = None,
    ) -> CaseView:
        """Open a new case (an application, a referral…) on the newest version of a programme."""
        self._reach(programme_id, actor)
        known = self._newest.pop(programme_id, None)  # the version this engine last started one on
        while True:
            # with the version known, which is newest is read with the new row: one round trip
            # fewer (refused on it, the newest may say otherwise: asked again, afresh)
            programme = self.programme(programme_id, known)
            try:
                view = self._start(programme, workflow, actor, organisation, organisation_name,
                                   role, subject, lot)  # fmt: skip
            except _Superseded:  # a newer version was published: start again, on it
                known = None
                continue
            except (NotFound, ActionRefused):
                if known is None:
                    raise
                known = None
                continue
            self._newest[programme_id] = programme.version
            return view

    def _start(self, programme: Programme, workflow: str, actor: Actor, organisation: str | None,
               organisation_name: str | None, role: str | None, subject: str | None,
               lot: str | None) -> CaseView:  # fmt: skip
        """`start_case` on one version; raises _Superseded (nothing kept) if it is not the newest."""
        wf = self._workflow(programme, workflow)
        allowed = self.starters(programme, wf)
        if actor.role not in allowed:
            who = ", ".join(allowed) if allowed else "nobody directly (another action starts them)"
            raise NotPermitted(
                f"a {actor.role} cannot start a {wf.title.lower()}; it is started by {who}"
            )
        org = organisation or actor.organisation
        if actor.role in ("applicant", "caseworker"):
            if actor.organisation is None:
                raise NotPermitted(f"a {actor.role} must belong to an organisation to start a case")
            if org != actor.organisation:
                raise NotPermitted("you can only start cases for your own organisation")
        if wf.roles and role not in wf.roles:
            raise ActionRefused(
                f"say which role the applicant applies in: one of {', '.join(wf.roles)}"
                + (f' ("{role}" is not one)' if role else "")
            )
        lots = {lot_["id"] for lot_ in programme.data["funding"].get("lots", [])}
        if lot is not None and lot not in lots:
            raise ActionRefused(f'there is no lot "{lot}"{did_you_mean(lot, lots)}')
        self._within_window(programme, wf)
        now = self._stamp()
        with self.store.transaction():
            if org:
                self.store.ensure_organisation(org, organisation_name or org, now)
            # the row as stored and its programme's pins in one read: the rest goes with COMMIT
            found = self.store.insert_case_with_facts(
                *self._new_case(programme, wf, org, role, subject, lot, None, now)
            )
            if found is None:
                raise _Superseded  # the transaction is rolled back: the organisation too
            row, facts = found
            case_id = row["id"]
            self.store.audit(
                case_id, now, actor.role, actor.id, "start", None, wf.initial, programme.version, {}
            )
            facts = facts_after(facts, "start", now, None, wf.initial)
            self._replan(case_id, programme, row, facts, [])  # a new case: no answers
        return self._view(self._seen(row, case_id, actor), [], actor)

    def _within_window(self, programme: Programme, wf: Workflow) -> None:
        """Refuse a new case before the workflow's window opens or after it closes, in words."""
        win = window(programme, wf)
        status = win.status(self.now())
        tz = ZoneInfo(programme.timezone)
        if status == OPENING and win.opens is not None:
            when = span_phrase(win.opens.span, tz)
            raise ActionRefused(f"you cannot start this yet: it opens {when}")
        if status == CLOSED and win.closes is not None:
            when = span_phrase(win.closes.span, tz, end=True)
            raise ActionRefused(f"you can no longer start this: it closed {when}")

    def _insert_case(self, programme: Programme, wf: Workflow, org: str | None, role: str | None,
                     subject: str | None, lot: str | None, parent: int | None, now: str) -> int:  # fmt: skip
        return self.store.insert_case(
            *self._new_case(programme, wf, org, role, subject, lot, parent, now)
        )

    def _new_case(self, programme: Programme, wf: Workflow, org: str | None, role: str | None,
                  subject: str | None, lot: str | None, parent: int | None,
                  now: str) -> tuple[dict[str, Any], str]:  # fmt: skip
        """A new case's row, in its workflow's first state, and the prefix of its reference."""
        initials = "".join(part[0] for part in programme.id.split("_") if part[:1].isalpha())
        prefix = programme.data.get("reference_prefix") or initials.upper()[:4]
        return (
            {
                "programme_id": programme.id,
                "version": programme.version,
                "workflow": wf.id,
                "state": wf.initial,
                "organisation_id": org,
                "subject": subject,
                "role": role,
                "lot": lot,
                "parent_id": parent,
                "entered": {wf.initial: now},
                "created_at": now,
            },
            prefix or "CASE",
        )

    def starters(self, programme: Programme, wf: Workflow) -> tuple[str, ...]:
        """The roles that may open a new case of this workflow."""
        declared = programme.data["workflows"][wf.id].get("started_by")
        if declared is not None:
            return tuple(declared)
        # another workflow's action starting it (a contract after an award) makes it the
        # commissioner's; its own (a re-referral) does not stop caseworkers opening it
        started_by_effect = any(
            eff.get("do") == "start_case" and eff.get("workflow") == wf.id
            for other in programme.workflows.values()
            if other.id != wf.id
            for t in other.transitions
            for eff in t.spec.get("effects", [])
        )
        if started_by_effect:
            return ("commissioner",)
        subject = programme.data["workflows"][wf.id].get("subject", "organisation")
        return (
            ("caseworker", "commissioner") if subject == "person" else ("applicant", "commissioner")
        )

    def case(self, case_id: int | str, actor: Actor) -> CaseView:
        """One case, if this actor may see it."""
        return self._view(*self._row_and_answers(case_id, actor), actor)

    def _view(self, row: dict[str, Any], rows: list[dict[str, Any]], actor: Actor) -> CaseView:
        """The case as this actor sees it, from its row and its answer rows."""
        programme = self.programme(row["programme_id"], row["version"])
        wf = programme.workflows[row["workflow"]]
        answers: dict[str, dict[str, Any]] = {}
        records: dict[str, list[dict[str, Any]]] = {}
        submitted: dict[str, str | None] = {}
        withheld: list[str] = []
        for a in rows:
            form = programme.forms.get(a["form"])
            # personal answers the file keeps from this role never leave the engine in its view
            data = visible_answers(programme, form, a["data"], actor.role) if form else a["data"]
            if data != a["data"] and a["form"] not in withheld:
                withheld.append(a["form"])
            if self._repeatable(programme, wf, a["form"]):
                records.setdefault(a["form"], []).append(data)
            else:
                answers[a["form"]] = data
                submitted[a["form"]] = a["submitted_at"]
        if row["lot"] and row["parent_id"] is not None:  # its lot is settled: shown as answered
            for entry in programme.data["forms"]:
                form = programme.forms.get(entry["form"])
                asked = lot_questions(form) if form and entry["workflow"] == wf.id else []
                if asked and not entry.get("repeatable"):
                    settled = dict.fromkeys(asked, row["lot"])
                    answers[entry["form"]] = {**settled, **answers.get(entry["form"], {})}
        label = next((s.label for s in wf.states if s.id == row["state"]), row["state"])
        return CaseView(
            id=row["id"], reference=row["reference"], programme_id=row["programme_id"], version=row["version"],
            workflow=row["workflow"], state=row["state"], state_label=label, organisation=row["organisation_id"],
            role=row["role"], lot=row["lot"], parent_id=row["parent_id"], revision=row["revision"],
            flags=row["flags"], answers=answers, records=records, submitted=submitted,
            withheld=tuple(withheld),
        )  # fmt: skip

    def _answer_context(self, row: dict[str, Any], programme: Programme, form: Form,
                        stored: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
        """What a form's rules may read besides its answers: `now`, and `case` when they read it
        (from `stored`, the case's answers, when the caller has read them)."""
        if reads_case(form):
            return {"now": self.now(), "case": self._context(row, programme, stored)["case"]}
        return {"now": self.now()}

    def _records_full(self, row: dict[str, Any], entry: dict[str, Any], form: Form,
                      stored: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
        """Refuse one more record of a form beyond its entry's `max_records` (counted in
        `stored`, the case's answers, when the caller has read them)."""
        most = entry.get("max_records")
        if most is None:
            return
        upcoming = (
            self.store.next_record_no(row["id"], form.id)
            if stored is None
            else next_record_no(stored, form.id)
        )
        if upcoming > most:
            raise ActionRefused(
                f"This case already has {most} of “{form.title}”, the most it may have. "
                "Change one of them instead of adding another."
            )

    def _today(self, programme: Programme) -> date:
        """Today on the programme's clock."""
        return self.now().astimezone(ZoneInfo(programme.timezone)).date()

    def related(self, case_id: int | str, actor: Actor) -> tuple[CaseView | None, list[CaseView]]:
        """The case this one was started from, and the cases started from it, that the actor may see."""
        row = self._row(case_id, actor)

        def seen(other: int) -> CaseView | None:
            try:
                return self.case(other, actor)
            except (NotFound, NotPermitted):  # another organisation's, or not this role's
                return None

        parent = seen(row["parent_id"]) if row["parent_id"] is not None else None
        children = [v for c in self.store.children(row["id"]) if (v := seen(c)) is not None]
        return parent, children

    def _copy_answers(self, programme: Programme, source: int, target: int, workflow: str,
                      forms: list[str], now: str) -> list[str]:  # fmt: skip
        """Copy the named forms' answers from the case a new one was started from; the forms copied.

        A once-only form's answers arrive as a draft, to be checked and submitted afresh on the
        new case; a repeatable form's records arrive as they were recorded.
        """
        wanted = [f for f in forms if f in programme.forms]
        copied: list[str] = []
        for a in self.store.answers(source):
            if a["form"] in wanted:
                submitted = a["record"] > 0 and a["submitted_at"] is not None
                self.store.save_answers(target, a["form"], a["record"], a["data"], now, submitted)
                copied += [] if a["form"] in copied else [a["form"]]
                known, label = label_of(programme, workflow, a["form"], a["data"])
                if known and a["record"] == 0 and label is not None:
                    self.store.set_case_label(target, label)
        return copied

    def history(self, case_id: int | str, actor: Actor) -> list[dict[str, Any]]:
        """The case's audit log: who did what, when, from which state to which."""
        row = self._row(case_id, actor)
        return self.store.history(row["id"])
