"""What a programme declares, indexed once, and the checks of references into it.

Workflows with their states, triggers and roles, milestones, cadences and the forms attached to
each workflow are collected before any topic is checked, so every topic can check a name it
meets against them: a workflow, a state, a role, a form, a milestone or a time anchor.

A mistake is reported once, where it is made, and not again wherever it is felt: a reference into
a workflow that does not exist is not checked further, and while a listed form cannot be read a
name that may be one of its questions, or the form under another spelling, is not reported.
"""

from __future__ import annotations

import contextlib
import difflib
from typing import Any
from zoneinfo import ZoneInfo

from engine.dates import Span
from engine.definition.checks.base import BaseChecker, _d, _l
from engine.definition.checks.forms import FormInfo
from engine.definition.schema_check import load_schema
from engine.definition.yaml_source import Path, Positions
from engine.rules import ExpressionError, compile_expression

UTC_ZONE = ZoneInfo("UTC")
#: Who may take a transition or fill in a form; any other name in a `by` the schema check reports.
ACTORS = frozenset(load_schema("programme")["$defs"]["actors"]["items"]["enum"])


class ProgrammeIndex(BaseChecker):
    """What one programme file declares, and the checks of references into it."""

    def __init__(
        self,
        fname: str,
        data: Any,
        positions: Positions,
        forms: dict[str, FormInfo],
        source_text: str | None = None,
    ) -> None:
        super().__init__(fname, data, positions)
        self.forms = forms  # only the forms the programme lists and that could be read
        self.source_text = source_text
        self.tz: ZoneInfo = UTC_ZONE
        self.spans: dict[str, Span] = {}
        self.milestones: dict[str, int] = {}
        self.workflows: dict[str, dict[str, Any]] = {}
        self.states: dict[str, set[str]] = {}
        self.triggers: dict[str, set[str]] = {}
        self.roles: dict[str, set[str]] = {}
        self.form_workflows: dict[str, set[str]] = {}
        self.listed_forms: dict[str, list[Any]] = {}  # form → the `workflow` of each entry
        self.repeatable: set[str] = set()  # forms listed as repeatable (records)
        self.reviews: dict[str, dict[str, Any]] = {}

    def _index(self) -> None:
        d = _d(self.data)
        for key in ("priorities", "outcomes", "services", "eligibility", "criteria", "timeline",
                    "reviews", "reminders", "service_levels", "kpis"):  # fmt: skip
            self.unique_ids(d.get(key), (key,), what=key.rstrip("s").replace("_", " "))
        funding = _d(d.get("funding"))
        for key in ("lots", "fees", "caps"):
            self.unique_ids(funding.get(key), ("funding", key), what=key.rstrip("s"))
        self.milestones = {
            m["id"]: i
            for i, m in enumerate(_l(d.get("timeline")))
            if isinstance(_d(m).get("id"), str)
        }
        self.reviews = {
            r["id"]: r for r in _l(d.get("reviews")) if isinstance(_d(r).get("id"), str)
        }
        for wid, wf in _d(d.get("workflows")).items():
            wf = _d(wf)
            self.workflows[wid] = wf
            self.unique_ids(wf.get("states"), ("workflows", wid, "states"), what="state")
            self.unique_ids(wf.get("roles"), ("workflows", wid, "roles"), what="role")
            self.states[wid] = {
                s["id"] for s in _l(wf.get("states")) if isinstance(_d(s).get("id"), str)
            }
            self.triggers[wid] = {
                t["trigger"]
                for t in _l(wf.get("transitions"))
                if isinstance(_d(t).get("trigger"), str)
            }
            self.roles[wid] = {
                r["id"] for r in _l(wf.get("roles")) if isinstance(_d(r).get("id"), str)
            }
        for f in _l(d.get("forms")):
            f = _d(f)
            if isinstance(f.get("form"), str):
                self.listed_forms.setdefault(f["form"], []).append(f.get("workflow"))
                if f.get("repeatable"):
                    self.repeatable.add(f["form"])
            if isinstance(f.get("form"), str) and isinstance(f.get("workflow"), str):
                self.form_workflows.setdefault(f["form"], set()).add(f["workflow"])

    @property
    def question_names(self) -> set[str]:
        """Every question id of every form the programme uses."""
        names: set[str] = set()
        for info in self.forms.values():
            names |= set(info.questions)
        return names

    @property
    def unread_forms(self) -> set[str]:
        """Forms listed under `forms:` whose file is missing or unreadable (reported there)."""
        return set(self.listed_forms) - set(self.forms)

    @property
    def all_questions_known(self) -> bool:
        """Whether `question_names` is every question there is: no listed form went unread.

        While a form cannot be read any name may be one of its questions, so an expression is not
        faulted for reading one: the form is reported, and its questions are checked once it reads.
        """
        return not self.unread_forms

    def forms_unknown(self, wid: Any = None) -> bool:
        """Whether workflow `wid` (None: any workflow) may have forms whose questions are unknown.

        True when a listed form of it could not be read, or an entry under `forms:` names a
        workflow that does not exist (perhaps this one, misspelt); both are reported where they are.
        """
        if wid is None:
            return bool(self.unread_forms)
        unread = self.unread_forms
        return any(
            (wid in ws and form in unread)
            or any(not isinstance(w, str) or w not in self.workflows for w in ws)
            for form, ws in self.listed_forms.items()
        )

    def check_expression(
        self, path: Path, source: Any, names: set[str], what: str, **kwargs: Any
    ) -> None:
        """As `BaseChecker.check_expression`, but while a form is unread, any name may be its."""
        if not self.all_questions_known and isinstance(source, str):
            with contextlib.suppress(ExpressionError):  # reported by the check itself
                names = names | compile_expression(source).names
        super().check_expression(path, source, names, what, **kwargs)

    def may_be_unread_form(self, name: Any) -> bool:
        """Whether `name` may be a listed form that could not be read, spelt as the author meant.

        `form: tiny_eo` under `forms:` is reported there (no such file; did you mean "tiny_eoi"?),
        so `tiny_eoi` named elsewhere is the consequence of that one mistake, not another.
        """
        return isinstance(name, str) and bool(
            difflib.get_close_matches(name, sorted(self.unread_forms), n=1, cutoff=0.6)
        )

    def milestone(self, path: Path, name: Any, *, exact: bool = False, what: str = "") -> None:
        """Check a reference to a milestone (and that it is an exact time, for deadlines)."""
        if not self.ref(
            path, name, set(self.milestones), "unknown-milestone", "milestone", "in the timeline"
        ):
            return
        span = self.spans.get(name)
        if exact and span is not None and span.precision not in ("minute", "day"):
            self.err(
                path,
                "vague-deadline",
                f'milestone "{name}" is known only as {_show(span)}, so it cannot be {what}; '
                "give it an exact `at` date (and time)",
            )

    def anchor(
        self, path: Path, a: Any, workflow: Any, what: str, *, pausable: bool = True
    ) -> None:
        """Check a time anchor: exactly one reference, which exists, and a readable offset."""
        a = _d(a)
        ref = self.exactly_one(
            path,
            a,
            ("milestone", "review", "entered", "trigger", "answer"),
            "bad-anchor",
            f"the time of {what}",
        )
        if ref is None:
            return
        if "paused_in" in a:
            if ref in ("milestone", "review") or not pausable:
                why = ("does not count from a case event" if pausable else
                       "is a cadence's; only time limits, timed transitions and reminders pause")  # fmt: skip
                self.err(
                    (*path, "paused_in"),
                    "bad-anchor",
                    f"the time of {what} {why}, so its clock cannot pause; remove `paused_in`",
                    key=True,
                )
            elif isinstance(workflow, str) and workflow in self.workflows:
                self.state_refs((*path, "paused_in"), a["paused_in"], workflow)
                if ref == "entered" and a["entered"] in _l(a["paused_in"]):
                    self.err(
                        (*path, "paused_in"),
                        "bad-anchor",
                        f'the time of {what} counts from entering "{a["entered"]}", so its '
                        "clock cannot also pause in that state; name the states it stops in",
                    )
            if "before" in a:
                self.err(
                    (*path, "paused_in"),
                    "bad-anchor",
                    f"the time of {what} is before its event, so there is no clock to pause; "
                    "remove `paused_in`, or count `after` the event",
                    key=True,
                )
        if "before" in a and "after" in a:
            self.err(path, "bad-anchor", f"the time of {what} has both before and after; keep one")
        if ref == "milestone":
            self.milestone((*path, "milestone"), a["milestone"])
        elif ref == "review":
            self.ref(
                (*path, "review"),
                a["review"],
                set(self.reviews),
                "unknown-review",
                "cadence",
                "in `reviews`",
            )
        else:
            if not isinstance(workflow, str):
                self.err(
                    path,
                    "needs-workflow",
                    f'the time of {what} counts from a case event ("{ref}"), so it needs a `workflow`',
                )
                return
            if workflow not in self.workflows:
                return  # reported where the workflow is named
            if ref == "answer":
                self.date_answer((*path, "answer"), a["answer"], workflow, what)
            elif ref == "entered":
                self.ref(
                    (*path, "entered"),
                    a["entered"],
                    self.states[workflow],
                    "unknown-state",
                    "state",
                    f'in workflow "{workflow}"',
                )
            else:
                self.ref(
                    (*path, "trigger"),
                    a["trigger"],
                    self.triggers[workflow],
                    "unknown-trigger",
                    "transition",
                    f'in workflow "{workflow}"',
                )

    def date_answer(self, path: Path, qid: Any, workflow: str, what: str) -> None:
        """Check an anchor's `answer`: a date question asked once per case of the workflow."""
        if self.forms_unknown(workflow) or not isinstance(qid, str):
            return
        once = {f for f, ws in self.listed_forms.items() if workflow in ws} - self.repeatable
        found = {f: self.forms[f].questions[qid] for f in once & set(self.forms)
                 if qid in self.forms[f].questions}  # fmt: skip
        if not found:
            self.ref(path, qid, set().union(*(self.forms[f].questions for f in once & set(self.forms))),
                     "unknown-question", "question",
                     f'asked once per case in workflow "{workflow}" (a record of a repeatable '
                     "form has no single date to count from)")  # fmt: skip
        elif any(_d(q).get("type") != "date" for q in found.values()):
            self.err(path, "bad-anchor",
                     f'the time of {what} counts from the answer to "{qid}", which is not a date; '
                     "name a date question")  # fmt: skip

    def workflow_ref(self, path: Path, wid: Any) -> bool:
        """Check a reference to a workflow."""
        return self.ref(path, wid, set(self.workflows), "unknown-workflow", "workflow")

    def state_refs(self, path: Path, states: Any, wid: Any) -> None:
        """Check a list of state names against a workflow."""
        if not isinstance(wid, str) or wid not in self.states:
            if isinstance(states, list) and states and not isinstance(wid, str):
                self.err(
                    path,
                    "needs-workflow",
                    "states are named here, so a `workflow` is needed to say whose states they are",
                )
            return
        for i, s in enumerate(_l(states)):
            self.ref(
                (*path, i), s, self.states[wid], "unknown-state", "state", f'in workflow "{wid}"'
            )

    def role_refs(self, path: Path, roles: Any, wid: Any) -> None:
        """Check applicant roles against the workflow that declares them."""
        if isinstance(wid, str) and wid not in self.workflows:
            return  # reported where the workflow is named; its roles cannot be known
        known = (
            self.roles.get(wid, set())
            if isinstance(wid, str)
            else set().union(*self.roles.values())
            if self.roles
            else set()
        )
        for i, r in enumerate(_l(roles)):
            self.ref(
                (*path, i),
                r,
                known,
                "unknown-role",
                "role",
                "declared under the workflow's `roles`",
            )

    def form_ref(self, path: Path, name: Any) -> bool:
        """Check a reference to a form the programme uses."""
        if self.may_be_unread_form(name) and name not in self.listed_forms:
            return False  # the listed form it may mean is reported where it is listed
        return self.ref(
            path, name, set(self.listed_forms), "unknown-form", "form", "under `forms:`"
        )


def _show(span: Span) -> str:
    if span.precision == "minute":
        return span.start.strftime("%-d %B %Y %H:%M")
    if span.precision == "day":
        return span.start.strftime("%-d %B %Y")
    if span.precision == "month":
        return span.start.strftime("%B %Y")
    if span.precision == "year":
        return span.start.strftime("%Y")
    if span.precision == "week":
        return "the week beginning " + span.start.strftime("%-d %B %Y")
    return f"{span.start.strftime('%-d %B %Y')} to {span.end.strftime('%-d %B %Y')}"
