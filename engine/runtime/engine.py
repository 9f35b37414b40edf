"""`Engine`: the one service API that the web app, the CLI and the scheduler all call.

Every action is one transaction: the case's state, its answers, the audit event and any money
rows are written together or not at all. A refused action says every reason, in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2.sandbox import SandboxedEnvironment

from engine.dates import parse_duration
from engine.definition.loader import load_programme, programme_from_data
from engine.definition.schema_check import did_you_mean
from engine.errors import ActionRefused, AnswersInvalid, NotFound, NotPermitted, StaleCase
from engine.forms.answers import cel_value, check_form
from engine.model import Form, Programme, Transition, Workflow
from engine.rules import compile_expression
from engine.runtime import assessment, machines
from engine.store import Store
from engine.timeline.planner import plan_programme, replan_case

ROLES = ("applicant", "assessor", "commissioner", "caseworker", "scheduler")
_TEMPLATES = SandboxedEnvironment(autoescape=False)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a role, who they are, and (for applicants and caseworkers) their organisation."""

    role: str
    id: str = ""
    organisation: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise NotPermitted(f'"{self.role}" is not a role; roles are {", ".join(ROLES)}')


SCHEDULER = Actor("scheduler", "scheduler")


@dataclass(frozen=True)
class CriterionResult:
    """One eligibility criterion checked against the answers so far."""

    id: str
    text: str
    status: str  # met, not_met, not_answered, not_applicable
    message: str = ""

    @property
    def passed(self) -> bool:
        """Met, or not applicable to this applicant."""
        return self.status in ("met", "not_applicable")


@dataclass(frozen=True)
class ActionOption:
    """An action on a case, and whether this actor may take it now (and if not, why not)."""

    trigger: str
    label: str
    dest: str
    allowed: bool
    reasons: tuple[str, ...] = ()
    needs_reason: bool = False


@dataclass(frozen=True)
class ServiceLevelResult:
    """A time-limited promise on one case: kept, pending, at risk (warned) or missed (flagged)."""

    id: str
    title: str
    status: str  # kept, pending, at_risk, missed, not_started
    due: datetime | None


