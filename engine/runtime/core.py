"""The core every service of the `Engine` shares: the store, the clock and the programmes read.

Also what every service asks before it acts on a case: its row (only if the actor may see it),
the forms attached to its workflow, the facts its expressions are evaluated over, who may act at
all, and bringing its reminders in line with a change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from engine.definition.loader import programme_from_data
from engine.definition.schema_check import did_you_mean
from engine.definition.workspace import load_with_files
from engine.errors import NotFound, NotPermitted
from engine.forms.answers import cel_value
from engine.model import Programme, Workflow
from engine.rules import EvaluationError, ExpressionError, answers_read, compile_expression
from engine.runtime import assessment
from engine.runtime.views import Actor
from engine.store import Store
from engine.timeline.planner import plan_programme, replan_case

_TEMPLATES = SandboxedEnvironment(autoescape=False)
PLAIN_BELOW = 10_000  # a whole number under this is written as typed: 2011, never "2,011"


def with_detail(lead: str, detail: str) -> str:
    """A reason and what more there is to say, punctuated once: "lead: detail" or "Lead. Detail"."""
    lead = lead.rstrip()
    if not detail:
        return lead
    if lead.endswith((".", "!", "?")):  # a criterion written as a sentence: never ".:"
        return f"{lead} {detail[:1].upper()}{detail[1:]}"
    return f"{lead} {detail}" if lead.endswith(":") else f"{lead}: {detail}"


def in_words(value: Any, kind: str | None) -> Any:
    """An answer as a message's `{{ }}` shows it for a question of type `kind`: a date in words,
    a whole number with separators where people expect them."""
    if kind == "date" and isinstance(value, datetime):  # expressions see a date as a timestamp
        return f"{value.day} {value:%B %Y}"
    # `money` always has thousands separators (25,000: the wording writes its own £); any other
    # number only from 10,000 up, so a year of birth reads 2011 and a count of 12,500 stays easy
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    return f"{value:,}" if kind == "money" or abs(value) >= PLAIN_BELOW else str(value)


def _case_key(case_id: int | str) -> int | str:
    """A case as the store finds it: by its id (given as a number or digits) or its reference."""
    return case_id if isinstance(case_id, str) and not case_id.isdigit() else int(case_id)


class EngineCore:
    """The store, the clock and the programmes cache, with the helpers every service uses."""

    def __init__(
        self, db: str | Path | Store, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.store = db if isinstance(db, Store) else Store(db)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._programmes: dict[tuple[str, str], Programme] = {}
        self._newest: dict[str, str] = {}  # programme → the version it last started a case on

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
        # read once: the version and the files it was built from (to download, to edit in the browser)
        programme, files = load_with_files(Path(path), Path(forms_dir) if forms_dir else None)
        with self.store.transaction():
            new = self.store.save_programme_version(
                programme.id, programme.version, programme.data, str(path), self._stamp()
            )
            if new:
                plan_programme(self.store, programme, self.now())
            self.store.keep_version_files(programme.id, programme.version, files, None)
        self._programmes[(programme.id, programme.version)] = programme
        self._newest.pop(programme.id, None)  # the next case starts on the newest, read afresh
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

    def _workflow(self, programme: Programme, workflow: str) -> Workflow:
        if workflow not in programme.workflows:
            raise NotFound(
                f'programme "{programme.id}" has no workflow "{workflow}"'
                f"{did_you_mean(workflow, set(programme.workflows))}"
            )
        return programme.workflows[workflow]

    # -- a case, only for those who may see it ---------------------------------------------
    def _reach(self, programme_id: str, actor: Actor) -> None:
        if not actor.covers(programme_id):
            raise NotFound(f'there is no programme "{programme_id}"')

    def _row(self, case_id: int | str, actor: Actor) -> dict[str, Any]:
        key = _case_key(case_id)
        row = self.store.case_by_reference(key) if isinstance(key, str) else self.store.case(key)
        return self._seen(row, case_id, actor)

    def _row_and_answers(
        self, case_id: int | str, actor: Actor
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The case, if this actor may see it, and its answers, read in one statement."""
        found = self.store.case_with_answers(_case_key(case_id))
        return self._seen(found[0] if found else None, case_id, actor), found[1] if found else []

    def _row_and_facts(
        self, case_id: int | str, actor: Actor
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        """As `_row_and_answers`, with what re-planning the case reads, in one round trip."""
        found = self.store.case_with_facts(_case_key(case_id))
        row = self._seen(found[0] if found else None, case_id, actor)
        assert found is not None
        return row, found[1], found[2]

    def _seen(self, row: dict[str, Any] | None, case_id: int | str, actor: Actor) -> dict[str, Any]:
        """The case's row, or NotFound when this actor may not see it (or it does not exist)."""
        if row is None or not actor.covers(row["programme_id"]):
            # a case in a programme the actor's role does not reach is as good as absent
            raise NotFound(f"there is no case {case_id}")
        if row.get("removed_at") and actor.role in ("applicant", "caseworker"):
            # its content went under a retention rule: nothing is left to open or change
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

    # -- the forms attached to a workflow --------------------------------------------------
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

    # -- expressions over a case -----------------------------------------------------------
    def _context(
        self,
        row: dict[str, Any],
        programme: Programme,
        stored: list[dict[str, Any]] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """What expressions read of a case: from its stored answers, or those given (as at `now`)."""
        questions = programme.questions()
        answers: dict[str, Any] = {}
        records: dict[str, list[Any]] = {e["form"]: [] for e in programme.data["forms"]}
        wf = programme.workflows[row["workflow"]]
        for a in self.store.answers(row["id"]) if stored is None else stored:
            converted = {k: cel_value(questions.get(k), v) for k, v in a["data"].items()}
            if self._repeatable(programme, wf, a["form"]):
                records.setdefault(a["form"], []).append(converted)
            else:
                answers.update(converted)
                records.setdefault(a["form"], []).append(converted)
        entered = {k: datetime.fromisoformat(v) for k, v in row["entered"].items()}
        criteria = assessment.criteria_for(programme, row["workflow"], row["role"])
        return {
            "assessment": assessment.outcome(
                criteria,
                self.store.assessments(row["id"]) if criteria else [],
                programme.data.get("assessment", {}),
                # a moderated score, once recorded, is the panel's score for every rule
                self.store.moderated_score(row["id"]) if criteria else None,
            ),
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
            "now": now or self.now(),
            "programme": programme.data,
        }

    def rule_holds(
        self, source: str, case: dict[str, Any], programme: Programme
    ) -> tuple[bool | None, str]:
        """Whether a programme's rule holds for a case as it stands: (True/False, "") or (None, why not known)."""
        return self._check(source, self._context(case, programme), programme)

    def _check(
        self, source: str, context: dict[str, Any], programme: Programme
    ) -> tuple[bool | None, str]:
        """Evaluate an expression: (True/False, "") or (None, what to answer first or what went wrong)."""
        try:
            expr = compile_expression(source)
        except ExpressionError as exc:  # a programme published before today's bounds on rules
            return None, f"this rule could not be worked out: {exc.message}"
        missing = sorted({n for n in expr.names if n not in context} | {
            q for q in answers_read(source)  # `answers.x` of a question not answered yet
            if q in programme.questions() and q not in context.get("answers", {})
        })  # fmt: skip
        if missing:
            labels = programme.questions()
            names = [f'"{labels[n].label}"' if n in labels else n for n in missing]
            return None, f"answer {' and '.join(names)} first"
        try:
            result = expr.evaluate({n: context[n] for n in expr.names})
        except EvaluationError as exc:  # over a bound, or the expression language failed
            return None, str(exc)
        except Exception as exc:  # a rule over an answer of the wrong kind, a missing field…
            return None, f"this could not be checked ({str(exc).split('.')[0]})"
        return bool(result), ""

    def _render(
        self, template: str, context: dict[str, Any], programme: Programme | None = None
    ) -> str:
        questions = programme.questions() if programme else {}
        shown = {
            k: in_words(v, questions[k].type if k in questions else None)
            for k, v in context.items()
        }
        try:
            return _TEMPLATES.from_string(template).render(**shown)
        except Exception:  # a template that cannot be filled still says what is wrong
            return template

    # -- who may act -----------------------------------------------------------------------
    def _commissioner_only(self, actor: Actor, what: str) -> None:
        if actor.role != "commissioner":
            raise NotPermitted(f"only a commissioner can see {what}")

    def _conflicted(self, row: dict[str, Any], actor: Actor) -> bool:
        """True when this assessor declared a conflict of interest in this case."""
        if actor.role != "assessor":
            return False
        own = self.store.assessments_by(actor.id).get(row["id"])
        return own is not None and own["conflict"] is not None

    # -- reminders -------------------------------------------------------------------------
    def _replan(
        self,
        case_id: int,
        programme: Programme,
        row: dict[str, Any] | None = None,
        facts: dict[str, Any] | None = None,
        answers: list[dict[str, Any]] | None = None,
    ) -> None:
        """Bring the case's reminder rows in line with its facts (inside the caller's transaction).

        `row` is the case as the caller has just written it, when it has it (one read fewer);
        `facts` and `answers`, what planning reads, as they stand after the caller's writes
        (`facts_after`), when it read them with the case (no read at all).
        """
        row = row or self.store.case(case_id)
        assert row is not None
        replan_case(self.store, programme, row, self.now(), facts, answers)