@dataclass(frozen=True)
class CaseView:
    """A case as people see it."""

    id: int
    reference: str
    programme_id: str
    version: str
    workflow: str
    state: str
    state_label: str
    organisation: str | None
    role: str | None
    lot: str | None
    parent_id: int | None
    revision: int
    flags: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    submitted: dict[str, str | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for `--json` output."""
        return dict(self.__dict__)


def _money(n: int | float) -> str:
    return f"£{n:,.0f}"


class Engine:
    """Drives cases of published programmes through their workflows, on one SQLite database."""

    def __init__(
        self, db: str | Path | Store, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.store = db if isinstance(db, Store) else Store(db)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._programmes: dict[tuple[str, str], Programme] = {}

    # -- time ------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The engine's clock (frozen in tests), always timezone-aware."""
        moment = self._clock()
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def _stamp(self) -> str:
        return self.now().astimezone(UTC).isoformat()

    # -- programmes ------------------------------------------------------------------------
    def publish(
        self, path: str | Path, forms_dir: str | Path | None = None
    ) -> tuple[Programme, bool]:
        """Validate a programme file and register its version; (programme, whether it is new)."""
        programme = load_programme(path, forms_dir)
        with self.store.transaction():
            new = self.store.save_programme_version(
                programme.id, programme.version, programme.data, str(path), self._stamp()
            )
            if new:
                plan_programme(self.store, programme, self.now())
        self._programmes[(programme.id, programme.version)] = programme
        return programme, new

    def programme(self, programme_id: str, version: str | None = None) -> Programme:
        """A published programme: the given version, or the newest."""
        version = version or self.store.latest_version(programme_id)
        if version is None:
            known = self.store.programme_ids()
            raise NotFound(
                f'there is no published programme "{programme_id}"{did_you_mean(programme_id, set(known))}; '
                "publish it with `commission publish programmes/<file>.yaml`"
            )
        key = (programme_id, version)
        if key not in self._programmes:
            data = self.store.programme_data(programme_id, version)
            if data is None:
                raise NotFound(f'programme "{programme_id}" has no version {version}')
            self._programmes[key] = programme_from_data(data, f"{programme_id}@{version}")
        return self._programmes[key]

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
        programme = self.programme(programme_id)
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
        now = self._stamp()
        with self.store.transaction():
            if org:
                self.store.ensure_organisation(org, organisation_name or org, now)
            case_id = self._insert_case(programme, wf, org, role, subject, lot, None, now)
            self.store.audit(
                case_id, now, actor.role, actor.id, "start", None, wf.initial, programme.version, {}
            )
            self._replan(case_id, programme)
        return self.case(case_id, actor)

    def _insert_case(self, programme: Programme, wf: Workflow, org: str | None, role: str | None,
                     subject: str | None, lot: str | None, parent: int | None, now: str) -> int:  # fmt: skip
        initials = "".join(part[0] for part in programme.id.split("_") if part[:1].isalpha())
        prefix = programme.data.get("reference_prefix") or initials.upper()[:4]
        return self.store.insert_case(
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
        started_by_effect = any(
            eff.get("do") == "start_case" and eff.get("workflow") == wf.id
            for other in programme.workflows.values()
            for t in other.transitions
            for eff in t.spec.get("effects", [])
        )
        if started_by_effect:
            return ("commissioner",)
        subject = programme.data["workflows"][wf.id].get("subject", "organisation")
        return (
            ("caseworker", "commissioner") if subject == "person" else ("applicant", "commissioner")
        )

    def _workflow(self, programme: Programme, workflow: str) -> Workflow:
        if workflow not in programme.workflows:
            raise NotFound(
                f'programme "{programme.id}" has no workflow "{workflow}"'
                f"{did_you_mean(workflow, set(programme.workflows))}"
            )
        return programme.workflows[workflow]

    def _row(self, case_id: int | str, actor: Actor) -> dict[str, Any]:
        if isinstance(case_id, str) and not case_id.isdigit():
            row = self.store.case_by_reference(case_id)
        else:
            row = self.store.case(int(case_id))
        if row is None:
            raise NotFound(f"there is no case {case_id}")
        if (
            actor.role in ("applicant", "caseworker")
            and row["organisation_id"] != actor.organisation
        ):
            # the same answer as for a case that does not exist: ids reveal nothing
            raise NotFound(f"there is no case {case_id}")
        if actor.role == "applicant" and self._about_a_person(row):
            # a referral is about someone the organisation supports: its caseworkers' business,
            # never shown to the people who apply for the organisation's funding
            raise NotFound(f"there is no case {case_id}")
        return row

    def _about_a_person(self, row: dict[str, Any]) -> bool:
        workflow = self.programme(row["programme_id"], row["version"]).data["workflows"][
            row["workflow"]
        ]
        return workflow.get("subject") == "person"

    def case(self, case_id: int | str, actor: Actor) -> CaseView:
        """One case, if this actor may see it."""
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        wf = programme.workflows[row["workflow"]]
        answers: dict[str, dict[str, Any]] = {}
        records: dict[str, list[dict[str, Any]]] = {}
        submitted: dict[str, str | None] = {}
        for a in self.store.answers(row["id"]):
            if self._repeatable(programme, wf, a["form"]):
                records.setdefault(a["form"], []).append(a["data"])
            else:
                answers[a["form"]] = a["data"]
                submitted[a["form"]] = a["submitted_at"]
        label = next((s.label for s in wf.states if s.id == row["state"]), row["state"])
        return CaseView(
            id=row["id"], reference=row["reference"], programme_id=row["programme_id"], version=row["version"],
            workflow=row["workflow"], state=row["state"], state_label=label, organisation=row["organisation_id"],
            role=row["role"], lot=row["lot"], parent_id=row["parent_id"], revision=row["revision"],
            flags=row["flags"], answers=answers, records=records, submitted=submitted,
        )  # fmt: skip

    def history(self, case_id: int | str, actor: Actor) -> list[dict[str, Any]]:
        """The case's audit log: who did what, when, from which state to which."""
        row = self._row(case_id, actor)
        return self.store.history(row["id"])

    # -- answers ---------------------------------------------------------------------------
    def _form_entry(self, programme: Programme, wf: Workflow, form_id: str) -> dict[str, Any]:
        for entry in programme.data["forms"]:
            if entry["form"] == form_id and entry["workflow"] == wf.id:
                return entry
        attached = sorted(e["form"] for e in programme.data["forms"] if e["workflow"] == wf.id)
        raise NotFound(
            f'a {wf.title.lower()} has no form "{form_id}"{did_you_mean(form_id, set(attached))}'
        )

    def _repeatable(self, programme: Programme, wf: Workflow, form_id: str) -> bool:
        return any(
            e["form"] == form_id and e["workflow"] == wf.id and e.get("repeatable")
            for e in programme.data["forms"]
        )

    def save_answers(
        self,
        case_id: int | str,
        form_id: str,
        answers: dict[str, Any],
        actor: Actor,
        *,
        record: int | None = None,
        expected_revision: int | None = None,
    ) -> CaseView:
        """Save answers to a form. A draft may be partial; a record of a repeatable form must be complete."""
        with self.store.transaction():
            row = self._row(case_id, actor)
            programme = self.programme(row["programme_id"], row["version"])
            wf = programme.workflows[row["workflow"]]
            entry = self._form_entry(programme, wf, form_id)
            form = programme.forms[form_id]
            self._may_fill(entry, form, wf, row, actor)
            if expected_revision is not None and expected_revision != row["revision"]:
                raise StaleCase(
                    "this case changed while you were filling in the form; your answers were not saved over "
                    "the newer ones: look at the case again"
                )
            now = self._stamp()
            if entry.get("repeatable"):
                clean, errors = check_form(
                    form, answers, complete=True, context={"now": self.now()}
                )
                if errors:
                    raise AnswersInvalid(
                        form.title, errors, {k: q.label for k, q in form.questions().items()}
                    )
                number = record or self.store.next_record_no(row["id"], form_id)
                self.store.save_answers(row["id"], form_id, number, clean, now, submitted=True)
                detail = {"form": form_id, "record": number}
            else:
                existing = next(
                    (a for a in self.store.answers(row["id"]) if a["form"] == form_id), None
                )
                merged = {**(existing["data"] if existing else {}), **answers}
                merged = {k: v for k, v in merged.items() if v not in (None, "", [])}
                clean, errors = check_form(
                    form, merged, complete=False, context={"now": self.now()}
                )
                if errors:
                    raise AnswersInvalid(
                        form.title, errors, {k: q.label for k, q in form.questions().items()}
                    )
                self.store.save_answers(row["id"], form_id, 0, clean, now, submitted=False)
                detail = {"form": form_id, "questions": sorted(answers)}
            self.store.touch_case(row["id"], row["revision"], now)
            self.store.audit(
                row["id"],
                now,
                actor.role,
                actor.id,
                "answer",
                row["state"],
                row["state"],
                row["version"],
                detail,
            )
            self._replan(row["id"], programme)  # a record may keep a promise or end a reminder
        return self.case(row["id"], actor)

    def _may_fill(
        self, entry: dict[str, Any], form: Form, wf: Workflow, row: dict[str, Any], actor: Actor
    ) -> None:
        by = entry.get("by")
        if by is None:
            subject = "person" if row["subject"] is not None else "organisation"
            by = (
                ["caseworker"]
                if subject == "person" or actor.role == "caseworker"
                else ["applicant"]
            )
            by = [*by, "commissioner"]
        if actor.role not in by:
            raise NotPermitted(
                f"a {actor.role} cannot fill in {form.title}; it is filled in by {', '.join(by)}"
            )
        if entry.get("applies_to") and row["role"] not in entry["applies_to"]:
            raise NotPermitted(
                f"{form.title} is for {', '.join(entry['applies_to'])} applicants only"
            )
        states = entry.get("states")
        final = {s.id for s in wf.states if s.final}
        if (states and row["state"] not in states) or (not states and row["state"] in final):
            label = next((s.label for s in wf.states if s.id == row["state"]), row["state"])
            raise ActionRefused(f"{form.title} cannot be changed now: the case is {label.lower()}")

    # -- expressions over a case -----------------------------------------------------------
    def _context(self, row: dict[str, Any], programme: Programme) -> dict[str, Any]:
        questions = programme.questions()
        answers: dict[str, Any] = {}
        records: dict[str, list[Any]] = {e["form"]: [] for e in programme.data["forms"]}
        wf = programme.workflows[row["workflow"]]
        for a in self.store.answers(row["id"]):
            converted = {k: cel_value(questions.get(k), v) for k, v in a["data"].items()}
            if self._repeatable(programme, wf, a["form"]):
                records.setdefault(a["form"], []).append(converted)
            else:
                answers.update(converted)
                records.setdefault(a["form"], []).append(converted)
        entered = {k: datetime.fromisoformat(v) for k, v in row["entered"].items()}
        return {
            **answers,
            "answers": answers,
            "case": {
                "state": row["state"],
                "flags": row["flags"],
                "records": records,
                "entered": entered,
                "reference": row["reference"],
                "lot": row["lot"] or "",
                "organisation": row["organisation_id"] or "",
            },
            "role": row["role"] or "",
            "now": self.now(),
            "programme": programme.data,
        }

    def _check(
        self, source: str, context: dict[str, Any], programme: Programme
    ) -> tuple[bool | None, str]:
        """Evaluate an expression: (True/False, "") or (None, what to answer first or what went wrong)."""
        expr = compile_expression(source)
        missing = sorted(n for n in expr.names if n not in context)
        if missing:
            labels = programme.questions()
            names = [f'"{labels[n].label}"' if n in labels else n for n in missing]
            return None, f"answer {' and '.join(names)} first"
        try:
            result = expr.evaluate({n: context[n] for n in expr.names})
        except Exception as exc:  # a rule over an answer of the wrong kind, a missing field…
            return None, f"this could not be checked ({str(exc).split('.')[0]})"
        return bool(result), ""

    def eligibility(self, case_id: int | str, actor: Actor) -> list[CriterionResult]:
        """Each eligibility criterion for this case: met, not met (and why), or not yet answered."""
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        return self._eligibility(row, programme, self._context(row, programme))

    def _eligibility(
        self, row: dict[str, Any], programme: Programme, context: dict[str, Any]
    ) -> list[CriterionResult]:
        first = next(iter(programme.workflows))
        out = []
        for c in programme.data["eligibility"]:
            if c.get("workflow", first) != row["workflow"]:
                continue
            if c.get("applies_to") and row["role"] not in c["applies_to"]:
                out.append(CriterionResult(c["id"], c["text"], "not_applicable"))
                continue
            if c.get("when"):
                applies, why = self._check(c["when"], context, programme)
                if applies is False:
                    out.append(CriterionResult(c["id"], c["text"], "not_applicable"))
                    continue
                if applies is None:
                    out.append(CriterionResult(c["id"], c["text"], "not_answered", why))
                    continue
            ok, why = self._check(c["rule"], context, programme)
            if ok:
                out.append(CriterionResult(c["id"], c["text"], "met"))
            elif ok is None:
                out.append(CriterionResult(c["id"], c["text"], "not_answered", why))
            else:
                out.append(
                    CriterionResult(
                        c["id"],
                        c["text"],
                        "not_met",
                        self._render(c.get("failure") or c["text"], context),
                    )
                )
        return out

    def _render(self, template: str, context: dict[str, Any]) -> str:
        shown = {
            k: (f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else v)
            for k, v in context.items()
        }
        try:
            return _TEMPLATES.from_string(template).render(**shown)
        except Exception:  # a template that cannot be filled still says what is wrong
            return template

    # -- actions ---------------------------------------------------------------------------
    def actions(self, case_id: int | str, actor: Actor) -> list[ActionOption]:
        """Every action from the case's current state, with whether this actor may take it now."""
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        wf = programme.workflows[row["workflow"]]
        context = self._context(row, programme)
        out: list[ActionOption] = []
        seen: set[str] = set()
        for index, t in enumerate(wf.transitions):
            if row["state"] not in t.sources or t.trigger in seen:
                continue
            reasons = self._reasons(
                row,
                programme,
                wf,
                t,
                actor,
                context,
                amount=None,
                lot=None,
                reason="-",
                preview=True,
            )
            if reasons and any(
                u.trigger == t.trigger
                for u in wf.transitions[index + 1 :]
                if row["state"] in u.sources
            ):
                continue  # a later transition of the same name may still apply
            seen.add(t.trigger)
            out.append(ActionOption(t.trigger, t.spec.get("label", t.trigger.replace("_", " ").capitalize()),
                                    t.dest, not reasons, tuple(reasons), bool(t.spec.get("reason"))))  # fmt: skip
        return out

    def act(
        self,
        case_id: int | str,
        trigger: str,
        actor: Actor,
        *,
        expected_state: str | None = None,
        expected_revision: int | None = None,
        amount: int | None = None,
        lot: str | None = None,
        reason: str | None = None,
    ) -> CaseView:
        """Take an action on a case, or raise with every reason it cannot be taken now."""
        with self.store.transaction():
            row = self._row(case_id, actor)
            programme = self.programme(row["programme_id"], row["version"])
            wf = programme.workflows[row["workflow"]]
            if (expected_state is not None and expected_state != row["state"]) or (
                expected_revision is not None and expected_revision != row["revision"]
            ):
                raise StaleCase(
                    "this case changed while you were looking at it, so your action was not taken; "
                    "look at it again and decide"
                )
            candidates = [(i, t) for i, t in enumerate(wf.transitions) if t.trigger == trigger]
            if not candidates:
                triggers = {t.trigger for t in wf.transitions}
                raise NotFound(
                    f'a {wf.title.lower()} has no action "{trigger}"{did_you_mean(trigger, triggers)}'
                )
            here = [(i, t) for i, t in candidates if row["state"] in t.sources]
            state_label = next((s.label for s in wf.states if s.id == row["state"]), row["state"])
            if not here:
                label = candidates[0][1].spec.get("label", trigger)
                raise ActionRefused(
                    f'"{label}" cannot be taken while the case is {state_label.lower()}'
                )
            context = self._context(row, programme)
            all_reasons: list[str] = []
            chosen: tuple[int, Transition] | None = None
            for i, t in here:
                reasons = self._reasons(
                    row, programme, wf, t, actor, context, amount=amount, lot=lot, reason=reason
                )
                if not reasons:
                    chosen = (i, t)
                    break
                all_reasons.extend(r for r in reasons if r not in all_reasons)
            if chosen is None:
                label = here[0][1].spec.get("label", trigger)
                if all(r.startswith(_NOT_YOURS) for r in all_reasons):
                    raise NotPermitted(f'you cannot "{label}"', all_reasons)
                raise ActionRefused(f'"{label}" cannot be taken yet', all_reasons)
            index, t = chosen
            dest = machines.fire(programme.version, wf, row["state"], index)
            now = self._stamp()
            detail = self._effects(row, programme, t, actor, context, amount, lot, now)
            if reason:
                detail["reason"] = reason
            checks = {k: t.spec[k] for k in ("guard", "deadline", "not_before") if k in t.spec}
            if t.spec.get("eligibility"):
                checks["eligibility"] = "every criterion met"
            if checks:
                detail["checks_passed"] = checks  # what was true when the action was allowed
            for form_id in t.spec.get("forms", []):
                self.store.mark_submitted(row["id"], form_id, now)
            flags = {**row["flags"], **detail.pop("flags", {})}
            entered = {**row["entered"], dest: now}
            self.store.move_case(row["id"], row["revision"], dest, flags, entered, now)
            self.store.audit(
                row["id"],
                now,
                actor.role,
                actor.id,
                trigger,
                row["state"],
                dest,
                row["version"],
                detail,
            )
            self._replan(row["id"], programme)
            if "started" in detail:
                self._replan(detail["started"], programme)
        return self.case(row["id"], actor)

    def _reasons(self, row: dict[str, Any], programme: Programme, wf: Workflow, t: Transition, actor: Actor,
                 context: dict[str, Any], *, amount: int | None, lot: str | None, reason: str | None,
                 preview: bool = False) -> list[str]:  # fmt: skip
        """Every reason this actor may not take this transition now (an empty list: they may).

        With `preview`, what the person is asked for as they act (an amount) is not yet due.
        """
        spec = t.spec
        reasons: list[str] = []
        if actor.role not in t.by:
            who = ", ".join(t.by) or "nobody"
            article = "an" if actor.role[0] in "aeiou" else "a"
            reasons.append(f"{_NOT_YOURS} {article} {actor.role}: it is taken by {who}")
            return reasons
        if self._conflicted(row, actor):  # a declared interest keeps an assessor off the case
            return [
                f"you declared a conflict of interest in {row['reference']}, so you take no part in it"
            ]
        tz = ZoneInfo(programme.timezone)
        now = self.now()
        if "deadline" in spec:
            m = programme.milestones[spec["deadline"]]
            if now > m.span.end:
                reasons.append(f"the deadline was {_when(m.span.end, tz)} ({m.label})")
        if "not_before" in spec:
            m = programme.milestones[spec["not_before"]]
            if now < m.span.start:
                reasons.append(f"this cannot happen before {_when(m.span.start, tz)} ({m.label})")
        if "at" in spec:
            due = self._due(row, programme, spec["at"])
            # a milestone such as a deadline at 17:00 has passed only once 17:00 is over, so a
            # submission at 17:00:00 and the round closing cannot both be allowed at one instant
            at_milestone = set(spec["at"]) == {"milestone"}
            if due is not None and (now <= due if at_milestone else now < due):
                word = "after" if at_milestone else "at"
                reasons.append(f"this happens automatically {word} {_when(due, tz)}")
        for form_id in spec.get("forms", []):
            reasons.extend(self._incomplete(row, programme, wf, form_id, t.trigger))
        if spec.get("eligibility"):
            for c in self._eligibility(row, programme, context):
                if c.status == "not_met":
                    reasons.append(c.message)
                elif c.status == "not_answered":
                    reasons.append(f"{c.text}: {c.message}")
        if "guard" in spec:
            ok, why = self._check(spec["guard"], context, programme)
            if ok is False:
                reasons.append(
                    spec.get("guard_message") or f"the condition is not met: {spec['guard']}"
                )
            elif ok is None:
                reasons.append(
                    f"{spec.get('guard_message', 'the condition cannot be checked yet')}: {why}"
                )
        if spec.get("reason") and not (reason and reason.strip()):
            reasons.append("give a reason")
        for eff in spec.get("effects", []):
            if eff["do"] == "record_award":
                problems = self._award_problems(row, programme, eff, context, amount, lot)[1]
            elif eff["do"] == "record_payment":
                problems = self._payment_problems(row, programme, eff, context, amount)[1]
            else:
                continue
            reasons.extend(p for p in problems if not (preview and p.startswith("give the amount")))
        return reasons

    def _due(
        self, row: dict[str, Any], programme: Programme, anchor: dict[str, Any]
    ) -> datetime | None:
        """When a timed transition falls due for this case (None when a cadence decides)."""
        if "milestone" in anchor:
            base = programme.milestones[anchor["milestone"]].span.start
        elif "entered" in anchor:
            at = row["entered"].get(anchor["entered"])
            if at is None:
                return None
            base = datetime.fromisoformat(at)
        elif "trigger" in anchor:
            at = self.store.fired(row["id"], anchor["trigger"])
            if at is None:
                return None
            base = datetime.fromisoformat(at)
        else:
            return None
        from engine.timeline.occasions import shift  # dates arithmetic lives with the scheduler's

        if "after" in anchor:
            return shift(base, parse_duration(anchor["after"]), +1, ZoneInfo(programme.timezone))
        if "before" in anchor:
            return shift(base, parse_duration(anchor["before"]), -1, ZoneInfo(programme.timezone))
        return base

    def _incomplete(
        self, row: dict[str, Any], programme: Programme, wf: Workflow, form_id: str, trigger: str
    ) -> list[str]:
        form = programme.forms[form_id]
        stored = [a for a in self.store.answers(row["id"]) if a["form"] == form_id]
        if self._repeatable(programme, wf, form_id):
            # each time the action is taken it needs a record made since it was last taken
            last = self.store.fired(row["id"], trigger)
            fresh = [a for a in stored if last is None or (a["submitted_at"] or "") >= last]
            if fresh:
                return []
            return [
                f"record {form.title} first" if not stored else f"record a new {form.title} first"
            ]
        if not stored:
            return [f"fill in {form.title} first"]
        _clean, errors = check_form(
            form, stored[0]["data"], complete=True, context={"now": self.now()}
        )
        questions = programme.questions()
        return [
            f"{form.title}: {questions[q].label if q in questions else q} — {m}"
            for q, ms in errors.items()
            for m in ms
        ]

    # -- service levels --------------------------------------------------------------------
    def check_service_levels(self, case_id: int | str, actor: Actor) -> list[ServiceLevelResult]:
        """Check each service level of the case; a missed one raises its flag (once, audited)."""
        with self.store.transaction():
            row = self._row(case_id, actor)
            programme = self.programme(row["programme_id"], row["version"])
            context = self._context(row, programme)
            tz = ZoneInfo(programme.timezone)
            now = self.now()
            results: list[ServiceLevelResult] = []
            newly_missed: list[str] = []
            for sl in programme.data["service_levels"]:
                if sl["workflow"] != row["workflow"]:
                    continue
                due = self._due(row, programme, sl["within"])
                kept, _why = self._check(sl["rule"], context, programme)
                if kept:
                    status = "kept"
                elif due is None:
                    status = "not_started"
                elif now >= due:
                    status = "missed"
                    if not row["flags"].get(sl["id"]):
                        newly_missed.append(sl["id"])
                elif "warn" in sl and now >= _shift(due, sl["warn"], -1, tz):
                    status = "at_risk"
                else:
                    status = "pending"
                results.append(ServiceLevelResult(sl["id"], sl["title"], status, due))
            if newly_missed:
                stamp = self._stamp()
                flags = {**row["flags"], **dict.fromkeys(newly_missed, True)}
                self.store.move_case(
                    row["id"], row["revision"], row["state"], flags, row["entered"], stamp
                )
                self.store.audit(row["id"], stamp, actor.role, actor.id, "service_level_missed", row["state"],
                                 row["state"], row["version"], {"missed": newly_missed})  # fmt: skip
        return results

    def _replan(self, case_id: int, programme: Programme) -> None:
        """Bring the case's reminder rows in line with its facts (inside the caller's transaction)."""
        row = self.store.case(case_id)
        assert row is not None
        replan_case(self.store, programme, row, self.now())

    # -- money -----------------------------------------------------------------------------
    def _award_problems(self, row: dict[str, Any], programme: Programme, eff: dict[str, Any],
                        context: dict[str, Any], amount: int | None, lot: str | None) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
        funding = programme.data["funding"]
        if amount is None and eff.get("amount"):
            amount = context.get(eff["amount"])
        answered_lot = context.get(eff["lot"]) if eff.get("lot") else None
        if row["lot"] and answered_lot and answered_lot != row["lot"]:
            return {}, [
                f"the case is for {row['lot']} but its answers say {answered_lot}; correct one of them first"
            ]
        if lot is None:
            lot = answered_lot or row["lot"]
        if amount is None:
            return {}, ["give the amount to award"]
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            return {}, [
                f"the amount to award must be a whole number of pounds above £0, not {amount!r}"
            ]
        problems: list[str] = []
        award = funding.get("award", {})
        if "min" in award and amount < award["min"]:
            problems.append(
                f"an award must be at least {_money(award['min'])}; {_money(amount)} is {_money(award['min'] - amount)} too little"
            )
        if "max" in award and amount > award["max"]:
            problems.append(
                f"an award can be at most {_money(award['max'])}; {_money(amount)} is {_money(amount - award['max'])} too much"
            )
        totals = self.store.award_totals(programme.id)
        if "max_awards" in funding and totals["count"] >= funding["max_awards"]:
            problems.append(
                f"the programme makes at most {funding['max_awards']} awards and has made {totals['count']}"
            )
        if "total" in funding and totals["amount"] + amount > funding["total"]:
            left = funding["total"] - totals["amount"]
            problems.append(
                f"{_money(amount)} would take the total awarded to {_money(totals['amount'] + amount)}, "
                f"{_money(totals['amount'] + amount - funding['total'])} over the {_money(funding['total'])} pot "
                f"({_money(left)} is left)"
            )
        lots = {x["id"]: x for x in funding.get("lots", [])}
        if lots:
            if lot not in lots:
                problems.append(
                    "say which lot the award is in" + (f' ("{lot}" is not a lot)' if lot else "")
                )
            else:
                spent = totals["lots"].get(lot, {"amount": 0, "count": 0})
                info = lots[lot]
                if "budget" in info and spent["amount"] + amount > info["budget"]:
                    problems.append(
                        f"{_money(amount)} would take {info['name']} to {_money(spent['amount'] + amount)}, "
                        f"{_money(spent['amount'] + amount - info['budget'])} over its {_money(info['budget'])} budget"
                    )
                if "lead_providers" in info and spent["count"] >= info["lead_providers"]:
                    problems.append(
                        f"{info['name']} already has its {info['lead_providers']} lead provider{'s' if info['lead_providers'] > 1 else ''}"
                    )
        return {"amount": amount, "lot": lot}, problems

    def _payment_problems(self, row: dict[str, Any], programme: Programme, eff: dict[str, Any],
                          context: dict[str, Any], amount: int | None) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
        payment = programme.data["funding"].get("payment", {})
        problems: list[str] = []
        after = payment.get("after")
        if after and self.store.fired(row["id"], after) is None:
            label = next(
                (
                    t.spec.get("label", after)
                    for w in programme.workflows.values()
                    for t in w.transitions
                    if t.trigger == after
                ),
                after,
            )
            problems.append(f'no payment can be made before "{label}"')
        if payment.get("condition"):
            ok, why = self._check(payment["condition"], context, programme)
            if ok is False:
                problems.append(
                    payment.get("terms")
                    or f"the payment condition is not met: {payment['condition']}"
                )
            elif ok is None:
                problems.append(why)
        made = self.store.payments(row["id"])
        if payment.get("schedule") == "single" and made:
            paid = datetime.fromisoformat(made[0]["paid_at"]).astimezone(
                ZoneInfo(programme.timezone)
            )
            problems.append(f"the award is paid in one amount, and it was paid on {paid:%-d %B %Y}")
        if amount is None and eff.get("amount"):
            amount = context.get(eff["amount"])
        if amount is None:
            award = self.store.award_for(self._lineage(row))
            if award and payment.get("schedule") == "single":
                amount = award["amount"]
        if amount is None:
            problems.append("give the amount to pay")
        else:
            award = self.store.award_for(self._lineage(row))
            paid = sum(p["amount"] for p in made)
            if award and paid + amount > award["amount"]:
                problems.append(
                    f"{_money(amount)} would take payments to {_money(paid + amount)}, more than the "
                    f"{_money(award['amount'])} awarded ({_money(award['amount'] - paid)} is left to pay)"
                )
        return {"amount": amount}, problems

    def _lineage(self, row: dict[str, Any]) -> list[int]:
        """This case and the cases it was started from (a contract's application)."""
        out = [row["id"]]
        parent = row["parent_id"]
        while parent is not None and len(out) < 10:
            out.append(parent)
            prow = self.store.case(parent)
            parent = prow["parent_id"] if prow else None
        return out

    def _effects(self, row: dict[str, Any], programme: Programme, t: Transition, actor: Actor,
                 context: dict[str, Any], amount: int | None, lot: str | None, now: str) -> dict[str, Any]:  # fmt: skip
        detail: dict[str, Any] = {"effects": []}
        flags: dict[str, Any] = {}
        for eff in t.spec.get("effects", []):
            do = eff["do"]
            if do == "record_award":
                money, problems = self._award_problems(row, programme, eff, context, amount, lot)
                assert not problems
                self.store.insert_award(row["id"], programme.id, money["lot"], money["amount"], now)
                detail["award"] = money
            elif do == "record_payment":
                money, problems = self._payment_problems(row, programme, eff, context, amount)
                assert not problems
                self.store.insert_payment(row["id"], money["amount"], now)
                detail["payment"] = money
            elif do == "start_case":
                wf = programme.workflows[eff["workflow"]]
                award = detail.get("award", {})
                child = self._insert_case(programme, wf, row["organisation_id"], row["role"], row["subject"],
                                          award.get("lot") or row["lot"], row["id"], now)  # fmt: skip
                self.store.audit(child, now, actor.role, actor.id, "start", None, wf.initial, programme.version,
                                 {"started_by": row["reference"]})  # fmt: skip
                detail["started"] = child
            elif do == "raise_flag":
                flags[eff["flag"]] = True
            elif do == "clear_flag":
                flags[eff["flag"]] = False
            detail["effects"].append(do)
        detail["flags"] = flags
        return detail

    # -- casework and monitoring returns: a repeatable form's record filled in page by page ----
    def _draft_target(self, case_id: int | str, form_id: str, actor: Actor
                      ) -> tuple[dict[str, Any], Form]:  # fmt: skip
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        wf = programme.workflows[row["workflow"]]
        entry = self._form_entry(programme, wf, form_id)
        form = programme.forms[form_id]
        if not entry.get("repeatable"):
            raise ActionRefused(f"{form.title} is one form per case, not a record made again and again")  # fmt: skip
        self._may_fill(entry, form, wf, row, actor)
        return row, form

    def record_draft(self, case_id: int | str, form_id: str, actor: Actor) -> dict[str, Any]:
        """The answers so far of the next record of a repeatable form (empty if none yet)."""
        row = self._row(case_id, actor)
        return self.store.record_draft(row["id"], form_id) or {}

    def save_record_draft(
        self, case_id: int | str, form_id: str, answers: dict[str, Any], actor: Actor
    ) -> dict[str, Any]:
        """Keep part of the next record of a repeatable form (checked like a draft); the answers so far."""
        with self.store.transaction():
            row, form = self._draft_target(case_id, form_id, actor)
            existing = self.store.record_draft(row["id"], form_id) or {}
            merged = {k: v for k, v in {**existing, **answers}.items() if v not in (None, "", [])}
            clean, errors = check_form(form, merged, complete=False, context={"now": self.now()})
            if errors:
                raise AnswersInvalid(
                    form.title, errors, {k: q.label for k, q in form.questions().items()}
                )
            self.store.save_record_draft(row["id"], form_id, clean, actor.id, self._stamp())
        return clean

    def submit_record_draft(self, case_id: int | str, form_id: str, actor: Actor) -> CaseView:
        """Record the draft as a new, complete record of the repeatable form (one transaction)."""
        with self.store.transaction():
            row, _form = self._draft_target(case_id, form_id, actor)
            draft = self.store.record_draft(row["id"], form_id) or {}
            view = self.save_answers(row["id"], form_id, draft, actor)
            self.store.delete_record_draft(row["id"], form_id)
        return view

    def discard_record_draft(self, case_id: int | str, form_id: str, actor: Actor) -> None:
        """Forget the answers so far of the next record."""
        with self.store.transaction():
            row, _form = self._draft_target(case_id, form_id, actor)
            self.store.delete_record_draft(row["id"], form_id)

    # -- commissioning and assessment: dashboards, assessors' score sheets, moderation ------------
    def _commissioner_only(self, actor: Actor, what: str) -> None:
        if actor.role != "commissioner":
            raise NotPermitted(f"only a commissioner can see {what}")

    def dashboard(self, programme_id: str, actor: Actor) -> dict[str, Any]:
        """A programme at a glance: cases by state, deadlines ahead, money, awards, what is overdue."""
        self._commissioner_only(actor, "a programme's dashboard")
        programme = self.programme(programme_id)
        by_state: dict[str, dict[str, int]] = {}
        flagged = []
        rows = self.store.programme_cases(programme_id)
        for row in rows:
            counts = by_state.setdefault(row["workflow"], {})
            counts[row["state"]] = counts.get(row["state"], 0) + 1
            raised = sorted(k for k, v in row["flags"].items() if v)
            if raised:
                flagged.append({"id": row["id"], "reference": row["reference"], "flags": raised,
                                "workflow": row["workflow"], "state": row["state"]})  # fmt: skip
        out = assessment.dashboard(
            programme, by_state, self.store.award_totals(programme_id), self.now()
        )
        assessment.add_payments(out, rows, self.store.awards(programme_id),
                                self.store.programme_payments(programme_id))  # fmt: skip
        out["overdue"] = self.store.overdue_reminders(programme_id, self._stamp())
        out["flagged"] = flagged
        return out

    def assessment_criteria(self, case_id: int | str, actor: Actor) -> list[dict[str, Any]]:
        """The programme's criteria this case is assessed against (its workflow, its role)."""
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        return assessment.criteria_for(programme, row["workflow"], row["role"])

    def assessment_queue(
        self, actor: Actor, programme_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Cases waiting for an assessor, less those this assessor declared a conflict on."""
        if actor.role not in ("assessor", "commissioner"):
            raise NotPermitted(f"a {actor.role} has no assessment queue")
        mine = self.store.assessments_by(actor.id)
        out = []
        for pid in [programme_id] if programme_id else self.store.programme_ids():
            for version in {v["version"] for v in self.store.versions(pid)}:
                programme = self.programme(pid, version)
                for wf in programme.workflows.values():
                    states = sorted(assessment.assessment_states(wf))
                    for row in self.store.cases_in_states(pid, wf.id, states):
                        if row["version"] != version:
                            continue
                        own = mine.get(row["id"])
                        if own is not None and own["conflict"] is not None:
                            continue
                        label = next(s.label for s in wf.states if s.id == row["state"])
                        out.append({**row, "programme_name": programme.name, "workflow_title": wf.title,
                                    "state_label": label, "scored": bool(own and own["scores"])})  # fmt: skip
        return sorted(out, key=lambda r: r["id"])

    def _assessable(self, case_id: int | str, actor: Actor) -> tuple[dict[str, Any], Programme]:
        if actor.role != "assessor":
            raise NotPermitted(f"only an assessor can assess an application, not a {actor.role}")
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        wf = programme.workflows[row["workflow"]]
        if row["state"] not in assessment.assessment_states(wf):
            label = next((s.label for s in wf.states if s.id == row["state"]), row["state"])
            raise ActionRefused(f"{row['reference']} is not waiting for assessment: it is {label.lower()}")  # fmt: skip
        own = self.store.assessments_by(actor.id).get(row["id"])
        if own is not None and own["conflict"] is not None:
            raise NotPermitted(
                f"you declared a conflict of interest in {row['reference']}, so you take no part in assessing it"
            )
        return row, programme

    def my_assessment(self, case_id: int | str, actor: Actor) -> dict[str, Any] | None:
        """This assessor's own score sheet for a case, if they have one."""
        row = self._row(case_id, actor)
        return self.store.assessments_by(actor.id).get(row["id"])

    def assess(self, case_id: int | str, actor: Actor, *, scores: dict[str, Any],
               notes: dict[str, str] | None = None, comment: str | None = None,
               recommendation: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Record (or revise) this assessor's scores, comments and recommendation; audited."""
        with self.store.transaction():
            row, programme = self._assessable(case_id, actor)
            criteria = assessment.criteria_for(programme, row["workflow"], row["role"])
            clean, problems = assessment.check_sheet(criteria, scores, recommendation)
            if problems:
                raise AnswersInvalid("the assessment", {k: [v] for k, v in problems.items()},
                                     {c["id"]: c["title"] for c in criteria})  # fmt: skip
            now = self._stamp()
            kept_notes = {k: v.strip() for k, v in (notes or {}).items() if k in clean and v and v.strip()}  # fmt: skip
            sheet = {"case_id": row["id"], "assessor": actor.id, "scores": clean, "notes": kept_notes,
                     "comment": (comment or "").strip() or None, "recommendation": recommendation,
                     "conflict": None, "version": row["version"], "now": now}  # fmt: skip
            self.store.save_assessment(sheet)
            self.store.audit(row["id"], now, actor.role, actor.id, "assessment", row["state"], row["state"],
                             row["version"], {"scores": clean, "recommendation": recommendation,
                                              "weighted": assessment.weighted_score(criteria, clean)})  # fmt: skip
        return sheet

    def declare_conflict(self, case_id: int | str, actor: Actor, interest: str) -> None:
        """Declare a conflict of interest: the assessor leaves the application (any scores are set aside)."""
        if not interest or not interest.strip():
            raise ActionRefused("say what the conflict of interest is")
        with self.store.transaction():
            row, _programme = self._assessable(case_id, actor)
            now = self._stamp()
            self.store.save_assessment({"case_id": row["id"], "assessor": actor.id, "scores": {}, "notes": {},
                                        "comment": None, "recommendation": None, "conflict": interest.strip(),
                                        "version": row["version"], "now": now})  # fmt: skip
            self.store.audit(row["id"], now, actor.role, actor.id, "conflict_declared", row["state"],
                             row["state"], row["version"], {"interest": interest.strip()})  # fmt: skip

    def moderation(self, case_id: int | str, actor: Actor) -> dict[str, Any]:
        """Every assessor's scores and the moderated totals (mean weighted score), for a commissioner."""
        self._commissioner_only(actor, "the assessors' scores")
        row = self._row(case_id, actor)
        programme = self.programme(row["programme_id"], row["version"])
        criteria = assessment.criteria_for(programme, row["workflow"], row["role"])
        return assessment.moderate(criteria, self.store.assessments(row["id"]))

    def _conflicted(self, row: dict[str, Any], actor: Actor) -> bool:
        """True when this assessor declared a conflict of interest in this case."""
        if actor.role != "assessor":
            return False
        own = self.store.assessments_by(actor.id).get(row["id"])
        return own is not None and own["conflict"] is not None


_NOT_YOURS = "this action is not for"


def _shift(moment: datetime, duration: str, sign: int, tz: ZoneInfo) -> datetime:
    from engine.timeline.occasions import shift

    return shift(moment, parse_duration(duration), sign, tz)


def _when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    text = local.strftime("%-d %B %Y at %H:%M")
    return re.sub(r" at 23:59$", "", text) + f" {local.tzname()}"
